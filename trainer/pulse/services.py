"""Pulse surveys: question bank, programmes, cycles, anonymous submission, rollups, results.

Anonymity follows shared/reference/anonymity.md. Submission writes who took part and the pooled
answers in one short transaction; a separate transaction flushes the pool into the response
table in shuffled order. Results are read from rollups and released only through
`trainer.anonymity.release`.
"""

import calendar
import functools
import json
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from trainer import anonymity
from trainer import seal as sealing
from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.org.scope import managed_scope, sees_everything
from trainer.pulse import scores
from trainer.pulse.models import (
    ITEM_KINDS,
    RECURRENCES,
    THEMES,
    Commitment,
    CommitmentMark,
    CommitmentVoter,
    CycleAudience,
    CycleItem,
    MarkPool,
    ProgrammeItem,
    ProgrammeUnit,
    PulseCycle,
    PulseInvitation,
    PulseItem,
    PulseProgramme,
    PulseReminder,
    ResponsePool,
    RollupItem,
    RollupUnit,
    SurveyParticipation,
    SurveyResponse,
    random_key,
)
from trainer.util import external_url, quarter_of

log = logging.getLogger("trainer.pulse")

BATCH = 10  # answers are opened in batches of at least this many (anonymity.md §2)
MAX_COMMITMENTS = 3
MAX_PROGRAMME_ITEMS = 15
COMMENT_MAX = 1000
COMMENTS_SHOWN = 60
DEFAULT_BANK = Path(__file__).with_name("default_bank.yaml")

_rng = random.SystemRandom()  # shuffles flushed answers; tests may swap in a seeded Random


class PulseError(ValueError):
    """A request that breaks a pulse rule; the message is for the user."""


# Thresholds ---------------------------------------------------------------------------------


def configured_limits() -> anonymity.Thresholds:
    """Return the thresholds from configuration, never below the code floors."""
    try:
        cfg = current_app.config
        return anonymity.thresholds(cfg.get("MIN_GROUP_SCORES"), cfg.get("MIN_GROUP_COMMENTS"))
    except RuntimeError:  # outside an app context
        return anonymity.thresholds()


def cycle_limits(cycle: PulseCycle) -> anonymity.Thresholds:
    """Return the thresholds locked when the cycle opened, or stricter ones configured since."""
    return anonymity.stricter(anonymity.Thresholds(cycle.min_scores, cycle.min_comments),
                              configured_limits())


# Question bank ------------------------------------------------------------------------------


def load_default_bank() -> dict:
    return yaml.safe_load(DEFAULT_BANK.read_text(encoding="utf-8"))


def ensure_default_bank(session: Session) -> list[PulseItem]:
    """Create the default items that do not exist yet; return the default pulse's items."""
    bank = load_default_bank()
    existing = {i.code: i for i in session.exec(select(PulseItem)).all()}
    pulse = []
    for spec in bank["items"]:
        item = existing.get(spec["code"])
        if item is None:
            item = PulseItem(code=spec["code"], theme=spec["theme"],
                             kind=spec.get("kind", "likert"), text=spec["text"])
            session.add(item)
        if spec.get("pulse"):
            pulse.append(item)
    session.flush()
    return pulse


def items_by_theme(session: Session, *, active_only: bool = False) -> list[tuple[str, list]]:
    query = select(PulseItem).order_by(PulseItem.code)
    if active_only:
        query = query.where(PulseItem.active)
    grouped: dict[str, list[PulseItem]] = {theme: [] for theme in THEMES}
    for item in session.exec(query).all():
        grouped.setdefault(item.theme, []).append(item)
    return [(theme, items) for theme, items in grouped.items() if items]


def _next_code(session: Session, theme: str) -> str:
    prefix = {"empowerment": "EMP", "tools_time": "TLS", "recognition": "REC",
              "manager_action": "MGR", "pride": "PRD", "customer_focus": "CUS",
              "wellbeing": "WEL", "enps": "ENPS"}.get(theme, "ITM")
    codes = set(session.exec(select(PulseItem.code)).all())
    n = 1
    while f"{prefix}-{n}" in codes:
        n += 1
    return f"{prefix}-{n}"


def add_item(session: Session, *, theme: str, text: str, kind: str = "likert") -> PulseItem:
    if theme not in THEMES:
        raise PulseError("Choose one of the themes.")
    if kind not in ITEM_KINDS:
        raise PulseError("Choose a scale.")
    if (kind == "enps") != (theme == "enps"):
        raise PulseError("The 0-10 recommendation scale belongs to the eNPS theme only.")
    item = PulseItem(code=_next_code(session, theme), theme=theme, kind=kind,
                     text=" ".join(text.split()))
    session.add(item)
    session.flush()
    return item


def retire_item(session: Session, item: PulseItem) -> None:
    """Stop using an item in new cycles; its past results stay."""
    item.active = False
    session.add(item)
    for link in session.exec(select(ProgrammeItem).where(ProgrammeItem.item_id == item.id)).all():
        session.delete(link)
    session.flush()


def reword_item(session: Session, item: PulseItem, text: str) -> PulseItem:
    """Create a new item with the new wording and put it in the old one's place."""
    text = " ".join(text.split())
    if text == item.text:
        raise PulseError("The wording is unchanged.")
    new = PulseItem(code=_next_code(session, item.theme), theme=item.theme, kind=item.kind,
                    text=text, replaces_id=item.id)
    session.add(new)
    session.flush()
    for link in session.exec(select(ProgrammeItem).where(ProgrammeItem.item_id == item.id)).all():
        session.add(ProgrammeItem(programme_id=link.programme_id, item_id=new.id,
                                  position=link.position))
        session.delete(link)
    item.active = False
    session.add(item)
    session.flush()
    return new


# Programmes ---------------------------------------------------------------------------------


@dataclass
class ProgrammeInput:
    name: str
    item_ids: list[int]
    unit_ids: list[int]
    recurrence: str = "quarterly"
    starts_on: date | None = None
    window_days: int = 14
    reminder_days: list[int] = field(default_factory=lambda: [3, 7])
    budget_per_quarter: int = 2
    comment_prompt: str = ""


def _check_programme(session: Session, data: ProgrammeInput) -> None:
    if data.recurrence not in RECURRENCES:
        raise PulseError("Choose quarterly, monthly or one-off.")
    if not data.item_ids:
        raise PulseError("Choose at least one item.")
    if len(data.item_ids) > MAX_PROGRAMME_ITEMS:
        raise PulseError(f"Keep a pulse to at most {MAX_PROGRAMME_ITEMS} items.")
    items = session.exec(select(PulseItem).where(PulseItem.id.in_(data.item_ids))).all()
    if len(items) != len(set(data.item_ids)) or not all(i.active for i in items):
        raise PulseError("Only active items can be used.")
    if not data.unit_ids:
        raise PulseError("Choose at least one unit for the audience.")
    if not 1 <= data.window_days <= 60:
        raise PulseError("A survey stays open between 1 and 60 days.")
    if any(d < 1 or d >= data.window_days for d in data.reminder_days):
        raise PulseError("Reminder days must fall inside the window (1 to window - 1).")
    if not 1 <= data.budget_per_quarter <= 12:
        raise PulseError("The budget is between 1 and 12 surveys per quarter.")


def save_programme(session: Session, data: ProgrammeInput,
                   programme: PulseProgramme | None = None) -> PulseProgramme:
    """Create or update a programme; changes apply to cycles created from now on."""
    _check_programme(session, data)
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


def programme_item_ids(session: Session, programme: PulseProgramme) -> list[int]:
    return list(session.exec(select(ProgrammeItem.item_id)
                             .where(ProgrammeItem.programme_id == programme.id)
                             .order_by(ProgrammeItem.position)).all())


def programme_unit_ids(session: Session, programme: PulseProgramme) -> list[int]:
    return list(session.exec(select(ProgrammeUnit.unit_id)
                             .where(ProgrammeUnit.programme_id == programme.id)).all())


def ensure_default_programme(session: Session, company: OrgUnit,
                             starts_on: date) -> PulseProgramme:
    """Create the default quarterly pulse for the whole company, if there is none yet."""
    existing = session.exec(select(PulseProgramme).order_by(PulseProgramme.id)).first()
    if existing is not None:
        return existing
    items = ensure_default_bank(session)
    return save_programme(session, ProgrammeInput(
        name="Quarterly pulse", item_ids=[i.id for i in items], unit_ids=[company.id],
        starts_on=starts_on, comment_prompt=load_default_bank()["comment_prompt"]))


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


def occurrence(programme: PulseProgramme, index: int,
               opens_at: datetime | None = None) -> Occurrence:
    """Return the programme's index-th cycle (0 is the first)."""
    step = {"quarterly": 3, "monthly": 1}.get(programme.recurrence, 0)
    day = add_months(programme.starts_on, step * index)
    opens_at = opens_at or datetime.combine(day, time(0), UTC)
    if programme.recurrence == "quarterly":
        period = quarter_of(day)
    elif programme.recurrence == "monthly":
        period = f"{day.year}-{day.month:02d}"
    else:
        period = day.isoformat()
    return Occurrence(period, quarter_of(day), opens_at,
                      opens_at + timedelta(days=programme.window_days))


def due_occurrence(programme: PulseProgramme, now: datetime) -> Occurrence | None:
    """Return the latest cycle that should have opened by `now`, or None."""
    today = now.date()
    if today < programme.starts_on:
        return None
    if programme.recurrence == "once":
        return occurrence(programme, 0)
    step = 3 if programme.recurrence == "quarterly" else 1
    months = (today.year - programme.starts_on.year) * 12 + today.month - programme.starts_on.month
    index = months // step
    while index > 0 and occurrence(programme, index).opens_at > now:
        index -= 1
    return occurrence(programme, index)


def cycle_for(session: Session, programme: PulseProgramme, occ: Occurrence) -> PulseCycle:
    """Return the programme's cycle for an occurrence, creating it with its frozen items."""
    cycle = session.exec(select(PulseCycle).where(PulseCycle.programme_id == programme.id,
                                                  PulseCycle.period == occ.period)).first()
    if cycle is not None:
        return cycle
    cycle = PulseCycle(programme_id=programme.id, period=occ.period, quarter=occ.quarter,
                       opens_at=occ.opens_at, closes_at=occ.closes_at)
    session.add(cycle)
    session.flush()
    for position, item_id in enumerate(programme_item_ids(session, programme)):
        session.add(CycleItem(cycle_id=cycle.id, item_id=item_id, position=position))
    session.flush()
    return cycle


@dataclass(frozen=True)
class ItemRef:
    id: int
    kind: str


def cycle_item_refs(session: Session, cycle: PulseCycle) -> list[ItemRef]:
    """Return (id, kind) of a cycle's items: all that checking an answer needs.

    A cycle's items are frozen when it is created, so each app reads them once per cycle.
    """
    cache = current_app.extensions.setdefault("pulse.item_refs", {})
    if cycle.id not in cache:
        cache[cycle.id] = _read_item_refs(session, cycle)
    return cache[cycle.id]


def _read_item_refs(session: Session, cycle: PulseCycle) -> list[ItemRef]:
    rows = session.execute(sa.select(PulseItem.id, PulseItem.kind)
                           .join(CycleItem, CycleItem.item_id == PulseItem.id)
                           .where(CycleItem.cycle_id == cycle.id)
                           .order_by(CycleItem.position)).all()
    return [ItemRef(item_id, kind) for item_id, kind in rows]


def cycle_items(session: Session, cycle: PulseCycle) -> list[PulseItem]:
    return list(session.exec(select(PulseItem).join(CycleItem, CycleItem.item_id == PulseItem.id)
                             .where(CycleItem.cycle_id == cycle.id)
                             .order_by(CycleItem.position)).all())


# Audience snapshot and opening ----------------------------------------------------------------


def _units(session: Session) -> dict[int, OrgUnit]:
    return {u.id: u for u in session.exec(select(OrgUnit)).all()}


def _ancestor_ids(unit: OrgUnit) -> list[int]:
    return [int(i) for i in unit.path.strip("/").split("/") if i]


def tree_key(unit: OrgUnit, units: dict[int, OrgUnit]) -> tuple[str, ...]:
    """Sort key that puts units in tree order: each unit right after its parent, siblings by
    name. (Sorting on the materialised path would list every region before any site.)"""
    return tuple(units[a].name for a in _ancestor_ids(unit) if a in units) + (unit.name,)


def ancestor_ids(unit: OrgUnit) -> list[int]:
    """Return the ids of the unit's ancestors, from the top."""
    return _ancestor_ids(unit)


def short_name(unit: OrgUnit, units: dict[int, OrgUnit]) -> str:
    """Return the unit's name without its parent's, for a tree that shows the parent above it
    ("Leeds Motors: Sales" under "Leeds Motors" reads "Sales")."""
    parent = units.get(unit.parent_id) if unit.parent_id is not None else None
    if parent is not None and unit.name.startswith(f"{parent.name}: "):
        return unit.name[len(parent.name) + 2:]
    return unit.name


def tree_depth(unit: OrgUnit) -> int:
    return len(_ancestor_ids(unit))


def group_keys(units: dict[int, OrgUnit], audience_ids: set[int], headcount: dict[int, int],
               min_group: int) -> dict[int, int]:
    """Map each audience unit to its reporting group, merging units of fewer than
    `min_group` people (counting merged children) into their parent, bottom-up."""
    size = {u: headcount.get(u, 0) for u in audience_ids}
    merged: set[int] = set()
    for unit_id in sorted(audience_ids, key=lambda i: -len(_ancestor_ids(units[i]))):
        parent = units[unit_id].parent_id
        if parent in audience_ids and size[unit_id] < min_group:
            merged.add(unit_id)
            size[parent] += size[unit_id]
    keys: dict[int, int] = {}
    for unit_id in sorted(audience_ids, key=lambda i: len(_ancestor_ids(units[i]))):
        parent = units[unit_id].parent_id
        keys[unit_id] = keys[parent] if unit_id in merged else unit_id
    return keys


def audience_units(session: Session, programme: PulseProgramme) -> set[int]:
    units = _units(session)
    roots = [units[i] for i in programme_unit_ids(session, programme) if i in units]
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


def audience_tree(session: Session) -> list[AudienceNode]:
    """Return the active units as a tree, each with how many people in it (not below it) a
    cycle would invite: active people with the employee role. Counts of people only."""
    units = [u for u in _units(session).values() if u.active]
    headcount = Counter()
    for unit_id, roles in session.exec(select(User.unit_id, User.roles).where(
            User.active, User.unit_id.is_not(None))).all():
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


def freeze_audience(session: Session, cycle: PulseCycle, programme: PulseProgramme) -> int:
    """Snapshot the audience and invite people within their survey budget; return invited."""
    units = _units(session)
    audience_ids = audience_units(session, programme)
    people = session.exec(select(User.id, User.unit_id, User.roles)
                          .where(User.active, User.unit_id.in_(audience_ids))).all()
    people = [(uid, unit_id) for uid, unit_id, roles in people
              if Role.EMPLOYEE in parse_roles(roles)]
    headcount = Counter(unit_id for _, unit_id in people)
    keys = group_keys(units, audience_ids, headcount, 2 * cycle.min_scores)
    already = dict(session.execute(
        sa.select(PulseInvitation.employee_id, sa.func.count())
        .join(PulseCycle, PulseCycle.id == PulseInvitation.cycle_id)
        .where(PulseCycle.quarter == cycle.quarter, PulseCycle.id != cycle.id)
        .group_by(PulseInvitation.employee_id)).all())
    invited = [(uid, unit_id) for uid, unit_id in people
               if already.get(uid, 0) < programme.budget_per_quarter]
    invited_per_unit = Counter(unit_id for _, unit_id in invited)
    session.execute(sa.delete(CycleAudience).where(CycleAudience.cycle_id == cycle.id))
    session.execute(sa.delete(PulseInvitation).where(PulseInvitation.cycle_id == cycle.id))
    session.execute(sa.insert(CycleAudience.__table__), [
        {"cycle_id": cycle.id, "unit_id": u, "group_key": keys[u],
         "invited": invited_per_unit.get(u, 0)} for u in sorted(audience_ids)])
    if invited:
        session.execute(sa.insert(PulseInvitation.__table__), [
            {"cycle_id": cycle.id, "employee_id": uid, "group_key": keys[unit_id]}
            for uid, unit_id in invited])
    return len(invited)


def open_cycle(session: Session, cycle: PulseCycle, *, now: datetime,
               invitations_sent: bool = False) -> int:
    """Lock thresholds, freeze the audience and invite; return how many were invited.

    The invitation emails go out with `send_due_reminders` (the scheduler's next run), not
    here, so that opening stays quick. `invitations_sent=True` records them as sent (demo).
    """
    if cycle.status != "scheduled":
        return 0
    programme = session.get(PulseProgramme, cycle.programme_id)
    limits = configured_limits()
    cycle.min_scores, cycle.min_comments = limits.scores, limits.comments
    invited = freeze_audience(session, cycle, programme)
    cycle.status = "open"
    session.add(cycle)
    if invitations_sent:
        session.add(PulseReminder(cycle_id=cycle.id, day=0))
    session.commit()
    log.info("Pulse cycle %s opened; %s people invited.", cycle.id, invited)
    return invited


def _occurrence_now(programme: PulseProgramme, now: datetime) -> Occurrence:
    """Return the cycle "open now" would open: this period's, starting at `now`."""
    occ = due_occurrence(programme, now)
    if programme.recurrence == "once" or occ is None:
        return occurrence(programme, 0, opens_at=now)
    return Occurrence(occ.period, occ.quarter, now, now + timedelta(days=programme.window_days))


def open_now_refusal(session: Session, programme: PulseProgramme, *,
                     now: datetime) -> str | None:
    """Return why HR cannot open this period's cycle now, or None when they can."""
    if programme.recurrence == "once" and now.date() < programme.starts_on:
        return (f"This one-off programme starts on {programme.starts_on:%d %B %Y}, so its "
                "cycle cannot open before then. To open it today, change the first opening "
                "day below.")
    occ = _occurrence_now(programme, now)
    existing = session.exec(select(PulseCycle).where(PulseCycle.programme_id == programme.id,
                                                     PulseCycle.period == occ.period)).first()
    if existing is not None:
        state = "is open" if existing.status == "open" else f"is {existing.status}"
        if programme.recurrence == "once":
            return f"This one-off programme's cycle ({occ.period}) {state}."
        return f"This period's cycle ({occ.period}) {state}."
    return None


def open_now(session: Session, programme: PulseProgramme, *, now: datetime) -> PulseCycle:
    """Open a cycle for the current period straight away (HR's "start now")."""
    refusal = open_now_refusal(session, programme, now=now)
    if refusal is not None:
        raise PulseError(refusal)
    cycle = cycle_for(session, programme, _occurrence_now(programme, now))
    open_cycle(session, cycle, now=now)
    return cycle


def _invited_ids(session: Session, cycle: PulseCycle) -> list[int]:
    return list(session.exec(select(PulseInvitation.employee_id)
                             .where(PulseInvitation.cycle_id == cycle.id)).all())


def non_responders(session: Session, cycle: PulseCycle) -> list[int]:
    """Return invited people who have not taken part (for the system's reminders only)."""
    answered = select(SurveyParticipation.employee_id).where(
        SurveyParticipation.survey_id == cycle.id)
    return list(session.exec(select(PulseInvitation.employee_id).where(
        PulseInvitation.cycle_id == cycle.id,
        PulseInvitation.employee_id.not_in(answered))).all())


def _queue_to(session: Session, cycle: PulseCycle, programme: PulseProgramme,
              user_ids: list[int], *, day: int) -> int:
    """Queue the invitation (day 0) or a reminder for each person, in the caller's transaction."""

    from trainer.mail import queue_mail

    if not user_ids:
        return 0
    link = external_url("pulse.answer", cycle_id=cycle.id)
    privacy = external_url("pulse.privacy")
    closes = cycle.closes_at.strftime("%d %B %Y")
    reminder = day > 0
    subject = (f"Reminder: {programme.name} closes {closes}" if reminder
               else f"{programme.name} is open: 3 minutes, anonymous")
    queued = 0
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start:start + 500]
        for user in session.exec(select(User).where(User.id.in_(chunk), User.active)).all():
            body = (f"Hello {user.name.split(' ')[0]},\n\n"
                    + ("You have not answered yet; there is still time.\n\n" if reminder else "")
                    + f"{programme.name} is open until {closes}. It takes under 3 minutes:\n"
                    f"{link}\n\nYour answers are anonymous. What is stored and who sees what:\n"
                    f"{privacy}\n\nTaking part is voluntary.\n")
            queued += queue_mail(session, key=f"pulse:{cycle.id}:day{day}:{user.id}",
                                 to=user.email, subject=subject, body=body)
    return queued


def send_due_reminders(session: Session, cycle: PulseCycle, *, now: datetime) -> int:
    """Queue the invitation, or the latest due reminder, for people who have not answered.

    The reminder's record and its messages are written to the outbox in one transaction, so
    a crash keeps both or neither; the mail sender delivers each message once.
    """
    if cycle.status != "open" or now >= _aware(cycle.closes_at):
        return 0
    programme = session.get(PulseProgramme, cycle.programme_id)
    done = set(session.exec(select(PulseReminder.day)
                            .where(PulseReminder.cycle_id == cycle.id)).all())
    due = [d for d in [0, *programme.reminder_day_list]
           if _aware(cycle.opens_at) + timedelta(days=d) <= now and d not in done]
    if not due:
        return 0
    for day in due:
        session.add(PulseReminder(cycle_id=cycle.id, day=day))
    queued = _queue_to(session, cycle, programme, non_responders(session, cycle), day=max(due))
    session.commit()
    log.info("Pulse cycle %s: %s queued for %s people.", cycle.id,
             f"day-{max(due)} reminder" if max(due) else "invitation", queued)
    return queued


# Submitting ---------------------------------------------------------------------------------


@dataclass
class Invitation:
    cycle: PulseCycle
    group_key: int
    answered: bool


# The statements a survey submit runs, built once: building a statement costs more CPU than
# running it, and submits are the busiest path (see benchmarks/pulse_bench.py).
_INVITATION = sa.select(
    PulseInvitation.group_key,
    sa.select(SurveyParticipation.employee_id)
    .where(SurveyParticipation.survey_id == sa.bindparam("cycle_id"),
           SurveyParticipation.employee_id == sa.bindparam("user_id")).exists(),
).where(PulseInvitation.cycle_id == sa.bindparam("cycle_id"),
        PulseInvitation.employee_id == sa.bindparam("user_id"))
_POOL_INSERT = sa.insert(ResponsePool.__table__)
_POOL_WAITING = (sa.select(sa.func.count()).select_from(ResponsePool.__table__)
                 .where(ResponsePool.__table__.c.survey_id == sa.bindparam("cycle_id")))


def invitation_for(session: Session, cycle: PulseCycle, user: User) -> Invitation | None:
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
        allowed = range(0, 11) if item.kind == "enps" else range(1, 6)
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value not in allowed:
            errors[item.id] = "Choose one answer."
        else:
            answers[item.id] = value
    return answers, errors


def _start_write(session: Session) -> None:
    """End the request's read transaction so the write takes SQLite's lock only briefly.

    The answer view reads in a deferred transaction (see `trainer.pulse.read_first`); the
    two inserts then run in a short BEGIN IMMEDIATE transaction of their own. PostgreSQL locks
    rows, not the database, so there the reads and inserts share one transaction.
    """
    from trainer.db import write_intent

    if session.get_bind().dialect.name != "sqlite":
        return
    session.commit()
    write_intent.set(True)


@functools.cache
def _insert_ignoring(dialect_name: str, table: sa.Table):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    return dialect.insert(table).on_conflict_do_nothing().returning(key)


def _insert_ignoring_duplicate(session: Session, table: sa.Table, values: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; return whether a row was written."""
    statement = _insert_ignoring(session.get_bind().dialect.name, table)
    return session.execute(statement, values).first() is not None


def submit_response(session: Session, *, invitation: Invitation, employee_id: int,
                    answers: dict[int, int], comment: str | None) -> bool:
    """Record that the person took part and pool their sealed answers; False if answered.

    The participation row and the sealed pool row are written in one short transaction,
    committed here, so a submission is never half recorded: never counted without its answer,
    never an answer that could be sent twice. Splitting them would hide nothing, since the
    database's write-ahead log records both, one after the other, whatever the transactions.
    What ties them is only the ciphertext, which the web process cannot open. The scheduler
    opens pooled answers when it flushes them in shuffled batches (`flush_pool`).
    """
    cycle = invitation.cycle
    _start_write(session)
    if not _insert_ignoring_duplicate(session, SurveyParticipation.__table__,
                                      {"survey_id": cycle.id, "employee_id": employee_id}):
        session.rollback()
        return False
    comment = (comment or "").strip()[:COMMENT_MAX] or None
    session.execute(_POOL_INSERT, {"id": random_key(), "survey_id": cycle.id, "sealed": seal(
        {"g": invitation.group_key, "a": {str(k): v for k, v in answers.items()},
         "c": comment})})
    session.commit()
    log.info("An employee took part in pulse cycle %s.", cycle.id)
    return True


# Pool flush, reshuffle, residue -------------------------------------------------------------


def seal(value) -> bytes:
    """Seal a JSON value to the scheduler's public key (see trainer.seal)."""
    return sealing.seal(json.dumps(value, sort_keys=True).encode())


def _open(opener: sealing.Opener, sealed: bytes):
    return json.loads(opener.open(sealed))


def _write_shuffled(session: Session, table: sa.Table, rows: list[dict]) -> None:
    _rng.shuffle(rows)
    for row in rows:
        row["id"] = random_key()
    if rows:
        session.execute(sa.insert(table), rows)


def flush_pool(session: Session, cycle_id: int, *,
               opener: sealing.Opener | None = None) -> int:
    """Open a random batch of the cycle's waiting answers, leaving BATCH of them sealed.

    With at least 2 × BATCH waiting, a random choice of all but BATCH is opened, so every
    batch, the last one at the close included, holds at least BATCH answers, and none is
    taken first in, first out. Each flush rewrites all of the cycle's responses in one
    shuffled transaction, so storage order says nothing about submission order, before the
    close as after it. The caller commits; return how many answers were opened.
    """
    pool = ResponsePool.__table__
    waiting = session.execute(sa.select(pool.c.id).where(pool.c.survey_id == cycle_id)
                              ).scalars().all()
    if len(waiting) < 2 * BATCH:
        return 0
    return reshuffle_responses(session, cycle_id, opener=opener,
                               pool_ids=_rng.sample(waiting, len(waiting) - BATCH))


def reshuffle_responses(session: Session, cycle_id: int, *,
                        opener: sealing.Opener | None = None,
                        pool_ids: list[str] | None = None) -> int:
    """Rewrite all of a cycle's responses, with the pooled answers opened, in one shuffled
    transaction: every pooled answer (at the close), or those in `pool_ids`.

    DELETE … RETURNING takes the rows in one statement, so no answer is copied twice. Return
    how many pooled answers were opened.
    """
    table, pool = SurveyResponse.__table__, ResponsePool.__table__
    taken = session.execute(sa.delete(table).where(table.c.survey_id == cycle_id)
                            .returning(table.c.group_key, table.c.answers, table.c.comment)).all()
    rows = [{"survey_id": cycle_id, "group_key": g, "answers": a, "comment": c}
            for g, a, c in taken]
    chosen = (pool.c.survey_id == cycle_id if pool_ids is None
              else sa.and_(pool.c.survey_id == cycle_id, pool.c.id.in_(pool_ids)))
    sealed = session.execute(sa.delete(pool).where(chosen).returning(pool.c.sealed)
                             ).scalars().all()
    if sealed and opener is None:
        opener = sealing.opener()
    for box in sealed:
        answer = _open(opener, box)
        rows.append({"survey_id": cycle_id, "group_key": answer["g"],
                     "answers": json.dumps(answer["a"], sort_keys=True), "comment": answer["c"]})
    _write_shuffled(session, table, rows)
    return len(sealed)


def reseal_pools(session: Session, opener: sealing.Opener, box) -> int:
    """Seal every waiting answer and mark again with `box` (a key rotation). The caller commits."""
    count = 0
    for table in (ResponsePool.__table__, MarkPool.__table__):
        for row_id, sealed in session.execute(sa.select(table.c.id, table.c.sealed)).all():
            session.execute(sa.update(table).where(table.c.id == row_id)
                            .values(sealed=box.encrypt(opener.open(sealed))))
            count += 1
    return count


def erase_residue(session: Session, *, wait: bool = True,
                  tables: tuple[str, ...] = ("response_pool", "pulse_mark_pool")) -> None:
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


def flush_waiting_pools(session: Session, *, now: datetime) -> None:
    """Open random batches of waiting answers and marks, then erase the pools' residue."""
    pool = ResponsePool.__table__
    for cycle_id in session.execute(sa.select(pool.c.survey_id).distinct()).scalars().all():
        flush_pool(session, cycle_id)
    _flush_mark_pools(session)
    session.commit()
    erase_residue(session)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Closing and rollups ------------------------------------------------------------------------


def taking_answers(cycle: PulseCycle, *, now: datetime) -> bool:
    return cycle.status == "open" and now < _aware(cycle.closes_at)


def end_now(session: Session, cycle: PulseCycle, *, now: datetime) -> None:
    """Stop taking answers now; the scheduler, which alone opens sealed answers, closes it."""
    cycle.closes_at = min(_aware(cycle.closes_at), now)
    session.add(cycle)


def close_cycle(session: Session, cycle: PulseCycle, *, now: datetime) -> None:
    """Flush, reshuffle, roll up, reduce participation to counts, and erase residue."""
    if cycle.status == "closed":
        return
    reshuffle_responses(session, cycle.id)
    _flush_mark_pools(session)
    cycle.status = "closed"
    cycle.closes_at = min(_aware(cycle.closes_at), now)
    session.add(cycle)
    compute_rollups(session, cycle)
    session.execute(sa.delete(SurveyParticipation).where(SurveyParticipation.survey_id == cycle.id))
    session.commit()
    erase_residue(session, tables=("response_pool", "survey_response", "survey_participation",
                                   "pulse_mark_pool", "pulse_commitment_mark"))
    log.info("Pulse cycle %s closed.", cycle.id)


@dataclass
class _Sums:
    respondents: int = 0
    comments: int = 0
    items: dict = field(default_factory=lambda: defaultdict(Counter))  # item_id -> value -> n
    alpha_n: int = 0
    item_sum: list = field(default_factory=list)
    item_sumsq: list = field(default_factory=list)
    total_sum: float = 0
    total_sumsq: float = 0

    def add(self, other: "_Sums") -> None:
        self.respondents += other.respondents
        self.comments += other.comments
        for item_id, dist in other.items.items():
            self.items[item_id].update(dist)
        self.alpha_n += other.alpha_n
        if not self.item_sum:
            self.item_sum = [0] * len(other.item_sum)
            self.item_sumsq = [0] * len(other.item_sumsq)
        self.item_sum = [a + b for a, b in zip(self.item_sum, other.item_sum, strict=True)]
        self.item_sumsq = [a + b for a, b in zip(self.item_sumsq, other.item_sumsq, strict=True)]
        self.total_sum += other.total_sum
        self.total_sumsq += other.total_sumsq


def _group_sums(rows, likert_ids: list[int]) -> dict[int, _Sums]:
    sums: dict[int, _Sums] = {}
    for group_key, answers_json, has_comment in rows:
        s = sums.get(group_key)
        if s is None:
            s = sums[group_key] = _Sums(item_sum=[0] * len(likert_ids),
                                        item_sumsq=[0] * len(likert_ids))
        answers = {int(k): v for k, v in json.loads(answers_json).items()}
        s.respondents += 1
        s.comments += bool(has_comment)
        for item_id, value in answers.items():
            s.items[item_id][value] += 1
        if all(i in answers for i in likert_ids):
            values = [answers[i] for i in likert_ids]
            s.alpha_n += 1
            s.item_sum = [a + v for a, v in zip(s.item_sum, values, strict=True)]
            s.item_sumsq = [a + v * v for a, v in zip(s.item_sumsq, values, strict=True)]
            s.total_sum += sum(values)
            s.total_sumsq += sum(values) ** 2
    return sums


def compute_rollups(session: Session, cycle: PulseCycle) -> None:
    """Roll the cycle's responses up per reporting group and every ancestor unit."""
    session.execute(sa.delete(RollupItem).where(RollupItem.cycle_id == cycle.id))
    session.execute(sa.delete(RollupUnit).where(RollupUnit.cycle_id == cycle.id))
    items = cycle_items(session, cycle)
    likert_ids = [i.id for i in items if i.kind == "likert"]
    enps_ids = {i.id for i in items if i.kind == "enps"}
    table = SurveyResponse.__table__
    rows = session.execute(sa.select(table.c.group_key, table.c.answers,
                                     table.c.comment.is_not(None))
                           .where(table.c.survey_id == cycle.id)).all()
    groups = _group_sums(rows, likert_ids)
    units = _units(session)
    audience = session.exec(select(CycleAudience).where(CycleAudience.cycle_id == cycle.id)).all()
    invited_by_group = Counter()
    for row in audience:
        invited_by_group[row.group_key] += row.invited
    for key in invited_by_group:
        groups.setdefault(key, _Sums(item_sum=[0] * len(likert_ids),
                                     item_sumsq=[0] * len(likert_ids)))
    totals: dict[int, _Sums] = {}
    invited: Counter = Counter()
    for key, sums in groups.items():
        unit = units[key]
        for unit_id in [*_ancestor_ids(unit), key]:
            totals.setdefault(unit_id, _Sums()).add(sums)
            invited[unit_id] += invited_by_group.get(key, 0)
    unit_rows, item_rows = [], []
    for unit_id, s in totals.items():
        chain = [a for a in _ancestor_ids(units[unit_id]) if a in totals]
        likert_n = sum(sum(s.items[i].values()) for i in likert_ids)
        likert_total = sum(v * c for i in likert_ids for v, c in s.items[i].items())
        enps_dist = Counter()
        for i in enps_ids:
            enps_dist.update(s.items[i])
        unit_rows.append({
            "cycle_id": cycle.id, "unit_id": unit_id, "parent_id": chain[-1] if chain else None,
            "respondents": s.respondents, "invited": invited[unit_id], "comments": s.comments,
            "likert_n": likert_n, "likert_total": likert_total,
            "enps_distribution": json.dumps({str(k): v for k, v in sorted(enps_dist.items())}),
            "alpha_stats": json.dumps({"n": s.alpha_n, "item_sum": s.item_sum,
                                       "item_sumsq": s.item_sumsq, "total_sum": s.total_sum,
                                       "total_sumsq": s.total_sumsq})})
        for item in items:
            dist = s.items.get(item.id, Counter())
            item_rows.append({
                "cycle_id": cycle.id, "unit_id": unit_id, "item_id": item.id,
                "n": sum(dist.values()), "total": sum(v * c for v, c in dist.items()),
                "distribution": json.dumps({str(k): v for k, v in sorted(dist.items())})})
    if unit_rows:
        session.execute(sa.insert(RollupUnit.__table__), unit_rows)
    if item_rows:
        session.execute(sa.insert(RollupItem.__table__), item_rows)
    cycle.rollups_done = True
    session.add(cycle)
    session.flush()


def refresh_rollups(session: Session) -> int:
    """Compute rollups for closed cycles that lack them (e.g. after a crash at close)."""
    todo = session.exec(select(PulseCycle).where(PulseCycle.status == "closed",
                                                 PulseCycle.rollups_done.is_(False))).all()
    for cycle in todo:
        compute_rollups(session, cycle)
    return len(todo)


def purge_old_invitations(session: Session, *, now: datetime) -> None:
    """Delete invitations of closed cycles from earlier quarters: the budget no longer needs
    them and nobody needs to know who was invited."""
    old = select(PulseCycle.id).where(PulseCycle.status == "closed",
                                      PulseCycle.quarter < quarter_of(now.date()))
    session.execute(sa.delete(PulseInvitation).where(PulseInvitation.cycle_id.in_(old)))


# Results: everything leaves through anonymity.release ----------------------------------------


@dataclass(frozen=True)
class ItemScore:
    item: PulseItem
    n: int
    mean: float | None
    distribution: list[tuple[int, int]]  # (answer value, count), every value of the scale


@dataclass(frozen=True)
class UnitScores:
    respondents: int
    invited: int
    response_rate: float | None
    engagement: float | None  # mean of the Likert answers, 1-5
    enps: float | None
    enps_moe: float | None
    alpha: float | None
    items: list[ItemScore]


def _unit_scores(row, item_rows: list[RollupItem] | None,
                 items: dict[int, PulseItem], limits: anonymity.Thresholds) -> UnitScores:
    enps = scores.enps({int(k): v for k, v in json.loads(row.enps_distribution).items()})
    scored = []
    for item_row in item_rows or []:
        item = items[item_row.item_id]
        if item_row.n < limits.scores:  # an item answered by too few people is withheld
            continue
        counts = {int(k): v for k, v in json.loads(item_row.distribution).items()}
        scale = range(0, 11) if item.kind == "enps" else range(1, 6)
        scored.append(ItemScore(item, item_row.n, item_row.total / item_row.n,
                                [(v, counts.get(v, 0)) for v in scale]))
    return UnitScores(
        respondents=row.respondents, invited=row.invited,
        response_rate=row.respondents / row.invited if row.invited else None,
        engagement=scores.engagement_index(row.likert_total, row.likert_n),
        enps=enps[0] if enps else None, enps_moe=enps[1] if enps else None,
        alpha=scores.cronbach_alpha(json.loads(row.alpha_stats)), items=scored)


def cut_tree(rows: list) -> dict[int, set[int]]:
    """Return each cut's set of reporting groups below and including it."""
    parent = {r.unit_id: r.parent_id for r in rows}
    below: dict[int, set[int]] = {r.unit_id: {r.unit_id} for r in rows}
    for unit_id in parent:
        up = parent[unit_id]
        while up is not None:
            below[up].add(unit_id)
            up = parent.get(up)
    return below


def _comments(session: Session, cycle: PulseCycle, group_keys: set[int]) -> list[str]:
    table = SurveyResponse.__table__
    # Ordered by the random key: a sample whose order has nothing to do with submission.
    return list(session.execute(
        sa.select(table.c.comment).where(table.c.survey_id == cycle.id,
                                         table.c.group_key.in_(group_keys),
                                         table.c.comment.is_not(None))
        .order_by(table.c.id).limit(COMMENTS_SHOWN)).scalars())


def rollup_rows(session: Session, cycle_ids: list[int]) -> dict[int, list]:
    """Return the per-unit rollup rows of several cycles, keyed by cycle id."""
    table = RollupUnit.__table__
    out: dict[int, list] = {c: [] for c in cycle_ids}
    if cycle_ids:
        for row in session.execute(sa.select(table).where(table.c.cycle_id.in_(cycle_ids))):
            out[row.cycle_id].append(row)
    return out


def released_results(session: Session, *, cycle: PulseCycle, unit_ids: set[int] | None = None,
                     items: bool = True, comments: bool = True, rows: list | None = None
                     ) -> dict[int, anonymity.Released]:
    """Return the results of a closed cycle that may be shown, per unit, thresholds applied.

    The single place where pulse results leave the database: pages, CSV, JSON and the
    insights dashboard all call this. Suppressed units come back with `scores=None`.
    `rows` may pass the cycle's rollup rows when the caller has loaded them already.
    """
    if cycle.status != "closed":
        return {}
    limits = cycle_limits(cycle)
    if rows is None:
        rows = rollup_rows(session, [cycle.id])[cycle.id]
    wanted = {r.unit_id for r in rows} if unit_ids is None else set(unit_ids)
    item_rows: dict[int, list[RollupItem]] = defaultdict(list)
    item_map: dict[int, PulseItem] = {}
    if items and wanted:
        item_map = {i.id: i for i in cycle_items(session, cycle)}
        for item_row in session.exec(select(RollupItem).where(
                RollupItem.cycle_id == cycle.id, RollupItem.unit_id.in_(wanted))).all():
            item_rows[item_row.unit_id].append(item_row)
        order = {item_id: n for n, item_id in enumerate(item_map)}
        for unit_rows in item_rows.values():
            unit_rows.sort(key=lambda r: order.get(r.item_id, 0))
    below = cut_tree(rows) if comments else {}
    cells = []
    for row in rows:
        scores = text = None
        if row.unit_id in wanted:
            scores = _unit_scores(row, item_rows.get(row.unit_id) if items else None,
                                  item_map, limits)
            if comments and row.comments and row.respondents >= limits.comments:
                text = _comments(session, cycle, below[row.unit_id])
        cells.append(anonymity.Cell(row.unit_id, row.parent_id, row.respondents, scores,
                                    text or ()))
    return anonymity.release(cells, limits, wanted)


def closed_cycles(session: Session, programme_id: int | None = None) -> list[PulseCycle]:
    query = select(PulseCycle).where(PulseCycle.status == "closed")
    if programme_id is not None:
        query = query.where(PulseCycle.programme_id == programme_id)
    return list(session.exec(query.order_by(PulseCycle.opens_at)).all())


def cycles_up_to(cycles: list[PulseCycle], cycle: PulseCycle, last: int = 8
                 ) -> list[PulseCycle]:
    """Return the last few of `cycles` (in time order) up to and including `cycle`: a trend."""
    return [c for c in cycles if c.opens_at <= cycle.opens_at][-last:]


def latest_closed_cycle(session: Session) -> PulseCycle | None:
    return session.exec(select(PulseCycle).where(PulseCycle.status == "closed")
                        .order_by(PulseCycle.closes_at.desc(), PulseCycle.id.desc())).first()


@dataclass(frozen=True)
class TrendPoint:
    cycle: PulseCycle
    result: anonymity.Released | None  # None: the unit was not a reporting group then


def trend(session: Session, *, unit_id: int, programme_id: int, last: int = 8,
          cycles: list[PulseCycle] | None = None, rows: dict | None = None
          ) -> list[TrendPoint]:
    """Return the unit's engagement, eNPS and response rate per closed cycle."""
    if cycles is None:
        cycles = closed_cycles(session, programme_id)
    cycles = cycles[-last:]
    if rows is None:
        rows = rollup_rows(session, [c.id for c in cycles])
    points = []
    for cycle in cycles:
        released = released_results(session, cycle=cycle, unit_ids={unit_id}, items=False,
                                    comments=False, rows=rows[cycle.id])
        points.append(TrendPoint(cycle, released.get(unit_id)))
    return points


def employee_units(session: Session, user: User, cycle: PulseCycle | None) -> set[int]:
    """Return the units whose results an employee may see: their own group and the company."""
    units: set[int] = set()
    if user.unit_id is None:
        return units
    unit = session.get(OrgUnit, user.unit_id)
    chain = [*_ancestor_ids(unit), unit.id]
    units.update({chain[0], unit.id})
    if cycle is not None:
        row = session.exec(select(CycleAudience).where(CycleAudience.cycle_id == cycle.id,
                                                       CycleAudience.unit_id == unit.id)).first()
        if row is not None:
            units.add(row.group_key)
    return units


def viewable_units(session: Session, user: User, cycle: PulseCycle | None) -> set[int] | None:
    """Return the unit ids whose results `user` may see, or None for all (HR and admin)."""
    if sees_everything(user):
        return None
    units = employee_units(session, user, cycle)
    if user.has_role("manager"):
        units |= managed_scope(session=session, user=user)
    return units


# Live response rates (counts only) ----------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    unit: OrgUnit
    depth: int
    invited: int
    responded: int | None  # None: withheld, fewer than the minimum or a differencing risk
    below_half: bool  # raised only once half the survey window has passed


def halfway(cycle: PulseCycle) -> datetime:
    """Return the moment half of the cycle's answering window has passed."""
    opens, closes = _aware(cycle.opens_at), _aware(cycle.closes_at)
    return opens + (closes - opens) / 2


def alerts_due(cycle: PulseCycle, *, now: datetime) -> bool:
    """Return whether "below 50%" alerts apply yet: only once half the window has passed."""
    return _aware(now) >= halfway(cycle)


def live_progress(session: Session, cycle: PulseCycle,
                  unit_ids: set[int] | None = None, *, now: datetime | None = None
                  ) -> list[ProgressRow]:
    """Return live response counts per reporting unit, with the score thresholds applied.

    Rows come in tree order. A unit is flagged below 50% only after half the window has
    passed: early in a survey every unit is below half, and an alert then says nothing.
    """
    alerts_on = alerts_due(cycle, now=now or datetime.now(UTC))
    counts = dict(session.execute(
        sa.select(PulseInvitation.group_key, sa.func.count())
        .join(SurveyParticipation, sa.and_(
            SurveyParticipation.survey_id == PulseInvitation.cycle_id,
            SurveyParticipation.employee_id == PulseInvitation.employee_id))
        .where(PulseInvitation.cycle_id == cycle.id).group_by(PulseInvitation.group_key)).all())
    units = _units(session)
    invited_by_group: Counter = Counter()
    for row in session.exec(select(CycleAudience).where(CycleAudience.cycle_id == cycle.id)):
        invited_by_group[row.group_key] += row.invited
    responded: Counter = Counter()
    invited: Counter = Counter()
    for key, n_invited in invited_by_group.items():
        for unit_id in [*_ancestor_ids(units[key]), key]:
            responded[unit_id] += counts.get(key, 0)
            invited[unit_id] += n_invited
    cells = []
    for unit_id in invited:
        chain = [a for a in _ancestor_ids(units[unit_id]) if a in invited]
        cells.append(anonymity.Cell(unit_id, chain[-1] if chain else None, responded[unit_id],
                                    responded[unit_id]))
    released = anonymity.release(cells, cycle_limits(cycle))
    rows = []
    for unit_id in sorted(invited, key=lambda u: tree_key(units[u], units)):
        if unit_ids is not None and unit_id not in unit_ids:
            continue
        rate = responded[unit_id] / invited[unit_id] if invited[unit_id] else 0
        rows.append(ProgressRow(units[unit_id], tree_depth(units[unit_id]),
                                invited[unit_id], released[unit_id].scores,
                                alerts_on and rate < 0.5))
    return rows


# The "you said, we did" ledger --------------------------------------------------------------


def add_commitment(session: Session, *, cycle: PulseCycle, unit: OrgUnit, text: str,
                   user: User) -> Commitment:
    """Record what a manager commits to after a cycle closed (at most three per unit)."""
    if cycle.status != "closed":
        raise PulseError("Commitments are recorded after the survey closes.")
    text = " ".join(text.split())
    if not text:
        raise PulseError("Write what you will do.")
    count = session.execute(sa.select(sa.func.count()).select_from(Commitment).where(
        Commitment.cycle_id == cycle.id, Commitment.unit_id == unit.id)).scalar_one()
    if count >= MAX_COMMITMENTS:
        raise PulseError(f"A team records at most {MAX_COMMITMENTS} commitments per survey.")
    commitment = Commitment(cycle_id=cycle.id, unit_id=unit.id, text=text, created_by=user.id)
    session.add(commitment)
    session.flush()
    return commitment


def commitments_for(session: Session, unit_ids: set[int]) -> list[Commitment]:
    return list(session.exec(select(Commitment).where(Commitment.unit_id.in_(unit_ids))
                             .order_by(Commitment.cycle_id.desc(), Commitment.id)).all())


def commitments_for_employee(session: Session, user: User) -> list[Commitment]:
    """Return commitments made for the person's unit or any unit above it."""
    if user.unit_id is None:
        return []
    unit = session.get(OrgUnit, user.unit_id)
    return commitments_for(session, {*_ancestor_ids(unit), unit.id})


def may_mark(session: Session, user: User, commitment: Commitment) -> bool:
    if user.unit_id is None:
        return False
    unit = session.get(OrgUnit, user.unit_id)
    return commitment.unit_id in {*_ancestor_ids(unit), unit.id}


def marked_ids(session: Session, user: User, commitment_ids: list[int]) -> set[int]:
    return set(session.exec(select(CommitmentVoter.commitment_id).where(
        CommitmentVoter.employee_id == user.id,
        CommitmentVoter.commitment_id.in_(commitment_ids))).all())


def mark_commitment(session: Session, *, commitment: Commitment, employee_id: int,
                    answer: str) -> bool:
    """Record anonymously whether a commitment happened; False if this person already marked.

    Like a survey answer: who marked goes to one table and the sealed mark to the pool, in one
    transaction; the scheduler opens the marks and flushes them in shuffled batches.
    """
    _start_write(session)
    if not _insert_ignoring_duplicate(session, CommitmentVoter.__table__,
                                      {"commitment_id": commitment.id,
                                       "employee_id": employee_id}):
        session.rollback()
        return False
    session.execute(sa.insert(MarkPool.__table__).values(
        id=random_key(), commitment_id=commitment.id, unit_id=commitment.unit_id,
        sealed=seal(answer)))
    session.commit()
    return True


def _reshuffle_unit_marks(session: Session, unit_id: int, opener: sealing.Opener) -> int:
    """Open a unit's waiting marks and rewrite them with its flushed ones, shuffled."""
    pool, marks = MarkPool.__table__, CommitmentMark.__table__
    ids = sa.select(Commitment.id).where(Commitment.unit_id == unit_id)
    old = session.execute(sa.delete(marks).where(marks.c.commitment_id.in_(ids))
                          .returning(marks.c.commitment_id, marks.c.answer)).all()
    new = session.execute(sa.delete(pool).where(pool.c.unit_id == unit_id)
                          .returning(pool.c.commitment_id, pool.c.sealed)).all()
    rows = [{"commitment_id": c, "answer": a} for c, a in old]
    rows += [{"commitment_id": c, "answer": _open(opener, box)} for c, box in new]
    _write_shuffled(session, marks, rows)
    return len(new)


def _flush_mark_pools(session: Session, *, opener: sealing.Opener | None = None) -> int:
    """Open the marks of each unit with at least BATCH waiting; return how many moved.

    A unit with fewer keeps them sealed, at a close too: marks have no close of their own.
    """
    pool = MarkPool.__table__
    waiting = session.execute(sa.select(pool.c.unit_id, sa.func.count())
                              .group_by(pool.c.unit_id)).all()
    return sum(_reshuffle_unit_marks(session, unit, opener or sealing.opener())
               for unit, count in waiting if count >= BATCH)


def released_tallies(session: Session, commitment_ids: list[int]) -> dict[int, Counter | None]:
    """Return mark counts per commitment, or None where fewer than the minimum marked."""
    limit = configured_limits().scores
    tallies: dict[int, Counter] = {c: Counter() for c in commitment_ids}
    if commitment_ids:
        for cid, answer, n in session.execute(
                sa.select(CommitmentMark.commitment_id, CommitmentMark.answer, sa.func.count())
                .where(CommitmentMark.commitment_id.in_(commitment_ids))
                .group_by(CommitmentMark.commitment_id, CommitmentMark.answer)).all():
            tallies[cid][answer] = n
    return {c: (t if sum(t.values()) >= limit else None) for c, t in tallies.items()}


# For the insights dashboard -----------------------------------------------------------------


def _customer_focus(session: Session, cycle_ids: list[int]) -> dict[tuple[int, int], float]:
    rows = session.execute(
        sa.select(RollupItem.cycle_id, RollupItem.unit_id, sa.func.sum(RollupItem.total),
                  sa.func.sum(RollupItem.n))
        .join(PulseItem, PulseItem.id == RollupItem.item_id)
        .where(PulseItem.theme == "customer_focus", RollupItem.cycle_id.in_(cycle_ids))
        .group_by(RollupItem.cycle_id, RollupItem.unit_id)).all()
    return {(c, u): total / n for c, u, total, n in rows if n}


def morale_by_unit_period(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return one row per (unit, quarter) whose results may be shown, from rollups.

    Keys: unit_id, unit_code, period, respondents, invited, engagement (mean of the Likert
    items, 1-5), enps, enps_moe, customer_focus (mean of the team's customer-focus item).
    Cells below the score threshold, or hidden to stop differencing, are left out; see
    `suppressed_units`. With several cycles in one quarter, the one with most respondents wins.
    """
    cycles = closed_cycles(session)
    focus = _customer_focus(session, [c.id for c in cycles])
    codes = {u.id: u.code for u in _units(session).values()}
    rows = rollup_rows(session, [c.id for c in cycles])
    best: dict[tuple[int, str], dict] = {}
    for cycle in cycles:
        for unit_id, released in released_results(session, cycle=cycle, unit_ids=unit_ids,
                                                   items=False, comments=False,
                                                   rows=rows[cycle.id]).items():
            if released.suppressed:
                continue
            s: UnitScores = released.scores
            row = {"unit_id": unit_id, "unit_code": codes[unit_id], "period": cycle.quarter,
                   "respondents": s.respondents, "invited": s.invited,
                   "engagement": s.engagement, "enps": s.enps, "enps_moe": s.enps_moe,
                   "customer_focus": focus.get((cycle.id, unit_id))}
            key = (unit_id, cycle.quarter)
            if key not in best or best[key]["respondents"] < s.respondents:
                best[key] = row
    return sorted(best.values(), key=lambda r: (r["unit_code"], r["period"]))


def team_customer_focus(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return unit_id, unit_code, period and customer_focus for the visible cells."""
    return [{k: r[k] for k in ("unit_id", "unit_code", "period", "customer_focus")}
            for r in morale_by_unit_period(session=session, unit_ids=unit_ids)]


def suppressed_units(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return (unit_id, unit_code, period, reason) for audience units without shown results.

    reason is "merged" (too small at launch, reported with its parent) or "suppressed" (too
    few respondents, or hidden so that it cannot be worked out by subtraction); `differencing`
    says which of the two a suppressed cell is (`anonymity.withheld_reason`). No counts.
    """
    codes = {u.id: u.code for u in _units(session).values()}
    visible = {(r["unit_id"], r["period"]) for r in morale_by_unit_period(session=session,
                                                                          unit_ids=unit_ids)}
    cycles = closed_cycles(session)
    respondents = {(cycle_id, r.unit_id): r.respondents for cycle_id, rows
                   in rollup_rows(session, [c.id for c in cycles]).items() for r in rows}
    out = {}
    for cycle in cycles:
        for row in session.exec(select(CycleAudience)
                                .where(CycleAudience.cycle_id == cycle.id)).all():
            unit_id = row.unit_id
            if unit_ids is not None and unit_id not in unit_ids:
                continue
            if (unit_id, cycle.quarter) in visible:
                continue
            reason = "merged" if row.group_key != unit_id else "suppressed"
            differencing = reason == "suppressed" and anonymity.withheld_reason(
                respondents.get((cycle.id, unit_id), 0), cycle_limits(cycle)
            ) == anonymity.DIFFERENCING
            out[(unit_id, cycle.quarter)] = {"unit_id": unit_id, "unit_code": codes[unit_id],
                                             "period": cycle.quarter, "reason": reason,
                                             "differencing": differencing}
    return sorted(out.values(), key=lambda r: (r["unit_code"], r["period"]))


def reporting_group(session: Session, cycle: PulseCycle, unit_id: int) -> OrgUnit | None:
    """Return the unit a small unit's answers were merged into, if it was in the audience."""
    row = session.exec(select(CycleAudience).where(CycleAudience.cycle_id == cycle.id,
                                                   CycleAudience.unit_id == unit_id)).first()
    if row is None or row.group_key == unit_id:
        return None
    return session.get(OrgUnit, row.group_key)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _scores_document(scores: UnitScores, *, alpha: bool = True) -> dict:
    doc = {
        "respondents": scores.respondents, "invited": scores.invited,
        "response_rate": _round(scores.response_rate, 3),
        "engagement": _round(scores.engagement), "enps": _round(scores.enps, 1),
        "enps_moe": _round(scores.enps_moe, 1), "cronbach_alpha": _round(scores.alpha),
        "items": [{"code": s.item.code, "theme": s.item.theme, "text": s.item.text, "n": s.n,
                   "mean": _round(s.mean), "distribution": dict(s.distribution)}
                  for s in scores.items],
    }
    if not alpha:  # front-line staff are not shown Cronbach's alpha
        del doc["cronbach_alpha"]
    return doc


def results_document(session: Session, *, unit: OrgUnit, cycle: PulseCycle | None,
                     alpha: bool = True) -> dict:
    """Return a unit's released results, trend and ledger as a JSON-ready dict.

    `alpha=False` leaves out Cronbach's alpha, which only HR and admins are shown.
    """
    doc: dict = {"unit": {"id": unit.id, "code": unit.code, "name": unit.name},
                 "cycle": None, "result": None, "trend": [], "ledger": []}
    if cycle is None:
        return doc
    limits = cycle_limits(cycle)
    doc["cycle"] = {"id": cycle.id, "period": cycle.period, "quarter": cycle.quarter}
    doc["thresholds"] = {"scores": limits.scores, "comments": limits.comments}
    released = released_results(session, cycle=cycle, unit_ids={unit.id}).get(unit.id)
    if released is None:
        group = reporting_group(session, cycle, unit.id)
        doc["result"] = {"status": "merged", "merged_into": group.code if group else None}
    elif released.suppressed:
        doc["result"] = {"status": "suppressed", "message": anonymity.SUPPRESSED_TEXT}
    else:
        doc["result"] = {"status": "shown", **_scores_document(released.scores, alpha=alpha),
                         "comments": released.comments}
    until_now = cycles_up_to(closed_cycles(session, cycle.programme_id), cycle)
    for point in trend(session, unit_id=unit.id, programme_id=cycle.programme_id,
                       cycles=until_now):
        entry = {"period": point.cycle.period, "status": "merged"}
        if point.result is not None and point.result.suppressed:
            entry["status"] = "suppressed"
        elif point.result is not None:
            s = point.result.scores
            entry.update(status="shown", respondents=s.respondents,
                         response_rate=_round(s.response_rate, 3),
                         engagement=_round(s.engagement), enps=_round(s.enps, 1),
                         enps_moe=_round(s.enps_moe, 1))
        doc["trend"].append(entry)
    commitments = commitments_for(session, {unit.id})
    tallies = released_tallies(session, [c.id for c in commitments])
    periods = {c.id: c.period for c in session.exec(select(PulseCycle)).all()}
    doc["ledger"] = [{"after": periods.get(c.cycle_id), "text": c.text, "status": c.status,
                      "due_on": c.due_on.isoformat() if c.due_on else None, "theme": c.theme,
                      "marks": dict(tallies[c.id]) if tallies[c.id] is not None else None}
                     for c in commitments]
    return doc


def results_table(session: Session, *, cycle: PulseCycle,
                  unit_ids: set[int] | None) -> list[list]:
    """Return the CSV export of a closed cycle: one row per unit the viewer may see."""
    items = cycle_items(session, cycle)
    header = ["unit_code", "unit_name", "period", "status", "respondents", "invited",
              "response_rate", "engagement", "enps", "enps_moe", *[i.code for i in items]]
    units = _units(session)
    released = released_results(session, cycle=cycle, unit_ids=unit_ids, comments=False)
    rows = [header]
    for unit_id in sorted(released, key=lambda u: tree_key(units[u], units)):
        r, unit = released[unit_id], units[unit_id]
        if r.suppressed:
            rows.append([unit.code, unit.name, cycle.period, "suppressed",
                         *[""] * (len(header) - 4)])
            continue
        s: UnitScores = r.scores
        means = {score.item.id: _round(score.mean) for score in s.items}
        rows.append([unit.code, unit.name, cycle.period, "shown", s.respondents, s.invited,
                     _round(s.response_rate, 3), _round(s.engagement), _round(s.enps, 1),
                     _round(s.enps_moe, 1), *[means.get(i.id, "") for i in items]])
    merged = session.exec(select(CycleAudience).where(
        CycleAudience.cycle_id == cycle.id, CycleAudience.group_key != CycleAudience.unit_id)
    ).all()
    for row in merged:
        if row.unit_id in released or (unit_ids is not None and row.unit_id not in unit_ids):
            continue
        unit = units[row.unit_id]
        rows.append([unit.code, unit.name, cycle.period,
                     f"merged into {units[row.group_key].code}", *[""] * (len(header) - 4)])
    return rows
