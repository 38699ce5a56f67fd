"""The anonymity linkage attack (anonymity.md §2) on SQLite rowid and PostgreSQL xmin/ctid."""

import random

import pytest
import sqlalchemy as sa
from scipy.stats import spearmanr

from tests.pulse.conftest import items_of
from trainer.pulse import services
from trainer.pulse.models import ResponsePool, random_key

PARTICIPANTS = 50


@pytest.fixture
def fifty(org, make_user):
    return [make_user("employee", org.t1 if i % 2 else org.t2) for i in range(PARTICIPANTS)]


def _stored_order(session, cycle):
    """Return each stored response's marker in physical order (rowid or ctid)."""
    engine = session.get_bind()
    order = "ctid" if engine.dialect.name == "postgresql" else "rowid"
    rows = session.execute(sa.text(
        f"SELECT comment FROM survey_response WHERE survey_id = :s ORDER BY {order}"),  # noqa: S608
        {"s": cycle.id}).scalars().all()
    return [int(c.removeprefix("marker-")) for c in rows]


def _pool_tuples_on_disk(session) -> int:
    """Count row versions, dead or alive, still stored in response_pool's pages."""
    session.commit()
    session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    session.commit()
    return session.execute(sa.text(
        "SELECT count(*) FROM generate_series(0, "
        "  pg_relation_size('response_pool') / current_setting('block_size')::int - 1) AS blk, "
        "  heap_page_items(get_raw_page('response_pool', blk::int)) "
        "WHERE t_data IS NOT NULL")).scalar()


def test_postgresql_vacuum_erases_deleted_pool_rows(session, org, start_cycle):
    """Deleted pool rows stay on disk (with their xmin) until erase_residue vacuums them."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    cycle = start_cycle(org)
    services.erase_residue(session)  # earlier tests' dead rows (fixtures DELETE, not TRUNCATE)
    assert _pool_tuples_on_disk(session) == 0
    for _ in range(3):
        session.execute(sa.insert(ResponsePool).values(
            id=random_key(), survey_id=cycle.id, group_key=org.company.id, answers="{}"))
    session.commit()
    session.execute(sa.delete(ResponsePool))
    session.commit()
    assert _pool_tuples_on_disk(session) == 3
    services.erase_residue(session)
    assert _pool_tuples_on_disk(session) == 0


def _submit_in_order(session, cycle, people):
    """Everyone answers, one after another; the comment records the submission order."""
    items = items_of(session, cycle)
    for n, person in enumerate(people):
        invitation = services.invitation_for(session, cycle, person)
        answers = {i.id: (n % 5) + 1 if i.kind == "likert" else n % 11 for i in items}
        assert services.submit_response(session, invitation=invitation, employee_id=person.id,
                                        answers=answers, comment=f"marker-{n}")


def test_flushed_responses_cannot_be_linked_to_participants(app, session, org, fifty,
                                                            start_cycle, monkeypatch):
    monkeypatch.setattr(services, "_rng", random.Random(20260))
    cycle = start_cycle(org)
    _submit_in_order(session, cycle, fifty)
    engine = session.get_bind()

    assert session.execute(sa.text("SELECT count(*) FROM response_pool")).scalar() == 0
    assert session.execute(sa.text("SELECT count(*) FROM survey_participation")
                           ).scalar() == PARTICIPANTS
    stored = _stored_order(session, cycle)
    assert sorted(stored) == list(range(PARTICIPANTS))  # nothing lost, nothing doubled
    # Flushes happen in batches of 10: within a batch the order is shuffled.
    for start in range(0, PARTICIPANTS, 10):
        batch = stored[start:start + 10]
        assert sorted(batch) == list(range(start, start + 10))
        assert batch != sorted(batch)

    if engine.dialect.name == "postgresql":
        linked = session.execute(sa.text(
            "SELECT count(*) FROM survey_participation p JOIN survey_response r "
            "ON p.xmin::text = r.xmin::text")).scalar()
        assert linked == 0
        per_xmin = session.execute(sa.text(
            "SELECT count(*) FROM survey_response GROUP BY xmin::text")).scalars().all()
        assert len(per_xmin) == PARTICIPANTS // 10 and min(per_xmin) >= 10
        # The request path vacuums with SKIP_LOCKED (autovacuum may hold the table); the
        # flush job's blocking VACUUM then erases whatever was left.
        session.commit()
        services.erase_residue(session)
        assert _pool_tuples_on_disk(session) == 0  # VACUUM erased the old row versions

    session.commit()
    services.close_cycle(session, cycle, now=cycle.closes_at)
    stored = _stored_order(session, cycle)
    assert sorted(stored) == list(range(PARTICIPANTS))
    rho = spearmanr(range(PARTICIPANTS), stored).statistic
    assert abs(rho) < 0.3, rho
    assert session.execute(sa.text("SELECT count(*) FROM survey_participation")).scalar() == 0
    if engine.dialect.name == "postgresql":
        xmins = session.execute(sa.text(
            "SELECT count(DISTINCT xmin::text) FROM survey_response")).scalar()
        assert xmins == 1
    else:
        # Participation rowids said who came when; responses' rowids must not follow them.
        assert stored != list(range(PARTICIPANTS))


def test_without_the_pool_the_attack_would_work(session, org, fifty, start_cycle):
    """Guard the test itself: rowid/ctid order of participation is submission order."""
    cycle = start_cycle(org)
    _submit_in_order(session, cycle, fifty[:12])
    order = "ctid" if session.get_bind().dialect.name == "postgresql" else "rowid"
    ids = session.execute(sa.text(
        f"SELECT employee_id FROM survey_participation ORDER BY {order}")  # noqa: S608
    ).scalars().all()
    assert ids == [p.id for p in fifty[:12]]


def test_sqlite_wal_is_truncated_after_a_flush(app, session, org, fifty, start_cycle, tmp_path):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    cycle = start_cycle(org)
    _submit_in_order(session, cycle, fifty[:9])
    session.commit()
    services.flush_waiting_pools(session, now=cycle.opens_at)  # 9 waiting: stays pooled
    assert session.execute(sa.text("SELECT count(*) FROM response_pool")).scalar() == 9
    _submit_in_order(session, cycle, fifty[9:10])
    session.commit()
    session.close()
    services.erase_residue(session)
    wal = app.extensions["trainer.engine"].url.database + "-wal"
    import os

    assert not os.path.exists(wal) or os.path.getsize(wal) == 0
