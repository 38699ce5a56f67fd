"""Action plans: what managers do about their teams' survey results ("you said, we did").

An action (a `Commitment` row) has an owner, a due date, the theme or question it answers and
a status history (`ActionUpdate`). Employees still mark anonymously whether it happened
(`ledger.mark_commitment`). HR sees follow-through for every unit with released results, and
the scheduler nudges managers who have no plan after NO_PLAN_AFTER, or whose actions are overdue.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from sqlmodel import Session, select

from trainer import audit
from trainer.auth.models import User
from trainer.i18n import language_of
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.pulse.cycles import aware
from trainer.pulse.ledger import MAX_COMMITMENTS, released_tallies
from trainer.pulse.models import (
    ACTION_STATUSES,
    OPEN_STATUSES,
    THEMES,
    ActionNudge,
    ActionStatus,
    ActionUpdate,
    Commitment,
    CycleStatus,
    PulseCycle,
    PulseError,
    PulseItem,
)
from trainer.pulse.pool import insert_ignoring_duplicate
from trainer.pulse.programmes import cycle_items
from trainer.pulse.results import closed_cycles, released_results
from trainer.pulse.tree import ancestor_ids, tree_key
from trainer.util import external_url, utcnow

NO_PLAN_AFTER = timedelta(days=14)  # a unit with released results and no action by then
DUE_SOON_DAYS = 14
STALE_DAYS = 30  # an open action with no status update for this long needs a look
LONGEST_PLAN_DAYS = 366


class ActionError(PulseError):
    """A refused action, naming the form field it is about."""

    def __init__(self, message: str, field: str = "text"):
        super().__init__(message)
        self.field = field


# Choices for the form ------------------------------------------------------------------------


def owner_choices(unit: OrgUnit, user: User, *, session: Session) -> list[User]:
    """Return who may own an action: the unit's people, its managers (and those of the units
    above it), and the person recording it."""
    above = [*ancestor_ids(unit), unit.id]
    managers = select(ManagedUnit.user_id).where(ManagedUnit.unit_id.in_(above))
    people = session.exec(
        select(User)
        .where(
            User.active, sa.or_(User.unit_id == unit.id, User.id.in_(managers), User.id == user.id)
        )
        .order_by(User.name, User.id)
    ).all()
    return list(people)


def answer_choices(cycle: PulseCycle, *, session: Session) -> list[tuple[str, str]]:
    """Return the themes and questions of a cycle an action can answer, as (value, label)."""
    items = cycle_items(cycle, session=session)
    themes = [t for t in THEMES if any(i.theme == t for i in items)]
    return [(f"theme:{t}", f"Theme: {THEMES[t]}") for t in themes] + [
        (f"item:{i.id}", f"Question: {i.text}") for i in items
    ]


def answers_label(action: Commitment, items: dict[int, PulseItem]) -> str:
    if action.item_id is not None and action.item_id in items:
        return items[action.item_id].text
    return THEMES.get(action.theme, "")


# Recording actions and their status ----------------------------------------------------------


def _audit_target(action: Commitment, unit: OrgUnit) -> tuple[str, int, str]:
    return "action", action.id, f"{unit.code}: {action.text}"[:200]


def add_action(
    *,
    session: Session,
    cycle: PulseCycle,
    unit: OrgUnit,
    title: str,
    details: str,
    owner_id: int,
    due_on: date,
    answers: str,
    user: User,
    today: date,
) -> Commitment:
    """Add an action to a unit's plan after `cycle` closed, with its first status, planned."""
    if cycle.status != CycleStatus.CLOSED:
        raise PulseError("Actions are planned after the survey closes and its results are out.")
    title = " ".join(title.split())
    if not title:
        raise PulseError("Write what you will do.")
    count = session.execute(
        sa.select(sa.func.count())
        .select_from(Commitment)
        .where(
            Commitment.cycle_id == cycle.id,
            Commitment.unit_id == unit.id,
            Commitment.status != ActionStatus.DROPPED,
        )
    ).scalar_one()
    if count >= MAX_COMMITMENTS:
        raise PulseError(
            f"A team works on at most {MAX_COMMITMENTS} actions per survey. "
            "Mark one as done or dropped first, or add this to an action's note."
        )
    if owner_id not in {u.id for u in owner_choices(unit, user, session=session)}:
        raise ActionError("Choose the owner from the list.", "owner_id")
    if not today <= due_on <= today + timedelta(days=LONGEST_PLAN_DAYS):
        raise ActionError("Choose a due date between today and a year from now.", "due_on")
    kind, _, value = answers.partition(":")
    if answers not in dict(answer_choices(cycle, session=session)):
        raise ActionError("Choose the theme or question this action answers.", "answers")
    item = session.get(PulseItem, int(value)) if kind == "item" else None
    now = utcnow()
    action = Commitment(
        cycle_id=cycle.id,
        unit_id=unit.id,
        text=title,
        details=(details or "").strip(),
        owner_id=owner_id,
        due_on=due_on,
        theme=item.theme if item else value,
        item_id=item.id if item else None,
        status=ActionStatus.PLANNED,
        status_at=now,
        created_by=user.id,
        created_at=now,
    )
    session.add(action)
    session.flush()
    session.add(
        ActionUpdate(
            commitment_id=action.id,
            status=ActionStatus.PLANNED,
            note="Added to the plan.",
            by_id=user.id,
            at=now,
        )
    )
    audit.record(
        user,
        "action.create",
        _audit_target(action, unit),
        {
            "unit": unit.code,
            "cycle": cycle.period,
            "due_on": due_on.isoformat(),
            "owner": owner_id,
            "theme": action.theme,
        },
        session=session,
    )
    return action


def update_status(
    *, session: Session, action: Commitment, status: str, note: str, user: User
) -> ActionUpdate:
    """Record a status update with a short note; the action shows the latest one."""
    if status not in ACTION_STATUSES:
        raise ActionError("Choose a status from the list.", "status")
    note = " ".join((note or "").split())
    if not note:
        raise ActionError("Write a short note about what happened.", "note")
    now = utcnow()
    previous = action.status
    action.status, action.status_at = status, now
    session.add(action)
    update = ActionUpdate(commitment_id=action.id, status=status, note=note, by_id=user.id, at=now)
    session.add(update)
    unit = session.get(OrgUnit, action.unit_id)
    audit.record(
        user,
        "action.status",
        _audit_target(action, unit),
        {"unit": unit.code, "from": previous, "to": status},
        session=session,
    )
    return update


def history(action_ids: list[int], *, session: Session) -> dict[int, list[ActionUpdate]]:
    """Return each action's status updates, oldest first."""
    out: dict[int, list[ActionUpdate]] = {a: [] for a in action_ids}
    if action_ids:
        for update in session.exec(
            select(ActionUpdate)
            .where(ActionUpdate.commitment_id.in_(action_ids))
            .order_by(ActionUpdate.at, ActionUpdate.id)
        ).all():
            out[update.commitment_id].append(update)
    return out


def is_overdue(action: Commitment, today: date) -> bool:
    return action.status in OPEN_STATUSES and action.due_on is not None and action.due_on < today


def names(user_ids, *, session: Session) -> dict[int, str]:
    ids = {u for u in user_ids if u is not None}
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.name).where(User.id.in_(ids))).all())


def days_since_release(cycle: PulseCycle, today: date) -> int:
    return max((today - aware(cycle.closes_at).date()).days, 0)


# What needs a look: for home pages -----------------------------------------------------------


@dataclass(frozen=True)
class OpenAction:
    action: Commitment
    unit: OrgUnit
    reason: str  # "overdue", "due soon" or "no update"
    days: int  # days overdue, days left, or days since the last update


def open_actions(unit_ids: set[int] | None, today: date, *, session: Session) -> list[OpenAction]:
    """Return open actions in `unit_ids` (None: every unit) that are overdue, due within
    DUE_SOON_DAYS, or without a status update for STALE_DAYS: most urgent first."""
    query = select(Commitment).where(Commitment.status.in_(OPEN_STATUSES))
    if unit_ids is not None:
        if not unit_ids:
            return []
        query = query.where(Commitment.unit_id.in_(unit_ids))
    actions = session.exec(query).all()
    units = (
        {
            u.id: u
            for u in session.exec(
                select(OrgUnit).where(OrgUnit.id.in_({a.unit_id for a in actions}))
            ).all()
        }
        if actions
        else {}
    )
    out = []
    for action in actions:
        last = aware(action.status_at or action.created_at).date()
        if action.due_on is not None and action.due_on < today:
            out.append(
                OpenAction(action, units[action.unit_id], "overdue", (today - action.due_on).days)
            )
        elif action.due_on is not None and (action.due_on - today).days <= DUE_SOON_DAYS:
            out.append(
                OpenAction(action, units[action.unit_id], "due soon", (action.due_on - today).days)
            )
        elif (today - last).days >= STALE_DAYS:
            out.append(OpenAction(action, units[action.unit_id], "no update", (today - last).days))
    order = {"overdue": 0, "due soon": 1, "no update": 2}
    return sorted(out, key=lambda o: (order[o.reason], o.action.due_on or today, o.action.id))


# HR: follow-through for every unit with released results -------------------------------------


@dataclass(frozen=True)
class FollowThrough:
    unit: OrgUnit
    depth: int
    actions: int  # not dropped
    statuses: Counter
    overdue: int
    marks: int | None  # None: no action has enough marks to show
    happened_share: float | None  # yes = 1, partly = 0.5, of the marks shown
    days_since_release: int

    @property
    def has_plan(self) -> bool:
        return self.actions > 0


def released_unit_ids(cycle: PulseCycle, *, session: Session) -> set[int]:
    """Return the units whose results of `cycle` are shown (not suppressed, not merged)."""
    released = released_results(session=session, cycle=cycle, items=False, comments=False)
    return {u for u, r in released.items() if not r.suppressed}


def follow_through(*, session: Session, cycle: PulseCycle, today: date) -> list[FollowThrough]:
    """Return a row for every unit with released results of `cycle`, with or without a plan."""
    shown = released_unit_ids(cycle, session=session)
    actions = session.exec(select(Commitment).where(Commitment.cycle_id == cycle.id)).all()
    by_unit: dict[int, list[Commitment]] = defaultdict(list)
    for action in actions:
        by_unit[action.unit_id].append(action)
    tallies = released_tallies([a.id for a in actions], session=session)
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    wanted = shown | set(by_unit)
    days = days_since_release(cycle, today)
    rows = []
    for unit_id in sorted(wanted, key=lambda u: tree_key(units[u], units)):
        kept = [a for a in by_unit[unit_id] if a.status != ActionStatus.DROPPED]
        marked = [tallies[a.id] for a in by_unit[unit_id] if tallies[a.id] is not None]
        total = sum(sum(t.values()) for t in marked)
        share = (sum(t["yes"] + 0.5 * t["partly"] for t in marked) / total) if total else None
        depth = sum(1 for a in ancestor_ids(units[unit_id]) if a in wanted)
        rows.append(
            FollowThrough(
                units[unit_id],
                depth,
                len(kept),
                Counter(a.status for a in by_unit[unit_id]),
                sum(1 for a in kept if is_overdue(a, today)),
                total if marked else None,
                share,
                days,
            )
        )
    return rows


def units_without_plan(*, session: Session, today: date) -> list[FollowThrough]:
    """Return, for the latest closed cycle of each programme, the units whose results are out
    and that have no action yet: for HR's home page."""
    return [
        row
        for cycle in _latest_closed_per_programme(session=session)
        for row in follow_through(session=session, cycle=cycle, today=today)
        if not row.has_plan
    ]


# Nudges: the scheduler's reminders to managers -----------------------------------------------


def _nudge(*, session: Session, key: str, user: User, subject: str, body: str) -> bool:
    """Queue one email, unless a nudge with this key was sent before; True if queued."""
    from trainer.mail import queue_mail

    if not insert_ignoring_duplicate(
        ActionNudge.__table__,
        {"key": key, "user_id": user.id, "sent_at": utcnow()},
        session=session,
    ):
        return False
    queue_mail(session=session, key=f"pulse-nudge:{key}", to=user.email, subject=subject, body=body)
    return True


def _latest_closed_per_programme(*, session: Session) -> list[PulseCycle]:
    latest: dict[int, PulseCycle] = {}
    for cycle in closed_cycles(session=session):  # in time order
        latest[cycle.programme_id] = cycle
    return list(latest.values())


def _managers_of(unit_ids: set[int], *, session: Session) -> list[tuple[int, User]]:
    if not unit_ids:
        return []
    rows = session.exec(
        select(ManagedUnit.unit_id, User)
        .join(User, User.id == ManagedUnit.user_id)
        .where(ManagedUnit.unit_id.in_(unit_ids), User.active)
    ).all()
    return [(unit_id, user) for unit_id, user in rows if user.has_role("manager")]


def _hello(user: User) -> str:
    return f"Hello {(user.name or '').split(' ')[0] or 'there'},\n\n"


def send_nudges(*, session: Session, now: datetime) -> int:
    """Email managers whose unit has had released results for NO_PLAN_AFTER with no action,
    and owners of overdue actions. Each nudge goes out once; return how many were queued."""
    queued = 0
    today = now.date()
    for cycle in _latest_closed_per_programme(session=session):
        if now - aware(cycle.closes_at) < NO_PLAN_AFTER:
            continue
        planned = set(
            session.exec(select(Commitment.unit_id).where(Commitment.cycle_id == cycle.id)).all()
        )
        units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
        without_plan = released_unit_ids(cycle, session=session) - planned
        for unit_id, user in _managers_of(without_plan, session=session):
            unit = units[unit_id]
            with force_locale(language_of(user)):  # in the recipient's language
                queued += _nudge(
                    session=session,
                    key=f"none:{cycle.id}:{unit_id}:{user.id}",
                    user=user,
                    subject=f"{unit.name}: no action plan yet for the {cycle.period} survey",
                    body=_hello(user) + f"{unit.name}'s results of the {cycle.period} survey "
                    f"came out {days_since_release(cycle, today)} days ago, and no action is "
                    "planned yet.\n\n"
                    "Your team told you what matters to them. Pick one thing to act on, give it an "
                    "owner and a due date, and your team can see it and say whether it happened:\n"
                    f"{external_url('pulse.action_plan', unit_id=unit_id)}\n",
                )
    overdue = session.exec(
        select(Commitment).where(Commitment.status.in_(OPEN_STATUSES), Commitment.due_on < today)
    ).all()
    for action in overdue:
        owner = session.get(User, action.owner_id) if action.owner_id else None
        if owner is not None and owner.active and owner.email:
            recipients = [owner]
        else:
            recipients = [user for _, user in _managers_of({action.unit_id}, session=session)]
        unit = session.get(OrgUnit, action.unit_id)
        for user in recipients:
            with force_locale(language_of(user)):  # in the recipient's language
                queued += _nudge(
                    session=session,
                    key=f"overdue:{action.id}:{action.due_on.isoformat()}:{user.id}",
                    user=user,
                    subject=f"Overdue action for {unit.name}: {action.text}"[:300],
                    body=_hello(user) + f"This action for {unit.name} was due on "
                    f"{action.due_on.strftime('%d %B %Y')} and is still "
                    f"{ACTION_STATUSES[action.status].lower()}:\n\n  {action.text}\n\n"
                    "Record where it stands: done, still in progress with a new date in the note, "
                    "or dropped with the reason. Your team sees the update:\n"
                    f"{external_url('pulse.action_plan', unit_id=action.unit_id)}\n",
                )
    return queued
