"""Released results of closed cycles: per-unit scores, trends, and who may see which units.

Results are read from rollups and leave only through `trainer.anonymity.release`.
"""

import json
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from trainer import anonymity
from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.org.scope import managed_scope, sees_everything
from trainer.pulse import scores as formulas
from trainer.pulse.cycles import cycle_limits
from trainer.pulse.models import (
    CycleAudience,
    CycleStatus,
    ItemKind,
    PulseCycle,
    PulseItem,
    RollupItem,
    RollupUnit,
    SurveyResponse,
)
from trainer.pulse.programmes import cycle_items
from trainer.pulse.tree import ancestor_ids

COMMENTS_SHOWN = 60


# Results: everything leaves through anonymity.release ----------------------------------------


@dataclass(frozen=True)
class ItemScore:
    item: PulseItem
    n: int
    mean: float | None
    distribution: list[tuple[int, int]]  # (answer value, count), every value of the scale


@dataclass(frozen=True)
class UnitScores:
    respondents: int
    invited: int
    response_rate: float | None
    engagement: float | None  # mean of the Likert answers, 1-5
    enps: float | None
    enps_moe: float | None
    alpha: float | None
    items: list[ItemScore]


def _unit_scores(
    row,
    item_rows: list[RollupItem] | None,
    items: dict[int, PulseItem],
    limits: anonymity.Thresholds,
) -> UnitScores:
    enps = formulas.enps({int(k): v for k, v in json.loads(row.enps_distribution).items()})
    scored = []
    for item_row in item_rows or []:
        item = items[item_row.item_id]
        if item_row.n < limits.scores:  # an item answered by too few people is withheld
            continue
        counts = {int(k): v for k, v in json.loads(item_row.distribution).items()}
        scale = range(0, 11) if item.kind == ItemKind.ENPS else range(1, 6)
        scored.append(
            ItemScore(
                item,
                item_row.n,
                item_row.total / item_row.n,
                [(v, counts.get(v, 0)) for v in scale],
            )
        )
    return UnitScores(
        respondents=row.respondents,
        invited=row.invited,
        response_rate=row.respondents / row.invited if row.invited else None,
        engagement=formulas.engagement_index(row.likert_total, row.likert_n),
        enps=enps[0] if enps else None,
        enps_moe=enps[1] if enps else None,
        alpha=formulas.cronbach_alpha(json.loads(row.alpha_stats)),
        items=scored,
    )


def cut_tree(rows: list) -> dict[int, set[int]]:
    """Return each cut's set of reporting groups below and including it."""
    parent = {r.unit_id: r.parent_id for r in rows}
    below: dict[int, set[int]] = {r.unit_id: {r.unit_id} for r in rows}
    for unit_id in parent:
        up = parent[unit_id]
        while up is not None:
            below[up].add(unit_id)
            up = parent.get(up)
    return below


def _comments(
    cycle: PulseCycle, group_keys: set[int], *, session: Session, search: str = ""
) -> list[str]:
    """Return a sample of a group's comments, only those containing `search` if given."""
    table = SurveyResponse.__table__
    query = sa.select(table.c.comment).where(
        table.c.survey_id == cycle.id,
        table.c.group_key.in_(group_keys),
        table.c.comment.is_not(None),
    )
    if search:
        query = query.where(
            sa.func.lower(table.c.comment).contains(search.lower(), autoescape=True)
        )
    # Ordered by the random key: a sample whose order has nothing to do with submission.
    return list(session.execute(query.order_by(table.c.id).limit(COMMENTS_SHOWN)).scalars())


def rollup_rows(cycle_ids: list[int], *, session: Session) -> dict[int, list]:
    """Return the per-unit rollup rows of several cycles, keyed by cycle id."""
    table = RollupUnit.__table__
    out: dict[int, list] = {c: [] for c in cycle_ids}
    if cycle_ids:
        for row in session.execute(sa.select(table).where(table.c.cycle_id.in_(cycle_ids))):
            out[row.cycle_id].append(row)
    return out


def released_results(
    *,
    session: Session,
    cycle: PulseCycle,
    unit_ids: set[int] | None = None,
    items: bool = True,
    comments: bool = True,
    rows: list | None = None,
    comment_search: str = "",
) -> dict[int, anonymity.Released]:
    """Return the results of a closed cycle that may be shown, per unit, thresholds applied.

    The single place where pulse results leave the database: pages, CSV, JSON and the
    insights dashboard all call this. Suppressed units come back with `scores=None`.
    `rows` may pass the cycle's rollup rows when the caller has loaded them already.
    `comment_search` keeps only the comments that contain it, in groups whose comments may be
    shown anyway (the same rules decide: a search never reaches a smaller group).
    """
    if cycle.status != CycleStatus.CLOSED:
        return {}
    limits = cycle_limits(cycle)
    if rows is None:
        rows = rollup_rows([cycle.id], session=session)[cycle.id]
    wanted = {r.unit_id for r in rows} if unit_ids is None else set(unit_ids)
    item_rows: dict[int, list[RollupItem]] = defaultdict(list)
    item_map: dict[int, PulseItem] = {}
    if items and wanted:
        item_map = {i.id: i for i in cycle_items(cycle, session=session)}
        for item_row in session.exec(
            select(RollupItem).where(
                RollupItem.cycle_id == cycle.id, RollupItem.unit_id.in_(wanted)
            )
        ).all():
            item_rows[item_row.unit_id].append(item_row)
        order = {item_id: n for n, item_id in enumerate(item_map)}
        for unit_rows in item_rows.values():
            unit_rows.sort(key=lambda r: order.get(r.item_id, 0))
    below = cut_tree(rows) if comments else {}
    cells = []
    for row in rows:
        scores = text = None
        if row.unit_id in wanted:
            scores = _unit_scores(
                row, item_rows.get(row.unit_id) if items else None, item_map, limits
            )
            if comments and row.comments and row.respondents >= limits.comments:
                text = _comments(cycle, below[row.unit_id], session=session, search=comment_search)
        cells.append(
            anonymity.Cell(row.unit_id, row.parent_id, row.respondents, scores, text or ())
        )
    return anonymity.release(cells, limits, wanted)


def closed_cycles(programme_id: int | None = None, *, session: Session) -> list[PulseCycle]:
    query = select(PulseCycle).where(PulseCycle.status == CycleStatus.CLOSED)
    if programme_id is not None:
        query = query.where(PulseCycle.programme_id == programme_id)
    return list(session.exec(query.order_by(PulseCycle.opens_at)).all())


def cycles_up_to(cycles: list[PulseCycle], cycle: PulseCycle, last: int = 8) -> list[PulseCycle]:
    """Return the last few of `cycles` (in time order) up to and including `cycle`: a trend."""
    return [c for c in cycles if c.opens_at <= cycle.opens_at][-last:]


def latest_closed_cycle(*, session: Session) -> PulseCycle | None:
    return session.exec(
        select(PulseCycle)
        .where(PulseCycle.status == CycleStatus.CLOSED)
        .order_by(PulseCycle.closes_at.desc(), PulseCycle.id.desc())
    ).first()


@dataclass(frozen=True)
class TrendPoint:
    cycle: PulseCycle
    result: anonymity.Released | None  # None: the unit was not a reporting group then


def trend(
    *,
    session: Session,
    unit_id: int,
    programme_id: int,
    last: int = 8,
    cycles: list[PulseCycle] | None = None,
    rows: dict | None = None,
) -> list[TrendPoint]:
    """Return the unit's engagement, eNPS and response rate per closed cycle."""
    if cycles is None:
        cycles = closed_cycles(programme_id, session=session)
    cycles = cycles[-last:]
    if rows is None:
        rows = rollup_rows([c.id for c in cycles], session=session)
    points = []
    for cycle in cycles:
        released = released_results(
            session=session,
            cycle=cycle,
            unit_ids={unit_id},
            items=False,
            comments=False,
            rows=rows[cycle.id],
        )
        points.append(TrendPoint(cycle, released.get(unit_id)))
    return points


def employee_units(user: User, cycle: PulseCycle | None, *, session: Session) -> set[int]:
    """Return the units whose results an employee may see: their own group and the company."""
    units: set[int] = set()
    if user.unit_id is None:
        return units
    unit = session.get(OrgUnit, user.unit_id)
    chain = [*ancestor_ids(unit), unit.id]
    units.update({chain[0], unit.id})
    if cycle is not None:
        row = session.exec(
            select(CycleAudience).where(
                CycleAudience.cycle_id == cycle.id, CycleAudience.unit_id == unit.id
            )
        ).first()
        if row is not None:
            units.add(row.group_key)
    return units


def viewable_units(user: User, cycle: PulseCycle | None, *, session: Session) -> set[int] | None:
    """Return the unit ids whose results `user` may see, or None for all (HR and admin)."""
    if sees_everything(user):
        return None
    units = employee_units(user, cycle, session=session)
    if user.has_role("manager"):
        units |= managed_scope(session=session, user=user)
    return units


def reporting_group(cycle: PulseCycle, unit_id: int, *, session: Session) -> OrgUnit | None:
    """Return the unit a small unit's answers were merged into, if it was in the audience."""
    row = session.exec(
        select(CycleAudience).where(
            CycleAudience.cycle_id == cycle.id, CycleAudience.unit_id == unit_id
        )
    ).first()
    if row is None or row.group_key == unit_id:
        return None
    return session.get(OrgUnit, row.group_key)
