"""Scenario plays: starting, choosing, the record of each step, and queueing weak choices.

Plain functions with a keyword-only `session`; views, CLI commands, the demo and tests share them.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, func, select

from trainer.auth.models import User
from trainer.scenarios import engine
from trainer.scenarios.engine import Choice, Node, PlayError, State
from trainer.scenarios.engine import Scenario as Graph
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
from trainer.scenarios.sync import current_version, graph_of
from trainer.util import quarter_of, utcnow

METER_LABELS = {
    "trust": _l("Customer trust"),
    "time": _l("Time to resolve"),
    "cost": _l("Cost to the business"),
    "risk": _l("Policy risk"),
    "confidence": _l("Your confidence"),
}
METER_UNITS = {"time": _l("min")}
HIGHER_IS_BETTER = {"trust": True, "confidence": True, "time": False, "cost": False, "risk": False}
RESERVE_INTERVALS = (timedelta(days=2), timedelta(weeks=1), timedelta(weeks=3))


class StaleChoice(Exception):
    """A choice posted for a decision that is no longer the current one (a repeat or old tab)."""


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


# --- Queueing weak choices for spaced re-serving -----------------------------------------


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
