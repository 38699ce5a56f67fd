"""What the system status page reports: the scheduler, its jobs and the sealing key."""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session

from trainer import seal
from trainer.scheduler import ADVISORY_LOCK_KEY, Job, JobRun, SchedulerLock, jobs
from trainer.util import utcnow


@dataclass(frozen=True)
class StatusReport:
    scheduler: str  # a sentence for people
    scheduler_ok: bool
    job_runs: list[tuple[Job, JobRun | None]]
    seal_fingerprint: str | None
    seal_problem: str | None
    now: datetime


def _scheduler_state(session: Session) -> tuple[str, bool]:
    if session.get_bind().dialect.name == "postgresql":
        held = session.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = 0 AND objid = :k AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"k": ADVISORY_LOCK_KEY},
        ).scalar()
        return (_("A scheduler holds the lock."), True) if held else (_none_running(), False)
    lease = session.get(SchedulerLock, "scheduler")
    if lease is None or lease.expires_at <= utcnow():
        return (_none_running(), False)
    holds = _("Scheduler %(holder)s holds the lease (token %(token)s).")
    return (holds % {"holder": lease.holder, "token": lease.token}, True)


def _none_running() -> str:  # noqa: N802
    return _("No scheduler is running: surveys will not open, close or send email.")


def _fingerprint() -> tuple[str | None, str | None]:
    try:
        key = seal.read_public_key(current_app._get_current_object())
    except (seal.SealError, ValueError) as exc:
        return None, str(exc)
    text = base64.b32encode(hashlib.sha256(bytes(key)).digest()[:10]).decode().lower()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4)), None


def status_report(*, session: Session) -> StatusReport:
    runs = {run.name: run for run in session.execute(sa.select(JobRun)).scalars()}
    text, ok = _scheduler_state(session)
    fingerprint, problem = _fingerprint()
    return StatusReport(
        text,
        ok,
        [(job, runs.get(job.name)) for job in jobs(current_app._get_current_object())],
        fingerprint,
        problem,
        utcnow(),
    )
