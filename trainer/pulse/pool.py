"""The anonymous write pipeline: pooled sealed answers and marks, shuffled flushes, residue.

This is the one pulse module that commits inside a request. Who took part and their sealed
answer are written in one short transaction of their own (shared/reference/anonymity.md):
never counted without the answer, never an answer that could be sent twice. The scheduler
alone opens pooled answers, flushing them in shuffled batches of at least BATCH.

On SQLite a submit request reads in a deferred transaction (`read_first` on its view), then
`_pool_once` takes the write lock only around the inserts, so concurrent submits queue for
milliseconds, not a request. PostgreSQL locks rows, so there one transaction does both.
"""

import functools
import json
import random
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from trainer import seal as sealing
from trainer.db import write_intent
from trainer.pulse.models import (
    Commitment,
    CommitmentMark,
    CommitmentVoter,
    MarkPool,
    ResponsePool,
    SurveyParticipation,
    SurveyResponse,
    random_key,
)

BATCH = 10  # answers are opened in batches of at least this many (anonymity.md §2)

_rng = random.SystemRandom()  # shuffles flushed answers; tests may swap in a seeded Random


# Pooling: one short transaction per submission, committed here ------------------------------

_POOL_INSERT = sa.insert(ResponsePool.__table__)  # built once: submits are the busiest path
_MARK_INSERT = sa.insert(MarkPool.__table__)


def read_first(view):
    """Make a submit view read in a deferred transaction on SQLite (see the module docstring).

    Put it right under `@bp.route`, so it runs before anything reads the database.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        write_intent.set(False)
        return view(*args, **kwargs)

    return wrapper


def _start_write(*, session: Session) -> None:
    """End the request's read transaction; the next statement begins an IMMEDIATE one."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.commit()
    write_intent.set(True)


@functools.cache
def _insert_ignoring(dialect_name: str, table: sa.Table):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    return dialect.insert(table).on_conflict_do_nothing().returning(key)


def insert_ignoring_duplicate(table: sa.Table, values: dict, *, session: Session) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; return whether a row was written."""
    statement = _insert_ignoring(session.get_bind().dialect.name, table)
    return session.execute(statement, values).first() is not None


def _pool_once(
    taken_part: tuple[sa.Table, dict], pooled: tuple[sa.Insert, dict], *, session: Session
) -> bool:
    """Write who took part and the sealed row in one transaction of their own, and commit it;
    return False, writing nothing, if this person took part already.

    Splitting the two would hide nothing, since the database's write-ahead log records both,
    one after the other, whatever the transactions. What ties them is only the ciphertext,
    which the web process cannot open.
    """
    _start_write(session=session)
    if not insert_ignoring_duplicate(*taken_part, session=session):
        session.rollback()
        return False
    session.execute(*pooled)
    session.commit()
    return True


def pool_answer(*, session: Session, cycle_id: int, employee_id: int, answer: dict) -> bool:
    """Record that the person took part and pool their sealed answer; False if they had."""
    return _pool_once(
        (SurveyParticipation.__table__, {"survey_id": cycle_id, "employee_id": employee_id}),
        (_POOL_INSERT, {"id": random_key(), "survey_id": cycle_id, "sealed": seal(answer)}),
        session=session,
    )


def pool_mark(*, session: Session, commitment: Commitment, employee_id: int, answer: str) -> bool:
    """Record that the person marked a commitment and pool their sealed mark; False if they had."""
    return _pool_once(
        (CommitmentVoter.__table__, {"commitment_id": commitment.id, "employee_id": employee_id}),
        (
            _MARK_INSERT,
            {
                "id": random_key(),
                "commitment_id": commitment.id,
                "unit_id": commitment.unit_id,
                "sealed": seal(answer),
            },
        ),
        session=session,
    )


# Flush, reshuffle, residue: the scheduler's side --------------------------------------------


def seal(value) -> bytes:
    """Seal a JSON value to the scheduler's public key (see trainer.seal)."""
    return sealing.seal(json.dumps(value, sort_keys=True).encode())


def _open(opener: sealing.Opener, sealed: bytes):
    return json.loads(opener.open(sealed))


def _write_shuffled(table: sa.Table, rows: list[dict], *, session: Session) -> None:
    _rng.shuffle(rows)
    for row in rows:
        row["id"] = random_key()
    if rows:
        session.execute(sa.insert(table), rows)


def flush_pool(cycle_id: int, *, session: Session, opener: sealing.Opener | None = None) -> int:
    """Open a random batch of the cycle's waiting answers, leaving BATCH of them sealed.

    With at least 2 × BATCH waiting, a random choice of all but BATCH is opened, so every
    batch, the last one at the close included, holds at least BATCH answers, and none is
    taken first in, first out. Each flush rewrites all of the cycle's responses in one
    shuffled transaction, so storage order says nothing about submission order, before the
    close as after it. The caller commits; return how many answers were opened.
    """
    pool = ResponsePool.__table__
    waiting = (
        session.execute(sa.select(pool.c.id).where(pool.c.survey_id == cycle_id)).scalars().all()
    )
    if len(waiting) < 2 * BATCH:
        return 0
    return reshuffle_responses(
        cycle_id,
        session=session,
        opener=opener,
        pool_ids=_rng.sample(waiting, len(waiting) - BATCH),
    )


def reshuffle_responses(
    cycle_id: int,
    *,
    session: Session,
    opener: sealing.Opener | None = None,
    pool_ids: list[str] | None = None,
) -> int:
    """Rewrite all of a cycle's responses, with the pooled answers opened, in one shuffled
    transaction: every pooled answer (at the close), or those in `pool_ids`.

    DELETE … RETURNING takes the rows in one statement, so no answer is copied twice. Return
    how many pooled answers were opened.
    """
    table, pool = SurveyResponse.__table__, ResponsePool.__table__
    taken = session.execute(
        sa.delete(table)
        .where(table.c.survey_id == cycle_id)
        .returning(table.c.group_key, table.c.answers, table.c.comment)
    ).all()
    rows = [
        {"survey_id": cycle_id, "group_key": g, "answers": a, "comment": c} for g, a, c in taken
    ]
    chosen = (
        pool.c.survey_id == cycle_id
        if pool_ids is None
        else sa.and_(pool.c.survey_id == cycle_id, pool.c.id.in_(pool_ids))
    )
    sealed = session.execute(sa.delete(pool).where(chosen).returning(pool.c.sealed)).scalars().all()
    if sealed and opener is None:
        opener = sealing.opener()
    for box in sealed:
        answer = _open(opener, box)
        rows.append(
            {
                "survey_id": cycle_id,
                "group_key": answer["g"],
                "answers": json.dumps(answer["a"], sort_keys=True),
                "comment": answer["c"],
            }
        )
    _write_shuffled(table, rows, session=session)
    return len(sealed)


def reseal_pools(opener: sealing.Opener, box, *, session: Session) -> int:
    """Seal every waiting answer and mark again with `box` (a key rotation). The caller commits."""
    count = 0
    for table in (ResponsePool.__table__, MarkPool.__table__):
        for row_id, sealed in session.execute(sa.select(table.c.id, table.c.sealed)).all():
            session.execute(
                sa.update(table)
                .where(table.c.id == row_id)
                .values(sealed=box.encrypt(opener.open(sealed)))
            )
            count += 1
    return count


def erase_residue(
    *,
    session: Session,
    wait: bool = True,
    tables: tuple[str, ...] = ("response_pool", "pulse_mark_pool"),
) -> None:
    """Erase deleted answers left behind: VACUUM on PostgreSQL, a WAL checkpoint on SQLite.

    Run outside any transaction. With wait=False (the request path) a busy database is left
    for the next scheduler run instead of holding up the request.
    """
    engine = session.get_bind()
    if engine.dialect.name == "postgresql":
        skip = "(SKIP_LOCKED) " if not wait else ""
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM {skip}{', '.join(tables)}")
        return
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        if not wait:
            conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.execute("PRAGMA busy_timeout=10000")
    finally:
        raw.close()


def flush_waiting_pools(*, session: Session, now: datetime) -> None:
    """Open random batches of waiting answers and marks, commit, then erase the pools' residue.

    A scheduler job: it commits in the job's session, since erasing runs outside a transaction.
    """
    pool = ResponsePool.__table__
    for cycle_id in session.execute(sa.select(pool.c.survey_id).distinct()).scalars().all():
        flush_pool(cycle_id, session=session)
    flush_mark_pools(session=session)
    session.commit()
    erase_residue(session=session)


def _reshuffle_unit_marks(unit_id: int, opener: sealing.Opener, *, session: Session) -> int:
    """Open a unit's waiting marks and rewrite them with its flushed ones, shuffled."""
    pool, marks = MarkPool.__table__, CommitmentMark.__table__
    ids = sa.select(Commitment.id).where(Commitment.unit_id == unit_id)
    old = session.execute(
        sa.delete(marks)
        .where(marks.c.commitment_id.in_(ids))
        .returning(marks.c.commitment_id, marks.c.answer)
    ).all()
    new = session.execute(
        sa.delete(pool)
        .where(pool.c.unit_id == unit_id)
        .returning(pool.c.commitment_id, pool.c.sealed)
    ).all()
    rows = [{"commitment_id": c, "answer": a} for c, a in old]
    rows += [{"commitment_id": c, "answer": _open(opener, box)} for c, box in new]
    _write_shuffled(marks, rows, session=session)
    return len(new)


def flush_mark_pools(*, session: Session, opener: sealing.Opener | None = None) -> int:
    """Open the marks of each unit with at least BATCH waiting; return how many moved.

    A unit with fewer keeps them sealed, at a close too: marks have no close of their own.
    """
    pool = MarkPool.__table__
    waiting = session.execute(
        sa.select(pool.c.unit_id, sa.func.count()).group_by(pool.c.unit_id)
    ).all()
    return sum(
        _reshuffle_unit_marks(unit, opener or sealing.opener(), session=session)
        for unit, count in waiting
        if count >= BATCH
    )
