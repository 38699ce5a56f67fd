"""The home page: each feature's panel data, and core's own panel (a manager's teams at a
glance from the cached insights overview; the system's health for admins)."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from trainer import mail, system
from trainer.access import Role
from trainer.auth.models import User
from trainer.nav import home_panels
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.scheduler import JobRun

TEAMS_SHOWN = 3
DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Panel:
    template: str
    data: dict | None  # None: a panel without data, shown whole after the others

    @property
    def tasks(self) -> int:
        return int((self.data or {}).get("tasks", 0))


def panels_for(user: User, now: datetime, *, session: Session) -> list[Panel]:
    """Return the home panels this person sees, each with its data."""
    return [
        Panel(p.template, p.data(session=session, user=user, now=now) if p.data else None)
        for p in home_panels(user)
    ]


def managed_roots(user: User, *, session: Session) -> list[OrgUnit]:
    """Return the units a person manages directly, widest first."""
    units = session.exec(
        select(OrgUnit)
        .join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id)
        .where(ManagedUnit.user_id == user.id, OrgUnit.active)
    ).all()
    return sorted(units, key=lambda u: (u.path.count("/"), u.code))


def team_figures(user: User, *, session: Session) -> tuple[list[dict], int]:
    """Return morale, the customer measure and training completion, now and their change, for
    the first few units the person manages (from the insights rollups, without running the
    analysis), and how many more units they manage."""
    from trainer.insights import reports, store

    roots = managed_roots(user, session=session)
    metric = store.default_metric(session=session)
    if metric is None:
        return [], 0
    teams = []
    for unit in roots[:TEAMS_SHOWN]:
        figures = reports.unit_figures(session=session, metric=metric, unit=unit)
        teams.append(
            {
                "unit": unit,
                "metric_label": figures["metric_label"],
                "morale": figures["engagement"],
                "measure": figures["measure"],
                "completion": figures["completion"],
            }
        )
    return teams, max(0, len(roots) - TEAMS_SHOWN)


def system_health(*, session: Session) -> dict:
    """Return what an admin checks first: scheduler, jobs, outbox and database."""
    report = system.status_report(session=session)
    heartbeat = session.execute(sa.select(sa.func.max(JobRun.started_at))).scalar()
    failed = [(job, run) for job, run in report.job_runs if run is not None and run.error]
    never = [job for job, run in report.job_runs if run is None]
    dialect = session.get_bind().dialect.name
    return {
        "report": report,
        "heartbeat": heartbeat,
        "failed_jobs": failed,
        "never_run": never,
        "outbox": mail.outbox_summary(session=session),
        "database": DATABASE_NAMES.get(dialect, dialect),
    }


def core_panel(*, session: Session, user: User, now: datetime) -> dict:
    data: dict = {"tasks": 0, "teams": [], "more_teams": 0, "health": None}
    if user.has_role(Role.MANAGER):
        data["teams"], data["more_teams"] = team_figures(user, session=session)
    if user.has_role(Role.ADMIN):
        health = system_health(session=session)
        data["health"] = health
        data["tasks"] = (
            len(health["failed_jobs"])
            + (not health["report"].scheduler_ok)
            + (1 if health["outbox"]["failed"] else 0)
        )
    return data
