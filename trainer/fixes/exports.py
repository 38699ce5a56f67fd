"""Give the released cells to the HR export, the API and the insights dashboard."""

from collections import Counter

from sqlmodel import Session, select

from trainer.anonymity import FigureStatus
from trainer.fixes.models import FixRollup
from trainer.fixes.released import TOP_PROBLEMS, periods, released_cells
from trainer.fixes.settings import Settings, settings_map
from trainer.org.models import OrgUnit

FIX_ON_SPOT, FIX_RATE = "fix_on_spot", "fix_rate"
INSIGHT_MEASURES = {  # insights metric code: (label, higher is better, min, max)
    FIX_ON_SPOT: ("Fixed on the spot (% of logged fixes)", True, 0.0, 100.0),
    FIX_RATE: ("Fixes per person (on own authority, per quarter)", True, 0.0, None),
}


EXPORT_HEAD = [
    "unit_code",
    "unit_name",
    "period",
    "people",
    "fixes",
    "on_spot",
    "goodwill",
    "handover",
    "escalated",
    "on_spot_share",
    "goodwill_spent",
    "currency",
    "over_limit",
    "top_problems",
    "status",
]


def rollup_json(row: FixRollup | None, unit: OrgUnit, settings: Settings, period: str) -> dict:
    """Return one cell as the API and the export give it; None values where withheld."""
    if row is None:
        return {
            "unit_code": unit.code,
            "unit_name": unit.name,
            "period": period,
            "status": "hidden",
            "people": None,
            "fixes": None,
            "on_spot": None,
            "goodwill": None,
            "handover": None,
            "escalated": None,
            "on_spot_share": None,
            "goodwill_spent": None,
            "currency": settings.currency,
            "over_limit": None,
            "top_problems": None,
        }
    return {
        "unit_code": unit.code,
        "unit_name": unit.name,
        "period": period,
        "status": FigureStatus.SHOWN,
        "people": row.people,
        "fixes": row.fixes,
        "on_spot": row.on_spot,
        "goodwill": row.goodwill,
        "handover": row.handover,
        "escalated": row.escalated,
        "on_spot_share": round(row.on_spot / row.fixes, 4) if row.fixes else None,
        "goodwill_spent": row.goodwill_spent,
        "currency": settings.currency,
        "over_limit": row.over_limit,
        "top_problems": [code for code, _n in Counter(row.problems).most_common(TOP_PROBLEMS)],
    }


def released_json(
    *, session: Session, unit_ids: set[int] | None, period: str | None = None
) -> list[dict]:
    """Return every cell (shown or hidden) of the units in `unit_ids` (None: all), by unit."""
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    settings = settings_map(units, session=session)
    out = []
    for quarter in sorted(periods(session=session)):
        if period and quarter != period:
            continue
        for uid, row in released_cells(quarter, session=session).items():
            if uid in units and (unit_ids is None or uid in unit_ids):
                out.append(rollup_json(row, units[uid], settings[uid], quarter))
    return sorted(out, key=lambda r: (r["period"], r["unit_code"]))


def export_rows(*, session: Session) -> list[list]:
    """Return the HR export: every unit-quarter, hidden cells without numbers."""
    rows = [EXPORT_HEAD]
    for cell in released_json(session=session, unit_ids=None):
        values = dict(cell, top_problems=" ".join(cell["top_problems"] or []))
        rows.append(["" if values[h] is None else values[h] for h in EXPORT_HEAD])
    return rows


def insight_rows(*, session: Session) -> dict[str, list[dict]]:
    """Return the released cells as insights outcome rows: the share of fixes made on the
    spot (n = fixes) and fixes per person (n = headcount), per (unit, quarter)."""
    out = {FIX_ON_SPOT: [], FIX_RATE: []}
    for period in periods(session=session):
        for uid, row in released_cells(period, session=session).items():
            if row is None or not row.fixes:
                continue
            blank = {
                "unit_id": uid,
                "period": period,
                "topbox": None,
                "responses": None,
                "invited": None,
            }
            out[FIX_ON_SPOT].append(
                {**blank, "value": 100.0 * row.on_spot / row.fixes, "n": row.fixes}
            )
            if row.headcount:
                out[FIX_RATE].append(
                    {**blank, "value": row.fixes / row.headcount, "n": row.headcount}
                )
    return out
