"""The dashboard's scope: the units a person may pick and open, and their own units."""

from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.org.scope import scope_unit_ids, sees_everything

SCOPE_KINDS = ("company", "region", "site")


def company_root(*, session: Session) -> OrgUnit | None:
    return session.exec(
        select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id)
    ).first()


def unit_by_code(*, session: Session, code: str) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def scope_choices(*, session: Session, user: User) -> list[OrgUnit]:
    """Return the units a person may pick as the dashboard's scope: the company, regions and
    sites they may see, and the units they manage directly."""
    allowed = scope_unit_ids(session=session, user=user)
    managed = set(
        session.exec(select(ManagedUnit.unit_id).where(ManagedUnit.user_id == user.id)).all()
    )
    units = session.exec(
        select(OrgUnit).where(OrgUnit.active).order_by(OrgUnit.path, OrgUnit.code)
    ).all()
    return [
        u
        for u in units
        if (allowed is None or u.id in allowed) and (u.kind in SCOPE_KINDS or u.id in managed)
    ]


def default_scope(*, session: Session, user: User) -> OrgUnit | None:
    """Return the widest unit the person may see: the company for HR, else a managed unit."""
    if sees_everything(user):
        return company_root(session=session)
    choices = scope_choices(session=session, user=user)
    return min(choices, key=lambda u: (u.path.count("/"), u.code)) if choices else None


def ancestors_in_scope(*, session: Session, user: User, unit: OrgUnit) -> list[OrgUnit]:
    """Return the units above `unit` that the person may open, top first (the breadcrumb)."""
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    if not ids:
        return []
    allowed = scope_unit_ids(session=session, user=user)
    units = {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids))).all()}
    return [units[i] for i in ids if i in units and (allowed is None or i in allowed)]


def in_scope(*, session: Session, user: User, unit: OrgUnit) -> bool:
    allowed = scope_unit_ids(session=session, user=user)
    return allowed is None or unit.id in allowed


def own_unit_codes(*, session: Session, user: User) -> set[str]:
    """Return the codes of the person's own unit and every unit above it: flags on these are
    never shown to them (a unit's own staff never see its gaming flags)."""
    if user.unit_id is None:
        return set()
    unit = session.get(OrgUnit, user.unit_id)
    if unit is None:
        return set()
    ids = [int(i) for i in unit.path.strip("/").split("/") if i] + [unit.id]
    return set(session.exec(select(OrgUnit.code).where(OrgUnit.id.in_(ids))).all())


def scope_summary(unit: OrgUnit) -> dict:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind}
