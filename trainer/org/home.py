"""The organisation panel of the home page: people imports that failed recently, and
deactivations the safety limit refused (a directory sync gone wrong)."""

from datetime import datetime, timedelta

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from trainer.audit import AuditEntry
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


def refused_deactivations(*, session: Session, since: datetime) -> list[AuditEntry]:
    """Return the deactivations the 20% guard refused since `since`, newest first."""
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "people.deactivation_refused", AuditEntry.at >= since)
            .order_by(AuditEntry.id.desc())
            .limit(SHOWN)
        ).all()
    )


def org_panel(*, session: Session, user: User, now: datetime) -> dict:
    since = now - timedelta(days=RECENT_DAYS)
    failed = failed_imports(session=session, since=since)
    refused = refused_deactivations(session=session, since=since)
    return {
        "tasks": min(len(failed), SHOWN) + len(refused),
        "failed": failed[:SHOWN],
        "refused": refused,
        "more": max(0, len(failed) - SHOWN),
        "days": RECENT_DAYS,
    }
