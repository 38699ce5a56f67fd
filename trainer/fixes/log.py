"""Log fixes and read a person's own list.

An employee's own fixes are read only by `my_fixes` (and the privacy export). Everything else
reads `FixRollup` rows (see `trainer.fixes.released`)."""

import math
from collections import Counter
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from trainer.auth.models import User
from trainer.fixes.models import ACTIONS, Fix
from trainer.fixes.settings import MAX_GOODWILL, FixError, problem_choices, settings_for
from trainer.org.models import OrgUnit
from trainer.util import quarter_of, utcnow

NOTE_LENGTH = 120
MY_LIST = 50


def log_fix(
    *,
    session: Session,
    user: User,
    problem: str,
    action: str,
    goodwill: float | None,
    note: str = "",
    now: datetime | None = None,
) -> Fix:
    """Record a fix by `user`. Raises FixError with a message for the person."""
    if user.unit_id is None:
        raise FixError(
            _(
                "You are not in a team yet, so a fix cannot be counted. Ask HR to "
                "place you in your team."
            )
        )
    unit = session.get(OrgUnit, user.unit_id)
    settings = settings_for(unit, session=session)
    labels = dict(problem_choices(settings.unit_type, session=session))
    if problem not in labels:
        raise FixError(_("Choose a problem from the list, or 'Something else'."))
    if action not in ACTIONS:
        raise FixError(_("Choose what you did."))
    goodwill = 0.0 if goodwill is None else float(goodwill)
    if not math.isfinite(goodwill) or not 0 <= goodwill <= MAX_GOODWILL:
        raise FixError(_("Goodwill must be between 0 and %(max)s.", max=f"{MAX_GOODWILL:,.0f}"))
    note = " ".join((note or "").split())
    if len(note) > NOTE_LENGTH:
        raise FixError(_("Keep the note to one line of %(num)d characters.", num=NOTE_LENGTH))
    now = now or utcnow()
    fix = Fix(
        user_id=user.id,
        unit_id=unit.id,
        period=quarter_of(now.date()),
        logged_at=now,
        problem=problem,
        problem_label=str(labels[problem]),  # in the words the person saw
        action=action,
        goodwill=round(goodwill, 2),
        currency=settings.currency,
        note=note,
    )
    session.add(fix)
    session.flush()
    return fix


def my_fixes(user: User, limit: int = MY_LIST, *, session: Session) -> list[Fix]:
    """Return the person's own fixes, newest first: nobody else's list is ever read."""
    return list(
        session.exec(
            select(Fix)
            .where(Fix.user_id == user.id)
            .order_by(col(Fix.logged_at).desc(), col(Fix.id).desc())
            .limit(limit)
        ).all()
    )


def my_summary(user: User, *, session: Session) -> dict:
    """Return the person's own counts this quarter: for them alone, never a target."""
    period = quarter_of(utcnow().date())
    counts = Counter(
        session.exec(select(Fix.action).where(Fix.user_id == user.id, Fix.period == period)).all()
    )
    return {"period": period, "total": sum(counts.values()), "on_spot": counts["on_spot"]}


def own_fix(user: User, fix_id: int, *, session: Session) -> Fix | None:
    """Return the fix if `user` logged it, else None (someone else's is never found)."""
    fix = session.get(Fix, fix_id)
    return fix if fix is not None and fix.user_id == user.id else None


def delete_fix(fix: Fix, *, session: Session) -> None:
    session.delete(fix)
    session.flush()


def erase_person_fixes(user_id: int, *, session: Session) -> int:
    return session.execute(sa.delete(Fix).where(Fix.user_id == user_id)).rowcount
