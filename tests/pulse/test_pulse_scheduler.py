"""Pulse jobs: catch-up after downtime, idempotence, reminders once, closing, flushing."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from tests.pulse.conftest import submit
from trainer.pulse import jobs
from trainer.pulse.cycles import close_cycle
from trainer.pulse.models import (
    PulseCycle,
    ResponsePool,
    RollupItem,
    RollupUnit,
    SurveyParticipation,
    SurveyResponse,
)
from trainer.pulse.programmes import ensure_default_programme
from trainer.scheduler import run_all

START = date(2026, 1, 5)


def _at(days: float) -> datetime:
    return datetime(START.year, START.month, START.day, tzinfo=UTC) + timedelta(days=days)


def _programme(session, org):
    programme = ensure_default_programme(org.company, session=session, starts_on=START)
    session.commit()
    return programme


def _cycles(session):
    session.expire_all()
    return session.exec(select(PulseCycle).order_by(PulseCycle.opens_at)).all()


def _count(session, model):
    return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_a_missed_opening_happens_once_on_start_with_one_invitation_each(
    app, session, staffed, mailbox
):
    _programme(session, staffed)
    run_all(app, now=_at(-1))
    assert _cycles(session) == []
    run_all(app, now=_at(2.5))  # the scheduler was off on opening day
    run_all(app, now=_at(2.6))
    cycles = _cycles(session)
    assert [(c.period, c.status) for c in cycles] == [("2026Q1", "open")]
    invited = {m["To"] for m in mailbox}
    assert len(mailbox) == len(invited) == 37  # everyone with the employee role, once
    assert "admin@example.com" not in invited
    assert f"/pulse/cycles/{cycles[0].id}/answer" in mailbox[0].get_content()


def test_reminders_go_once_to_non_responders_only(app, session, staffed, mailbox):
    _programme(session, staffed)
    run_all(app, now=_at(0.1))
    cycle = _cycles(session)[0]
    answered = staffed.people["t1"][:4]
    for person in answered:
        submit(session, cycle, person)
    mailbox.clear()
    run_all(app, now=_at(3.2))
    run_all(app, now=_at(3.3))
    recipients = [m["To"] for m in mailbox]
    assert len(recipients) == 33 and len(set(recipients)) == 33
    assert not {p.email for p in answered} & set(recipients)
    assert all("Reminder" in m["Subject"] for m in mailbox)
    mailbox.clear()
    run_all(app, now=_at(9))  # day 7 was missed while down: sent once, late
    run_all(app, now=_at(9.5))
    assert len(mailbox) == 33


def test_catching_up_after_several_reminder_days_sends_one_reminder(app, session, staffed, mailbox):
    _programme(session, staffed)
    run_all(app, now=_at(0))
    mailbox.clear()
    run_all(app, now=_at(8))  # both day 3 and day 7 are due
    assert len(mailbox) == 37
    run_all(app, now=_at(10))
    assert len(mailbox) == 37


def test_closing_flushes_rolls_up_and_reduces_participation(app, session, staffed, mailbox):
    _programme(session, staffed)
    run_all(app, now=_at(1))
    cycle = _cycles(session)[0]
    for person in staffed.people["t2"][:7]:
        submit(session, cycle, person)
    assert _count(session, ResponsePool) == 7
    run_all(app, now=_at(15))
    run_all(app, now=_at(15.1))
    cycle = _cycles(session)[0]
    assert cycle.status == "closed" and cycle.rollups_done
    assert _count(session, ResponsePool) == 0 and _count(session, SurveyResponse) == 7
    assert _count(session, SurveyParticipation) == 0
    t2 = session.get(RollupUnit, (cycle.id, staffed.t2.id))
    assert (t2.respondents, t2.invited) == (7, 12)
    # The next quarter opens on its day, and nothing opens for a window that has passed.
    run_all(app, now=_at(95))
    assert [c.period for c in _cycles(session)] == ["2026Q1", "2026Q2"]


def test_a_whole_missed_window_opens_nothing(app, session, staffed, mailbox):
    _programme(session, staffed)
    run_all(app, now=_at(20))
    assert _cycles(session) == [] and mailbox == []


def test_answers_are_opened_in_random_batches_leaving_ten_sealed(
    app, session, staffed, start_cycle
):
    cycle = start_cycle(staffed)
    people = staffed.people["t1"] + staffed.people["t2"]
    for person in people[:19]:
        submit(session, cycle, person)
    jobs.flush_pools(session=session, now=cycle.opens_at)
    assert (_count(session, SurveyResponse), _count(session, ResponsePool)) == (0, 19)
    submit(session, cycle, people[19])
    jobs.flush_pools(session=session, now=cycle.opens_at + timedelta(days=3))
    assert (_count(session, SurveyResponse), _count(session, ResponsePool)) == (10, 10)
    close_cycle(cycle, session=session, now=cycle.closes_at)  # the last batch: 10 or more
    assert (_count(session, SurveyResponse), _count(session, ResponsePool)) == (20, 0)


def test_closing_a_cycle_rolls_up_that_cycle_only(app, session, staffed, start_cycle, run_cycle):
    first = run_cycle(staffed, {"t1": 6, "t2": 6})
    second = start_cycle(staffed, now=first.opens_at + timedelta(days=92))
    # Mark the first cycle's rollups: rolling it up again would overwrite the marks.
    session.execute(
        sa.update(RollupUnit).where(RollupUnit.cycle_id == first.id).values(invited=999)
    )
    session.execute(sa.update(RollupItem).where(RollupItem.cycle_id == first.id).values(total=-1))
    session.commit()
    for person in staffed.people["t2"][:6]:
        submit(session, second, person)
    run_all(app, now=second.closes_at)
    session.expire_all()
    assert session.get(PulseCycle, second.id).status == "closed"
    assert session.get(RollupUnit, (second.id, staffed.t2.id)).respondents == 6
    first_units = session.exec(select(RollupUnit).where(RollupUnit.cycle_id == first.id)).all()
    first_items = session.exec(select(RollupItem).where(RollupItem.cycle_id == first.id)).all()
    assert first_units and {r.invited for r in first_units} == {999}
    assert first_items and {r.total for r in first_items} == {-1}


def test_rollups_job_repairs_a_close_that_stopped_half_way(app, session, staffed, start_cycle):
    cycle = start_cycle(staffed)
    for person in staffed.people["t2"][:10]:
        submit(session, cycle, person)
    close_cycle(cycle, session=session, now=cycle.closes_at)
    session.execute(sa.delete(RollupUnit))
    cycle.rollups_done = False
    session.add(cycle)
    session.commit()
    run_all(app, now=cycle.closes_at)
    run_all(app, now=cycle.closes_at)
    session.expire_all()
    assert session.get(RollupUnit, (cycle.id, staffed.t2.id)).respondents == 10
