"""Programmes (items, audience, recurrence, window), their calendar, and their cycles' items."""

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session, select

from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.pulse.bank import ensure_default_bank, load_default_bank
from trainer.pulse.models import (
    RECURRENCES,
    CycleItem,
    ProgrammeItem,
    ProgrammeUnit,
    PulseCycle,
    PulseError,
    PulseItem,
    PulseProgramme,
    Recurrence,
)
from trainer.pulse.tree import units_by_id
from trainer.util import quarter_of

MAX_PROGRAMME_ITEMS = 15


@dataclass
class ProgrammeInput:
    name: str
    item_ids: list[int]
    unit_ids: list[int]
    recurrence: str = Recurrence.QUARTERLY
    starts_on: date | None = None
    window_days: int = 14
    reminder_days: list[int] = field(default_factory=lambda: [3, 7])
    budget_per_quarter: int = 2
    comment_prompt: str = ""


def _check_programme(data: ProgrammeInput, *, session: Session) -> None:
    if data.recurrence not in RECURRENCES:
        raise PulseError(_("Choose quarterly, monthly or one-off."))
    if not data.item_ids:
        raise PulseError(_("Choose at least one item."))
    if len(data.item_ids) > MAX_PROGRAMME_ITEMS:
        raise PulseError(_("Keep a pulse to at most %(num)d items.", num=MAX_PROGRAMME_ITEMS))
    items = session.exec(select(PulseItem).where(PulseItem.id.in_(data.item_ids))).all()
    if len(items) != len(set(data.item_ids)) or not all(i.active for i in items):
        raise PulseError(_("Only active items can be used."))
    if not data.unit_ids:
        raise PulseError(_("Choose at least one unit for the audience."))
    if not 1 <= data.window_days <= 60:
        raise PulseError(_("A survey stays open between 1 and 60 days."))
    if any(d < 1 or d >= data.window_days for d in data.reminder_days):
        raise PulseError(_("Reminder days must fall inside the window (1 to window - 1)."))
    if not 1 <= data.budget_per_quarter <= 12:
        raise PulseError(_("The budget is between 1 and 12 surveys per quarter."))


def save_programme(
    data: ProgrammeInput, programme: PulseProgramme | None = None, *, session: Session
) -> PulseProgramme:
    """Create or update a programme; changes apply to cycles created from now on."""
    _check_programme(data, session=session)
    programme = programme or PulseProgramme(name="", starts_on=data.starts_on or date.today())
    programme.name = data.name.strip()
    programme.recurrence = data.recurrence
    programme.starts_on = data.starts_on or programme.starts_on
    programme.window_days = data.window_days
    programme.reminder_days = ",".join(str(d) for d in sorted(set(data.reminder_days)))
    programme.budget_per_quarter = data.budget_per_quarter
    programme.comment_prompt = data.comment_prompt.strip()
    session.add(programme)
    session.flush()
    for model in (ProgrammeItem, ProgrammeUnit):
        session.execute(sa.delete(model).where(model.programme_id == programme.id))
    for position, item_id in enumerate(data.item_ids):
        session.add(ProgrammeItem(programme_id=programme.id, item_id=item_id, position=position))
    for unit_id in sorted(set(data.unit_ids)):
        session.add(ProgrammeUnit(programme_id=programme.id, unit_id=unit_id))
    session.flush()
    return programme


def programme_item_ids(programme: PulseProgramme, *, session: Session) -> list[int]:
    return list(
        session.exec(
            select(ProgrammeItem.item_id)
            .where(ProgrammeItem.programme_id == programme.id)
            .order_by(ProgrammeItem.position)
        ).all()
    )


def programme_unit_ids(programme: PulseProgramme, *, session: Session) -> list[int]:
    return list(
        session.exec(
            select(ProgrammeUnit.unit_id).where(ProgrammeUnit.programme_id == programme.id)
        ).all()
    )


def ensure_default_programme(
    company: OrgUnit, starts_on: date, *, session: Session
) -> PulseProgramme:
    """Create the default quarterly pulse for the whole company, if there is none yet."""
    existing = session.exec(select(PulseProgramme).order_by(PulseProgramme.id)).first()
    if existing is not None:
        return existing
    items = ensure_default_bank(session=session)
    return save_programme(
        ProgrammeInput(
            name="Quarterly pulse",
            item_ids=[i.id for i in items],
            unit_ids=[company.id],
            starts_on=starts_on,
            comment_prompt=load_default_bank()["comment_prompt"],
        ),
        session=session,
    )


# Calendar -----------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Occurrence:
    period: str
    quarter: str
    opens_at: datetime
    closes_at: datetime


def occurrence(
    programme: PulseProgramme, index: int, opens_at: datetime | None = None
) -> Occurrence:
    """Return the programme's index-th cycle (0 is the first)."""
    step = {Recurrence.QUARTERLY: 3, Recurrence.MONTHLY: 1}.get(programme.recurrence, 0)
    day = add_months(programme.starts_on, step * index)
    opens_at = opens_at or datetime.combine(day, time(0), UTC)
    if programme.recurrence == Recurrence.QUARTERLY:
        period = quarter_of(day)
    elif programme.recurrence == Recurrence.MONTHLY:
        period = f"{day.year}-{day.month:02d}"
    else:
        period = day.isoformat()
    return Occurrence(
        period, quarter_of(day), opens_at, opens_at + timedelta(days=programme.window_days)
    )


def due_occurrence(programme: PulseProgramme, now: datetime) -> Occurrence | None:
    """Return the latest cycle that should have opened by `now`, or None."""
    today = now.date()
    if today < programme.starts_on:
        return None
    if programme.recurrence == Recurrence.ONCE:
        return occurrence(programme, 0)
    step = 3 if programme.recurrence == Recurrence.QUARTERLY else 1
    months = (today.year - programme.starts_on.year) * 12 + today.month - programme.starts_on.month
    index = months // step
    while index > 0 and occurrence(programme, index).opens_at > now:
        index -= 1
    return occurrence(programme, index)


def cycle_for(programme: PulseProgramme, occ: Occurrence, *, session: Session) -> PulseCycle:
    """Return the programme's cycle for an occurrence, creating it with its frozen items."""
    cycle = session.exec(
        select(PulseCycle).where(
            PulseCycle.programme_id == programme.id, PulseCycle.period == occ.period
        )
    ).first()
    if cycle is not None:
        return cycle
    cycle = PulseCycle(
        programme_id=programme.id,
        period=occ.period,
        quarter=occ.quarter,
        opens_at=occ.opens_at,
        closes_at=occ.closes_at,
    )
    session.add(cycle)
    session.flush()
    for position, item_id in enumerate(programme_item_ids(programme, session=session)):
        session.add(CycleItem(cycle_id=cycle.id, item_id=item_id, position=position))
    session.flush()
    return cycle


@dataclass(frozen=True)
class ItemRef:
    id: int
    kind: str


def cycle_item_refs(cycle: PulseCycle, *, session: Session) -> list[ItemRef]:
    """Return (id, kind) of a cycle's items: all that checking an answer needs.

    A cycle's items are frozen when it is created, so each app reads them once per cycle.
    """
    cache = current_app.extensions.setdefault("pulse.item_refs", {})
    if cycle.id not in cache:
        cache[cycle.id] = _read_item_refs(cycle, session=session)
    return cache[cycle.id]


def _read_item_refs(cycle: PulseCycle, *, session: Session) -> list[ItemRef]:
    rows = session.execute(
        sa.select(PulseItem.id, PulseItem.kind)
        .join(CycleItem, CycleItem.item_id == PulseItem.id)
        .where(CycleItem.cycle_id == cycle.id)
        .order_by(CycleItem.position)
    ).all()
    return [ItemRef(item_id, kind) for item_id, kind in rows]


def cycle_items(cycle: PulseCycle, *, session: Session) -> list[PulseItem]:
    return list(
        session.exec(
            select(PulseItem)
            .join(CycleItem, CycleItem.item_id == PulseItem.id)
            .where(CycleItem.cycle_id == cycle.id)
            .order_by(CycleItem.position)
        ).all()
    )


# Audience -----------------------------------------------------------------------------------


def audience_units(programme: PulseProgramme, *, session: Session) -> set[int]:
    units = units_by_id(session=session)
    roots = [units[i] for i in programme_unit_ids(programme, session=session) if i in units]
    ids = set()
    for unit in units.values():
        if not unit.active:
            continue
        if any(unit.id == r.id or unit.path.startswith(f"{r.path}{r.id}/") for r in roots):
            ids.add(unit.id)
    return ids


@dataclass
class AudienceNode:
    """A unit in the audience picker: its own invitable people, and the units below it."""

    unit: OrgUnit
    people: int
    children: list["AudienceNode"] = field(default_factory=list)

    @property
    def descendants(self) -> int:
        return sum(1 + child.descendants for child in self.children)


def audience_tree(*, session: Session) -> list[AudienceNode]:
    """Return the active units as a tree, each with how many people in it (not below it) a
    cycle would invite: active people with the employee role. Counts of people only."""
    units = [u for u in units_by_id(session=session).values() if u.active]
    headcount = Counter()
    for unit_id, roles in session.exec(
        select(User.unit_id, User.roles).where(User.active, User.unit_id.is_not(None))
    ).all():
        if Role.EMPLOYEE in parse_roles(roles):
            headcount[unit_id] += 1
    nodes = {u.id: AudienceNode(u, headcount[u.id]) for u in units}
    roots = []
    for unit in sorted(units, key=lambda u: u.name):
        # An inactive unit's children hang from the nearest active unit above them.
        above = [int(i) for i in unit.path.strip("/").split("/") if i and int(i) in nodes]
        (nodes[above[-1]].children if above else roots).append(nodes[unit.id])
    return roots


def audience_size(tree: list[AudienceNode], chosen: set[int]) -> int:
    """Return how many people the chosen units and everything below them hold."""

    def count(node: AudienceNode, covered: bool) -> int:
        covered = covered or node.unit.id in chosen
        return (node.people if covered else 0) + sum(count(c, covered) for c in node.children)

    return sum(count(root, False) for root in tree)
