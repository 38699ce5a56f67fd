"""Per-endpoint access policies, and the org scope a person may see.

Every view declares who may call it with `@allow(...)`; a test walks the URL map and fails on
any endpoint without a declaration.
"""

from dataclasses import dataclass
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.org.models import ManagedUnit, OrgUnit


@dataclass(frozen=True)
class Access:
    roles: frozenset[str]  # empty: any signed-in person
    public: bool = False
    api_token: bool = False  # authenticated by an API token instead of a session

    def permits(self, user) -> bool:
        if self.public:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.has_role(*self.roles)


def allow(*roles: str, public: bool = False):
    """Declare who may call a view: `@allow()` any signed-in person, `@allow("hr")` HR only."""
    access = Access(frozenset(roles), public)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not access.public and not current_user.is_authenticated:
                from trainer.auth import login_manager

                return login_manager.unauthorized()
            if not access.permits(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = access
        return wrapped

    return decorator


def sees_everything(user: User) -> bool:
    return user.has_role("hr", "admin")


def subtree_ids(session: Session, roots: list[OrgUnit]) -> set[int]:
    """Return the ids of the given units and everything below them."""
    ids: set[int] = set()
    for root in roots:
        rows = session.exec(
            select(OrgUnit.id).where(OrgUnit.path.startswith(f"{root.path}{root.id}/"))
        ).all()
        ids.add(root.id)
        ids.update(rows)
    return ids


def managed_scope(session: Session, user: User) -> set[int]:
    """Return the unit ids a manager manages, with their subtrees (read once per
    transaction: a page asks several times)."""
    memo = session.info.setdefault("managed_scope", {})
    transaction = session.get_transaction()
    cached = memo.get(user.id)
    if cached is not None and cached[0] is transaction:
        return set(cached[1])
    roots = session.exec(
        select(OrgUnit).join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id)
        .where(ManagedUnit.user_id == user.id)
    ).all()
    ids = subtree_ids(session, list(roots))
    memo[user.id] = (transaction, frozenset(ids))
    return ids


def scope_unit_ids(session: Session, user: User) -> set[int] | None:
    """Return the unit ids `user` may report on, or None for every unit (HR and admin)."""
    if sees_everything(user):
        return None
    if user.has_role("manager"):
        return managed_scope(session, user)
    return set()


def require_unit_in_scope(session: Session, user: User, unit_id: int) -> None:
    """Abort with 403 unless `unit_id` lies in the user's reporting scope."""
    scope = scope_unit_ids(session, user)
    if scope is not None and unit_id not in scope:
        abort(403)
