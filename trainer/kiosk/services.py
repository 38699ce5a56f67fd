"""Sign-in cards: printing a unit's sheet, signing in with a code, and how many are left to use.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), about 39 bits.
It is stored only as an HMAC under the app's secret key, so a copy of the database alone cannot
find a code by trying them all; wrong codes are limited per address by the sign-in throttle.
"""

import hmac
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app
from sqlmodel import Session, select

from trainer import anonymity, audit
from trainer.auth.models import User
from trainer.kiosk.models import CardStatus, SignInCard
from trainer.org.models import OrgUnit
from trainer.org.scope import subtree_ids
from trainer.pulse.cycles import aware, cycle_limits
from trainer.pulse.models import (
    CycleStatus,
    PulseCycle,
    PulseInvitation,
    SurveyParticipation,
)
from trainer.pulse.tree import ancestor_ids, tree_depth, tree_key, units_by_id

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8


class Refusal(StrEnum):
    """Why a code did not sign anyone in."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REPLACED = "replaced"
    TOO_MANY = "too_many"


def new_code() -> str:
    """Return a fresh code, grouped for reading: K7QM-4TXR."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(typed: str) -> str:
    """Return the code as stored before hashing: capitals, without spaces or dashes."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"sign-in-card:" + normalise_code(code).encode(), "sha256").hexdigest()


@dataclass(frozen=True)
class PrintedCard:
    """One card on a printed sheet: the only place its code ever appears in clear."""

    name: str
    unit: str
    code: str
    expires_at: datetime


def card_expiry(user: User, *, session: Session, now: datetime) -> datetime:
    """The end of the open survey this person is invited to, else CARD_VALID_DAYS from now
    (never later than that)."""
    longest = now + timedelta(days=current_app.config["CARD_VALID_DAYS"])
    closes = session.exec(
        select(sa.func.max(PulseCycle.closes_at))
        .join(PulseInvitation, PulseInvitation.cycle_id == PulseCycle.id)
        .where(
            PulseInvitation.employee_id == user.id,
            PulseCycle.status == CycleStatus.OPEN,
            PulseCycle.closes_at > now,
        )
    ).one()
    return min(aware(closes), longest) if closes else longest


def card_holders(unit: OrgUnit, *, session: Session, include_email: bool) -> list[User]:
    """Active people in `unit` and below, in tree order then by name; only those without an
    email unless `include_email`."""
    query = select(User).where(
        User.active, User.unit_id.in_(subtree_ids(session=session, roots=[unit]))
    )
    if not include_email:
        query = query.where(User.email.is_(None))
    units = units_by_id(session=session)
    return sorted(
        session.exec(query).all(), key=lambda u: (tree_key(units[u.unit_id], units), u.name)
    )


def without_email_per_unit(*, session: Session) -> Counter:
    """Active people without an email in each unit and everything below it."""
    direct = session.exec(
        select(User.unit_id, sa.func.count())
        .where(User.active, User.email.is_(None), User.unit_id.is_not(None))
        .group_by(User.unit_id)
    ).all()
    units = units_by_id(session=session)
    totals: Counter = Counter()
    for unit_id, n in direct:
        for unit in [*ancestor_ids(units[unit_id]), unit_id]:
            totals[unit] += n
    return totals


def issue_cards(
    unit: OrgUnit, *, session: Session, by: User, include_email: bool, now: datetime
) -> list[PrintedCard]:
    """Make a new card for each card holder in `unit`, replacing their unused ones, and return
    the cards to print (the codes exist in clear only in the returned list)."""
    people = card_holders(unit, session=session, include_email=include_email)
    if not people:
        return []
    session.execute(
        sa.update(SignInCard)
        .where(
            SignInCard.user_id.in_([p.id for p in people]),
            SignInCard.status == CardStatus.UNUSED,
        )
        .values(status=CardStatus.REPLACED)
        .execution_options(synchronize_session=False)
    )
    units = units_by_id(session=session)
    printed = []
    for person in people:
        code = new_code()
        expires = card_expiry(person, session=session, now=now)
        session.add(SignInCard(user_id=person.id, code_hash=hash_code(code), expires_at=expires))
        printed.append(PrintedCard(person.name, units[person.unit_id].name, code, expires))
    audit.record(by, "cards.print", unit, {"cards": len(printed)}, session=session)
    session.flush()
    return printed


def redeem(code: str, *, session: Session, now: datetime) -> User | Refusal:
    """Use the card with this code once: return its holder, or why it cannot be used.

    Marking it used is one conditional UPDATE, so two tablets typing the same code at the same
    moment cannot both sign in.
    """
    digest = hash_code(code)
    if len(normalise_code(code)) != CODE_LENGTH:
        return Refusal.UNKNOWN
    table = SignInCard.__table__.c
    user_id = session.execute(
        sa.update(SignInCard)
        .where(
            table.code_hash == digest,
            table.status == CardStatus.UNUSED,
            table.expires_at > now,
        )
        .values(status=CardStatus.USED)
        .returning(table.user_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if user_id is not None:
        user = session.get(User, user_id)
        return user if user is not None and user.active else Refusal.UNKNOWN
    card = session.exec(select(SignInCard).where(SignInCard.code_hash == digest)).first()
    if card is None or card.status == CardStatus.UNUSED and aware(card.expires_at) > now:
        return Refusal.UNKNOWN
    if card.status == CardStatus.USED:
        return Refusal.USED
    if card.status == CardStatus.REPLACED:
        return Refusal.REPLACED
    return Refusal.EXPIRED


def remove_old_cards(*, session: Session, now: datetime) -> int:
    """Scheduler job: delete cards a month after they expired (until then a late code is told
    "expired" rather than "unknown")."""
    return session.execute(
        sa.delete(SignInCard).where(SignInCard.expires_at < now - timedelta(days=30))
    ).rowcount


# Who still has a card to use -----------------------------------------------------------------


@dataclass(frozen=True)
class ToUseRow:
    unit: OrgUnit
    depth: int
    to_answer: int | None  # None: withheld (see still_to_answer)


def open_cycle(*, session: Session, now: datetime) -> PulseCycle | None:
    """The open survey closing soonest, if any."""
    return session.exec(
        select(PulseCycle)
        .where(PulseCycle.status == CycleStatus.OPEN, PulseCycle.closes_at > now)
        .order_by(PulseCycle.closes_at)
    ).first()


def still_to_answer(
    cycle: PulseCycle, unit_ids: set[int] | None, *, session: Session
) -> list[ToUseRow]:
    """Per reporting unit with invited people without email: how many of them have not answered
    yet (their card is their invitation), counts only.

    A unit's count is shown only when it would not single anyone out: at least k (the score
    minimum) still to answer and at least k card holders who did answer, the people with email
    who answered 0 or at least k (the rest of the unit), and the tree's differencing rules
    (anonymity.release) hold for both counts. Otherwise the row says "withheld".
    """
    answered = sa.exists().where(
        SurveyParticipation.survey_id == PulseInvitation.cycle_id,
        SurveyParticipation.employee_id == PulseInvitation.employee_id,
    )
    rows = session.execute(
        sa.select(PulseInvitation.group_key, User.email.is_(None), answered, sa.func.count())
        .join(User, User.id == PulseInvitation.employee_id)
        .where(PulseInvitation.cycle_id == cycle.id)
        .group_by(PulseInvitation.group_key, User.email.is_(None), answered)
    ).all()
    units = units_by_id(session=session)
    counts: dict[str, Counter] = {"waiting": Counter(), "card_done": Counter()}
    counts["email_done"], counts["card_invited"] = Counter(), Counter()
    invited_units: set[int] = set()
    for group_key, no_email, has_answered, n in rows:
        kind = (
            ("card_done" if has_answered else "waiting")
            if no_email
            else ("email_done" if has_answered else None)
        )
        for unit_id in [*ancestor_ids(units[group_key]), group_key]:
            invited_units.add(unit_id)
            if kind:
                counts[kind][unit_id] += n
            if no_email:
                counts["card_invited"][unit_id] += n
    limits = cycle_limits(cycle)

    def released(kind: str) -> set[int]:
        cells = []
        for unit_id in invited_units:
            chain = [a for a in ancestor_ids(units[unit_id]) if a in invited_units]
            n = counts[kind][unit_id]
            cells.append(anonymity.Cell(unit_id, chain[-1] if chain else None, n, n))
        return {k for k, r in anonymity.release(cells, limits).items() if not r.suppressed}

    shown = released("waiting") & released("card_done")
    out = []
    for unit_id in sorted(invited_units, key=lambda u: tree_key(units[u], units)):
        if (unit_ids is not None and unit_id not in unit_ids) or not counts["card_invited"][
            unit_id
        ]:
            continue  # outside the viewer's scope, or nobody there uses a card
        rest = counts["email_done"][unit_id]
        visible = unit_id in shown and (rest == 0 or rest >= limits.scores)
        out.append(
            ToUseRow(
                units[unit_id],
                tree_depth(units[unit_id]),
                counts["waiting"][unit_id] if visible else None,
            )
        )
    return out
