"""The pulse panel of the home page: surveys to answer and commitments to confirm, response
rates of open cycles, and the person's team results once released (rollups only, every
number through `anonymity.release`)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext, ngettext
from sqlmodel import Session, select

from trainer import anonymity
from trainer.auth.models import User
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.org.scope import managed_scope
from trainer.pulse import plans
from trainer.pulse.cycles import cycle_limits
from trainer.pulse.ledger import commitments_for_employee, marked_ids
from trainer.pulse.models import (
    Commitment,
    CycleAudience,
    CycleStatus,
    PulseCycle,
    PulseInvitation,
    PulseProgramme,
)
from trainer.pulse.progress import live_progress
from trainer.pulse.results import latest_closed_cycle, released_results, rollup_rows
from trainer.pulse.submit import invitation_for

SHOWN = 3  # items of a list on the home page before a "more" link


@dataclass(frozen=True)
class Rate:
    """A response rate, or why it is withheld."""

    unit: OrgUnit
    invited: int
    responded: int | None  # None: withheld by the anonymity rules

    @property
    def rate(self) -> float | None:
        if self.responded is None or not self.invited:
            return None
        return self.responded / self.invited


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_left(closes_at: datetime, now: datetime) -> str:
    """Say how long a survey stays open: "3 days left", "closes today"."""
    days = (_aware(closes_at) - _aware(now)).days
    if days < 1:
        return gettext("closes today")
    return ngettext("%(num)d day left", "%(num)d days left", days)


def surveys_to_answer(user: User, *, session: Session) -> list[tuple[PulseCycle, PulseProgramme]]:
    """Return the open cycles the person is invited to and has not answered, closing first."""
    rows = session.exec(
        select(PulseCycle, PulseProgramme)
        .join(PulseInvitation, PulseInvitation.cycle_id == PulseCycle.id)
        .join(PulseProgramme, PulseProgramme.id == PulseCycle.programme_id)
        .where(PulseInvitation.employee_id == user.id, PulseCycle.status == CycleStatus.OPEN)
        .order_by(PulseCycle.closes_at)
    ).all()
    return [
        (cycle, programme)
        for cycle, programme in rows
        if not invitation_for(cycle, user, session=session).answered
    ]


def commitments_to_confirm(user: User, *, session: Session) -> list[Commitment]:
    """Return the commitments for the person's teams that they have not marked yet."""
    commitments = commitments_for_employee(user, session=session)
    marked = marked_ids(user, [c.id for c in commitments], session=session)
    return [c for c in commitments if c.id not in marked]


def team_result(user: User, *, session: Session) -> dict | None:
    """Return the released engagement and eNPS of the person's reporting group in the latest
    closed cycle, or why they are hidden; None when they were not in that cycle."""
    cycle = latest_closed_cycle(session=session)
    if cycle is None or user.unit_id is None:
        return None
    audience = session.exec(
        select(CycleAudience).where(
            CycleAudience.cycle_id == cycle.id, CycleAudience.unit_id == user.unit_id
        )
    ).first()
    if audience is None:
        return None
    rows = rollup_rows([cycle.id], session=session)[cycle.id]
    respondents = {r.unit_id: r.respondents for r in rows}
    if audience.group_key not in respondents:
        return None
    released = released_results(
        session=session,
        cycle=cycle,
        unit_ids={audience.group_key},
        items=False,
        comments=False,
        rows=rows,
    )
    result = released[audience.group_key]
    unit = session.get(OrgUnit, audience.group_key)
    if result.suppressed:
        reason = anonymity.withheld_reason(respondents[audience.group_key], cycle_limits(cycle))
        return {"cycle": cycle, "unit": unit, "scores": None, "hidden": gettext(reason)}
    return {"cycle": cycle, "unit": unit, "scores": result.scores, "hidden": None}


def open_rates(
    cycle: PulseCycle, unit_ids: set[int] | None, now: datetime, *, session: Session
) -> list[Rate]:
    """Return the live response rate of the cycle for the given units (None: the top units)."""
    rows = live_progress(cycle, unit_ids, session=session, now=now)
    if unit_ids is None:
        top = min((r.depth for r in rows), default=0)
        rows = [r for r in rows if r.depth == top]
    return [Rate(r.unit, r.invited, r.responded) for r in rows]


def open_cycles(*, session: Session) -> list[tuple[PulseCycle, PulseProgramme]]:
    return list(
        session.exec(
            select(PulseCycle, PulseProgramme)
            .join(PulseProgramme, PulseProgramme.id == PulseCycle.programme_id)
            .where(PulseCycle.status == CycleStatus.OPEN)
            .order_by(PulseCycle.closes_at)
        ).all()
    )


def pulse_panel(*, session: Session, user: User, now: datetime) -> dict:
    data: dict = {
        "surveys": [],
        "to_confirm": [],
        "team": None,
        "manager_rates": [],
        "actions": [],
        "plan_units": [],
        "hr_cycles": [],
        "no_plan": [],
    }
    data["surveys"] = surveys_to_answer(user, session=session)
    data["to_confirm"] = commitments_to_confirm(user, session=session)
    data["team"] = team_result(user, session=session)
    cycles = open_cycles(session=session)
    if user.has_role("manager"):
        roots = set(
            session.exec(select(ManagedUnit.unit_id).where(ManagedUnit.user_id == user.id)).all()
        )
        scope = managed_scope(session=session, user=user)
        for cycle, programme in cycles:
            rates = open_rates(cycle, roots & scope, now, session=session)
            if rates:
                data["manager_rates"].append((cycle, programme, rates[:SHOWN]))
        data["actions"] = plans.open_actions(scope, now.date(), session=session)
        data["plan_units"] = sorted(
            session.exec(select(OrgUnit).where(OrgUnit.id.in_(roots))).all(),
            key=lambda u: (u.path, u.code),
        )
    if user.has_role("hr", "admin"):
        data["hr_cycles"] = [
            (
                cycle,
                programme,
                open_rates(cycle, None, now, session=session)[:1],
                time_left(cycle.closes_at, now),
            )
            for cycle, programme in cycles
        ]
        data["no_plan"] = plans.units_without_plan(session=session, today=now.date())
    data["tasks"] = (
        len(data["surveys"])
        + bool(data["to_confirm"])
        + bool(data["actions"])
        + len(data["hr_cycles"])
        + bool(data["no_plan"])
    )
    return data
