"""Demo history: eight quarters of first attempts at the shipped scenarios.

Each scenario is launched in one quarter and most people play it then. (Plays of several
scenarios in one quarter would hide small groups by the overlap rule, see privacy.py.) Teams
differ in how often their people own the problem, and ownership grows over time. Small teams
(the parts counters) stay under the minimum group size, so suppression shows.
"""

import math
import random
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import insert
from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.demo import people_in_batches
from trainer.scenarios import engine
from trainer.scenarios.models import ChoiceRecord, Play, Scenario, ScenarioActor
from trainer.scenarios.plays import choose, new_actor_name, stamp_statement, start_play
from trainer.scenarios.sync import (
    SCENARIOS_FOLDER,
    active_scenarios,
    current_version,
    graph_of,
    sync_scenario_folder,
)
from trainer.util import quarter_bounds, quarter_of, shift_quarter, utcnow

QUARTERS = 8
PLAY_RATE = 0.75  # chance that someone plays a scenario in its launch quarter
KIND_WEIGHTS = {"own": 1.0, "escalate": 0.8, "script": 0.7, "bend": 0.45, "deflect": 0.35}
OWNERSHIP_TREND = 0.1  # per quarter: training takes hold
BATCH = 2_000  # plays per bulk insert
# Enough players per team and scenario for every report to have something to show, without
# making `flask demo --employees 10000` slow: big teams sample their players.
MAX_PLAYERS_PER_TEAM = 24
# The demo employee (Leeds service desk) has played this one; it is launched last, in the
# current quarter.
DEMO_SCENARIO = "car-not-ready"


def demo_step(*, session: Session, demo) -> None:
    """Sync the shipped scenarios if needed, then add the demo organisation's play history."""
    now = utcnow()
    if session.exec(select(Scenario)).first() is None:
        folder = Path(current_app.config["COURSES_DIR"]) / SCENARIOS_FOLDER
        sync_scenario_folder(session=session, folder=folder, now=now)
    scenarios = sorted(
        active_scenarios(session=session), key=lambda s: (s.slug == DEMO_SCENARIO, s.slug)
    )
    if not scenarios:
        return
    base_iri = current_app.config["BASE_URL"]
    generate_history(demo, scenarios, session=session, now=now, base_iri=base_iri)
    employee = session.exec(select(User).where(User.email == demo.logins["employee"])).one()
    add_employee_history(employee, scenarios, session=session, now=now, base_iri=base_iri)


def generate_history(
    demo,
    scenarios: list[Scenario],
    *,
    session: Session,
    now: datetime,
    base_iri: str,
    seed: int = 2026,
) -> int:
    """Insert first attempts for everyone in the demo organisation; return the play count."""
    rng = random.Random(seed)
    named = set(demo.logins.values())
    people = (
        (user_id, unit_id)
        for user_id, unit_id, email in people_in_batches(User.email, session=session)
        if email not in named
    )
    culture = {unit.id: rng.gauss(0, 0.6) for unit in [*demo.teams, *demo.sites]}
    current = quarter_of(now.date())
    quarters = [shift_quarter(current, n - QUARTERS + 1) for n in range(QUARTERS)]
    versions = {s.id: current_version(session=session, scenario=s) for s in scenarios}
    graphs = {s.id: graph_of(versions[s.id]) for s in scenarios}
    launch = {s.id: (index * QUARTERS) // len(scenarios) for index, s in enumerate(scenarios)}

    plays, steps, actor_names = [], [], {}
    players_per_cell: dict[tuple, int] = {}
    total = 0
    for user_id, unit_id in people:
        for scenario in scenarios:
            when = _when_played(rng, launch[scenario.id], quarters, now)
            cell = (unit_id, scenario.id)
            if when is None or players_per_cell.get(cell, 0) >= MAX_PLAYERS_PER_TEAM:
                continue
            players_per_cell[cell] = players_per_cell.get(cell, 0) + 1
            if user_id not in actor_names:
                actor_names[user_id] = new_actor_name()
            quarter_index = quarters.index(quarter_of(when.date()))
            lean = culture.get(unit_id, 0.0) + OWNERSHIP_TREND * quarter_index
            graph = graphs[scenario.id]
            state, taken = _walk(rng, graph, lean)
            registration = str(uuid.uuid4())
            plays.append(
                {
                    "user_id": user_id,
                    "scenario_id": scenario.id,
                    "version_id": versions[scenario.id].id,
                    "unit_id": unit_id,
                    "mode": "play",
                    "is_first_attempt": True,
                    "registration": registration,
                    "node_id": state.node_id,
                    "meters": state.meters,
                    "path": [list(pair) for pair in state.path],
                    "ending": state.ending,
                    "period": quarter_of(when.date()),
                    "started_at": when,
                    "finished_at": when + timedelta(minutes=4 + 2 * len(taken)),
                }
            )
            steps.append(
                [
                    _choice_row(
                        graph,
                        before,
                        after,
                        actor_names[user_id],
                        registration,
                        base_iri,
                        when + timedelta(minutes=2 * (n + 1)),
                    )
                    for n, (before, after) in enumerate(taken)
                ]
            )
        if len(plays) >= BATCH:
            total += _flush(session, plays, steps)
            plays, steps = [], []
    total += _flush(session, plays, steps)
    actors = [{"user_id": user_id, "name": name} for user_id, name in actor_names.items()]
    for start in range(0, len(actors), BATCH):
        session.exec(insert(ScenarioActor.__table__), params=actors[start : start + BATCH])
    return total


def _when_played(
    rng: random.Random, launch: int, quarters: list[str], now: datetime
) -> datetime | None:
    """Pick when someone first played a scenario launched in quarter index `launch`, or None."""
    if rng.random() >= PLAY_RATE:
        return None
    first, last = quarter_bounds(quarters[launch])
    start = datetime.combine(first, time(8), tzinfo=UTC)
    end = min(datetime.combine(last, time(18), tzinfo=UTC), now - timedelta(hours=1))
    if end <= start:
        return None
    return start + (end - start) * rng.random()


def _walk(rng: random.Random, graph: engine.Scenario, lean: float):
    """Play a path, picking choices by kind with a lean towards (or away from) owning it."""
    state = engine.start(graph)
    taken = []
    while not state.finished and len(taken) < 20:
        node = graph.nodes[state.node_id]
        weights = [_weight(choice.kind, lean) for choice in node.choices]
        index = rng.choices(range(len(node.choices)), weights)[0]
        after = engine.choose(graph, state, index)
        taken.append((state, after))
        state = after
    return state, taken


def _weight(kind: str, lean: float) -> float:
    weight = KIND_WEIGHTS.get(kind, 0.5)
    if kind == "own":
        return weight * math.exp(lean)
    if kind in ("script", "deflect"):
        return weight * math.exp(-lean)
    return weight


def _choice_row(graph, before, after, actor, registration, base_iri, when) -> dict:
    node_id, choice_id = after.path[-1]
    node = graph.nodes[node_id]
    choice = next(c for c in node.choices if c.id == choice_id)
    statement = engine.xapi_answered(graph, node, choice, after, actor, registration, base_iri)
    return {
        "step": len(after.path),
        "node_id": node_id,
        "choice_id": choice_id,
        "kind": choice.kind,
        "meters_after": after.meters,
        "xapi": stamp_statement(statement, when),
        "created_at": when,
    }


def _flush(session: Session, plays: list[dict], steps: list[list[dict]]) -> int:
    """Bulk-insert plays, then their choices with the new play ids."""
    if not plays:
        return 0
    table = Play.__table__
    ids = (
        session.exec(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), params=plays
        )
        .scalars()
        .all()
    )
    rows = [
        dict(row, play_id=play_id)
        for play_id, play_steps in zip(ids, steps, strict=True)
        for row in play_steps
    ]
    for start in range(0, len(rows), BATCH * 4):
        session.exec(insert(ChoiceRecord.__table__), params=rows[start : start + BATCH * 4])
    return len(plays)


def add_employee_history(
    employee: User, scenarios: list[Scenario], *, session: Session, now: datetime, base_iri: str
) -> Play | None:
    """Play one scenario as the demo employee, with one weak decision that is now due again."""
    for scenario in reversed(scenarios):  # the one launched in the current quarter first
        graph = graph_of(current_version(session=session, scenario=scenario))
        path = _path_with_one_weak_choice(graph)
        if path is None:
            continue
        played_at = now - timedelta(days=3)
        play = start_play(session=session, user=employee, scenario=scenario, now=played_at)
        for step, index in enumerate(path):
            choose(
                session=session,
                play=play,
                node_id=play.node_id,
                step=step,
                choice_index=index,
                base_iri=base_iri,
                now=played_at + timedelta(minutes=step + 1),
            )
        return play
    return None


def _path_with_one_weak_choice(graph: engine.Scenario) -> list[int] | None:
    """Return choice indexes that take one weak choice, then the best options; None if none."""
    outlook = engine.choice_outlook(graph)
    state, path, weak_taken = engine.start(graph), [], False
    while not state.finished and len(path) < 20:
        node = graph.nodes[state.node_id]
        ranks = [engine.ENDING_RANK[outlook[(node.id, c.id)]] for c in node.choices]
        if not weak_taken and min(ranks) < max(ranks):
            index, weak_taken = ranks.index(min(ranks)), True
        else:
            index = ranks.index(max(ranks))
        path.append(index)
        state = engine.choose(graph, state, index)
    return path if weak_taken and state.finished else None
