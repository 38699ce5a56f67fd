"""Org tree and people: creating units, editing people, and the all-or-nothing CSV import."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, func, select

from trainer import audit
from trainer.access import ROLES, Role, join_roles
from trainer.auth.models import User
from trainer.csvfile import CsvProblem, RowError, read_rows
from trainer.i18n import language_of
from trainer.org.models import (
    UNIT_KINDS,
    ImportStatus,
    ManagedUnit,
    OrgUnit,
    PeopleImport,
)

log = logging.getLogger(__name__)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PARENT_KIND = {"company": None, "region": "company", "site": "region", "team": "site"}
BELONGS_UNDER = {
    "region": _l("A region belongs under a company."),
    "site": _l("A site belongs under a region."),
    "team": _l("A team belongs under a site."),
}


class OrgError(ValueError):
    """A change to the org tree that would break it; the message is for the user."""


class PersonError(ValueError):
    """A person's record that cannot be saved as asked; `field` is the form field to blame."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def unit_by_code(code: str, *, session: Session) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def create_unit(
    *, session: Session, code: str, name: str, kind: str, parent: OrgUnit | None
) -> OrgUnit:
    """Add a unit under `parent`, checking its code and its place in the tree."""
    if not CODE_PATTERN.match(code):
        raise OrgError(_("Codes use letters, digits, '-', '_' or '.', up to 64 characters."))
    if kind not in UNIT_KINDS:
        raise OrgError(_("Kind must be one of: %(kinds)s.", kinds=", ".join(UNIT_KINDS)))
    if unit_by_code(code, session=session) is not None:
        raise OrgError(_("The code %(code)s is already used.", code=code))
    expected_parent = PARENT_KIND[kind]
    if (parent.kind if parent else None) != expected_parent:
        raise OrgError(
            str(BELONGS_UNDER[kind])
            if expected_parent
            else _("A company is the top of the tree and has no parent.")
        )
    unit = OrgUnit(
        code=code,
        name=name.strip(),
        kind=kind,
        parent_id=parent.id if parent else None,
        path=f"{parent.path}{parent.id}/" if parent else "/",
    )
    session.add(unit)
    session.flush()
    return unit


def ordered_tree(*, session: Session) -> list[tuple[OrgUnit, int, int]]:
    """Return (unit, depth, headcount) in tree order for display."""
    units = session.exec(select(OrgUnit)).all()
    counts = dict(
        session.exec(
            select(User.unit_id, func.count()).where(User.active).group_by(User.unit_id)
        ).all()
    )
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    out = []

    def walk(parent_id, depth):
        for unit in sorted(children.get(parent_id, []), key=lambda u: u.name):
            out.append((unit, depth, counts.get(unit.id, 0)))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return out


def ancestors(unit: OrgUnit, *, session: Session) -> list[OrgUnit]:
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    by_id = {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids))).all()}
    return [by_id[i] for i in ids if i in by_id]


def managed_codes(user: User, *, session: Session) -> list[str]:
    return list(
        session.exec(
            select(OrgUnit.code)
            .join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id)
            .where(ManagedUnit.user_id == user.id)
            .order_by(OrgUnit.code)
        ).all()
    )


def set_managed_units(user: User, units: list[OrgUnit], *, session: Session) -> None:
    wanted = {u.id for u in units}
    current = session.exec(select(ManagedUnit).where(ManagedUnit.user_id == user.id)).all()
    for link in current:
        if link.unit_id not in wanted:
            session.delete(link)
    for unit_id in wanted - {link.unit_id for link in current}:
        session.add(ManagedUnit(user_id=user.id, unit_id=unit_id))


def _person_snapshot(session: Session, user: User) -> dict:
    """What the audit log compares before and after a person is saved (no names or emails)."""
    if user.id is None:
        return {}
    unit = session.get(OrgUnit, user.unit_id) if user.unit_id else None
    return {
        "roles": sorted(user.role_set),
        "unit": unit and unit.code,
        "active": user.active,
        "managed_units": managed_codes(user, session=session),
    }


def save_person(
    *,
    session: Session,
    user: User,
    by: User,
    email: str,
    name: str,
    unit_id: int | None,
    roles: list[str],
    active: bool,
    managed_unit_ids: list[int],
) -> None:
    """Create or update a person (`user` without an id is new) and audit what changed.

    Raise PersonError when the person was erased, the email is taken, or someone without the
    Manager role is given units to manage.
    """
    if user.erased_at is not None:
        raise PersonError("email", _("This person was erased; their record cannot be changed."))
    before = _person_snapshot(session, user)
    identity = (user.email, user.name)
    user.email = email.strip().lower()
    user.name = name.strip()
    user.unit_id = unit_id
    user.roles = join_roles(roles)
    user.active = active
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise PersonError("email", _("Another person already has this email.")) from None
    managed = [session.get(OrgUnit, i) for i in managed_unit_ids]
    if managed and Role.MANAGER not in roles:
        raise PersonError("manager_of", _("Give the Manager role to someone who manages units."))
    set_managed_units(user, managed, session=session)
    session.flush()
    after = _person_snapshot(session, user)
    if not before:
        audit.record(by, "person.create", user, after, session=session)
        return
    changed = {
        key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]
    }
    if identity != (user.email, user.name):
        changed["name_or_email"] = "changed"
    if changed:
        audit.record(by, "person.update", user, changed, session=session)


def split_list(value: str) -> list[str]:
    """Split a cell like 'employee|manager' or 'T1 T2' into items."""
    return [part for part in re.split(r"[|\s;]+", value.strip()) if part]


def normalise_email(value: str) -> str:
    return validate_email(value, check_deliverability=False).normalized.lower()


# People import

PEOPLE_COLUMNS = ["email", "name", "unit_code", "roles"]
PEOPLE_OPTIONAL = ["manager_of"]


def _no_unit_with_code(code: str) -> str:
    return _("No unit has the code '%(code)s'.", code=code)


PROGRESS_EVERY = 500  # rows between progress updates of a background import
STORED_ERRORS = 1000  # problems kept for the progress page of a failed background import


@dataclass
class PersonRow:
    line: int
    email: str
    name: str
    unit: OrgUnit
    roles: list[str]
    manages: list[OrgUnit]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "reactivated": self.reactivated,
            "deactivated": self.deactivated,
        }


def _check_people_rows(
    session: Session, data, progress: Callable[[int], None] | None = None
) -> tuple[list[PersonRow], list[RowError]]:
    units = {u.code: u for u in session.exec(select(OrgUnit)).all()}
    people, errors, seen = [], [], {}
    rows = read_rows(data, PEOPLE_COLUMNS, PEOPLE_OPTIONAL)
    for checked, (line, row, problem) in enumerate(rows):
        if progress and checked and checked % PROGRESS_EVERY == 0:
            progress(checked)
        if problem:
            errors.append(problem)
            continue
        row_errors = []
        try:
            email = normalise_email(row["email"])
        except EmailNotValidError:
            row_errors.append(
                RowError(line, "email", _("'%(email)s' is not a valid email.", email=row["email"]))
            )
            email = None
        if email and email in seen:
            row_errors.append(
                RowError(
                    line,
                    "email",
                    _("%(email)s already appears on line %(line)s.", email=email, line=seen[email]),
                )
            )
        elif email:
            seen[email] = line
        if not row["name"]:
            row_errors.append(RowError(line, "name", _("The name is empty.")))
        elif len(row["name"]) > 200:
            row_errors.append(RowError(line, "name", _("The name is longer than 200 characters.")))
        unit = units.get(row["unit_code"])
        if unit is None:
            row_errors.append(RowError(line, "unit_code", _no_unit_with_code(row["unit_code"])))
        roles = split_list(row["roles"]) or [Role.EMPLOYEE]
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            row_errors.append(
                RowError(
                    line,
                    "roles",
                    _(
                        "Unknown role '%(role)s'. Roles are: %(roles)s.",
                        role=unknown[0],
                        roles=", ".join(Role),
                    ),
                )
            )
        manages = []
        for code in split_list(row.get("manager_of", "")):
            if code not in units:
                row_errors.append(RowError(line, "manager_of", _no_unit_with_code(code)))
            else:
                manages.append(units[code])
        if manages and Role.MANAGER not in roles:
            row_errors.append(
                RowError(
                    line,
                    "manager_of",
                    _("manager_of is filled in but roles do not include 'manager'."),
                )
            )
        if row_errors:
            errors.extend(row_errors)
        else:
            ordered = [r for r in ROLES if r in roles]
            people.append(PersonRow(line, email, row["name"], unit, ordered, manages))
    if progress:
        progress(len(rows))
    return people, errors


def import_people(
    data,
    *,
    session: Session,
    deactivate_missing: bool = False,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update people from CSV; on any error change nothing and report every row.

    `progress(rows_checked)` is called now and then while rows are checked, before anything
    is written, so it may commit the session.
    """
    report = ImportReport()
    try:
        people, report.errors = _check_people_rows(session, data, progress)
    except CsvProblem as problem:
        report.errors = problem.errors
        return report
    if report.errors:
        return report
    if not people:
        report.errors.append(RowError(2, None, _("The file has a header but no people.")))
        return report

    existing = {u.email: u for u in session.exec(select(User)).all()}
    if deactivate_missing:
        listed = {p.email for p in people}
        missing = [
            u
            for u in existing.values()
            if u.active and u.email not in listed and not u.has_role(Role.ADMIN)
        ]
        active = sum(1 for u in existing.values() if u.active)
        max_share = current_app.config["PEOPLE_IMPORT_MAX_DEACTIVATE_SHARE"]
        if missing and len(missing) > max_share * active and not force:
            report.errors.append(
                RowError(
                    1,
                    None,
                    _(
                        "This would deactivate %(missing)s of %(active)s active people, more "
                        "than %(share)s. Nothing was changed. Check the file, or confirm with "
                        "the force option.",
                        missing=len(missing),
                        active=active,
                        share=format(max_share, ".0%"),
                    ),
                )
            )
            return report
        for user in missing:
            user.active = False
            session.add(user)
        report.deactivated = len(missing)

    _save_people(session, people, existing, report)
    session.flush()
    return report


def _save_people(
    session: Session, people: list[PersonRow], existing: dict[str, User], report: ImportReport
) -> None:
    """Write checked rows, with no query per row (a large file has tens of thousands)."""
    links: dict[int, dict[int, ManagedUnit]] = {}
    for link in session.exec(select(ManagedUnit)).all():
        links.setdefault(link.user_id, {})[link.unit_id] = link
    for person in people:
        user = existing.get(person.email)
        roles = join_roles(person.roles)
        wanted = {unit.id for unit in person.manages}
        if user is None:
            user = User(email=person.email, name=person.name, roles=roles, unit_id=person.unit.id)
            session.add(user)
            if wanted:
                session.flush()  # the managed-unit links need the new id
            report.created += 1
        else:
            changed = (user.name, user.roles, user.unit_id) != (person.name, roles, person.unit.id)
            if not user.active:
                user.active = True
                report.reactivated += 1
            elif changed or set(links.get(user.id, {})) != wanted:
                report.updated += 1
            else:
                report.unchanged += 1
            user.name, user.roles, user.unit_id = person.name, roles, person.unit.id
            session.add(user)
        current = links.get(user.id, {}) if user.id is not None else {}
        for unit_id, link in current.items():
            if unit_id not in wanted:
                session.delete(link)
        for unit_id in wanted - set(current):
            session.add(ManagedUnit(user_id=user.id, unit_id=unit_id))


# Large files: checked and imported by the scheduler, with a progress page


def count_people_rows(data) -> int:
    """Return the number of data rows in a people file; raise CsvProblem for a bad header."""
    return len(read_rows(data, PEOPLE_COLUMNS, PEOPLE_OPTIONAL))


def too_many_people(count: int, limit: int) -> RowError:
    return RowError(
        1,
        None,
        _(
            "The file has %(count)s rows; the limit for one upload is %(limit)s. Split it "
            "into files of up to %(limit)s people, or ask an administrator to run the "
            "import command on the server, which has no limit.",
            count=format(count, ","),
            limit=format(limit, ","),
        ),
    )


def upload_people(
    data: bytes,
    *,
    session: Session,
    user: User,
    filename: str,
    deactivate_missing: bool,
    force: bool,
    config,
) -> ImportReport | PeopleImport:
    """Import an uploaded people file now, or queue it for the scheduler if it is large.

    Returns the report of an import done now (or refused), or the queued PeopleImport.
    """
    try:
        rows = count_people_rows(data)
    except CsvProblem as problem:
        return ImportReport(errors=problem.errors)
    if rows > config["PEOPLE_IMPORT_MAX_ROWS"]:
        return ImportReport(errors=[too_many_people(rows, config["PEOPLE_IMPORT_MAX_ROWS"])])
    if rows > config["PEOPLE_IMPORT_BACKGROUND_ROWS"]:
        return queue_people_import(
            session=session,
            user=user,
            filename=filename,
            data=data,
            total_rows=rows,
            deactivate_missing=deactivate_missing,
            force=force,
        )
    return import_people(data, session=session, deactivate_missing=deactivate_missing, force=force)


def recent_imports(user: User, limit: int = 5, *, session: Session) -> list[PeopleImport]:
    """Return the latest background imports this person uploaded, newest first."""
    return list(
        session.exec(
            select(PeopleImport)
            .options(defer(PeopleImport.data))
            .where(PeopleImport.created_by == user.id)
            .order_by(PeopleImport.id.desc())
            .limit(limit)
        ).all()
    )


def people_import(import_id: int, *, session: Session) -> PeopleImport | None:
    """Return a background import without loading its file."""
    return session.get(PeopleImport, import_id, options=[defer(PeopleImport.data)])


def queue_people_import(
    *,
    session: Session,
    user: User,
    filename: str,
    data: bytes,
    total_rows: int,
    deactivate_missing: bool = False,
    force: bool = False,
) -> PeopleImport:
    """Store a large people file for the scheduler to import."""
    job = PeopleImport(
        created_by=user.id,
        filename=(filename or "people.csv")[:200],
        data=data,
        total_rows=total_rows,
        deactivate_missing=deactivate_missing,
        force=force,
    )
    session.add(job)
    session.flush()
    return job


def run_people_imports(*, session: Session, now: datetime) -> None:
    """Scheduler job: run every waiting people import, oldest first, each all or nothing.

    An import found half-way ("checking") was cut off by a restart, and runs again.
    """
    unfinished = (ImportStatus.QUEUED, ImportStatus.CHECKING)
    waiting = session.exec(
        select(PeopleImport.id).where(PeopleImport.status.in_(unfinished)).order_by(PeopleImport.id)
    ).all()
    for job_id in waiting:
        job = session.get(PeopleImport, job_id)
        # Its problems are listed in the language of the person who uploaded it.
        with force_locale(language_of(session.get(User, job.created_by))):
            _run_people_import(session, job, now)


def _run_people_import(session: Session, job: PeopleImport, now: datetime) -> None:
    job.status, job.rows_checked = ImportStatus.CHECKING, 0
    session.add(job)
    session.commit()

    def progress(rows_checked: int) -> None:  # runs before anything is written
        job.rows_checked = rows_checked
        session.add(job)
        session.commit()

    try:
        report = import_people(
            job.data,
            session=session,
            deactivate_missing=job.deactivate_missing,
            force=job.force,
            progress=progress,
        )
    except Exception:
        log.exception("People import %s stopped; nothing was changed.", job.id)
        report = ImportReport(
            errors=[
                RowError(
                    1,
                    None,
                    _(
                        "The import stopped because of an unexpected error. Nothing was "
                        "changed. Try again later."
                    ),
                )
            ]
        )
    if not report.ok:
        session.rollback()
        job.errors = [[e.line, e.column, e.message] for e in report.errors[:STORED_ERRORS]]
        job.error_count = len(report.errors)
    job.status = ImportStatus.DONE if report.ok else ImportStatus.FAILED
    job.summary = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "reactivated": report.reactivated,
        "deactivated": report.deactivated,
    }
    job.data, job.finished_at = b"", now
    session.add(job)
    session.commit()  # the people and the finished import, in one transaction
