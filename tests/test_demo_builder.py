"""The demo builder's bulk writes: what COPY (or executemany) stores is what the ORM reads."""

from datetime import UTC, datetime

from sqlmodel import select

from trainer.auth.models import User
from trainer.demo import bulk_write, fix_sequence, next_id, people_in_batches
from trainer.org.services import create_unit

COLUMNS = (
    "id",
    "email",
    "name",
    "roles",
    "unit_id",
    "active",
    "session_token",
    "created_at",
    "inactive_since",
)


def test_bulk_written_people_read_back_as_written_and_new_ids_follow(app, session):
    unit = create_unit(session=session, code="T", name="Company", kind="company", parent=None)
    session.flush()
    first = next_id(User, session=session)
    when = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)
    rows = (
        (
            first + n,
            f"p{n}@example.com",
            f"Person {n}",
            "employee",
            unit.id,
            n != 2,
            f"token-{n}",
            when,
            None if n else when,
        )
        for n in range(5)
    )

    assert bulk_write(User, COLUMNS, rows, session=session) == 5
    fix_sequence(User, session=session)
    session.commit()

    people = session.exec(select(User).order_by(User.id)).all()
    assert [p.id for p in people] == list(range(first, first + 5))
    assert [p.active for p in people] == [True, True, False, True, True]
    assert people[0].inactive_since.replace(tzinfo=UTC) == when
    assert people[1].inactive_since is None
    assert {p.created_at.replace(tzinfo=UTC) for p in people} == {when}

    later = User(email="later@example.com", name="Later", unit_id=unit.id)
    session.add(later)
    session.commit()
    assert later.id == first + 5  # the sequence moved past the ids written directly

    batches = list(people_in_batches(User.email, session=session, batch=2))
    assert [(uid, email) for uid, _unit, email in batches] == [
        (p.id, p.email) for p in [*people, later]
    ]
