"""Per-endpoint access policies.

Every view declares who may call it with `@allow(...)`; a test walks the URL map and fails on
any endpoint without a declaration. The org scope a person may see is in trainer.org.scope.
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user


class Role(StrEnum):
    """A role a person holds, stored as its value ("hr") in the account's roles column."""

    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as people read it, in their language: "HR", not "Hr"."""
        return str(_ROLE_LABELS[self])


_ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.MANAGER: _l("Manager"),
    Role.HR: _l("HR"),
    Role.ADMIN: _l("Admin"),
}


ROLES = tuple(Role)  # in this order on forms and in stored lists


def parse_roles(stored: str) -> frozenset[Role]:
    """Return the roles in a stored comma-separated list ("employee,hr")."""
    return frozenset(Role(name) for name in stored.split(",") if name)


def join_roles(roles) -> str:
    """Return roles as they are stored: comma-separated, in the given order."""
    return ",".join(Role(role) for role in roles)


@dataclass(frozen=True)
class Access:
    roles: frozenset[Role]  # empty: any signed-in person
    public: bool = False
    api_token: bool = False  # authenticated by an API token instead of a session

    def permits(self, user) -> bool:
        if self.public:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.has_role(*self.roles)


def allow(*roles: Role | str, public: bool = False):
    """Declare who may call a view: `@allow()` any signed-in person, `@allow("hr")` HR only
    (a name that is no role fails at import)."""
    access = Access(frozenset(Role(role) for role in roles), public)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not access.public and not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not access.permits(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = access
        return wrapped

    return decorator
