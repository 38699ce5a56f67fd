"""SCIM provisioning: people as SCIM Users; org units as read-only Groups, beside the groups
the directory pushes (kept with their members, they give no rights in trainer).

A SCIM write goes through the people services (trainer.org), so the rules of the People page
and the people import hold here too: `save_person` checks and audits the change, and a
deactivation passes the same 20%-in-24-hours guard as the import.
"""

import hashlib
import json
import uuid
from datetime import datetime

from email_validator import EmailNotValidError
from scim2_models import (
    Context,
    GroupMember,
    GroupMembership,
    InvalidFilterException,
    InvalidValueException,
    Meta,
    MutabilityException,
    NotFoundException,
    PatchOp,
    SCIMException,
    ScimFilter,
    UniquenessException,
)
from scim2_models.path.expressions import CompareOperator, Comparison, LogicalExpr, LogicalOperator
from sqlalchemy import Integer, func, null
from sqlalchemy import delete as sa_delete
from sqlmodel import Session, col, select

from trainer import audit
from trainer.access import Role
from trainer.auth.models import User
from trainer.org import services as org
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.scim.models import ScimGroup, ScimGroupMember, ScimUser
from trainer.scim.schema import (
    POLICY,
    PersonEmail,
    PersonEnterprise,
    PersonManager,
    PersonName,
)
from trainer.scim.schema import Group as GroupResource
from trainer.scim.schema import User as UserResource
from trainer.util import utcnow


class DeactivationRefused(SCIMException):
    """The 20%-in-24-hours guard refused a deactivation. HR's alert is in the session: the
    caller commits it, though the change itself is refused."""

    status = 400
    scim_type = None


def _check_may_deactivate(user: User, *, session: Session, actor: str, now=None) -> None:
    """Refuse deactivating an admin, or more people than the guard allows (HR alerted)."""
    if user.has_role(Role.ADMIN):
        raise InvalidValueException(
            detail="trainer's admins are not deactivated through SCIM (the people import spares "
            "them too), so a directory sync cannot lock everyone out. Deactivate them in trainer."
        )
    refused = org.deactivation_refused(1, session=session, now=now)
    if refused:
        org.alert_hr_of_refused_deactivation(session=session, source=actor, reason=refused, now=now)
        raise DeactivationRefused(
            detail=f"{refused} HR has been told. Deactivate them in trainer's people import "
            "(with its force option) if this is intended."
        )


# Reading


def _visible_people():
    """People SCIM lists: not erased, and not deleted through SCIM."""
    return (
        select(User, ScimUser)
        .join(ScimUser, col(ScimUser.user_id) == User.id, isouter=True)
        .where(col(User.erased_at).is_(None), col(ScimUser.removed_at).is_(None))
    )


def find_person(scim_id: str, *, session: Session) -> tuple[User, ScimUser | None]:
    """Return (person, link) for a SCIM id; raise NotFoundException if SCIM can't see them."""
    if not scim_id.isdigit() or len(scim_id) > 12:
        raise NotFoundException(detail=f"No user has the id '{scim_id}'.")
    found = session.exec(_visible_people().where(User.id == int(scim_id))).first()
    if found is None:
        raise NotFoundException(detail=f"No user has the id '{scim_id}'.")
    return found


def user_resource(user: User, link: ScimUser | None, *, session: Session, base_url: str):
    """Return the SCIM User for a person."""
    unit = session.get(OrgUnit, user.unit_id) if user.unit_id else None
    resource = UserResource(
        id=str(user.id),
        external_id=link.external_id if link else None,
        user_name=link.user_name_shown if link else user.email,
        name=_name_parts(user, link),
        active=user.active,
        emails=[PersonEmail(value=user.email, type=link.email_type if link else None)],
        groups=_memberships(user, unit, session=session, base_url=base_url),
    )
    manager = None
    if link and link.manager_id:
        manager = PersonManager(
            value=str(link.manager_id), ref=f"{base_url}/Users/{link.manager_id}"
        )
    enterprise = PersonEnterprise(
        employee_number=user.employee_number, department=unit and unit.code, manager=manager
    )
    if any(value is not None for value in (enterprise.employee_number, unit, manager)):
        resource[PersonEnterprise] = enterprise
    changed = (link.updated_at if link else None) or user.created_at
    resource.meta = Meta(
        resource_type="User",
        created=user.created_at,
        last_modified=max(changed, user.created_at),
        location=f"{base_url}/Users/{user.id}",
        version=version_of(resource),
    )
    return resource


def _memberships(user: User, unit: OrgUnit | None, *, session: Session, base_url: str):
    """The person's org unit, then the directory groups they are in."""
    groups = session.exec(
        select(ScimGroup)
        .join(ScimGroupMember, col(ScimGroupMember.group_id) == ScimGroup.id)
        .where(ScimGroupMember.user_id == user.id)
        .order_by(ScimGroup.id)
    ).all()
    found = [(str(unit.id), unit.name)] if unit else []
    found += [(group.scim_id, group.display_name) for group in groups]
    return [
        GroupMembership(value=value, display=name, ref=f"{base_url}/Groups/{value}")
        for value, name in found
    ] or None


def _name_parts(user: User, link: ScimUser | None) -> PersonName | None:
    """The name parts the directory sent; `formatted` is the name trainer shows. A person never
    provisioned has trainer's name as `formatted`."""
    if link is None:
        return PersonName(formatted=user.name)
    if not (link.formatted_name or link.given_name or link.family_name):
        return None
    return PersonName(
        formatted=user.name if link.formatted_name else None,
        given_name=link.given_name,
        family_name=link.family_name,
    )


def version_of(resource) -> str:
    """A weak ETag of what the resource says (meta left out)."""
    body = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, exclude={"meta"})
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f'W/"{digest[:20]}"'


# Filters: the forms directories send (`userName eq "..."`, `externalId eq "..."`), joined by
# `and`. Anything else is refused with invalidFilter rather than answered wrongly.

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"


def _user_columns():
    return {
        "username": func.lower(func.coalesce(ScimUser.user_name, User.email)),
        "externalid": ScimUser.external_id,
        "id": User.id,
        "emails": User.email,
        "emails.value": User.email,
        "employeenumber": User.employee_number,
        f"{ENTERPRISE}:employeenumber": User.employee_number,
        "active": User.active,
    }


def _group_columns():
    return {"displayname": OrgUnit.name, "externalid": OrgUnit.code, "id": OrgUnit.id}


def _conditions(node, columns: dict, text: str) -> list:
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        return [c for term in node.terms for c in _conditions(term, columns, text)]
    if isinstance(node, Comparison) and node.op == CompareOperator.eq:
        path = node.attr_path
        name = f"{path.uri + ':' if path.uri else ''}{path.attr}"
        name = (name + (f".{path.sub_attr}" if path.sub_attr else "")).lower()
        column = columns.get(name)
        if column is not None:
            value = node.value
            if name == "id" and isinstance(column.type, Integer):
                value = int(value) if str(value).isdigit() and len(str(value)) < 12 else -1
            elif name in ("username", "emails", "emails.value") and isinstance(value, str):
                value = value.strip().lower()
            return [column == value]
    raise InvalidFilterException(
        detail=f"trainer cannot use the filter '{text}'. It understands 'eq' on "
        + ", ".join(sorted({k.split(":")[-1] for k in columns}))
        + ", joined by 'and'."
    )


def _directory_group_columns():
    return {
        "displayname": ScimGroup.display_name,
        "externalid": ScimGroup.external_id,
        "id": ScimGroup.scim_id,
    }


def _parse_filter(text: str):
    try:
        return ScimFilter(text).ast
    except InvalidFilterException:
        raise
    except ValueError as exc:
        raise InvalidFilterException(detail=f"The filter '{text}' is not valid: {exc}") from None


def filter_conditions(text: str | None) -> list:
    """Return SQL conditions on people for a SCIM filter; raise InvalidFilterException if
    unsupported."""
    return _conditions(_parse_filter(text), _user_columns(), text) if text else []


def group_filter_conditions(text: str | None) -> tuple[list, list]:
    """Return SQL conditions for a SCIM filter on Groups: (on org units, on directory groups)."""
    if not text:
        return [], []
    ast = _parse_filter(text)
    return _conditions(ast, _group_columns(), text), _conditions(
        ast, _directory_group_columns(), text
    )


def list_people(
    *, session: Session, conditions: list, start: int, count: int
) -> tuple[int, list[tuple[User, ScimUser | None]]]:
    query = _visible_people().where(*conditions)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(User.id).offset(start - 1).limit(count)).all()
    return total, list(rows)


def unit_codes(*, session: Session) -> list[str]:
    return list(session.exec(select(OrgUnit.code).where(OrgUnit.active).order_by(OrgUnit.code)))


def find_group(scim_id: str, *, session: Session) -> OrgUnit | ScimGroup:
    """Return the org unit (a numeric id) or directory group with this SCIM id."""
    if scim_id.isdigit():
        unit = session.get(OrgUnit, int(scim_id)) if len(scim_id) < 12 else None
        if unit is not None and unit.active:
            return unit
    else:
        group = session.exec(select(ScimGroup).where(ScimGroup.scim_id == scim_id)).first()
        if group is not None:
            return group
    raise NotFoundException(detail=f"No group has the id '{scim_id}'.")


def find_directory_group(scim_id: str, *, session: Session) -> ScimGroup:
    """Return the directory group with this SCIM id; refuse, clearly, to change an org unit."""
    found = find_group(scim_id, session=session)
    if isinstance(found, OrgUnit):
        raise MutabilityException(
            detail=f"Group '{scim_id}' is trainer's org unit '{found.name}' ({found.code}). "
            "Org units are built in trainer and are read-only here; set a person's unit with "
            "the enterprise 'department' attribute (a unit code)."
        )
    return found


def list_groups(
    *, session: Session, conditions: tuple[list, list], start: int, count: int
) -> tuple[int, list[OrgUnit | ScimGroup]]:
    """Org units first (by id), then directory groups (by id), one page of them."""
    units = select(OrgUnit).where(OrgUnit.active, *conditions[0])
    groups = select(ScimGroup).where(*conditions[1])
    totals = [
        session.exec(select(func.count()).select_from(query.subquery())).one()
        for query in (units, groups)
    ]
    skip = start - 1
    found: list[OrgUnit | ScimGroup] = list(
        session.exec(units.order_by(OrgUnit.id).offset(skip).limit(count))
    )
    skip = max(0, skip - totals[0])
    if len(found) < count:
        found += session.exec(
            groups.order_by(ScimGroup.id).offset(skip).limit(count - len(found))
        ).all()
    return sum(totals), found


def _member(user: User, base_url: str, display: str | None = None) -> GroupMember:
    """A member as listed: the name the directory sent for them, else their name in trainer."""
    return GroupMember(
        value=str(user.id),
        display=display or user.name,
        ref=f"{base_url}/Users/{user.id}",
        type="User",
    )


def group_resource(
    group: OrgUnit | ScimGroup, *, session: Session, base_url: str, members: bool = True
):
    """Return the SCIM Group for an org unit (its name, code and people) or a directory group."""
    if isinstance(group, OrgUnit):
        scim_id, external_id, name = str(group.id), group.code, group.name
        query = _visible_people().add_columns(null()).where(User.unit_id == group.id)
        meta = Meta(resource_type="Group")
    else:
        scim_id, external_id, name = group.scim_id, group.external_id, group.display_name
        query = (
            _visible_people()
            .add_columns(ScimGroupMember.display)
            .join(ScimGroupMember, col(ScimGroupMember.user_id) == User.id)
            .where(ScimGroupMember.group_id == group.id)
        )
        meta = Meta(resource_type="Group", created=group.created_at)
        meta.last_modified = group.updated_at
    people = session.exec(query.order_by(User.id)).all() if members else []
    resource = GroupResource(
        id=scim_id,
        external_id=external_id,
        display_name=name,
        members=[_member(user, base_url, shown) for user, _link, shown in people] or None,
    )
    meta.location = f"{base_url}/Groups/{scim_id}"
    resource.meta = meta
    resource.meta.version = version_of(resource)
    return resource


# Writing


def _email_of(resource) -> str | None:
    """The work email, else the first, else a userName that is an email; None when the
    directory sends none (the person is then known by their userName, and their employee
    number if sent, and signs in with a printed card)."""
    emails = [e for e in resource.emails or [] if e.value]
    work = [e for e in emails if (e.type or "").lower() == "work"]
    if emails:
        try:
            return org.normalise_email((work or emails)[0].value)
        except EmailNotValidError:
            raise InvalidValueException(detail="emails: not a valid email address.") from None
    try:
        return org.normalise_email(resource.user_name or "")
    except EmailNotValidError:
        return None


def _email_type(resource, email: str) -> str | None:
    """The type the directory gave the email trainer keeps ("work"), to send it back."""
    for entry in resource.emails or []:
        if entry.value and entry.value.lower() == email and entry.type:
            return entry.type[:64]
    return None


def _name_of(resource, previous, user: User | None) -> str:
    """The name trainer shows: name.formatted, else given and family name; on a change, the
    part that changed wins. Without any, the current name stays (a new person gets the
    userName)."""
    name = resource.name or PersonName()
    before = (previous.name if previous else None) or PersonName()
    parts = " ".join(p for p in (name.given_name, name.family_name) if p)
    if name.formatted and name.formatted != before.formatted:
        chosen = name.formatted
    elif parts and (name.given_name, name.family_name) != (before.given_name, before.family_name):
        chosen = parts
    else:
        chosen = name.formatted or parts or (user.name if user else resource.user_name)
    chosen = (chosen or "").strip()
    if len(chosen) > 200:
        raise InvalidValueException(detail="The name is longer than 200 characters.")
    return chosen


def _unit_of(enterprise, *, session: Session) -> OrgUnit | None:
    code = (enterprise.department or "").strip() if enterprise else ""
    if not code:
        return None
    unit = org.unit_by_code(code, session=session)
    if unit is None or not unit.active:
        raise InvalidValueException(
            detail=f"No org unit has the code '{code}'. The enterprise 'department' must be a "
            "unit code from trainer; /scim/v2/Schemas lists them as its canonicalValues."
        )
    return unit


def _manager_of(enterprise, user: User | None, *, session: Session) -> int | None:
    manager = enterprise.manager if enterprise else None
    if manager is None or not manager.value:
        return None
    try:
        person, _link = find_person(manager.value, session=session)
    except NotFoundException:
        raise InvalidValueException(
            detail=f"The manager '{manager.value}' is not a user here; send the manager's SCIM id."
        ) from None
    if user is not None and person.id == user.id:
        raise InvalidValueException(detail="A person cannot be their own manager.")
    return person.id


def _check_unique(
    session: Session, user: User | None, user_name: str, email: str, employee_number
) -> None:
    """Raise UniquenessException (409) if another person has this userName, email or employee
    number (checked here, so what save_person refuses is always a 400)."""
    key = user_name.lower()
    others = session.exec(
        _visible_people().where(func.lower(func.coalesce(ScimUser.user_name, User.email)) == key)
    ).all()
    if any(person.id != (user.id if user else None) for person, _link in others):
        raise UniquenessException(detail=f"Another user already has the userName '{user_name}'.")
    deleted = session.exec(select(ScimUser.user_id).where(ScimUser.user_name == key)).first()
    if deleted is not None and deleted != (user.id if user else None):
        raise UniquenessException(
            detail=f"A user deleted earlier had the userName '{user_name}'; create them again "
            "with POST to bring them back."
        )
    for column, value, what in (
        (User.email, email, "email"),
        (User.employee_number, employee_number, "employee number"),
    ):
        taken = session.exec(select(User.id).where(column == value)).first() if value else None
        if taken is not None and taken != (user.id if user else None):
            raise UniquenessException(detail=f"Another person already has the {what} '{value}'.")


def save_user(
    resource,
    *,
    session: Session,
    actor: str,
    user: User | None = None,
    link: ScimUser | None = None,
    previous=None,
    now: datetime | None = None,
) -> tuple[User, ScimUser]:
    """Create (no `user`) or replace a person from a SCIM User; raise a SCIMException if it
    cannot be done. `previous` is the resource before a PATCH, so the name part that changed
    wins."""
    now = now or utcnow()
    user_name = (resource.user_name or "").strip()
    if not user_name or len(user_name) > 254:
        raise InvalidValueException(detail="userName must have 1 to 254 characters.")
    enterprise = resource[PersonEnterprise]
    employee_number = (enterprise.employee_number or "").strip() or None if enterprise else None
    if employee_number and len(employee_number) > 64:
        raise InvalidValueException(detail="employeeNumber is longer than 64 characters.")
    parts = resource.name or PersonName()
    for label, value, limit in (
        ("externalId", resource.external_id, 254),
        ("name.formatted", parts.formatted, 200),
        ("name.givenName", parts.given_name, 200),
        ("name.familyName", parts.family_name, 200),
    ):
        if value and len(value) > limit:
            raise InvalidValueException(detail=f"{label} is longer than {limit} characters.")
    email, name = _email_of(resource), _name_of(resource, previous, user)
    _check_unique(session, user, user_name, email, employee_number)
    unit = _unit_of(enterprise, session=session)
    manager_id = _manager_of(enterprise, user, session=session)
    active = resource.active if resource.active is not None else (user.active if user else True)
    if user is not None and user.active and not active:
        _check_may_deactivate(user, session=session, actor=actor, now=now)
    before = _snapshot(user)
    person = user or User(email=email, name=name)
    managed = (
        list(session.exec(select(ManagedUnit.unit_id).where(ManagedUnit.user_id == user.id)))
        if user
        else []
    )
    try:
        org.save_person(
            session=session,
            user=person,
            by=actor,
            email=email,
            name=name,
            unit_id=unit.id if unit else None,
            roles=sorted(person.role_set) if user else [Role.EMPLOYEE],
            active=active,
            managed_unit_ids=managed,
            employee_number=employee_number,
            known_to_directory=True,
        )
    except org.PersonError as exc:
        raise InvalidValueException(detail=str(exc)) from None
    if not active:
        leave_directory_groups(person, session=session)
    fields = {
        "user_name": user_name.lower(),
        "user_name_shown": user_name,
        "external_id": resource.external_id,
        "email_type": _email_type(resource, email),
        "formatted_name": resource.name.formatted if resource.name else None,
        "given_name": resource.name.given_name if resource.name else None,
        "family_name": resource.name.family_name if resource.name else None,
        "manager_id": manager_id,
        "removed_at": None,
    }
    existing = session.get(ScimUser, person.id)
    link = existing or ScimUser(user_id=person.id, **fields)
    changed = sorted(key for key, value in fields.items() if getattr(link, key) != value)
    if existing is None or changed or _snapshot(person) != before:
        for key, value in fields.items():
            setattr(link, key, value)
        link.updated_at = now
        session.add(link)
    if existing is not None and changed:
        audit.record(actor, "person.update", person, {"directory": changed}, session=session)
    session.flush()
    return person, link


def _snapshot(user: User | None) -> tuple:
    if user is None:
        return ()
    return (user.email, user.name, user.unit_id, user.active, user.employee_number)


def patch_user(
    patch: dict, user: User, link: ScimUser | None, *, session: Session, actor: str, base_url: str
):
    """Apply a SCIM PatchOp to a person; the same patch twice changes nothing the second time."""
    operations = PatchOp[UserResource].model_validate(
        patch, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    before = user_resource(user, link, session=session, base_url=base_url)
    after = before.model_copy(deep=True)
    if not operations.patch(after, scim_policy=POLICY):
        return user, link
    if after.active is None:
        raise InvalidValueException(
            detail="'active' cannot be removed: trainer always knows whether a person may sign "
            "in. Replace it with false to deactivate the person."
        )
    return save_user(after, session=session, actor=actor, user=user, link=link, previous=before)


def remove_user(user: User, link: ScimUser | None, *, session: Session, actor: str) -> None:
    """Deprovision a person: deactivate them (through the guard) and hide them from SCIM.

    Their record stays in trainer (training history, certificates); HR can erase it."""
    if user.active:
        _check_may_deactivate(user, session=session, actor=actor)
        org.set_active(user, False)
        session.add(user)
        audit.record(
            actor,
            "person.update",
            user,
            {"active": {"from": True, "to": False}, "directory": ["removed"]},
            session=session,
        )
    leave_directory_groups(user, session=session)
    link = link or ScimUser(user_id=user.id, user_name=user.email, user_name_shown=user.email)
    link.removed_at = link.updated_at = utcnow()
    session.add(link)
    session.flush()


def removed_person(user_name: str, *, session: Session) -> tuple[User, ScimUser] | None:
    """Return a person deleted through SCIM earlier with this userName (a POST revives them)."""
    return session.exec(
        select(User, ScimUser)
        .join(ScimUser, col(ScimUser.user_id) == User.id)
        .where(
            ScimUser.user_name == user_name.strip().lower(),
            col(ScimUser.removed_at).is_not(None),
            col(User.erased_at).is_(None),
        )
    ).first()


# Directory groups


def _members_of(resource, *, session: Session) -> dict[int, str | None]:
    """The people a Group names as members, with the display name sent for each (None when
    it is the person's name in trainer); refuse anything else (groups, unknown ids)."""
    members: dict[int, str | None] = {}
    for member in resource.members or []:
        value = (member.value or "").strip()
        if member.type and member.type != "User":
            raise InvalidValueException(
                detail=f"Member '{value}' is a {member.type}: directory groups hold users only."
            )
        try:
            person, _link = find_person(value, session=session)
        except NotFoundException:
            raise InvalidValueException(
                detail=f"The member '{value}' is not a user here; send the user's SCIM id."
            ) from None
        display = (member.display or "").strip()[:256] or None
        members[person.id] = None if display == person.name else display
    return members


def save_group(
    resource, *, session: Session, actor: str, group: ScimGroup | None = None
) -> ScimGroup:
    """Create (no `group`) or replace a directory group from a SCIM Group. Sending the same
    group twice changes nothing the second time."""
    name = (resource.display_name or "").strip()
    if not name or len(name) > 256:
        raise InvalidValueException(detail="displayName must have 1 to 256 characters.")
    external_id = (resource.external_id or "").strip() or None
    if external_id and len(external_id) > 254:
        raise InvalidValueException(detail="externalId is longer than 254 characters.")
    wanted = _members_of(resource, session=session)
    created = group is None
    group = group or ScimGroup(scim_id=str(uuid.uuid4()), display_name=name)
    changed = [
        label
        for label, key, value in (
            ("displayName", "display_name", name),
            ("externalId", "external_id", external_id),
        )
        if getattr(group, key) != value or created
    ]
    group.display_name, group.external_id = name, external_id
    session.add(group)
    session.flush()
    current = {
        row.user_id: row
        for row in session.exec(select(ScimGroupMember).where(ScimGroupMember.group_id == group.id))
    }
    added = [i for i in wanted if i not in current]
    removed = [row for i, row in current.items() if i not in wanted]
    renamed = [row for i, row in current.items() if i in wanted and row.display != wanted[i]]
    session.add_all(ScimGroupMember(group_id=group.id, user_id=i, display=wanted[i]) for i in added)
    for row in removed:
        session.delete(row)
    for row in renamed:
        row.display = wanted[row.user_id]
        session.add(row)
    if changed or added or removed or renamed:
        group.updated_at = utcnow()
        session.add(group)
        detail = {"changed": changed, "members_added": len(added), "members_removed": len(removed)}
        action = "directory_group.create" if created else "directory_group.update"
        audit.record(actor, action, _audit_target(group), detail, session=session)
    session.flush()
    return group


def _audit_target(group: ScimGroup) -> tuple:
    return "directory_group", group.id, group.display_name


def patch_group(patch: dict, group: ScimGroup, *, session: Session, actor: str, base_url: str):
    """Apply a SCIM PatchOp to a directory group, Entra's and Okta's forms included
    (`members[value eq "id"]`)."""
    operations = PatchOp[GroupResource].model_validate(
        patch, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    after = group_resource(group, session=session, base_url=base_url)
    if not operations.patch(after, scim_policy=POLICY):
        return group
    return save_group(after, session=session, actor=actor, group=group)


def delete_group(group: ScimGroup, *, session: Session, actor: str) -> None:
    """Delete a directory group and its member list (never the people)."""
    session.execute(sa_delete(ScimGroupMember).where(ScimGroupMember.group_id == group.id))
    audit.record(actor, "directory_group.delete", _audit_target(group), session=session)
    session.delete(group)
    session.flush()


def leave_directory_groups(user: User, *, session: Session) -> int:
    """Take a person out of every directory group (deactivated, deleted or erased); return how
    many memberships went."""
    return session.execute(
        sa_delete(ScimGroupMember).where(ScimGroupMember.user_id == user.id)
    ).rowcount
