"""Flag data-quality problems in released fix logs, for HR only."""

from datetime import date

from sqlmodel import Session, select

from trainer.fixes.released import periods, released_cells
from trainer.fixes.rollups import LATE_DAYS
from trainer.org.models import OrgUnit
from trainer.util import quarter_bounds, quarter_of, utcnow

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
                            f"{row.late_fixes} of the quarter's {row.fixes} fixes were logged "
                            f"in its last {LATE_DAYS} days, about "
                            f"{late_rate / max(early_rate, 1e-9):.0f} "
                            f"times the earlier daily rate"
                            if early
                            else f"All {row.fixes} of the quarter's fixes were logged in its last "
                            f"{LATE_DAYS} days"
                        )
                        + f"; check how the log is being used. "
                        f"{NOT_AN_ACCUSATION}",
                    }
                )
            if row.near_identical >= 5 and row.near_identical >= 0.3 * row.fixes:
                flags.append(
                    {
                        **base,
                        "signal": "near_identical",
                        "reason": (
                            f"{row.near_identical} of {row.fixes} entries repeat the previous "
                            f"entry of the same person almost exactly; check whether entries "
                            f"are being "
                            f"copied. {NOT_AN_ACCUSATION}"
                        ),
                    }
                )
    return sorted(flags, key=lambda f: (f["unit_code"], f["period"], f["signal"]))
