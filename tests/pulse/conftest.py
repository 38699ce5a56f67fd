"""Pulse test helpers: a populated org, an open cycle, and answering through the service."""

import pytest
from sqlmodel import select

from trainer.pulse.cycles import close_cycle, open_now
from trainer.pulse.models import PulseItem
from trainer.pulse.programmes import (
    ProgrammeInput,
    cycle_items,
    ensure_default_programme,
    programme_item_ids,
    save_programme,
)
from trainer.pulse.submit import invitation_for, submit_response
from trainer.util import utcnow


@pytest.fixture
def staffed(org, make_user):
    """The conftest org with 12 people in T1, 12 in T2 and 11 in T3."""
    people = {"t1": [org.employee], "t2": [], "t3": []}
    for team, count in (("t1", 11), ("t2", 12), ("t3", 11)):
        for _ in range(count):
            people[team].append(make_user("employee", getattr(org, team)))
    org.people = people
    return org


@pytest.fixture
def start_cycle(app, session):
    """Open a cycle of the default pulse for the given audience roots (default: company)."""

    def start(org, roots=None, now=None, **changes):
        programme = ensure_default_programme(
            org.company, session=session, starts_on=(now or utcnow()).date()
        )
        if roots is not None or changes:
            data = ProgrammeInput(
                name=programme.name,
                item_ids=programme_item_ids(programme, session=session),
                unit_ids=[u.id for u in (roots or [org.company])],
                starts_on=programme.starts_on,
                **changes,
            )
            save_programme(data, programme, session=session)
        session.commit()
        cycle = open_now(programme, session=session, now=now or utcnow())
        session.commit()  # as the request of HR's "open now" does
        return cycle

    return start


@pytest.fixture
def run_cycle(session, start_cycle):
    """Open a cycle, let `counts[team]` people of each team answer (with comments), close."""

    def run(org, counts, now=None):
        cycle = start_cycle(org, now=now)
        for team, n in counts.items():
            for i, person in enumerate(org.people[team][:n]):
                submit(
                    session,
                    cycle,
                    person,
                    likert=3 + i % 3,
                    enps=i % 11,
                    comment=f"{team} comment {i}",
                )
        close_cycle(cycle, session=session, now=cycle.closes_at)
        return cycle

    return run


def items_of(session, cycle) -> list[PulseItem]:
    return cycle_items(cycle, session=session)


def answers_for(items, likert: int, enps: int = 8) -> dict[int, int]:
    return {i.id: (enps if i.kind == "enps" else likert) for i in items}


def submit(session, cycle, user, likert=4, enps=8, comment=None) -> bool:
    invitation = invitation_for(cycle, user, session=session)
    assert invitation is not None, f"{user.email} was not invited"
    return submit_response(
        session=session,
        invitation=invitation,
        employee_id=user.id,
        answers=answers_for(items_of(session, cycle), likert, enps),
        comment=comment,
    )


def all_items(session):
    return session.exec(select(PulseItem)).all()
