"""Scheduled jobs, run by `flask scheduler` in a process of their own.

Jobs are idempotent "make the world match the calendar" functions: each takes the session and
the current time as keywords, and running it twice, or late, does no harm. Only one scheduler
runs at a time: it holds a PostgreSQL advisory lock (on SQLite, a lock row with a heartbeat);
a second one waits as a standby.
"""

import logging
import os
import signal
import socket
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
LOCK_STALE_AFTER = timedelta(minutes=2)


class SchedulerLock(SQLModel, table=True):
    """On SQLite, the row that says which scheduler is running."""

    __tablename__ = "scheduler_lock"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=200)
    heartbeat: datetime


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., object]
    every_minutes: int


def register_job(app: Flask, name: str, func, every_minutes: int = 5) -> None:
    """Run `func(session=..., now=...)` every few minutes in the scheduler process."""
    app.extensions.setdefault("trainer.jobs", []).append(Job(name, func, every_minutes))


def jobs(app: Flask) -> list[Job]:
    return list(app.extensions.get("trainer.jobs", []))


def run_job(app: Flask, job: Job, now: datetime | None = None) -> None:
    """Run one job in its own transaction; log and roll back on failure."""
    with app.app_context():
        engine = app.extensions["trainer.engine"]
        with Session(engine, expire_on_commit=False) as session:
            try:
                job.func(session=session, now=now or utcnow())
                session.commit()
            except Exception:
                session.rollback()
                log.exception("Job %s failed; it will run again at its next turn.", job.name)


def run_all(app: Flask, now: datetime | None = None) -> None:
    """Run every job once: used at start-up to catch up after downtime, and by tests."""
    for job in jobs(app):
        run_job(app, job, now)


class Lock:
    """The single-scheduler lock."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self._conn = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            if self._conn is None:
                self._conn = self.engine.connect()
            got = self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                     {"k": ADVISORY_LOCK_KEY}).scalar()
            self._conn.commit()
            return bool(got)
        return self._sqlite_claim()

    def _sqlite_claim(self) -> bool:
        with Session(self.engine) as session:
            row = session.get(SchedulerLock, "scheduler")
            now = utcnow()
            if row and row.holder != self.holder and now - row.heartbeat < LOCK_STALE_AFTER:
                return False
            row = row or SchedulerLock(name="scheduler", holder=self.holder, heartbeat=now)
            row.holder, row.heartbeat = self.holder, now
            session.add(row)
            session.commit()
            return True

    def heartbeat(self) -> None:
        if self.engine.dialect.name != "postgresql":
            self._sqlite_claim()

    def release(self) -> None:
        if self._conn is not None:
            self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            self._conn.close()
            self._conn = None
        else:
            with Session(self.engine) as session:
                row = session.get(SchedulerLock, "scheduler")
                if row is not None and row.holder == self.holder:
                    session.delete(row)
                    session.commit()


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


@click.command("scheduler")
@with_appcontext
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron or tests).")
@click.option("--poll", default=15.0, show_default=True,
              help="Seconds between lock attempts while on standby.")
def scheduler_command(once, poll):
    """Run the job scheduler (exactly one per database)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()
    lock = Lock(app.extensions["trainer.engine"])
    # systemd and `make run` stop the scheduler with SIGTERM: stop as on Ctrl-C, freeing the lock.
    previous_handler = signal.signal(signal.SIGTERM, _stop)
    try:
        wait_for_lock(lock, poll)
        log.info("Scheduler holds the lock as %s.", lock.holder)
        try:
            run_all(app)  # catch up on anything missed while no scheduler ran
            if once:
                return
            scheduler = BlockingScheduler(timezone="UTC")
            for job in jobs(app):
                scheduler.add_job(run_job, "interval", args=[app, job],
                                  minutes=job.every_minutes, id=job.name, max_instances=1,
                                  coalesce=True)
            scheduler.add_job(lock.heartbeat, "interval", seconds=30, id="lock-heartbeat")
            scheduler.start()
        finally:
            lock.release()
    except (KeyboardInterrupt, SystemExit):
        log.info("Scheduler stopped.")
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _stop(_signum, _frame):
    raise SystemExit(0)


def init_app(app: Flask) -> None:
    app.cli.add_command(scheduler_command)
