"""Org tree and people: creating units, editing people, and the all-or-nothing CSV import."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import text as sa_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, func, select

from trainer import audit
from trainer.access import ROLES, Role, join_roles
from trainer.auth.models import User
from trainer.csvfile import CsvProblem, RowError, read_rows
from trainer.i18n import language_of
from trainer.mail import queue_mail
from trainer.org.models import (
    UNIT_KINDS,
    ImportStatus,
    ManagedUnit,
    OrgUnit,
    PeopleImport,
)
from trainer.util import utcnow

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


def _taken(session: Session, column, value: str, user: User) -> bool:
    """Return whether someone other than `user` has `value` in `column`."""
    holder = session.exec(select(User.id).where(column == value)).first()
    return holder is not None and holder != user.id


def save_person(
    *,
    session: Session,
    user: User,
    by: User | str,
    email: str | None,
    name: str,
    unit_id: int | None,
    roles: list[str],
    active: bool,
    managed_unit_ids: list[int],
    employee_number: str | None = None,
    known_to_directory: bool = False,
) -> None:
    """Create or update a person (`user` without an id is new) and audit what changed.

    Raise PersonError when the person was erased, has neither an email nor an employee number
    (unless `known_to_directory`: the SCIM directory's userName identifies them), either is
    taken, or someone without the Manager role is given units to manage.
    """
    if user.erased_at is not None:
        raise PersonError("email", _("This person was erased; their record cannot be changed."))
    email = (email or "").strip().lower() or None
    employee_number = (employee_number or "").strip() or None
    if email is None and employee_number is None and not known_to_directory:
        raise PersonError("email", _("Give an email, an employee number, or both."))
    if email and _taken(session, User.email, email, user):
        raise PersonError("email", _("Another person already has this email."))
    if employee_number and _taken(session, User.employee_number, employee_number, user):
        raise PersonError("employee_number", _("Another person already has this employee number."))
    before = _person_snapshot(session, user)
    identity = (user.email, user.employee_number, user.name)
    user.email = email
    user.employee_number = employee_number
    user.name = name.strip()
    user.unit_id = unit_id
    user.roles = join_roles(roles)
    set_active(user, active)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # taken by someone saved at the same moment
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
    if identity != (user.email, user.employee_number, user.name):
        changed["name_or_email"] = "changed"
    if changed:
        audit.record(by, "person.update", user, changed, session=session)


def split_list(value: str) -> list[str]:
    """Split a cell like 'employee|manager' or 'T1 T2' into items."""
    return [part for part in re.split(r"[|\s;]+", value.strip()) if part]


def normalise_email(value: str) -> str:
    return validate_email(value, check_deliverability=False).normalized.lower()


# Deactivation guard: the people import and SCIM provisioning both pass through it

DEACTIVATION_WINDOW = timedelta(hours=24)
DEACTIVATION_LOCK_KEY = 74_657_202  # a PostgreSQL advisory lock key (the scheduler's is ...201)


def set_active(user: User, active: bool, now: datetime | None = None) -> None:
    """Activate or deactivate a person, noting when they were deactivated (for the guard and
    the retention schedule)."""
    if user.active and not active:
        user.inactive_since = now or utcnow()
    elif active:
        user.inactive_since = None
    user.active = active


def deactivation_refused(
    deactivating: int, *, session: Session, now: datetime | None = None
) -> str | None:
    """Return why deactivating `deactivating` more people now is refused, or None if allowed.

    Refused when the people deactivated in the last 24 hours, with these, would be more than
    PEOPLE_IMPORT_MAX_DEACTIVATE_SHARE (20%) of the people who were active a day ago: a
    directory sync gone wrong, or a wrong file, must not lock out the company.
    """
    if deactivating <= 0:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # One deactivation check at a time until commit, so that parallel requests from a
        # directory cannot each pass on the same count (SQLite writers are serialised anyway).
        session.execute(sa_text("SELECT pg_advisory_xact_lock(:k)"), {"k": DEACTIVATION_LOCK_KEY})
    since = (now or utcnow()) - DEACTIVATION_WINDOW
    recent = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.active.is_(False), User.inactive_since >= since, User.erased_at.is_(None))
    ).one()
    active = session.exec(select(func.count()).select_from(User).where(User.active)).one()
    before = active + recent  # who was active a day ago, near enough
    total = recent + deactivating
    max_share = current_app.config["PEOPLE_IMPORT_MAX_DEACTIVATE_SHARE"]
    if total <= max_share * before:
        return None
    already = f" ({recent} of them already in the last 24 hours)" if recent else ""
    return (
        f"This would deactivate {total} of {before} active people{already}, more than "
        f"{max_share:.0%} within 24 hours. Nothing was changed."
    )


def alert_hr_of_refused_deactivation(
    *, session: Session, source: str, reason: str, now: datetime | None = None
) -> None:
    """Email every active HR person that a deactivation was refused, and audit it.

    One email per person, source and day, however often the sender retries.
    """
    now = now or utcnow()
    audit.record(
        source, "people.deactivation_refused", None, {"reason": reason[:200]}, session=session
    )
    hr_people = session.exec(
        select(User).where(User.active, User.roles.contains(Role.HR.value))
    ).all()
    for person in hr_people:
        if not person.has_role(Role.HR):
            continue
        with force_locale(language_of(person)):
            subject = _("trainer refused to deactivate people")
            body = _(
                "Hello %(name)s,\n\n%(source)s asked trainer to deactivate more people than "
                "the safety limit allows, so nothing was changed:\n\n%(reason)s\n\nIf this is "
                "expected (a reorganisation), deactivate them with the people import and its "
                "force option. If not, check the directory sync before it tries again.\n",
                name=person.name,
                source=source,
                reason=reason,
            )
        queue_mail(
            session=session,
            key=f"deactivation-refused:{source}:{now:%Y-%m-%d}:{person.id}"[:200],
            to=person.email,
            subject=subject,
            body=body,
        )


# People import

PEOPLE_COLUMNS = ["name", "unit_code", "roles"]
PEOPLE_OPTIONAL = ["email", "employee_number", "manager_of"]
PEOPLE_KEYS = ("email", "employee_number")  # a file has at least one; a row fills at least one
EMPLOYEE_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")


def _no_unit_with_code(code: str) -> str:
    return _("No unit has the code '%(code)s'.", code=code)


PROGRESS_EVERY = 500  # rows between progress updates of a background import
STORED_ERRORS = 1000  # problems kept for the progress page of a failed background import


@dataclass
class PersonRow:
    line: int
    email: str | None
    employee_number: str | None
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


def _read_people(data):
    return read_rows(data, PEOPLE_COLUMNS, PEOPLE_OPTIONAL, one_of=PEOPLE_KEYS)


def _check_keys(line: int, row: dict, seen: dict) -> tuple[str | None, str | None, list[RowError]]:
    """Check a row's email and employee number: valid, at least one, neither repeated."""
    errors = []
    email = number = None
    if row.get("email"):
        try:
            email = normalise_email(row["email"])
        except EmailNotValidError:
            errors.append(RowError(line, "email", f"'{row['email']}' is not a valid email."))
    if row.get("employee_number"):
        number = row["employee_number"]
        if not EMPLOYEE_NUMBER_PATTERN.match(number):
            errors.append(
                RowError(
                    line,
                    "employee_number",
                    _(
                        "'%(number)s' is not a valid employee number: use letters, digits, "
                        "'-', '_', '.' or '/', up to 64 characters.",
                        number=number[:80],
                    ),
                )
            )
            number = None
    if not row.get("email") and not row.get("employee_number"):
        errors.append(
            RowError(line, "/".join(PEOPLE_KEYS), _("Give an email, an employee number, or both."))
        )
    for column, value in (("email", email), ("employee_number", number)):
        if value is None:
            continue
        if value in seen[column]:
            message = (
                f"{value} already appears on line {seen[column][value]}."
                if column == "email"
                else _(
                    "Employee number %(number)s already appears on line %(line)s.",
                    number=value,
                    line=seen[column][value],
                )
            )
            errors.append(RowError(line, column, message))
        else:
            seen[column][value] = line
    return email, number, errors


def _check_people_rows(
    session: Session, data, progress: Callable[[int], None] | None = None
) -> tuple[list[PersonRow], list[RowError]]:
    units = {u.code: u for u in session.exec(select(OrgUnit)).all()}
    people, errors, seen = [], [], {"email": {}, "employee_number": {}}
    rows = _read_people(data)
    for checked, (line, row, problem) in enumerate(rows):
        if progress and checked and checked % PROGRESS_EVERY == 0:
            progress(checked)
        if problem:
            errors.append(problem)
            continue
        email, number, row_errors = _check_keys(line, row, seen)
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
            people.append(PersonRow(line, email, number, row["name"], unit, ordered, manages))
    if progress:
        progress(len(rows))
    return people, errors


def _match_people(
    people: list[PersonRow], users: list[User]
) -> tuple[list[User | None], list[RowError]]:
    """Find each row's person: by employee number, else by email; a row naming two people by
    its number and its email is an error."""
    by_email = {u.email: u for u in users if u.email}
    by_number = {u.employee_number: u for u in users if u.employee_number}
    matches, errors = [], []
    for person in people:
        numbered = by_number.get(person.employee_number) if person.employee_number else None
        emailed = by_email.get(person.email) if person.email else None
        if numbered is not None and emailed is not None and numbered is not emailed:
            errors.append(
                RowError(
                    person.line,
                    "employee_number",
                    _(
                        "Employee number %(number)s belongs to one person and %(email)s to "
                        "another. Correct the row, or change one of them on the person's page.",
                        number=person.employee_number,
                        email=person.email,
                    ),
                )
            )
        matches.append(numbered or emailed)
    return matches, errors


def import_people(
    data,
    *,
    session: Session,
    deactivate_missing: bool = False,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update people from CSV; on any error change nothing and report every row.

    A row is matched to a person by employee number, else by email. `progress(rows_checked)`
    is called now and then while rows are checked, before anything is written, so it may
    commit the session.
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

    users = session.exec(select(User)).all()
    matches, report.errors = _match_people(people, users)
    if report.errors:
        return report
    if deactivate_missing:
        listed = {user.id for user in matches if user is not None}
        missing = [
            u for u in users if u.active and u.id not in listed and not u.has_role(Role.ADMIN)
        ]
        refused = None if force else deactivation_refused(len(missing), session=session)
        if refused:
            report.errors.append(
                RowError(
                    1,
                    None,
                    _(
                        "%(refused)s Check the file, or confirm with the force option.",
                        refused=refused,
                    ),
                )
            )
            return report
        for user in missing:
            set_active(user, False)
            session.add(user)
        report.deactivated = len(missing)

    _save_people(session, people, matches, report)
    session.flush()
    return report


def _save_people(
    session: Session, people: list[PersonRow], matches: list[User | None], report: ImportReport
) -> None:
    """Write checked rows, with no query per row (a large file has tens of thousands).

    An empty email or employee number cell leaves the person's stored one as it is."""
    links: dict[int, dict[int, ManagedUnit]] = {}
    for link in session.exec(select(ManagedUnit)).all():
        links.setdefault(link.user_id, {})[link.unit_id] = link
    for person, user in zip(people, matches, strict=True):
        roles = join_roles(person.roles)
        wanted = {unit.id for unit in person.manages}
        if user is None:
            user = User(
                email=person.email,
                employee_number=person.employee_number,
                name=person.name,
                roles=roles,
                unit_id=person.unit.id,
            )
            session.add(user)
            if wanted:
                session.flush()  # the managed-unit links need the new id
            report.created += 1
        else:
            email = person.email or user.email
            number = person.employee_number or user.employee_number
            stored = (user.email, user.employee_number, user.name, user.roles, user.unit_id)
            changed = stored != (email, number, person.name, roles, person.unit.id)
            if not user.active:
                set_active(user, True)
                report.reactivated += 1
            elif changed or set(links.get(user.id, {})) != wanted:
                report.updated += 1
            else:
                report.unchanged += 1
            user.email, user.employee_number = email, number
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
    return len(_read_people(data))


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
