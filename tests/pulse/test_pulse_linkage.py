"""The anonymity linkage attack (anonymity.md §2) on SQLite rowid and PostgreSQL xmin/ctid."""

import os
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from scipy.stats import spearmanr
from sqlmodel import Session

from tests.pulse.conftest import items_of
from trainer import seal
from trainer.pulse import pool
from trainer.pulse.cycles import close_cycle
from trainer.pulse.models import ResponsePool, random_key
from trainer.pulse.pool import erase_residue, flush_waiting_pools
from trainer.pulse.submit import invitation_for, submit_response

PARTICIPANTS = 50


@pytest.fixture
def fifty(org, make_user):
    return [make_user("employee", org.t1 if i % 2 else org.t2) for i in range(PARTICIPANTS)]


def _stored_order(session, cycle):
    """Return each stored response's marker in physical order (rowid or ctid)."""
    engine = session.get_bind()
    order = "ctid" if engine.dialect.name == "postgresql" else "rowid"
    rows = (
        session.execute(
            sa.text(f"SELECT comment FROM survey_response WHERE survey_id = :s ORDER BY {order}"),  # noqa: S608
            {"s": cycle.id},
        )
        .scalars()
        .all()
    )
    return [int(c.removeprefix("marker-")) for c in rows]


def _pool_tuples_on_disk(session) -> int:
    """Count row versions, dead or alive, still stored in response_pool's pages."""
    session.commit()
    session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    session.commit()
    return session.execute(
        sa.text(
            "SELECT count(*) FROM generate_series(0, "
            "  pg_relation_size('response_pool') / current_setting('block_size')::int - 1) AS blk, "
            "  heap_page_items(get_raw_page('response_pool', blk::int)) "
            "WHERE t_data IS NOT NULL"
        )
    ).scalar()


def test_postgresql_vacuum_erases_deleted_pool_rows(session, org, start_cycle):
    """Deleted pool rows stay on disk (with their xmin) until erase_residue vacuums them."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    cycle = start_cycle(org)
    erase_residue(session=session)  # earlier tests' dead rows (fixtures DELETE, not TRUNCATE)
    assert _pool_tuples_on_disk(session) == 0
    for _ in range(3):
        session.execute(
            sa.insert(ResponsePool).values(id=random_key(), survey_id=cycle.id, sealed=b"x")
        )
    session.commit()
    session.execute(sa.delete(ResponsePool))
    session.commit()
    assert _pool_tuples_on_disk(session) == 3
    erase_residue(session=session)
    assert _pool_tuples_on_disk(session) == 0


def _submit_in_order(session, cycle, people, first=0, tag=""):
    """Everyone answers, one after another; the comment records the submission order.

    The number has three digits, so a reader of raw bytes knows where it ends; `tag` makes the
    markers unique to one test run when other tests write to the same WAL."""
    items = items_of(session, cycle)
    for n, person in enumerate(people, start=first):
        invitation = invitation_for(cycle, person, session=session)
        answers = {i.id: (n % 5) + 1 if i.kind == "likert" else n % 11 for i in items}
        assert submit_response(
            session=session,
            invitation=invitation,
            employee_id=person.id,
            answers=answers,
            comment=f"marker-{tag}{n:03d}",
        )


# The scheduler's flush job runs every few minutes: here after uneven runs of submissions.
SCHEDULER_RUNS_AFTER = (12, 25, 37, 50)


def _submit_with_flushes(session, cycle, people):
    done = 0
    for upto in SCHEDULER_RUNS_AFTER:
        _submit_in_order(session, cycle, people[done:upto], first=done)
        session.commit()
        flush_waiting_pools(session=session, now=cycle.opens_at)
        done = upto


def test_flushed_responses_cannot_be_linked_to_participants(
    app, session, org, fifty, start_cycle, monkeypatch
):
    monkeypatch.setattr(pool, "_rng", random.Random(20260))
    cycle = start_cycle(org)
    _submit_with_flushes(session, cycle, fifty)
    engine = session.get_bind()

    # Random batches of all but 10: 15 after 25 answers, 12 of the next 22, 13 of the last 23.
    assert session.execute(sa.text("SELECT count(*) FROM response_pool")).scalar() == 10
    assert (
        session.execute(sa.text("SELECT count(*) FROM survey_participation")).scalar()
        == PARTICIPANTS
    )
    stored = _stored_order(session, cycle)
    assert len(set(stored)) == len(stored) == PARTICIPANTS - 10
    assert max(stored) >= 45  # not first in, first out: late answers are among those opened
    # Each flush rewrites the whole cycle shuffled: storage order says nothing, even before
    # the close.
    rho = spearmanr(sorted(stored), stored).statistic
    assert abs(rho) < 0.3, rho

    if engine.dialect.name == "postgresql":
        linked = session.execute(
            sa.text(
                "SELECT count(*) FROM survey_participation p JOIN survey_response r "
                "ON p.xmin::text = r.xmin::text"
            )
        ).scalar()
        assert linked == 0
        xmins = session.execute(
            sa.text("SELECT count(DISTINCT xmin::text) FROM survey_response")
        ).scalar()
        assert xmins == 1  # all written by the last flush
        session.commit()
        erase_residue(session=session)
        assert _pool_tuples_on_disk(session) == 10  # vacuumed: only the 10 still waiting

    session.commit()
    close_cycle(cycle, session=session, now=cycle.closes_at)
    stored = _stored_order(session, cycle)
    assert sorted(stored) == list(range(PARTICIPANTS))  # nothing lost, nothing doubled
    rho = spearmanr(range(PARTICIPANTS), stored).statistic
    assert abs(rho) < 0.3, rho
    assert session.execute(sa.text("SELECT count(*) FROM survey_participation")).scalar() == 0
    if engine.dialect.name == "postgresql":
        xmins = session.execute(
            sa.text("SELECT count(DISTINCT xmin::text) FROM survey_response")
        ).scalar()
        assert xmins == 1
    else:
        # Participation rowids said who came when; responses' rowids must not follow them.
        assert stored != list(range(PARTICIPANTS))


def test_waiting_answers_are_only_ciphertext_in_the_database_files(
    app, session, org, fifty, start_cycle
):
    """What a backup, a dump or the WAL of the database file holds before a flush."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite files; PostgreSQL's WAL is read in the test below")
    cycle = start_cycle(org)
    _submit_in_order(session, cycle, fifty[:9])
    session.commit()
    path = session.get_bind().url.database
    stored = b"".join(Path(f).read_bytes() for f in (path, path + "-wal") if os.path.exists(f))
    assert b"marker-" not in stored
    flush_waiting_pools(session=session, now=cycle.opens_at)  # fewer than 10: still sealed
    assert session.execute(sa.text("SELECT count(*) FROM survey_response")).scalar() == 0


def test_the_web_process_cannot_open_sealed_answers(
    app, session, org, fifty, start_cycle, tmp_path
):
    """Only the scheduler's key opens the pool: a web process without it flushes nothing."""
    cycle = start_cycle(org)
    _submit_in_order(session, cycle, fifty[:20])
    session.commit()
    app.config["SEAL_PRIVATE_KEY_FILE"] = str(tmp_path / "absent.key")
    app.extensions.pop("trainer.seal.opener", None)
    with (
        app.app_context(),
        Session(app.extensions["trainer.engine"]) as web,
        pytest.raises(seal.SealError, match="private key"),
    ):
        flush_waiting_pools(session=web, now=cycle.opens_at)
    assert session.execute(sa.text("SELECT count(*) FROM response_pool")).scalar() == 20


def test_without_the_pool_the_attack_would_work(session, org, fifty, start_cycle):
    """Guard the test itself: rowid/ctid order of participation is submission order."""
    cycle = start_cycle(org)
    _submit_in_order(session, cycle, fifty[:12])
    order = "ctid" if session.get_bind().dialect.name == "postgresql" else "rowid"
    ids = (
        session.execute(
            sa.text(f"SELECT employee_id FROM survey_participation ORDER BY {order}")  # noqa: S608
        )
        .scalars()
        .all()
    )
    assert ids == [p.id for p in fifty[:12]]


def test_sqlite_wal_is_truncated_after_a_flush(app, session, org, fifty, start_cycle, tmp_path):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    cycle = start_cycle(org)
    _submit_in_order(session, cycle, fifty[:9])
    session.commit()
    flush_waiting_pools(session=session, now=cycle.opens_at)  # 9 waiting: stays pooled
    assert session.execute(sa.text("SELECT count(*) FROM response_pool")).scalar() == 9
    _submit_in_order(session, cycle, fifty[9:10])
    session.commit()
    session.close()
    erase_residue(session=session)
    wal = app.extensions["trainer.engine"].url.database + "-wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0


# People without email sign in with a printed card on a shared device (trainer.kiosk). Their
# answers must be exactly as unlinkable as everyone's, and the card adds no link of its own.

CARD_USERS = 24


def _card_users_answer_in_order(client, login_as, session, org, cycle, people):
    """HR prints T1's cards; then each person, in turn, signs in with their code at the kiosk,
    answers with a numbered comment, and is signed out."""
    import re

    login_as(org.hr)
    sheet = client.post(f"/kiosk/cards/{org.t1.id}", data={}).get_data(as_text=True)
    client.post("/auth/logout")
    codes = dict(
        zip(
            re.findall(r'<p class="card-name">([^<]+)</p>', sheet),
            re.findall(r'<p class="card-code">([A-Z0-9-]+)</p>', sheet),
            strict=True,
        )
    )
    items = items_of(session, cycle)
    for n, person in enumerate(people):
        assert client.post("/kiosk/", data={"code": codes[person.name]}).status_code == 302
        answers = {f"item-{i.id}": (n % 5) + 1 if i.kind == "likert" else n % 11 for i in items}
        sent = client.post(
            f"/pulse/cycles/{cycle.id}/answer", data={**answers, "comment": f"marker-{n:03d}"}
        )
        assert sent.status_code == 302
        done = client.get(sent.location)  # the kiosk signs them out here
        assert done.location.endswith("/kiosk/done")
    return codes


def test_code_users_answers_cannot_be_linked_to_them_or_to_their_cards(
    app, client, login_as, session, org, start_cycle, monkeypatch
):
    from trainer.auth.models import User
    from trainer.kiosk.models import CardStatus, SignInCard

    monkeypatch.setattr(pool, "_rng", random.Random(20261))
    people = [
        User(employee_number=f"W-{n:03d}", name=f"Worker {n:03d}", unit_id=org.t1.id)
        for n in range(CARD_USERS)
    ]
    session.add_all(people)
    session.commit()
    cycle = start_cycle(org)
    answering = people[:]
    random.Random(7).shuffle(answering)  # not the order the cards were printed in
    codes = _card_users_answer_in_order(client, login_as, session, org, cycle, answering)

    # Participation is recorded as for anyone; the answers wait sealed, then flush shuffled.
    assert session.execute(sa.text("SELECT count(*) FROM survey_participation")).scalar() == (
        CARD_USERS
    )
    flush_waiting_pools(session=session, now=cycle.opens_at)
    session.commit()
    close_cycle(cycle, session=session, now=cycle.closes_at)
    stored = _stored_order(session, cycle)
    assert sorted(stored) == list(range(CARD_USERS))
    assert abs(spearmanr(range(CARD_USERS), stored).statistic) < 0.3

    # The cards: used, hashed, no time of use, nothing pointing at an answer.
    cards = session.exec(sa.select(SignInCard)).scalars().all()
    assert {c.status for c in cards} == {CardStatus.USED} and len(cards) == CARD_USERS
    columns = {c.name for c in SignInCard.__table__.columns}
    assert columns == {"id", "user_id", "code_hash", "status", "issued_at", "expires_at"}
    assert not [
        fk for fk in SignInCard.__table__.foreign_keys if fk.column.table.name != "user_account"
    ]
    dump = repr(session.execute(sa.text("SELECT * FROM sign_in_card")).all())
    assert not any(code in dump or code.replace("-", "") in dump for code in codes.values())
    engine = session.get_bind()
    if engine.dialect.name == "postgresql":
        linked = session.execute(
            sa.text(
                "SELECT count(*) FROM sign_in_card c JOIN survey_response r "
                "ON c.xmin::text = r.xmin::text"
            )
        ).scalar()
        assert linked == 0
    else:
        # Marking a card used rewrites it in place: its rowid keeps the printing order (by
        # name), not the order people signed in and answered in.
        order = (
            session.execute(
                sa.text(
                    "SELECT u.name FROM sign_in_card c JOIN user_account u ON u.id = c.user_id "
                    "ORDER BY c.rowid"
                )
            )
            .scalars()
            .all()
        )
        assert order == sorted(p.name for p in people)
        assert order != [p.name for p in answering]
