"""A cycle's life: lock thresholds, freeze the audience and open; remind; close and roll up.

These run in scheduler jobs (and "open now" in HR's request). Those that commit say so: a job
runs in its own session, and closing must commit before it erases the pools' residue.
"""

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlmodel import Session, select

from trainer import anonymity
from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.i18n import language_of
from trainer.pulse.models import (
    CycleAudience,
    CycleStatus,
    ItemKind,
    PulseCycle,
    PulseError,
    PulseInvitation,
    PulseProgramme,
    PulseReminder,
    Recurrence,
    RollupItem,
    RollupUnit,
    SurveyParticipation,
    SurveyResponse,
)
from trainer.pulse.pool import erase_residue, flush_mark_pools, reshuffle_responses
from trainer.pulse.programmes import (
    Occurrence,
    audience_units,
    cycle_for,
    cycle_items,
    due_occurrence,
    occurrence,
)
from trainer.pulse.tree import ancestor_ids, group_keys, units_by_id
from trainer.util import external_url, quarter_of

log = logging.getLogger("trainer.pulse")


def aware(moment: datetime) -> datetime:
    """Return the moment with UTC attached if it has no zone (SQLite drops zones)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def configured_limits() -> anonymity.Thresholds:
    """Return the thresholds from configuration, never below the code floors."""
    try:
        return anonymity.configured_thresholds(current_app.config)
    except RuntimeError:  # outside an app context
        return anonymity.thresholds()


def cycle_limits(cycle: PulseCycle) -> anonymity.Thresholds:
    """Return the thresholds locked when the cycle opened, or stricter ones configured since."""
    return anonymity.stricter(
        anonymity.Thresholds(cycle.min_scores, cycle.min_comments), configured_limits()
    )


def freeze_audience(cycle: PulseCycle, programme: PulseProgramme, *, session: Session) -> int:
    """Snapshot the audience and invite people within their survey budget; return invited."""
    units = units_by_id(session=session)
    audience_ids = audience_units(programme, session=session)
    people = session.exec(
        select(User.id, User.unit_id, User.roles).where(User.active, User.unit_id.in_(audience_ids))
    ).all()
    people = [
        (uid, unit_id) for uid, unit_id, roles in people if Role.EMPLOYEE in parse_roles(roles)
    ]
    headcount = Counter(unit_id for _, unit_id in people)
    keys = group_keys(units, audience_ids, headcount, 2 * cycle.min_scores)
    already = dict(
        session.execute(
            sa.select(PulseInvitation.employee_id, sa.func.count())
            .join(PulseCycle, PulseCycle.id == PulseInvitation.cycle_id)
            .where(PulseCycle.quarter == cycle.quarter, PulseCycle.id != cycle.id)
            .group_by(PulseInvitation.employee_id)
        ).all()
    )
    invited = [
        (uid, unit_id)
        for uid, unit_id in people
        if already.get(uid, 0) < programme.budget_per_quarter
    ]
    invited_per_unit = Counter(unit_id for _, unit_id in invited)
    session.execute(sa.delete(CycleAudience).where(CycleAudience.cycle_id == cycle.id))
    session.execute(sa.delete(PulseInvitation).where(PulseInvitation.cycle_id == cycle.id))
    session.execute(
        sa.insert(CycleAudience.__table__),
        [
            {
                "cycle_id": cycle.id,
                "unit_id": u,
                "group_key": keys[u],
                "invited": invited_per_unit.get(u, 0),
            }
            for u in sorted(audience_ids)
        ],
    )
    if invited:
        session.execute(
            sa.insert(PulseInvitation.__table__),
            [
                {"cycle_id": cycle.id, "employee_id": uid, "group_key": keys[unit_id]}
                for uid, unit_id in invited
            ],
        )
    return len(invited)


def open_cycle(
    cycle: PulseCycle, *, session: Session, now: datetime, invitations_sent: bool = False
) -> int:
    """Lock thresholds, freeze the audience and invite; return how many were invited.

    The invitation emails go out with `send_due_reminders` (the scheduler's next run), not
    here, so that opening stays quick. `invitations_sent=True` records them as sent (demo).
    The caller commits: the job, or the request of HR's "open now".
    """
    if cycle.status != CycleStatus.SCHEDULED:
        return 0
    programme = session.get(PulseProgramme, cycle.programme_id)
    limits = configured_limits()
    cycle.min_scores, cycle.min_comments = limits.scores, limits.comments
    invited = freeze_audience(cycle, programme, session=session)
    cycle.status = CycleStatus.OPEN
    session.add(cycle)
    if invitations_sent:
        session.add(PulseReminder(cycle_id=cycle.id, day=0))
    log.info("Pulse cycle %s opened; %s people invited.", cycle.id, invited)
    return invited


def _occurrence_now(programme: PulseProgramme, now: datetime) -> Occurrence:
    """Return the cycle "open now" would open: this period's, starting at `now`."""
    occ = due_occurrence(programme, now)
    if programme.recurrence == Recurrence.ONCE or occ is None:
        return occurrence(programme, 0, opens_at=now)
    return Occurrence(occ.period, occ.quarter, now, now + timedelta(days=programme.window_days))


def open_now_refusal(programme: PulseProgramme, *, session: Session, now: datetime) -> str | None:
    """Return why HR cannot open this period's cycle now, or None when they can."""
    if programme.recurrence == Recurrence.ONCE and now.date() < programme.starts_on:
        return (
            f"This one-off programme starts on {programme.starts_on:%d %B %Y}, so its "
            "cycle cannot open before then. To open it today, change the first opening "
            "day below."
        )
    occ = _occurrence_now(programme, now)
    existing = session.exec(
        select(PulseCycle).where(
            PulseCycle.programme_id == programme.id, PulseCycle.period == occ.period
        )
    ).first()
    if existing is not None:
        state = "is open" if existing.status == CycleStatus.OPEN else f"is {existing.status}"
        if programme.recurrence == Recurrence.ONCE:
            return f"This one-off programme's cycle ({occ.period}) {state}."
        return f"This period's cycle ({occ.period}) {state}."
    return None


def open_now(programme: PulseProgramme, *, session: Session, now: datetime) -> PulseCycle:
    """Open a cycle for the current period straight away (HR's "start now")."""
    refusal = open_now_refusal(programme, session=session, now=now)
    if refusal is not None:
        raise PulseError(refusal)
    cycle = cycle_for(programme, _occurrence_now(programme, now), session=session)
    open_cycle(cycle, session=session, now=now)
    return cycle


def non_responders(cycle: PulseCycle, *, session: Session) -> list[int]:
    """Return invited people who have not taken part (for the system's reminders only)."""
    answered = select(SurveyParticipation.employee_id).where(
        SurveyParticipation.survey_id == cycle.id
    )
    return list(
        session.exec(
            select(PulseInvitation.employee_id).where(
                PulseInvitation.cycle_id == cycle.id, PulseInvitation.employee_id.not_in(answered)
            )
        ).all()
    )


def _queue_to(
    cycle: PulseCycle, programme: PulseProgramme, user_ids: list[int], *, session: Session, day: int
) -> int:
    """Queue the invitation (day 0) or a reminder for each person, in the caller's transaction."""

    from trainer.mail import queue_mail

    if not user_ids:
        return 0
    link = external_url("pulse.answer", cycle_id=cycle.id)
    privacy = external_url("pulse.privacy")
    closes = cycle.closes_at.strftime("%d %B %Y")
    reminder = day > 0
    queued = 0
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        for user in session.exec(select(User).where(User.id.in_(chunk), User.active)).all():
            with force_locale(language_of(user)):  # in the recipient's language
                subject = (
                    f"Reminder: {programme.name} closes {closes}"
                    if reminder
                    else f"{programme.name} is open: 3 minutes, anonymous"
                )
                body = (
                    f"Hello {user.name.split(' ')[0]},\n\n"
                    + ("You have not answered yet; there is still time.\n\n" if reminder else "")
                    + f"{programme.name} is open until {closes}. It takes under 3 minutes:\n"
                    f"{link}\n\nYour answers are anonymous. What is stored and who sees what:\n"
                    f"{privacy}\n\nTaking part is voluntary.\n"
                )
            queued += queue_mail(
                session=session,
                key=f"pulse:{cycle.id}:day{day}:{user.id}",
                to=user.email,
                subject=subject,
                body=body,
            )
    return queued


def send_due_reminders(cycle: PulseCycle, *, session: Session, now: datetime) -> int:
    """Queue the invitation, or the latest due reminder, for people who have not answered.

    The reminder's record and its messages go to the outbox in the caller's transaction (the
    job commits each cycle's), so a crash keeps both or neither; the mail sender delivers each
    message once.
    """
    if cycle.status != CycleStatus.OPEN or now >= aware(cycle.closes_at):
        return 0
    programme = session.get(PulseProgramme, cycle.programme_id)
    done = set(
        session.exec(select(PulseReminder.day).where(PulseReminder.cycle_id == cycle.id)).all()
    )
    due = [
        d
        for d in [0, *programme.reminder_day_list]
        if aware(cycle.opens_at) + timedelta(days=d) <= now and d not in done
    ]
    if not due:
        return 0
    for day in due:
        session.add(PulseReminder(cycle_id=cycle.id, day=day))
    queued = _queue_to(
        cycle, programme, non_responders(cycle, session=session), session=session, day=max(due)
    )
    log.info(
        "Pulse cycle %s: %s queued for %s people.",
        cycle.id,
        f"day-{max(due)} reminder" if max(due) else "invitation",
        queued,
    )
    return queued


# Closing and rollups ------------------------------------------------------------------------


def taking_answers(cycle: PulseCycle, *, now: datetime) -> bool:
    return cycle.status == CycleStatus.OPEN and now < aware(cycle.closes_at)


def end_now(cycle: PulseCycle, *, session: Session, now: datetime) -> None:
    """Stop taking answers now; the scheduler, which alone opens sealed answers, closes it."""
    cycle.closes_at = min(aware(cycle.closes_at), now)
    session.add(cycle)


def close_cycle(cycle: PulseCycle, *, session: Session, now: datetime) -> None:
    """Flush, reshuffle, roll up this cycle, reduce participation to counts, erase residue.

    A scheduler job: it commits in the job's session, since erasing runs outside a transaction.
    """
    if cycle.status == CycleStatus.CLOSED:
        return
    reshuffle_responses(cycle.id, session=session)
    flush_mark_pools(session=session)
    cycle.status = CycleStatus.CLOSED
    cycle.closes_at = min(aware(cycle.closes_at), now)
    session.add(cycle)
    compute_rollups(cycle, session=session)
    session.execute(sa.delete(SurveyParticipation).where(SurveyParticipation.survey_id == cycle.id))
    session.commit()
    erase_residue(
        session=session,
        tables=(
            "response_pool",
            "survey_response",
            "survey_participation",
            "pulse_mark_pool",
            "pulse_commitment_mark",
        ),
    )
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
            s = sums[group_key] = _Sums(
                item_sum=[0] * len(likert_ids), item_sumsq=[0] * len(likert_ids)
            )
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


def compute_rollups(cycle: PulseCycle, *, session: Session) -> None:
    """Roll the cycle's responses up per reporting group and every ancestor unit."""
    session.execute(sa.delete(RollupItem).where(RollupItem.cycle_id == cycle.id))
    session.execute(sa.delete(RollupUnit).where(RollupUnit.cycle_id == cycle.id))
    items = cycle_items(cycle, session=session)
    likert_ids = [i.id for i in items if i.kind == ItemKind.LIKERT]
    enps_ids = {i.id for i in items if i.kind == ItemKind.ENPS}
    table = SurveyResponse.__table__
    rows = session.execute(
        sa.select(table.c.group_key, table.c.answers, table.c.comment.is_not(None)).where(
            table.c.survey_id == cycle.id
        )
    ).all()
    groups = _group_sums(rows, likert_ids)
    units = units_by_id(session=session)
    audience = session.exec(select(CycleAudience).where(CycleAudience.cycle_id == cycle.id)).all()
    invited_by_group = Counter()
    for row in audience:
        invited_by_group[row.group_key] += row.invited
    for key in invited_by_group:
        groups.setdefault(
            key, _Sums(item_sum=[0] * len(likert_ids), item_sumsq=[0] * len(likert_ids))
        )
    totals: dict[int, _Sums] = {}
    invited: Counter = Counter()
    for key, sums in groups.items():
        unit = units[key]
        for unit_id in [*ancestor_ids(unit), key]:
            totals.setdefault(unit_id, _Sums()).add(sums)
            invited[unit_id] += invited_by_group.get(key, 0)
    unit_rows, item_rows = [], []
    for unit_id, s in totals.items():
        chain = [a for a in ancestor_ids(units[unit_id]) if a in totals]
        likert_n = sum(sum(s.items[i].values()) for i in likert_ids)
        likert_total = sum(v * c for i in likert_ids for v, c in s.items[i].items())
        enps_dist = Counter()
        for i in enps_ids:
            enps_dist.update(s.items[i])
        unit_rows.append(
            {
                "cycle_id": cycle.id,
                "unit_id": unit_id,
                "parent_id": chain[-1] if chain else None,
                "respondents": s.respondents,
                "invited": invited[unit_id],
                "comments": s.comments,
                "likert_n": likert_n,
                "likert_total": likert_total,
                "enps_distribution": json.dumps({str(k): v for k, v in sorted(enps_dist.items())}),
                "alpha_stats": json.dumps(
                    {
                        "n": s.alpha_n,
                        "item_sum": s.item_sum,
                        "item_sumsq": s.item_sumsq,
                        "total_sum": s.total_sum,
                        "total_sumsq": s.total_sumsq,
                    }
                ),
            }
        )
        for item in items:
            dist = s.items.get(item.id, Counter())
            item_rows.append(
                {
                    "cycle_id": cycle.id,
                    "unit_id": unit_id,
                    "item_id": item.id,
                    "n": sum(dist.values()),
                    "total": sum(v * c for v, c in dist.items()),
                    "distribution": json.dumps({str(k): v for k, v in sorted(dist.items())}),
                }
            )
    if unit_rows:
        session.execute(sa.insert(RollupUnit.__table__), unit_rows)
    if item_rows:
        session.execute(sa.insert(RollupItem.__table__), item_rows)
    cycle.rollups_done = True
    session.add(cycle)
    session.flush()


def refresh_rollups(*, session: Session) -> int:
    """Compute rollups for closed cycles that lack them (e.g. after a crash at close)."""
    todo = session.exec(
        select(PulseCycle).where(
            PulseCycle.status == CycleStatus.CLOSED, PulseCycle.rollups_done.is_(False)
        )
    ).all()
    for cycle in todo:
        compute_rollups(cycle, session=session)
    return len(todo)


def purge_old_invitations(*, session: Session, now: datetime) -> None:
    """Delete invitations of closed cycles from earlier quarters: the budget no longer needs
    them and nobody needs to know who was invited."""
    old = select(PulseCycle.id).where(
        PulseCycle.status == CycleStatus.CLOSED, PulseCycle.quarter < quarter_of(now.date())
    )
    session.execute(sa.delete(PulseInvitation).where(PulseInvitation.cycle_id.in_(old)))
