"""Answering a survey: the invitation, checking the answers, and handing them to the pool."""

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlmodel import Session

from trainer.auth.models import User
from trainer.pulse import pool
from trainer.pulse.models import ItemKind, PulseCycle, PulseInvitation, SurveyParticipation

log = logging.getLogger("trainer.pulse")

COMMENT_MAX = 1000


@dataclass
class Invitation:
    cycle: PulseCycle
    group_key: int
    answered: bool


# Built once: building a statement costs more CPU than running it, and submits are the
# busiest path (see benchmarks/pulse_bench.py).
_INVITATION = sa.select(
    PulseInvitation.group_key,
    sa.select(SurveyParticipation.employee_id)
    .where(
        SurveyParticipation.survey_id == sa.bindparam("cycle_id"),
        SurveyParticipation.employee_id == sa.bindparam("user_id"),
    )
    .exists(),
).where(
    PulseInvitation.cycle_id == sa.bindparam("cycle_id"),
    PulseInvitation.employee_id == sa.bindparam("user_id"),
)


def invitation_for(cycle: PulseCycle, user: User, *, session: Session) -> Invitation | None:
    """Return the person's invitation to a cycle, and whether they have answered, or None."""
    row = session.execute(_INVITATION, {"cycle_id": cycle.id, "user_id": user.id}).first()
    if row is None:
        return None
    return Invitation(cycle, row[0], bool(row[1]))


def parse_answers(items, form) -> tuple[dict[int, int], dict[int, str]]:
    """Read one answer per item from form data; return (answers, errors by item id)."""
    answers, errors = {}, {}
    for item in items:
        raw = form.get(f"item-{item.id}", "")
        allowed = range(0, 11) if item.kind == ItemKind.ENPS else range(1, 6)
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value not in allowed:
            errors[item.id] = _("Choose one answer.")
        else:
            answers[item.id] = value
    return answers, errors


def submit_response(
    *,
    session: Session,
    invitation: Invitation,
    employee_id: int,
    answers: dict[int, int],
    comment: str | None,
) -> bool:
    """Record that the person took part and pool their sealed answers; False if answered.

    Both are written and committed together by `pool.pool_answer`; the scheduler opens
    pooled answers when it flushes them in shuffled batches (`pool.flush_pool`).
    """
    cycle = invitation.cycle
    comment = (comment or "").strip()[:COMMENT_MAX] or None
    answer = {"g": invitation.group_key, "a": {str(k): v for k, v in answers.items()}, "c": comment}
    if not pool.pool_answer(
        session=session, cycle_id=cycle.id, employee_id=employee_id, answer=answer
    ):
        return False
    log.info("An employee took part in pulse cycle %s.", cycle.id)
    return True
