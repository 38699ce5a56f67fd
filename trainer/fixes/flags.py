"""Flag data-quality problems in released fix logs, for HR only."""

from datetime import date

from flask_babel import gettext as _
from sqlmodel import Session, select

from trainer.fixes.released import periods, released_cells
from trainer.fixes.rollups import LATE_DAYS
from trainer.org.models import OrgUnit
from trainer.util import quarter_bounds, quarter_of, utcnow

# Translated where it is shown (the same message as the insights flags).
NOT_AN_ACCUSATION = "This is a data-quality check, not an accusation."


def gaming_flags(today: date | None = None, *, session: Session) -> list[dict]:
    """Return neutral data-quality flags on released unit-quarters that have ended: most of
    the quarter's fixes logged in its last two weeks, or many near-identical entries.

    Flags are about a unit's log, never a person, and go to HR only.
    """
    current = quarter_of(today or utcnow().date())
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    flags = []
    for period in periods(session=session):
        if period >= current:
            continue
        days = (quarter_bounds(period)[1] - quarter_bounds(period)[0]).days + 1
        for uid, row in released_cells(period, session=session).items():
            if row is None or uid not in units or units[uid].kind != "team":
                continue
            base = {
                "unit_code": units[uid].code,
                "unit_name": units[uid].name,
                "period": period,
                "kind": "gaming",
                "fixes": row.fixes,
            }
            early = row.fixes - row.late_fixes
            early_rate = early / (days - LATE_DAYS)
            late_rate = row.late_fixes / LATE_DAYS
            if (
                row.late_fixes >= 10
                and row.late_fixes >= 0.5 * row.fixes
                and late_rate >= 3 * max(early_rate, 1e-9)
            ):
                flags.append(
                    {
                        **base,
                        "signal": "volume_jump",
                        "reason": (
                            _(
                                "%(late)d of the quarter's %(fixes)d fixes were logged in its "
                                "last %(days)d days, about %(times)s times the earlier daily rate",
                                late=row.late_fixes,
                                fixes=row.fixes,
                                days=LATE_DAYS,
                                times=f"{late_rate / max(early_rate, 1e-9):.0f}",
                            )
                            if early
                            else _(
                                "All %(fixes)d of the quarter's fixes were logged in its last "
                                "%(days)d days",
                                fixes=row.fixes,
                                days=LATE_DAYS,
                            )
                        )
                        + _("; check how the log is being used.")
                        + " "
                        + _(NOT_AN_ACCUSATION),
                    }
                )
            if row.near_identical >= 5 and row.near_identical >= 0.3 * row.fixes:
                flags.append(
                    {
                        **base,
                        "signal": "near_identical",
                        "reason": _(
                            "%(repeats)d of %(fixes)d entries repeat the previous entry of the "
                            "same person almost exactly; check whether entries are being copied.",
                            repeats=row.near_identical,
                            fixes=row.fixes,
                        )
                        + " "
                        + _(NOT_AN_ACCUSATION),
                    }
                )
    return sorted(flags, key=lambda f: (f["unit_code"], f["period"], f["signal"]))
