"""Scenario services: content sync, plays and choices, best results, spaced re-serving, reports.

Plain functions with a keyword-only `session`; views, CLI commands, the demo and tests share them.
"""

import hashlib
import json
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from trainer.auth.models import User
from trainer.scenarios import engine, reports
from trainer.scenarios.engine import Choice, Node, PlayError, State
from trainer.scenarios.engine import Scenario as Graph
from trainer.scenarios.lint import lint_scenario
from trainer.scenarios.loader import load_scenarios
from trainer.scenarios.models import (
    FULL_PLAY_MODES,
    ChoiceRecord,
    Play,
    PlayMode,
    ReserveItem,
    Scenario,
    ScenarioActor,
    ScenarioVersion,
)
from trainer.util import quarter_of, utcnow

SCENARIOS_FOLDER = "scenarios"  # inside COURSES_DIR
METER_LABELS = {
    "trust": "Customer trust",
    "time": "Time to resolve",
    "cost": "Cost to the business",
    "risk": "Policy risk",
    "confidence": "Your confidence",
}
METER_UNITS = {"time": "min"}
HIGHER_IS_BETTER = {"trust": True, "confidence": True, "time": False, "cost": False, "risk": False}
KIND_LABELS = {
    "own": "Own it",
    "escalate": "Escalate",
    "script": "Follow the script",
    "bend": "Bend the policy",
    "deflect": "Deflect",
}
RESERVE_INTERVALS = (timedelta(days=2), timedelta(weeks=1), timedelta(weeks=3))


class StaleChoice(Exception):
    """A choice posted for a decision that is no longer the current one (a repeat or old tab)."""


# --- Graphs and versions ----------------------------------------------------------------


def graph_to_json(scenario: Graph) -> dict:
    """Return the parsed scenario as plain JSON data (without source line numbers)."""
    data = asdict(scenario)
    for node in data["nodes"].values():
        node.pop("line", None)
        for choice in node["choices"]:
            choice.pop("line", None)
    return data


def graph_from_json(data: dict) -> Graph:
    nodes = {
        node_id: Node(
            id=raw["id"],
            text=raw["text"],
            ending=raw["ending"],
            debrief=raw["debrief"],
            choices=[Choice(**choice) for choice in raw["choices"]],
        )
        for node_id, raw in data["nodes"].items()
    }
    return Graph(**{**data, "nodes": nodes})


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


_graphs: dict[str, Graph] = {}


def graph_of(version: ScenarioVersion) -> Graph:
    """Return the engine scenario of a version (cached by content hash: versions never change)."""
    graph = _graphs.get(version.content_hash)
    if graph is None:
        graph = _graphs[version.content_hash] = graph_from_json(version.graph)
    return graph


def current_version(*, session: Session, scenario: Scenario) -> ScenarioVersion:
    return session.exec(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario.id,
            ScenarioVersion.number == scenario.current_version,
        )
    ).one()


# --- Content check and sync -------------------------------------------------------------


def check_scenarios(courses_dir: Path) -> list:
    """Return every problem in `<courses_dir>/scenarios` (each prints as `file:line: reason`)."""
    folder = Path(courses_dir) / SCENARIOS_FOLDER
    if not folder.is_dir():
        return []
    return [problem for result in load_scenarios(folder) for problem in result.problems]


def lint_scenarios(courses_dir: Path) -> list:
    """Return the loader's warnings and the lint's for `<courses_dir>/scenarios`."""
    folder = Path(courses_dir) / SCENARIOS_FOLDER
    if not folder.is_dir():
        return []
    warnings = []
    for result in load_scenarios(folder):
        warnings += result.warnings
        if result.scenario:
            warnings += lint_scenario(result.scenario, str(result.path))
    return warnings


@dataclass
class SyncSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    skipped: int = 0  # files with problems, left as they were

    def __str__(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.retired} retired"
        )
        return text + (f", {self.skipped} skipped (see content check)" if self.skipped else "")


def sync_scenarios(*, session: Session, courses_dir: Path, now: datetime | None = None) -> str:
    """Load `<courses_dir>/scenarios` into the database; return a one-line summary."""
    folder = Path(courses_dir) / SCENARIOS_FOLDER
    return str(sync_scenario_folder(session=session, folder=folder, now=now))


def sync_scenario_folder(
    *, session: Session, folder: Path, now: datetime | None = None
) -> SyncSummary:
    """Add a version for each new or changed scenario file and retire scenarios whose file went.

    Plays keep the version they were played on; nothing is ever deleted.
    """
    now = now or utcnow()
    summary = SyncSummary()
    results = load_scenarios(folder) if Path(folder).is_dir() else []
    existing = {s.slug: s for s in session.exec(select(Scenario)).all()}
    present = set()
    for result in results:
        if not result.ok:
            summary.skipped += 1
            stem = result.path.stem if result.path else None
            present.add(stem)  # a broken file is not a removed one
            continue
        graph = result.scenario
        present.add(graph.id)
        data = graph_to_json(graph)
        digest = content_hash(data)
        scenario = existing.get(graph.id)
        if scenario is None:
            scenario = Scenario(slug=graph.id, title=graph.title, current_version=1)
            session.add(scenario)
            session.flush()
            _add_version(session, scenario, 1, digest, result.path, data, now)
            summary.added += 1
            continue
        version = current_version(session=session, scenario=scenario)
        if version.content_hash == digest and scenario.retired_at is None:
            summary.unchanged += 1
            continue
        if version.content_hash != digest:
            latest = session.exec(
                select(func.max(ScenarioVersion.number)).where(
                    ScenarioVersion.scenario_id == scenario.id
                )
            ).one()
            _add_version(session, scenario, latest + 1, digest, result.path, data, now)
            scenario.current_version = latest + 1
        scenario.title = graph.title
        scenario.retired_at = None
        session.add(scenario)
        summary.updated += 1
    for slug, scenario in existing.items():
        if slug not in present and scenario.retired_at is None:
            scenario.retired_at = now
            session.add(scenario)
            summary.retired += 1
    session.flush()
    return summary


def _add_version(session, scenario, number, digest, path, data, now) -> ScenarioVersion:
    version = ScenarioVersion(
        scenario_id=scenario.id,
        number=number,
        content_hash=digest,
        source_file=Path(path).name if path else "",
        graph=data,
        created_at=now,
    )
    session.add(version)
    session.flush()
    return version


def active_scenarios(*, session: Session) -> list[Scenario]:
    return list(
        session.exec(
            select(Scenario).where(Scenario.retired_at.is_(None)).order_by(Scenario.title)
        ).all()
    )


def all_scenarios(*, session: Session) -> list[Scenario]:
    """Return every scenario by title, retired ones too (their plays stay in the reports)."""
    return list(session.exec(select(Scenario).order_by(Scenario.title)).all())


def scenario_by_slug(*, session: Session, slug: str) -> Scenario | None:
    return session.exec(select(Scenario).where(Scenario.slug == slug)).first()


# --- Plays --------------------------------------------------------------------------------


def actor_name(*, session: Session, user: User) -> str:
    """Return the opaque xAPI account name of `user`, creating it on first use."""
    actor = session.get(ScenarioActor, user.id)
    if actor is None:
        actor = ScenarioActor(user_id=user.id, name=new_actor_name())
        session.add(actor)
        session.flush()
    return actor.name


def new_actor_name() -> str:
    return f"u-{secrets.token_hex(8)}"


def open_play(*, session: Session, user: User, scenario: Scenario, mode: str) -> Play | None:
    """Return the unfinished play of this mode, if there is one."""
    return session.exec(
        select(Play)
        .where(
            Play.user_id == user.id,
            Play.scenario_id == scenario.id,
            Play.mode == mode,
            Play.finished_at.is_(None),
        )
        .order_by(Play.id.desc())
    ).first()


def start_play(
    *,
    session: Session,
    user: User,
    scenario: Scenario,
    mode: str = PlayMode.PLAY,
    now: datetime | None = None,
) -> Play:
    """Start (or resume the unfinished) play of `scenario` in `mode` (`play` or `practice`)."""
    if mode not in FULL_PLAY_MODES:
        raise ValueError(f"unknown mode {mode!r}")
    if scenario.retired_at is not None:
        raise PlayError("this scenario has been retired")
    resumed = open_play(session=session, user=user, scenario=scenario, mode=mode)
    if resumed is not None:
        return resumed
    earlier = session.exec(
        select(func.count())
        .select_from(Play)
        .where(
            Play.user_id == user.id, Play.scenario_id == scenario.id, Play.mode.in_(FULL_PLAY_MODES)
        )
    ).one()
    version = current_version(session=session, scenario=scenario)
    state = engine.start(graph_of(version))
    play = Play(
        user_id=user.id,
        scenario_id=scenario.id,
        version_id=version.id,
        unit_id=user.unit_id,
        mode=mode,
        is_first_attempt=(mode == PlayMode.PLAY and earlier == 0),
        registration=str(uuid.uuid4()),
        choice_seed=new_choice_seed(),
        node_id=state.node_id,
        meters=dict(state.meters),
        path=[],
        started_at=now or utcnow(),
    )
    session.add(play)
    session.flush()
    return play


def new_choice_seed() -> int:
    """Return a seed for the order of a play's choices (31 bits: any SQL integer holds it)."""
    return secrets.randbits(31)


def reserve_seed(item: ReserveItem) -> int:
    """Return the choice-order seed of a due re-serve: stable while it waits, new each time."""
    key = f"{item.id}:{item.stage}:{item.due_at.isoformat()}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big") >> 1


def load_play_for_update(*, session: Session, play_id: int) -> Play | None:
    """Load a play and lock its row until the transaction ends (PostgreSQL; SQLite serialises)."""
    return session.exec(select(Play).where(Play.id == play_id).with_for_update()).first()


def state_of(play: Play) -> State:
    return State(
        node_id=play.node_id,
        meters=dict(play.meters),
        path=[tuple(step) for step in play.path],
        ending=play.ending,
    )


def choose(
    *,
    session: Session,
    play: Play,
    node_id: str,
    step: int,
    choice_index: int,
    base_iri: str,
    now: datetime | None = None,
) -> ChoiceRecord:
    """Take choice `choice_index` at the play's current decision and record it.

    `node_id` and `step` are what the player saw; if the play has moved on since, raise
    StaleChoice. An impossible index raises engine.PlayError.
    """
    now = now or utcnow()
    if play.finished or node_id != play.node_id or step != len(play.path):
        raise StaleChoice()
    version = session.get(ScenarioVersion, play.version_id)
    graph = graph_of(version)
    before = state_of(play)
    after = engine.choose(graph, before, choice_index)
    node = graph.nodes[before.node_id]
    choice = node.choices[choice_index]
    user = session.get(User, play.user_id)
    actor = actor_name(session=session, user=user)
    statement = engine.xapi_answered(graph, node, choice, after, actor, play.registration, base_iri)
    record = ChoiceRecord(
        play_id=play.id,
        step=len(after.path),
        node_id=node.id,
        choice_id=choice.id,
        kind=choice.kind,
        meters_after=after.meters,
        xapi=stamp_statement(statement, now),
        created_at=now,
    )
    play.node_id, play.meters = after.node_id, dict(after.meters)
    play.path = [list(pair) for pair in after.path]
    if after.finished or play.mode == PlayMode.RESERVE:
        play.ending = after.ending
        play.finished_at = now
        play.period = quarter_of(now.date())
    session.add(record)
    session.add(play)
    session.flush()
    if after.finished and play.mode in FULL_PLAY_MODES:
        queue_weak_choices(session=session, play=play, graph=graph, now=now)
    return record


def stamp_statement(statement: dict, when: datetime) -> dict:
    """Give a statement its own id and timestamp, as an LRS expects."""
    return {
        "id": str(uuid.uuid4()),
        **statement,
        "timestamp": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def choice_records(*, session: Session, play: Play) -> list[ChoiceRecord]:
    return list(
        session.exec(
            select(ChoiceRecord).where(ChoiceRecord.play_id == play.id).order_by(ChoiceRecord.step)
        ).all()
    )


@dataclass(frozen=True)
class MeterMove:
    meter: str
    label: str
    delta: int
    total: int
    unit: str
    helps: bool | None  # None when the meter did not move

    @property
    def direction(self) -> str:
        return "up" if self.delta > 0 else "down" if self.delta < 0 else "unchanged"


def meter_moves(before: dict, after: dict) -> list[MeterMove]:
    """Describe how each meter moved between two totals (risk may move less than the effect)."""
    moves = []
    for meter in engine.METERS:
        delta = after.get(meter, 0) - before.get(meter, 0)
        helps = None if delta == 0 else (delta > 0) == HIGHER_IS_BETTER[meter]
        moves.append(
            MeterMove(
                meter,
                METER_LABELS[meter],
                delta,
                after.get(meter, 0),
                METER_UNITS.get(meter, ""),
                helps,
            )
        )
    return moves


@dataclass(frozen=True)
class Step:
    """One decision of a play as the player saw it, and what happened."""

    number: int
    node: Node
    choice: Choice
    moves: list[MeterMove]
    next_node: Node
    shown: list[Choice]  # the options, in the order this play showed them


def play_step(
    graph: Graph, records: list[ChoiceRecord], number: int, seed: int | None = None
) -> Step | None:
    """Return step `number` (1-based) of a play (whose choice seed is `seed`), or None if it
    was never taken."""
    if not 1 <= number <= len(records):
        return None
    record = records[number - 1]
    before = records[number - 2].meters_after if number > 1 else dict.fromkeys(engine.METERS, 0)
    node = graph.nodes[record.node_id]
    choice = next(c for c in node.choices if c.id == record.choice_id)
    return Step(
        number,
        node,
        choice,
        meter_moves(before, record.meters_after),
        graph.nodes[choice.to],
        [c for _, c in engine.shown_choices(node, seed)],
    )


# --- Results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    play_id: int
    ending: str
    meters: dict
    finished_at: datetime


def results_by_scenario(*, session: Session, user: User) -> dict[int, dict]:
    """Map scenario id to {'best': Result, 'latest': Result, 'count': n, 'open': Play | None}.

    The best result ranks the ending class first, then the meters (engine.rank_result); a
    replay never overwrites a better one, because every attempt is kept.
    """
    plays = session.exec(
        select(Play)
        .where(Play.user_id == user.id, Play.mode.in_(FULL_PLAY_MODES))
        .order_by(Play.started_at, Play.id)
    ).all()
    out: dict[int, dict] = {}
    for play in plays:
        entry = out.setdefault(
            play.scenario_id, {"best": None, "latest": None, "count": 0, "open": None}
        )
        if not play.finished:
            if play.mode == PlayMode.PLAY:
                entry["open"] = play
            continue
        result = Result(play.id, play.ending, play.meters, play.finished_at)
        entry["count"] += 1
        entry["latest"] = result
        best = entry["best"]
        if best is None or (
            engine.rank_result(result.ending, result.meters)
            > engine.rank_result(best.ending, best.meters)
        ):
            entry["best"] = result
    return out


_best_paths: dict[str, State] = {}


def best_path(graph: Graph, cache_key: str | None = None) -> State:
    """Return the final state of the best path through the scenario (by engine.rank_result)."""
    if cache_key and cache_key in _best_paths:
        return _best_paths[cache_key]
    best = None
    todo = [engine.start(graph)]
    while todo:
        state = todo.pop()
        if state.finished:
            if best is None or (
                engine.rank_result(state.ending, state.meters)
                > engine.rank_result(best.ending, best.meters)
            ):
                best = state
            continue
        visited = {node_id for node_id, _ in state.path}
        node = graph.nodes[state.node_id]
        for index, choice in enumerate(node.choices):
            if choice.to not in visited and choice.to != state.node_id:
                todo.append(engine.choose(graph, state, index))
    if cache_key:
        _best_paths[cache_key] = best
    return best


def path_choices(graph: Graph, path) -> list[tuple[Node, Choice]]:
    out = []
    for node_id, choice_id in path:
        node = graph.nodes[node_id]
        out.append((node, next(c for c in node.choices if c.id == choice_id)))
    return out


# --- Spaced re-serving --------------------------------------------------------------------


def queue_weak_choices(
    *, session: Session, play: Play, graph: Graph, now: datetime | None = None
) -> list[ReserveItem]:
    """Queue each weak decision of a finished play to come back after the first interval.

    A decision already in the queue starts its schedule again, but keeps an earlier due date.
    """
    now = now or utcnow()
    items = []
    for weak in engine.weak_choices(graph, state_of(play).path):
        item = session.exec(
            select(ReserveItem).where(
                ReserveItem.user_id == play.user_id,
                ReserveItem.scenario_id == play.scenario_id,
                ReserveItem.node_id == weak.node_id,
            )
        ).first()
        due = now + RESERVE_INTERVALS[0]
        if item is None:
            item = ReserveItem(
                user_id=play.user_id, scenario_id=play.scenario_id, node_id=weak.node_id, due_at=due
            )
        elif item.cleared_at is None:
            due = min(item.due_at, due)  # never push back practice that is already waiting
        item.stage, item.due_at, item.cleared_at = 0, due, None
        session.add(item)
        items.append(item)
    session.flush()
    return items


def due_items(*, session: Session, user: User, now: datetime | None = None) -> list[ReserveItem]:
    """Return the re-serves due now for `user` whose decision still exists in the scenario."""
    now = now or utcnow()
    items = session.exec(
        select(ReserveItem)
        .where(
            ReserveItem.user_id == user.id,
            ReserveItem.cleared_at.is_(None),
            ReserveItem.due_at <= now,
        )
        .order_by(ReserveItem.due_at)
    ).all()
    return [item for item in items if reserve_node(session=session, item=item) is not None]


def reserve_node(*, session: Session, item: ReserveItem) -> tuple[Scenario, Graph, Node] | None:
    """Return (scenario, graph, decision node) for a re-serve, from the current version.

    None when the scenario was retired or the decision no longer exists.
    """
    scenario = session.get(Scenario, item.scenario_id)
    if scenario.retired_at is not None:
        return None
    graph = graph_of(current_version(session=session, scenario=scenario))
    node = graph.nodes.get(item.node_id)
    if node is None or not node.choices:
        return None
    return scenario, graph, node


def is_due(item: ReserveItem, now: datetime | None = None) -> bool:
    return item.cleared_at is None and item.due_at <= (now or utcnow())


def answer_reserve(
    *,
    session: Session,
    item: ReserveItem,
    user: User,
    choice_index: int,
    base_iri: str,
    now: datetime | None = None,
) -> Play:
    """Record a one-decision practice and move the item along its schedule.

    A choice that keeps the best ending in reach advances the item (2 days, 1 week, 3 weeks,
    then cleared); a weak one starts the schedule again.
    """
    now = now or utcnow()
    if not is_due(item, now):
        raise StaleChoice()
    found = reserve_node(session=session, item=item)
    if found is None:
        raise StaleChoice()
    scenario, graph, node = found
    if not (isinstance(choice_index, int) and 0 <= choice_index < len(node.choices)):
        raise PlayError(f"invalid choice {choice_index!r} at {node.id!r}")
    version = current_version(session=session, scenario=scenario)
    play = Play(
        user_id=user.id,
        scenario_id=scenario.id,
        version_id=version.id,
        unit_id=user.unit_id,
        mode=PlayMode.RESERVE,
        registration=str(uuid.uuid4()),
        choice_seed=reserve_seed(item),
        node_id=node.id,
        meters=dict.fromkeys(engine.METERS, 0),
        path=[],
        started_at=now,
    )
    session.add(play)
    session.flush()
    choose(
        session=session,
        play=play,
        node_id=node.id,
        step=0,
        choice_index=choice_index,
        base_iri=base_iri,
        now=now,
    )
    outlook = engine.choice_outlook(graph)
    best = engine.best_reachable_endings(graph)[node.id]
    chosen = outlook[(node.id, node.choices[choice_index].id)]
    if engine.ENDING_RANK[chosen] >= engine.ENDING_RANK[best]:
        item.stage += 1
        if item.stage >= len(RESERVE_INTERVALS):
            item.cleared_at = now
        else:
            item.due_at = now + RESERVE_INTERVALS[item.stage]
    else:
        item.stage, item.due_at = 0, now + RESERVE_INTERVALS[0]
    session.add(item)
    session.flush()
    return play


def reserve_item_for_play(*, session: Session, play: Play) -> ReserveItem | None:
    return session.exec(
        select(ReserveItem).where(
            ReserveItem.user_id == play.user_id,
            ReserveItem.scenario_id == play.scenario_id,
            ReserveItem.node_id == (play.path[0][0] if play.path else play.node_id),
        )
    ).first()


# --- Reports (aggregates only) ------------------------------------------------------------


def ownership_by_unit_period(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return the ownership rate per (unit, quarter) for the insights dashboard.

    Each row: {unit_id, unit_code, period, players, decisions, ownership_rate}, where a unit
    includes its subtree and only first attempts in normal mode count. Only cells with at least
    5 distinct players (and that pass the complement rule) are returned.
    """
    return reports.ownership_cells(session=session, unit_ids=unit_ids)
