"""Release the rollups through the anonymity rules and work out what a manager sees.

A cell needs at least 5 people who logged, and differencing protection applies across the
unit tree."""

import math
from collections import Counter
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, select

from trainer import anonymity
from trainer.fixes.models import ACTIONS, OTHER, FixRollup, ProblemType
from trainer.fixes.settings import Settings
from trainer.org.models import OrgUnit
from trainer.util import quarter_bounds, utcnow

TOP_PROBLEMS = 5


def released_cells(period: str, *, session: Session) -> dict[int, FixRollup | None]:
    """Return every unit's rollup for `period`, or None where the anonymity rules withhold it
    (fewer than 5 people logged, or it would let a smaller group be worked out)."""
    rows = {
        r.unit_id: r
        for r in session.exec(select(FixRollup).where(FixRollup.period == period)).all()
    }
    units = {u.id: u for u in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(rows))).all()}
    cells = [
        anonymity.Cell(
            uid,
            units[uid].parent_id if units[uid].parent_id in rows else None,
            row.people,
            scores=row,
        )
        for uid, row in rows.items()
        if uid in units
    ]
    released = anonymity.release(cells, anonymity.thresholds())
    return {uid: r.scores for uid, r in released.items()}


def periods(*, session: Session) -> list[str]:
    """Return the quarters with rollups, newest first."""
    return sorted(set(session.exec(select(FixRollup.period).distinct()).all()), reverse=True)


def weeks_in(period: str, today: date | None = None) -> int:
    """Return how many weeks of `period` have passed (all of them once it is over)."""
    start, end = quarter_bounds(period)
    last = min(end, today or utcnow().date())
    return max(1, math.ceil(((last - start).days + 1) / 7))


def figures(row: FixRollup, settings: Settings, today: date | None = None) -> dict:
    """Return what a manager sees of one released cell."""
    goodwill_fixes = row.goodwill
    return {
        "fixes": row.fixes,
        "people": row.people,
        "per_week": row.fixes / weeks_in(row.period, today),
        "on_spot_share": row.on_spot / row.fixes if row.fixes else None,
        "actions": {code: getattr(row, code) for code in ACTIONS},
        "goodwill_spent": row.goodwill_spent,
        "goodwill_fixes": goodwill_fixes,
        "goodwill_average": row.goodwill_spent / goodwill_fixes if goodwill_fixes else None,
        "over_limit": row.over_limit,
        "currency": settings.currency,
        "limit": settings.goodwill_limit,
        "weeks": sorted(row.weeks.items()),
        "problems": Counter(row.problems).most_common(TOP_PROBLEMS),
    }


def problem_labels(*, session: Session) -> dict[str, str]:
    labels = {
        code: label
        for code, label in session.exec(
            select(ProblemType.code, ProblemType.label).order_by(ProblemType.unit_type.desc())
        )
    }
    labels[OTHER] = _l("Something else")
    return labels
