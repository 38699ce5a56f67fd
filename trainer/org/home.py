"""The organisation panel of the home page: people imports that failed recently."""

from datetime import datetime, timedelta

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.org.models import ImportStatus, PeopleImport

RECENT_DAYS = 14
SHOWN = 3


def failed_imports(*, session: Session, since: datetime) -> list[PeopleImport]:
    """Return the people imports that failed since `since`, newest first (files not loaded)."""
    return list(
        session.exec(
            select(PeopleImport)
            .options(defer(PeopleImport.data))
            .where(PeopleImport.status == ImportStatus.FAILED, PeopleImport.created_at >= since)
            .order_by(PeopleImport.id.desc())
        ).all()
    )


def org_panel(*, session: Session, user: User, now: datetime) -> dict:
    failed = failed_imports(session=session, since=now - timedelta(days=RECENT_DAYS))
    return {
        "tasks": min(len(failed), SHOWN),
        "failed": failed[:SHOWN],
        "more": max(0, len(failed) - SHOWN),
        "days": RECENT_DAYS,
    }
