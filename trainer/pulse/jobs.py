"""Scheduler jobs: make the pulse calendar true. Each is idempotent and catches up after
downtime (a cycle whose window is still running opens late, once).

Each cycle's work is committed on its own, so one cycle's failure leaves the others done.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from trainer.pulse import analyses, cycles, plans, pool, programmes
from trainer.pulse.models import CycleStatus, PulseCycle, PulseProgramme


def open_due_cycles(*, session: Session, now: datetime) -> None:
    """Create and open each active programme's current cycle if its window is running."""
    for programme in session.exec(select(PulseProgramme).where(PulseProgramme.active)).all():
        occ = programmes.due_occurrence(programme, now)
        if occ is None or now >= occ.closes_at:
            continue
        cycle = programmes.cycle_for(programme, occ, session=session)
        if cycle.status == CycleStatus.SCHEDULED:
            cycles.open_cycle(cycle, session=session, now=now)
            cycles.send_due_reminders(cycle, session=session, now=now)  # the invitations
            session.commit()


def _open_cycles(session: Session) -> list[PulseCycle]:
    return list(session.exec(select(PulseCycle).where(PulseCycle.status == CycleStatus.OPEN)))


def send_reminders(*, session: Session, now: datetime) -> None:
    for cycle in _open_cycles(session):
        cycles.send_due_reminders(cycle, session=session, now=now)
        session.commit()


def close_ended_cycles(*, session: Session, now: datetime) -> None:
    """Close ended cycles, then store the driver analyses and comment themes of every closed
    cycle that lacks them (the ones just closed, and any closed before they existed)."""
    for cycle in _open_cycles(session):
        if cycles.aware(cycle.closes_at) <= now:
            cycles.close_cycle(cycle, session=session, now=now)
    analyses.store_missing_analyses(session=session)


def flush_pools(*, session: Session, now: datetime) -> None:
    pool.flush_waiting_pools(session=session, now=now)


def refresh_rollups(*, session: Session, now: datetime) -> None:
    cycles.refresh_rollups(session=session)
    cycles.purge_old_invitations(session=session, now=now)


def nudge_action_plans(*, session: Session, now: datetime) -> None:
    plans.send_nudges(session=session, now=now)


JOBS = [  # (name, function, minutes between runs, what it does), in catch-up order
    ("pulse-open", open_due_cycles, 5, _l("Open surveys on their day and invite people")),
    (
        "pulse-close",
        close_ended_cycles,
        5,
        _l("Close ended surveys and compute their results, drivers and comment themes"),
    ),
    ("pulse-remind", send_reminders, 5, _l("Remind people who have not answered")),
    ("pulse-flush", flush_pools, 5, _l("Open sealed answers in shuffled batches")),
    ("pulse-rollups", refresh_rollups, 30, _l("Check survey results are complete")),
    (
        "pulse-nudges",
        nudge_action_plans,
        60,
        _l("Remind managers with no action plan after 14 days, or with overdue actions"),
    ),
]
