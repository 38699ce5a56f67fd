"""Org tree and people: creating units, editing people, and the all-or-nothing CSV import."""

import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, func, select

from trainer.auth.models import ROLES, User
from trainer.csvfile import CsvProblem, RowError, read_rows
from trainer.org.models import UNIT_KINDS, ManagedUnit, OrgUnit

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PARENT_KIND = {"company": None, "region": "company", "site": "region", "team": "site"}


class OrgError(ValueError):
    """A change to the org tree that would break it; the message is for the user."""


def unit_by_code(session: Session, code: str) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def create_unit(session: Session, *, code: str, name: str, kind: str,
                parent: OrgUnit | None) -> OrgUnit:
    """Add a unit under `parent`, checking its code and its place in the tree."""
    if not CODE_PATTERN.match(code):
        raise OrgError("Codes use letters, digits, '-', '_' or '.', up to 64 characters.")
    if kind not in UNIT_KINDS:
        raise OrgError(f"Kind must be one of: {', '.join(UNIT_KINDS)}.")
    if unit_by_code(session, code) is not None:
        raise OrgError(f"The code {code} is already used.")
    expected_parent = PARENT_KIND[kind]
    if (parent.kind if parent else None) != expected_parent:
        raise OrgError(f"A {kind} belongs under a {expected_parent}." if expected_parent
                       else "A company is the top of the tree and has no parent.")
    unit = OrgUnit(code=code, name=name.strip(), kind=kind,
                   parent_id=parent.id if parent else None,
                   path=f"{parent.path}{parent.id}/" if parent else "/")
    session.add(unit)
    session.flush()
    return unit


def ordered_tree(session: Session) -> list[tuple[OrgUnit, int, int]]:
    """Return (unit, depth, headcount) in tree order for display."""
    units = session.exec(select(OrgUnit)).all()
    counts = dict(session.exec(
        select(User.unit_id, func.count()).where(User.active).group_by(User.unit_id)
    ).all())
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


def ancestors(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    by_id = {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids))).all()}
    return [by_id[i] for i in ids if i in by_id]


def managed_codes(session: Session, user: User) -> list[str]:
    return list(session.exec(
        select(OrgUnit.code).join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id)
        .where(ManagedUnit.user_id == user.id).order_by(OrgUnit.code)
    ).all())


def set_managed_units(session: Session, user: User, units: list[OrgUnit]) -> None:
    wanted = {u.id for u in units}
    current = session.exec(select(ManagedUnit).where(ManagedUnit.user_id == user.id)).all()
    for link in current:
        if link.unit_id not in wanted:
            session.delete(link)
    for unit_id in wanted - {link.unit_id for link in current}:
        session.add(ManagedUnit(user_id=user.id, unit_id=unit_id))


def split_list(value: str) -> list[str]:
    """Split a cell like 'employee|manager' or 'T1 T2' into items."""
    return [part for part in re.split(r"[|\s;]+", value.strip()) if part]


def normalise_email(value: str) -> str:
    return validate_email(value, check_deliverability=False).normalized.lower()


# People import

PEOPLE_COLUMNS = ["email", "name", "unit_code", "roles"]
PEOPLE_OPTIONAL = ["manager_of"]


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


def _check_people_rows(session: Session, data) -> tuple[list[PersonRow], list[RowError]]:
    units = {u.code: u for u in session.exec(select(OrgUnit)).all()}
    people, errors, seen = [], [], {}
    for line, row, problem in read_rows(data, PEOPLE_COLUMNS, PEOPLE_OPTIONAL):
        if problem:
            errors.append(problem)
            continue
        row_errors = []
        try:
            email = normalise_email(row["email"])
        except EmailNotValidError:
            row_errors.append(RowError(line, "email", f"'{row['email']}' is not a valid email."))
            email = None
        if email and email in seen:
            row_errors.append(RowError(line, "email", f"{email} already appears on line "
                                                      f"{seen[email]}."))
        elif email:
            seen[email] = line
        if not row["name"]:
            row_errors.append(RowError(line, "name", "The name is empty."))
        elif len(row["name"]) > 200:
            row_errors.append(RowError(line, "name", "The name is longer than 200 characters."))
        unit = units.get(row["unit_code"])
        if unit is None:
            row_errors.append(RowError(line, "unit_code", f"No unit has the code "
                                                          f"'{row['unit_code']}'."))
        roles = split_list(row["roles"]) or ["employee"]
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            row_errors.append(RowError(line, "roles", f"Unknown role '{unknown[0]}'. Roles are: "
                                                      + ", ".join(ROLES) + "."))
        manages = []
        for code in split_list(row.get("manager_of", "")):
            if code not in units:
                row_errors.append(RowError(line, "manager_of", f"No unit has the code '{code}'."))
            else:
                manages.append(units[code])
        if manages and "manager" not in roles:
            row_errors.append(RowError(line, "manager_of", "manager_of is filled in but roles "
                                                           "do not include 'manager'."))
        if row_errors:
            errors.extend(row_errors)
        else:
            ordered = [r for r in ROLES if r in roles]
            people.append(PersonRow(line, email, row["name"], unit, ordered, manages))
    return people, errors


def import_people(session: Session, data, *, deactivate_missing: bool = False,
                  force: bool = False, max_share: float = 0.2) -> ImportReport:
    """Create or update people from CSV; on any error change nothing and report every row."""
    report = ImportReport()
    try:
        people, report.errors = _check_people_rows(session, data)
    except CsvProblem as problem:
        report.errors = problem.errors
        return report
    if report.errors:
        return report
    if not people:
        report.errors.append(RowError(2, None, "The file has a header but no people."))
        return report

    existing = {u.email: u for u in session.exec(select(User)).all()}
    if deactivate_missing:
        listed = {p.email for p in people}
        missing = [u for u in existing.values()
                   if u.active and u.email not in listed and not u.has_role("admin")]
        active = sum(1 for u in existing.values() if u.active)
        if missing and len(missing) > max_share * active and not force:
            report.errors.append(RowError(
                1, None, f"This would deactivate {len(missing)} of {active} active people, more "
                         f"than {max_share:.0%}. Nothing was changed. Check the file, or confirm "
                         "with the force option."))
            return report
        for user in missing:
            user.active = False
            session.add(user)
        report.deactivated = len(missing)

    for person in people:
        user = existing.get(person.email)
        roles = ",".join(person.roles)
        if user is None:
            user = User(email=person.email, name=person.name, roles=roles,
                        unit_id=person.unit.id)
            session.add(user)
            session.flush()
            report.created += 1
        else:
            changed = (user.name, user.roles, user.unit_id) != (person.name, roles, person.unit.id)
            if not user.active:
                user.active = True
                report.reactivated += 1
            elif changed or set(managed_codes(session, user)) != {u.code for u in person.manages}:
                report.updated += 1
            else:
                report.unchanged += 1
            user.name, user.roles, user.unit_id = person.name, roles, person.unit.id
            session.add(user)
        set_managed_units(session, user, person.manages)
    session.flush()
    return report
