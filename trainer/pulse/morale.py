"""Pulse scores per unit and quarter, read from rollups for other packages (insights, fixes).

Only cells that `trainer.pulse.results.released_results` lets out are listed; the rest are
named, without counts, by `suppressed_units`.
"""

import sqlalchemy as sa
from sqlmodel import Session, select

from trainer import anonymity
from trainer.anonymity import FigureStatus
from trainer.pulse.cycles import cycle_limits
from trainer.pulse.models import CycleAudience, ItemKind, PulseItem, RollupItem
from trainer.pulse.results import UnitScores, closed_cycles, released_results, rollup_rows
from trainer.pulse.tree import units_by_id


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


def _shown_per_quarter(
    cycles: list, *, session: Session, unit_ids: set[int] | None, items: bool
) -> dict[tuple[int, str], tuple]:
    """Return (cycle, released result) per (unit, quarter) for the cells that may be shown;
    with several cycles in one quarter, the one with most respondents."""
    rows = rollup_rows([c.id for c in cycles], session=session)
    best: dict[tuple[int, str], tuple] = {}
    for cycle in cycles:
        for unit_id, released in released_results(
            session=session,
            cycle=cycle,
            unit_ids=unit_ids,
            items=items,
            comments=False,
            rows=rows[cycle.id],
        ).items():
            if released.suppressed:
                continue
            key = (unit_id, cycle.quarter)
            if key not in best or best[key][1].scores.respondents < released.scores.respondents:
                best[key] = (cycle, released)
    return best


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
    shown = _shown_per_quarter(cycles, session=session, unit_ids=unit_ids, items=False)
    out = []
    for (unit_id, period), (cycle, released) in shown.items():
        s: UnitScores = released.scores
        out.append(
            {
                "unit_id": unit_id,
                "unit_code": codes[unit_id],
                "period": period,
                "respondents": s.respondents,
                "invited": s.invited,
                "engagement": s.engagement,
                "enps": s.enps,
                "enps_moe": s.enps_moe,
                "customer_focus": focus.get((cycle.id, unit_id)),
            }
        )
    return sorted(out, key=lambda r: (r["unit_code"], r["period"]))


def item_means_by_unit_period(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return each Likert question's mean per (unit, quarter) whose results may be shown.

    Keys: unit_id, period, item_id, item_text, mean (1-5), n. From the released results only:
    a question answered by fewer people than the score threshold is left out, as on the
    results page. With several cycles in one quarter, the one with most respondents wins.
    """
    cycles = closed_cycles(session=session)
    shown = _shown_per_quarter(cycles, session=session, unit_ids=unit_ids, items=True)
    return [
        {
            "unit_id": unit_id,
            "period": period,
            "item_id": score.item.id,
            "item_text": score.item.text,
            "mean": score.mean,
            "n": score.n,
        }
        for (unit_id, period) in sorted(shown)
        for score in shown[(unit_id, period)][1].scores.items
        if score.item.kind == ItemKind.LIKERT
    ]


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
            reason = FigureStatus.MERGED if row.group_key != unit_id else FigureStatus.SUPPRESSED
            differencing = (
                reason == FigureStatus.SUPPRESSED
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
