"""The org scope a person may see, and the unit picker that offers it."""

from flask import abort
from sqlmodel import Session, select

from trainer.auth.models import Role, User
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.org.services import ordered_tree


def sees_everything(user: User) -> bool:
    return user.has_role(Role.HR, Role.ADMIN)


def subtree_ids(*, session: Session, roots: list[OrgUnit]) -> set[int]:
    """Return the ids of the given units and everything below them."""
    ids: set[int] = set()
    for root in roots:
        rows = session.exec(
            select(OrgUnit.id).where(OrgUnit.path.startswith(f"{root.path}{root.id}/"))
        ).all()
        ids.add(root.id)
        ids.update(rows)
    return ids


def managed_scope(*, session: Session, user: User) -> set[int]:
    """Return the unit ids a manager manages, with their subtrees (read once per
    transaction: a page asks several times)."""
    memo = session.info.setdefault("managed_scope", {})
    transaction = session.get_transaction()
    cached = memo.get(user.id)
    if cached is not None and cached[0] is transaction:
        return set(cached[1])
    roots = session.exec(
        select(OrgUnit)
        .join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id)
        .where(ManagedUnit.user_id == user.id)
    ).all()
    ids = subtree_ids(session=session, roots=list(roots))
    memo[user.id] = (transaction, frozenset(ids))
    return ids


def scope_unit_ids(*, session: Session, user: User) -> set[int] | None:
    """Return the unit ids `user` may report on, or None for every unit (HR and admin)."""
    if sees_everything(user):
        return None
    if user.has_role(Role.MANAGER):
        return managed_scope(session=session, user=user)
    return set()


def require_unit_in_scope(*, session: Session, user: User, unit_id: int) -> None:
    """Abort with 403 unless `unit_id` lies in the user's reporting scope."""
    scope = scope_unit_ids(session=session, user=user)
    if scope is not None and unit_id not in scope:
        abort(403)


def unit_choices(
    *, session: Session, scope: set[int] | None = None, blank: str | None = None
) -> list[tuple[int, str]]:
    """Return (id, label) for a unit picker: the units in `scope` (None: all) in tree order,
    each label indented by its depth; `blank` first, with id 0, when given."""
    choices = [
        (unit.id, "\u2003" * depth + f"{unit.name} ({unit.code})")
        for unit, depth, _ in ordered_tree(session=session)
        if scope is None or unit.id in scope
    ]
    return ([(0, blank)] if blank else []) + choices
