"""Scheduled jobs, run by `flask scheduler` in a process of their own.

Jobs are idempotent "make the world match the calendar" functions: each takes the session and
the current time as keywords, and running it twice, or late, does no harm.

Exactly one scheduler runs jobs. On PostgreSQL it holds a session advisory lock; on SQLite, a
lease row with an expiry and a fencing token that grows with every new holder. Before every
job the scheduler checks that it still holds the lock (the advisory lock's session is alive;
the lease row still carries its token and has not expired) and steps down to standby at once
if not. So a scheduler whose database connection was cut, or that was paused past its lease,
never runs another job once a standby has taken over.
"""

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlmodel import Field, Session, SQLModel

from trainer.util import utcnow

log = logging.getLogger("trainer.scheduler")
ADVISORY_LOCK_KEY = 74_657_201  # any constant shared by every scheduler of this database


class SchedulerLock(SQLModel, table=True):
    """On SQLite, the lease that says which scheduler runs jobs."""

    __tablename__ = "scheduler_lock"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=200)
    token: int  # the fencing token: every new holder gets a larger one
    expires_at: datetime


class JobRun(SQLModel, table=True):
    """The last run of each job, for the system status page."""

    __tablename__ = "scheduler_job_run"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = Field(default=None, max_length=500)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., object]
    every_minutes: float
    label: str = ""  # what it does, for the system status page (a lazy_gettext string)


def register_job(app: Flask, name: str, func, every_minutes: float = 5, label: str = "") -> None:
    """Run `func(session=..., now=...)` every few minutes in the scheduler process."""
    app.extensions.setdefault("trainer.jobs", []).append(
        Job(name, func, every_minutes, label or name)
    )


def jobs(app: Flask) -> list[Job]:
    return list(app.extensions.get("trainer.jobs", []))


# The lock this process holds while it runs as the scheduler (None in tests and web workers).
_held: "Lock | None" = None


def still_in_charge() -> bool:
    """True unless this process is a scheduler that has lost its lock."""
    return _held is None or _held.still_held()


def _record_run(session: Session, name: str, holder: str, **values) -> None:
    row = session.get(JobRun, name) or JobRun(name=name, holder=holder, started_at=utcnow())
    row.holder = holder
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)


def run_job(app: Flask, job: Job, now: datetime | None = None) -> bool:
    """Run one job in its own transaction; log and roll back on failure.

    Return False, without running it, if this scheduler no longer holds its lock.
    """
    with app.app_context():
        if not still_in_charge():
            log.warning("Lost the scheduler lock: not running job %s; stepping down.", job.name)
            return False
        engine = app.extensions["trainer.engine"]
        holder = _held.holder if _held else "run_all"
        log.debug("Running job %s as %s.", job.name, holder)
        started = utcnow()
        with Session(engine, expire_on_commit=False) as session:
            error = None
            try:
                job.func(session=session, now=now or utcnow())
                session.commit()
            except Exception as exc:
                session.rollback()
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.exception("Job %s failed; it will run again at its next turn.", job.name)
            try:
                _record_run(
                    session, job.name, holder, started_at=started, finished_at=utcnow(), error=error
                )
                session.commit()
            except sa.exc.SQLAlchemyError:
                session.rollback()
        return True


def run_all(app: Flask, now: datetime | None = None) -> None:
    """Run every job once: used at start-up to catch up after downtime, and by tests."""
    for job in jobs(app):
        run_job(app, job, now)


class Lock:
    """The single-scheduler lock: a PostgreSQL advisory lock, or a lease row on SQLite."""

    def __init__(self, engine: sa.Engine, lease_seconds: float = 15):
        self.engine = engine
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.lease = timedelta(seconds=lease_seconds)
        self.token: int | None = None
        self._conn = None
        self._guard = threading.Lock()  # the heartbeat and the jobs run in different threads

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        with self._guard:
            if self.postgres:
                return self._pg_acquire()
            try:
                return self._lease_acquire()
            except sa.exc.OperationalError:  # the database is locked: try again at the next poll
                return False

    def still_held(self) -> bool:
        """Check, and on SQLite renew, the lock; False once it is lost (it stays lost)."""
        with self._guard:
            if self.token is None and self._conn is None:
                return False
            try:
                held = self._pg_held() if self.postgres else self._lease_renew()
            except sa.exc.OperationalError:  # cannot prove it still holds the lease: step down
                held = False
            if not held:
                self._forget()
            return held

    def release(self) -> None:
        with self._guard:
            if self.postgres and self._conn is not None:
                # SIGTERM may have stopped a statement on this connection half-way: roll back
                # first. If unlocking still fails, closing the connection below frees the lock.
                with contextlib.suppress(sa.exc.SQLAlchemyError):
                    self._conn.rollback()
                    self._conn.execute(
                        sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY}
                    )
                    self._conn.commit()
            elif self.token is not None:
                with self.engine.begin() as conn:
                    conn.execute(
                        sa.delete(SchedulerLock).where(
                            SchedulerLock.name == "scheduler",
                            SchedulerLock.holder == self.holder,
                            SchedulerLock.token == self.token,
                        )
                    )
            self._forget()

    def _forget(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._conn.close()
        self._conn, self.token = None, None

    # PostgreSQL: a session advisory lock on a connection kept for it.

    def _pg_acquire(self) -> bool:
        if self._conn is None:
            self._conn = self.engine.connect()
        try:
            got = self._conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
            ).scalar()
            self._conn.commit()
        except sa.exc.DBAPIError:
            self._forget()
            return False
        if not got:
            self._forget()
        return bool(got)

    def _pg_held(self) -> bool:
        try:
            held = self._conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid = 0 AND objid = :k"
                ),
                {"k": ADVISORY_LOCK_KEY},
            ).scalar()
            self._conn.commit()
        except sa.exc.DBAPIError:  # the connection was terminated: the lock went with it
            return False
        return bool(held)

    # SQLite (or any database without advisory locks): a lease with a fencing token.

    def _lease_acquire(self) -> bool:
        now = utcnow()
        with Session(self.engine) as session:  # BEGIN IMMEDIATE: one claimant at a time
            row = session.get(SchedulerLock, "scheduler")
            mine = row is not None and (row.holder, row.token) == (self.holder, self.token)
            if row is None:
                row = SchedulerLock(name="scheduler", holder=self.holder, token=1, expires_at=now)
            elif not mine:
                if row.expires_at > now:
                    return False
                row.token += 1  # a new holder: fence off the one whose lease expired
            row.holder, row.expires_at = self.holder, now + self.lease
            token = row.token
            session.add(row)
            session.commit()
        self.token = token
        return True

    def _lease_renew(self) -> bool:
        now = utcnow()
        with self.engine.begin() as conn:
            renewed = conn.execute(
                sa.update(SchedulerLock)
                .where(
                    SchedulerLock.name == "scheduler",
                    SchedulerLock.holder == self.holder,
                    SchedulerLock.token == self.token,
                    SchedulerLock.expires_at > now,
                )
                .values(expires_at=now + self.lease)
            ).rowcount
        return renewed == 1


def wait_for_lock(lock: Lock, poll_seconds: float, give_up_after: float | None = None) -> bool:
    """Block until this process holds the lock (or `give_up_after` seconds pass)."""
    started = time.monotonic()
    announced = False
    while not lock.try_acquire():
        if not announced:
            log.info("Another scheduler holds the lock; waiting as a standby.")
            announced = True
        if give_up_after is not None and time.monotonic() - started > give_up_after:
            return False
        time.sleep(poll_seconds)
    return True


def _run_while_in_charge(app: Flask, lock: Lock) -> None:
    """Run the jobs on their intervals until the lock is lost (or the process is stopped)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")

    def guarded(job: Job) -> None:
        if not run_job(app, job):
            scheduler.shutdown(wait=False)

    def heartbeat() -> None:
        if not lock.still_held():
            log.warning("Lost the scheduler lock; stepping down to standby.")
            scheduler.shutdown(wait=False)

    for job in jobs(app):
        scheduler.add_job(
            guarded,
            "interval",
            args=[job],
            seconds=job.every_minutes * 60,
            id=job.name,
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=lock.lease.total_seconds() / 3,
        id="lock-heartbeat",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()


@click.command("scheduler")
@with_appcontext
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron or tests).")
@click.option(
    "--poll", default=5.0, show_default=True, help="Seconds between lock attempts while on standby."
)
def scheduler_command(once, poll):
    """Run the job scheduler (exactly one runs jobs; others wait as standbys)."""
    global _held
    from trainer import seal

    app = current_app._get_current_object()
    try:
        seal.opener(app)  # only the scheduler opens sealed answers: refuse to run without it
    except seal.SealError as exc:
        raise click.ClickException(str(exc)) from None
    lock = Lock(app.extensions["trainer.engine"], app.config["SCHEDULER_LEASE_SECONDS"])
    # systemd and `make run` stop the scheduler with SIGTERM: stop as on Ctrl-C, freeing the lock.
    previous_handler = signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        while True:
            wait_for_lock(lock, poll)
            _held = lock
            log.info("Scheduler holds the lock as %s.", lock.holder)
            run_all(app)  # catch up on anything missed while no scheduler ran
            if once:
                return
            if still_in_charge():
                _run_while_in_charge(app, lock)
            _held = None
            time.sleep(3 * poll)  # stepped down: let a standby take over before trying again
    except (KeyboardInterrupt, SystemExit):
        log.info("Scheduler stopped.")
    finally:
        _held = None
        lock.release()
        signal.signal(signal.SIGTERM, previous_handler)


def stop_on_sigterm(_signum, _frame):
    raise SystemExit(0)


def init_app(app: Flask) -> None:
    app.cli.add_command(scheduler_command)
