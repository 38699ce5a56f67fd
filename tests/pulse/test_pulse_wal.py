"""A database superuser reads PostgreSQL's write-ahead log and statement log (anonymity.md §2).

The attack that re-linked 43 of 43 answers: the submit transaction writes the participation row
and the pooled answer together, so the WAL and a `log_statement = 'all'` log pair them for ever.
With the pool sealed, they may pair a person only with ciphertext; a plaintext answer appears
only when the scheduler flushes it, in a batch of 10 or more, in a transaction that inserted no
participation row.
"""

import re
import secrets
from collections import defaultdict

import pytest
import sqlalchemy as sa

from tests.pulse.test_pulse_linkage import _submit_in_order
from trainer.pulse.pool import BATCH, flush_waiting_pools

FLUSHED, WAITING = 25, 5  # of the first 25, a random 15 are opened and 10 stay sealed
OPENED = FLUSHED - BATCH
# Tests on other xdist workers write markers into the same cluster-wide WAL: this run's own
# carry a tag no other run has.
TAG = f"{secrets.token_hex(4)}-"
MARKER = re.compile(rb"marker-" + TAG.encode() + rb"(\d{3})")
HEX = re.compile(rb"'\\x((?:[0-9a-f]{2})+)'")


@pytest.fixture
def postgres_only(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")


@pytest.fixture
def statement_log(session, postgres_only):
    """Log every statement of this test database; yield a function reading the new log text."""
    database = session.get_bind().url.database
    session.execute(sa.text(f"ALTER DATABASE \"{database}\" SET log_statement = 'all'"))
    session.commit()
    session.close()
    session.get_bind().dispose()  # new connections pick the setting up
    major = session.execute(sa.text("SHOW server_version_num")).scalar()[:2]
    path = (
        session.execute(sa.text("SELECT pg_current_logfile()")).scalar()
        or f"/var/log/postgresql/postgresql-{major}-main.log"
    )
    start = session.execute(sa.text("SELECT size FROM pg_stat_file(:p)"), {"p": path}).scalar()

    def read() -> bytes:
        return session.execute(
            sa.text("SELECT pg_read_binary_file(:p, :o, 1000000000)"), {"p": path, "o": start}
        ).scalar()

    yield read
    session.rollback()
    session.execute(sa.text(f'ALTER DATABASE "{database}" RESET log_statement'))
    session.commit()


def _wal_records(session, start_lsn, end_lsn):
    """Return (start, end, xid, rmgr, type, block_ref) for each WAL record in the range."""
    session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_walinspect"))
    return session.execute(
        sa.text(
            "SELECT start_lsn - '0/0'::pg_lsn, end_lsn - '0/0'::pg_lsn, xid::text::bigint, "
            "resource_manager, record_type, coalesce(block_ref, '') "
            "FROM pg_get_wal_records_info(:s, :e)"
        ),
        {"s": start_lsn, "e": end_lsn},
    ).all()


def _markers_in_wal(session, start_lsn, end_lsn) -> list[tuple[int, int]]:
    """Read the raw WAL segments as a superuser can; return (marker, byte position) pairs."""
    found = []
    first, last = (
        int(
            session.execute(
                sa.text("SELECT CAST(:l AS pg_lsn) - '0/0'::pg_lsn"), {"l": lsn}
            ).scalar()
        )
        for lsn in (start_lsn, end_lsn)
    )
    size = int(
        session.execute(
            sa.text("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")
        ).scalar()
    )
    for start in range(first - first % size, last, size):  # other tests write WAL too
        data = session.execute(
            sa.text("SELECT pg_read_binary_file('pg_wal/' || pg_walfile_name(CAST(:l AS pg_lsn)))"),
            {"l": f"{start >> 32:X}/{(start + 1) & 0xFFFFFFFF:X}"},
        ).scalar()  # +1: not the end
        # of the previous segment, which an LSN on the boundary names
        found += [
            (int(m.group(1)), start + m.start())
            for m in MARKER.finditer(data)
            if first <= start + m.start() < last
        ]
    return found


@pytest.fixture
def survey(session, org, make_user, start_cycle):
    """Return a function that runs the survey: FLUSHED answers, a flush, WAITING more."""
    people = [make_user("employee", org.t1 if i % 2 else org.t2) for i in range(FLUSHED + WAITING)]
    cycle = start_cycle(org)
    session.commit()

    def run():
        _submit_in_order(session, cycle, people[:FLUSHED], tag=TAG)
        session.commit()
        flush_waiting_pools(session=session, now=cycle.opens_at)  # the scheduler's job
        _submit_in_order(session, cycle, people[FLUSHED:], first=FLUSHED, tag=TAG)
        session.commit()

    return run


def test_wal_places_a_plaintext_answer_only_within_a_flushed_batch(
    app, session, postgres_only, survey
):
    session.execute(sa.text("CHECKPOINT"))  # later full-page images start from here
    start = session.execute(sa.text("SELECT pg_current_wal_insert_lsn()")).scalar()
    survey()
    end = session.execute(sa.text("SELECT pg_current_wal_flush_lsn()")).scalar()

    participation = session.execute(
        sa.text("SELECT pg_relation_filenode('survey_participation')")
    ).scalar()
    records = _wal_records(session, start, end)
    submit_xids = {
        xid
        for _, _, xid, rmgr, kind, ref in records
        if rmgr == "Heap"
        and kind.startswith("INSERT")
        and re.search(rf"/{participation} ", ref + " ")
    }
    assert len(submit_xids) == FLUSHED + WAITING  # the test sees every submit transaction

    markers_by_xid = defaultdict(set)
    for marker, position in _markers_in_wal(session, start, end):
        owner = [xid for first, last, xid, *_ in records if first <= position < last]
        assert owner, f"marker-{marker} outside any record"
        markers_by_xid[owner[0]].add(marker)
    seen = set().union(*markers_by_xid.values())
    assert len(seen) >= OPENED - 2 and seen < set(range(FLUSHED))  # it reads opened answers…
    assert session.execute(sa.text("SELECT count(*) FROM survey_response")).scalar() == OPENED
    assert (
        session.execute(sa.text("SELECT count(*) FROM response_pool")).scalar() == BATCH + WAITING
    )  # …but no waiting one
    assert not submit_xids & set(markers_by_xid)  # no submit wrote a plaintext answer
    assert all(len(batch) >= 10 for batch in markers_by_xid.values()), markers_by_xid


def test_statement_log_pairs_people_only_with_ciphertext(app, session, survey, statement_log):
    survey()

    # Group the log into transactions per backend: BEGIN … COMMIT, with each statement's
    # parameters (its DETAIL line).
    transactions, current = [], {}
    for line in statement_log().splitlines():
        match = re.search(rb"\[(\d+)\] \S*@\S* (?:LOG|DETAIL):  (.*)", line)
        if not match:
            continue
        pid, text = match.groups()
        if text.startswith(b"statement: BEGIN") or pid not in current:
            current[pid] = []
            transactions.append(current[pid])
        current[pid].append(text)
    # bytea parameters are logged in hex: decode them, as an attacker would.
    text_of = [
        HEX.sub(lambda m: bytes.fromhex(m.group(1).decode()), b"\n".join(t)) for t in transactions
    ]
    submits = [t for t in text_of if b"INSERT INTO survey_participation" in t]
    assert len(submits) == FLUSHED + WAITING  # the log saw every submit…
    assert all(b"INSERT INTO response_pool" in t for t in submits)  # …with its pooled answer
    flushes = [t for t in text_of if MARKER.search(t)]
    assert len(flushes) == 1  # …and the flush: the only place an answer is readable
    for text in flushes:
        assert b"survey_participation" not in text
        markers = {int(m) for m in MARKER.findall(text)}
        assert len(markers) == OPENED and markers < set(range(FLUSHED))
