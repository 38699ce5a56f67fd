"""Results of closed cycles, live response rates, and the feed for the insights dashboard.

Results are read from rollups and leave only through `trainer.anonymity.release`.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from trainer import anonymity
from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.org.scope import managed_scope, sees_everything
from trainer.pulse import scores as formulas
from trainer.pulse.cycles import aware, cycle_limits
from trainer.pulse.ledger import commitments_for, released_tallies
from trainer.pulse.models import (
    CycleAudience,
    CycleStatus,
    ItemKind,
    PulseCycle,
    PulseInvitation,
    PulseItem,
    RollupItem,
    RollupUnit,
    SurveyParticipation,
    SurveyResponse,
)
from trainer.pulse.programmes import cycle_items
from trainer.pulse.tree import ancestor_ids, tree_depth, tree_key, units_by_id

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


def _comments(cycle: PulseCycle, group_keys: set[int], *, session: Session) -> list[str]:
    table = SurveyResponse.__table__
    # Ordered by the random key: a sample whose order has nothing to do with submission.
    return list(
        session.execute(
            sa.select(table.c.comment)
            .where(
                table.c.survey_id == cycle.id,
                table.c.group_key.in_(group_keys),
                table.c.comment.is_not(None),
            )
            .order_by(table.c.id)
            .limit(COMMENTS_SHOWN)
        ).scalars()
    )


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
) -> dict[int, anonymity.Released]:
    """Return the results of a closed cycle that may be shown, per unit, thresholds applied.

    The single place where pulse results leave the database: pages, CSV, JSON and the
    insights dashboard all call this. Suppressed units come back with `scores=None`.
    `rows` may pass the cycle's rollup rows when the caller has loaded them already.
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
                text = _comments(cycle, below[row.unit_id], session=session)
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


# Live response rates (counts only) ----------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    unit: OrgUnit
    depth: int
    invited: int
    responded: int | None  # None: withheld, fewer than the minimum or a differencing risk
    below_half: bool  # raised only once half the survey window has passed


def halfway(cycle: PulseCycle) -> datetime:
    """Return the moment half of the cycle's answering window has passed."""
    opens, closes = aware(cycle.opens_at), aware(cycle.closes_at)
    return opens + (closes - opens) / 2


def alerts_due(cycle: PulseCycle, *, now: datetime) -> bool:
    """Return whether "below 50%" alerts apply yet: only once half the window has passed."""
    return aware(now) >= halfway(cycle)


def live_progress(
    cycle: PulseCycle,
    unit_ids: set[int] | None = None,
    *,
    session: Session,
    now: datetime | None = None,
) -> list[ProgressRow]:
    """Return live response counts per reporting unit, with the score thresholds applied.

    Rows come in tree order. A unit is flagged below 50% only after half the window has
    passed: early in a survey every unit is below half, and an alert then says nothing.
    """
    alerts_on = alerts_due(cycle, now=now or datetime.now(UTC))
    counts = dict(
        session.execute(
            sa.select(PulseInvitation.group_key, sa.func.count())
            .join(
                SurveyParticipation,
                sa.and_(
                    SurveyParticipation.survey_id == PulseInvitation.cycle_id,
                    SurveyParticipation.employee_id == PulseInvitation.employee_id,
                ),
            )
            .where(PulseInvitation.cycle_id == cycle.id)
            .group_by(PulseInvitation.group_key)
        ).all()
    )
    units = units_by_id(session=session)
    invited_by_group: Counter = Counter()
    for row in session.exec(select(CycleAudience).where(CycleAudience.cycle_id == cycle.id)):
        invited_by_group[row.group_key] += row.invited
    responded: Counter = Counter()
    invited: Counter = Counter()
    for key, n_invited in invited_by_group.items():
        for unit_id in [*ancestor_ids(units[key]), key]:
            responded[unit_id] += counts.get(key, 0)
            invited[unit_id] += n_invited
    cells = []
    for unit_id in invited:
        chain = [a for a in ancestor_ids(units[unit_id]) if a in invited]
        cells.append(
            anonymity.Cell(
                unit_id, chain[-1] if chain else None, responded[unit_id], responded[unit_id]
            )
        )
    released = anonymity.release(cells, cycle_limits(cycle))
    rows = []
    for unit_id in sorted(invited, key=lambda u: tree_key(units[u], units)):
        if unit_ids is not None and unit_id not in unit_ids:
            continue
        rate = responded[unit_id] / invited[unit_id] if invited[unit_id] else 0
        rows.append(
            ProgressRow(
                units[unit_id],
                tree_depth(units[unit_id]),
                invited[unit_id],
                released[unit_id].scores,
                alerts_on and rate < 0.5,
            )
        )
    return rows


# For the insights dashboard -----------------------------------------------------------------


def _customer_focus(cycle_ids: list[int], *, session: Session) -> dict[tuple[int, int], float]:
    rows = session.execute(
        sa.select(
            RollupItem.cycle_id,
            RollupItem.unit_id,
            sa.func.sum(RollupItem.total),
            sa.func.sum(RollupItem.n),
        )
        .join(PulseItem, PulseItem.id == RollupItem.item_id)
        .where(PulseItem.theme == "customer_focus", RollupItem.cycle_id.in_(cycle_ids))
        .group_by(RollupItem.cycle_id, RollupItem.unit_id)
    ).all()
    return {(c, u): total / n for c, u, total, n in rows if n}


def morale_by_unit_period(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return one row per (unit, quarter) whose results may be shown, from rollups.

    Keys: unit_id, unit_code, period, respondents, invited, engagement (mean of the Likert
    items, 1-5), enps, enps_moe, customer_focus (mean of the team's customer-focus item).
    Cells below the score threshold, or hidden to stop differencing, are left out; see
    `suppressed_units`. With several cycles in one quarter, the one with most respondents wins.
    """
    cycles = closed_cycles(session=session)
    focus = _customer_focus([c.id for c in cycles], session=session)
    codes = {u.id: u.code for u in units_by_id(session=session).values()}
    rows = rollup_rows([c.id for c in cycles], session=session)
    best: dict[tuple[int, str], dict] = {}
    for cycle in cycles:
        for unit_id, released in released_results(
            session=session,
            cycle=cycle,
            unit_ids=unit_ids,
            items=False,
            comments=False,
            rows=rows[cycle.id],
        ).items():
            if released.suppressed:
                continue
            s: UnitScores = released.scores
            row = {
                "unit_id": unit_id,
                "unit_code": codes[unit_id],
                "period": cycle.quarter,
                "respondents": s.respondents,
                "invited": s.invited,
                "engagement": s.engagement,
                "enps": s.enps,
                "enps_moe": s.enps_moe,
                "customer_focus": focus.get((cycle.id, unit_id)),
            }
            key = (unit_id, cycle.quarter)
            if key not in best or best[key]["respondents"] < s.respondents:
                best[key] = row
    return sorted(best.values(), key=lambda r: (r["unit_code"], r["period"]))


def team_customer_focus(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return unit_id, unit_code, period and customer_focus for the visible cells."""
    return [
        {k: r[k] for k in ("unit_id", "unit_code", "period", "customer_focus")}
        for r in morale_by_unit_period(session=session, unit_ids=unit_ids)
    ]


def suppressed_units(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return (unit_id, unit_code, period, reason) for audience units without shown results.

    reason is "merged" (too small at launch, reported with its parent) or "suppressed" (too
    few respondents, or hidden so that it cannot be worked out by subtraction); `differencing`
    says which of the two a suppressed cell is (`anonymity.withheld_reason`). No counts.
    """
    codes = {u.id: u.code for u in units_by_id(session=session).values()}
    visible = {
        (r["unit_id"], r["period"])
        for r in morale_by_unit_period(session=session, unit_ids=unit_ids)
    }
    cycles = closed_cycles(session=session)
    respondents = {
        (cycle_id, r.unit_id): r.respondents
        for cycle_id, rows in rollup_rows([c.id for c in cycles], session=session).items()
        for r in rows
    }
    out = {}
    for cycle in cycles:
        for row in session.exec(
            select(CycleAudience).where(CycleAudience.cycle_id == cycle.id)
        ).all():
            unit_id = row.unit_id
            if unit_ids is not None and unit_id not in unit_ids:
                continue
            if (unit_id, cycle.quarter) in visible:
                continue
            reason = "merged" if row.group_key != unit_id else "suppressed"
            differencing = (
                reason == "suppressed"
                and anonymity.withheld_reason(
                    respondents.get((cycle.id, unit_id), 0), cycle_limits(cycle)
                )
                == anonymity.DIFFERENCING
            )
            out[(unit_id, cycle.quarter)] = {
                "unit_id": unit_id,
                "unit_code": codes[unit_id],
                "period": cycle.quarter,
                "reason": reason,
                "differencing": differencing,
            }
    return sorted(out.values(), key=lambda r: (r["unit_code"], r["period"]))


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


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _scores_document(scores: UnitScores, *, alpha: bool = True) -> dict:
    doc = {
        "respondents": scores.respondents,
        "invited": scores.invited,
        "response_rate": _round(scores.response_rate, 3),
        "engagement": _round(scores.engagement),
        "enps": _round(scores.enps, 1),
        "enps_moe": _round(scores.enps_moe, 1),
        "cronbach_alpha": _round(scores.alpha),
        "items": [
            {
                "code": s.item.code,
                "theme": s.item.theme,
                "text": s.item.text,
                "n": s.n,
                "mean": _round(s.mean),
                "distribution": dict(s.distribution),
            }
            for s in scores.items
        ],
    }
    if not alpha:  # front-line staff are not shown Cronbach's alpha
        del doc["cronbach_alpha"]
    return doc


def results_document(
    *, session: Session, unit: OrgUnit, cycle: PulseCycle | None, alpha: bool = True
) -> dict:
    """Return a unit's released results, trend and ledger as a JSON-ready dict.

    `alpha=False` leaves out Cronbach's alpha, which only HR and admins are shown.
    """
    doc: dict = {
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "cycle": None,
        "result": None,
        "trend": [],
        "ledger": [],
    }
    if cycle is None:
        return doc
    limits = cycle_limits(cycle)
    doc["cycle"] = {"id": cycle.id, "period": cycle.period, "quarter": cycle.quarter}
    doc["thresholds"] = {"scores": limits.scores, "comments": limits.comments}
    released = released_results(session=session, cycle=cycle, unit_ids={unit.id}).get(unit.id)
    if released is None:
        group = reporting_group(cycle, unit.id, session=session)
        doc["result"] = {"status": "merged", "merged_into": group.code if group else None}
    elif released.suppressed:
        doc["result"] = {"status": "suppressed", "message": anonymity.SUPPRESSED_TEXT}
    else:
        doc["result"] = {
            "status": "shown",
            **_scores_document(released.scores, alpha=alpha),
            "comments": released.comments,
        }
    until_now = cycles_up_to(closed_cycles(cycle.programme_id, session=session), cycle)
    for point in trend(
        session=session, unit_id=unit.id, programme_id=cycle.programme_id, cycles=until_now
    ):
        entry = {"period": point.cycle.period, "status": "merged"}
        if point.result is not None and point.result.suppressed:
            entry["status"] = "suppressed"
        elif point.result is not None:
            s = point.result.scores
            entry.update(
                status="shown",
                respondents=s.respondents,
                response_rate=_round(s.response_rate, 3),
                engagement=_round(s.engagement),
                enps=_round(s.enps, 1),
                enps_moe=_round(s.enps_moe, 1),
            )
        doc["trend"].append(entry)
    commitments = commitments_for({unit.id}, session=session)
    tallies = released_tallies([c.id for c in commitments], session=session)
    periods = {c.id: c.period for c in session.exec(select(PulseCycle)).all()}
    doc["ledger"] = [
        {
            "after": periods.get(c.cycle_id),
            "text": c.text,
            "status": c.status,
            "due_on": c.due_on.isoformat() if c.due_on else None,
            "theme": c.theme,
            "marks": dict(tallies[c.id]) if tallies[c.id] is not None else None,
        }
        for c in commitments
    ]
    return doc


def results_table(*, session: Session, cycle: PulseCycle, unit_ids: set[int] | None) -> list[list]:
    """Return the CSV export of a closed cycle: one row per unit the viewer may see."""
    items = cycle_items(cycle, session=session)
    header = [
        "unit_code",
        "unit_name",
        "period",
        "status",
        "respondents",
        "invited",
        "response_rate",
        "engagement",
        "enps",
        "enps_moe",
        *[i.code for i in items],
    ]
    units = units_by_id(session=session)
    released = released_results(session=session, cycle=cycle, unit_ids=unit_ids, comments=False)
    rows = [header]
    for unit_id in sorted(released, key=lambda u: tree_key(units[u], units)):
        r, unit = released[unit_id], units[unit_id]
        if r.suppressed:
            rows.append(
                [unit.code, unit.name, cycle.period, "suppressed", *[""] * (len(header) - 4)]
            )
            continue
        s: UnitScores = r.scores
        means = {score.item.id: _round(score.mean) for score in s.items}
        rows.append(
            [
                unit.code,
                unit.name,
                cycle.period,
                "shown",
                s.respondents,
                s.invited,
                _round(s.response_rate, 3),
                _round(s.engagement),
                _round(s.enps, 1),
                _round(s.enps_moe, 1),
                *[means.get(i.id, "") for i in items],
            ]
        )
    merged = session.exec(
        select(CycleAudience).where(
            CycleAudience.cycle_id == cycle.id, CycleAudience.group_key != CycleAudience.unit_id
        )
    ).all()
    for row in merged:
        if row.unit_id in released or (unit_ids is not None and row.unit_id not in unit_ids):
            continue
        unit = units[row.unit_id]
        rows.append(
            [
                unit.code,
                unit.name,
                cycle.period,
                f"merged into {units[row.group_key].code}",
                *[""] * (len(header) - 4),
            ]
        )
    return rows
