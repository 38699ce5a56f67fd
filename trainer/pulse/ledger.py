"""The "you said, we did" ledger: managers' commitments and employees' anonymous marks."""

from collections import Counter

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.pulse import pool
from trainer.pulse.cycles import configured_limits
from trainer.pulse.models import (
    Commitment,
    CommitmentMark,
    CommitmentVoter,
    CycleStatus,
    PulseCycle,
    PulseError,
)
from trainer.pulse.tree import ancestor_ids

MAX_COMMITMENTS = 3


def add_commitment(
    *, session: Session, cycle: PulseCycle, unit: OrgUnit, text: str, user: User
) -> Commitment:
    """Record what a manager commits to after a cycle closed (at most three per unit)."""
    if cycle.status != CycleStatus.CLOSED:
        raise PulseError(_("Commitments are recorded after the survey closes."))
    text = " ".join(text.split())
    if not text:
        raise PulseError(_("Write what you will do."))
    count = session.execute(
        sa.select(sa.func.count())
        .select_from(Commitment)
        .where(Commitment.cycle_id == cycle.id, Commitment.unit_id == unit.id)
    ).scalar_one()
    if count >= MAX_COMMITMENTS:
        raise PulseError(
            _("A team records at most %(num)d commitments per survey.", num=MAX_COMMITMENTS)
        )
    commitment = Commitment(cycle_id=cycle.id, unit_id=unit.id, text=text, created_by=user.id)
    session.add(commitment)
    session.flush()
    return commitment


def commitments_for(unit_ids: set[int], *, session: Session) -> list[Commitment]:
    return list(
        session.exec(
            select(Commitment)
            .where(Commitment.unit_id.in_(unit_ids))
            .order_by(Commitment.cycle_id.desc(), Commitment.id)
        ).all()
    )


def commitments_for_employee(user: User, *, session: Session) -> list[Commitment]:
    """Return commitments made for the person's unit or any unit above it."""
    if user.unit_id is None:
        return []
    unit = session.get(OrgUnit, user.unit_id)
    return commitments_for({*ancestor_ids(unit), unit.id}, session=session)


def may_mark(user: User, commitment: Commitment, *, session: Session) -> bool:
    if user.unit_id is None:
        return False
    unit = session.get(OrgUnit, user.unit_id)
    return commitment.unit_id in {*ancestor_ids(unit), unit.id}


def marked_ids(user: User, commitment_ids: list[int], *, session: Session) -> set[int]:
    return set(
        session.exec(
            select(CommitmentVoter.commitment_id).where(
                CommitmentVoter.employee_id == user.id,
                CommitmentVoter.commitment_id.in_(commitment_ids),
            )
        ).all()
    )


def mark_commitment(
    *, session: Session, commitment: Commitment, employee_id: int, answer: str
) -> bool:
    """Record anonymously whether a commitment happened; False if this person already marked.

    Like a survey answer: who marked goes to one table and the sealed mark to the pool, in one
    transaction; the scheduler opens the marks and flushes them in shuffled batches.
    """
    return pool.pool_mark(
        session=session, commitment=commitment, employee_id=employee_id, answer=answer
    )


def released_tallies(commitment_ids: list[int], *, session: Session) -> dict[int, Counter | None]:
    """Return mark counts per commitment, or None where fewer than the minimum marked."""
    limit = configured_limits().scores
    tallies: dict[int, Counter] = {c: Counter() for c in commitment_ids}
    if commitment_ids:
        for cid, answer, n in session.execute(
            sa.select(CommitmentMark.commitment_id, CommitmentMark.answer, sa.func.count())
            .where(CommitmentMark.commitment_id.in_(commitment_ids))
            .group_by(CommitmentMark.commitment_id, CommitmentMark.answer)
        ).all():
            tallies[cid][answer] = n
    return {c: (t if sum(t.values()) >= limit else None) for c, t in tallies.items()}
