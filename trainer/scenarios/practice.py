"""Spaced re-serving: weak decisions come back for a one-decision practice until they stick.

Plain functions with a keyword-only `session`; views, CLI commands, the demo and tests share them.
"""

import uuid
from datetime import datetime

from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.scenarios import engine
from trainer.scenarios.engine import Node, PlayError
from trainer.scenarios.engine import Scenario as Graph
from trainer.scenarios.models import Play, PlayMode, ReserveItem, Scenario
from trainer.scenarios.plays import RESERVE_INTERVALS, StaleChoice, choose, reserve_seed
from trainer.scenarios.sync import current_version, graph_of
from trainer.util import utcnow


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


def reserve_node(
    *, session: Session, item: ReserveItem, language: str | None = None
) -> tuple[Scenario, Graph, Node] | None:
    """Return (scenario, graph, decision node) for a re-serve, from the current version (in
    `language` when the scenario has a translation in it).

    None when the scenario was retired or the decision no longer exists.
    """
    scenario = session.get(Scenario, item.scenario_id)
    if scenario.retired_at is not None:
        return None
    graph = graph_of(current_version(session=session, scenario=scenario), language)
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
