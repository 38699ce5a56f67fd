"""Managers' customer-focus ratings of the teams they manage, one per team and quarter."""

from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.insights.models import CustomerFocusRating
from trainer.insights.sources import DEFAULT_LEVEL, InsightsError, Level
from trainer.org.models import OrgUnit
from trainer.org.scope import managed_scope
from trainer.util import quarter_of, shift_quarter, utcnow

RATING_QUARTERS = 8  # how many quarters back a manager may rate


def rating_periods(today=None) -> list[str]:
    """Return the quarters a manager may rate, newest first (this one and the last few)."""
    current = quarter_of(today or utcnow().date())
    return [shift_quarter(current, -n) for n in range(RATING_QUARTERS)]


def rateable_teams(*, session: Session, user: User, level: Level = DEFAULT_LEVEL) -> list[OrgUnit]:
    """Return the units at the reporting level that the person manages (with subtrees)."""
    ids = managed_scope(session=session, user=user)
    if not ids:
        return []
    return list(
        session.exec(
            select(OrgUnit)
            .where(OrgUnit.id.in_(ids), OrgUnit.kind == level, OrgUnit.active)
            .order_by(OrgUnit.path, OrgUnit.code)
        ).all()
    )


def my_ratings(*, session: Session, user: User, period: str) -> dict[int, int]:
    return dict(
        session.exec(
            select(CustomerFocusRating.unit_id, CustomerFocusRating.rating).where(
                CustomerFocusRating.rater_id == user.id, CustomerFocusRating.period == period
            )
        ).all()
    )


def save_ratings(
    *, session: Session, user: User, period: str, ratings: dict[int, int | None]
) -> int:
    """Store the person's ratings (1-5) of teams they manage for one quarter; None clears one.

    Returns how many ratings changed. Raises InsightsError for a team they do not manage, a
    rating outside 1-5 or a quarter they may not rate.
    """
    if period not in rating_periods():
        raise InsightsError(
            f"{period} cannot be rated; choose one of the last {RATING_QUARTERS} quarters."
        )
    allowed = {u.id for u in rateable_teams(session=session, user=user)}
    for unit_id, rating in ratings.items():
        if unit_id not in allowed:
            raise InsightsError("You can only rate teams you manage.")
        if rating is not None and rating not in range(1, 6):
            raise InsightsError("Ratings go from 1 to 5.")
    stored = {
        r.unit_id: r
        for r in session.exec(
            select(CustomerFocusRating).where(
                CustomerFocusRating.rater_id == user.id, CustomerFocusRating.period == period
            )
        ).all()
    }
    changed = 0
    now = utcnow()
    for unit_id, rating in ratings.items():
        old = stored.get(unit_id)
        if rating is None and old is not None:
            session.delete(old)
            changed += 1
        elif rating is not None and old is None:
            session.add(
                CustomerFocusRating(
                    unit_id=unit_id, period=period, rater_id=user.id, rating=rating, updated_at=now
                )
            )
            changed += 1
        elif rating is not None and old.rating != rating:
            old.rating, old.updated_at = rating, now
            session.add(old)
            changed += 1
    session.flush()
    return changed
