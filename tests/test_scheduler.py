"""The scheduler process: one at a time, and its runner."""

import time
from pathlib import Path

import pytest

from trainer.scheduler import Job, Lock, register_job, run_all, wait_for_lock

ROOT = Path(__file__).resolve().parents[1]


def test_a_second_scheduler_waits_while_the_first_holds_the_lock(app):
    engine = app.extensions["trainer.engine"]
    first, second = Lock(engine), Lock(engine)
    second.holder += "-standby"
    assert first.try_acquire()
    try:
        assert not wait_for_lock(second, poll_seconds=0.05, give_up_after=0.3)
    finally:
        first.release()
    assert second.try_acquire()
    second.release()


def test_the_lock_holder_may_claim_again(app):
    lock = Lock(app.extensions["trainer.engine"])
    assert lock.try_acquire()
    assert lock.still_held() and lock.try_acquire()
    lock.release()
    assert not lock.still_held()


def test_an_expired_lease_passes_to_a_standby_with_a_larger_fencing_token(app):
    engine = app.extensions["trainer.engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite lease; PostgreSQL's advisory lock is tested with real processes")
    first, second = Lock(engine, lease_seconds=0.2), Lock(engine, lease_seconds=0.2)
    second.holder += "-standby"
    assert first.try_acquire() and not second.try_acquire()
    time.sleep(0.3)  # the first is paused past its lease
    assert second.try_acquire() and second.token == first.token + 1
    assert not first.still_held()  # it finds out before its next job, and never renews
    assert second.still_held()
    second.release()


def test_a_failing_job_is_logged_and_the_others_still_run(app, caplog):
    ran = []

    def broken(*, session, now):
        raise ValueError("bad day")

    def fine(*, session, now):
        ran.append(now)

    app.extensions["trainer.jobs"] = []
    register_job(app, "broken", broken)
    register_job(app, "fine", fine)
    run_all(app)
    assert len(ran) == 1
    assert "Job broken failed" in caplog.text
    assert isinstance(app.extensions["trainer.jobs"][0], Job)


def test_scheduler_once_runs_every_job_and_exits(app, runner):
    ran = []
    app.extensions["trainer.jobs"] = []
    register_job(app, "note", lambda *, session, now: ran.append(now))
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert len(ran) == 1
