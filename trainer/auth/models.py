"""Accounts, roles and the sign-in throttle."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlmodel import Field, SQLModel

from trainer.access import Role, parse_roles
from trainer.util import utcnow


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    # Front-line staff may have no email: they are known by their employee number instead and
    # sign in with a printed card (trainer.kiosk). Either may be missing, never both.
    email: str | None = Field(default=None, max_length=254, unique=True, index=True)
    # The HR system's number for the person (SCIM's enterprise employeeNumber).
    employee_number: str | None = Field(default=None, max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    roles: str = Field(default=Role.EMPLOYEE.value, max_length=100)
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    active: bool = Field(default=True)
    # The person's chosen language (a code in LANGUAGES); None follows the browser.
    locale: str | None = Field(default=None, max_length=10)
    # The `sub` of this person at the single sign-on provider, once they signed in there.
    oidc_subject: str | None = Field(default=None, max_length=255, unique=True, index=True)
    # Flask-Login's alternative id: rotating it signs out every copy of the session cookie.
    session_token: str = Field(default_factory=new_session_token, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Set by the retention job when it first sees the account inactive (trainer.privacy).
    inactive_since: datetime | None = None
    erased_at: datetime | None = None  # personal data removed (GDPR Art. 17)

    @property
    def role_set(self) -> frozenset[Role]:
        return parse_roles(self.roles)

    def has_role(self, *roles: Role | str) -> bool:
        """Return whether the person holds any of `roles` (a name that is no role raises)."""
        return not self.role_set.isdisjoint(Role(role) for role in roles)

    @property
    def identifier(self) -> str:
        """The email, else the employee number: what names the account in logs and exports."""
        return self.email or f"employee {self.employee_number or self.id}"

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per email, kept in the database so every worker sees the same count."""

    __tablename__ = "login_throttle"

    email: str = Field(primary_key=True, max_length=254)
    failures: int = Field(default=0)
    locked_until: datetime | None = None
    last_failure_at: datetime | None = None  # for the retention schedule


class SignInSettings(SQLModel, table=True):
    """The sign-in choices HR makes in trainer (one row, id 1); the provider itself is config."""

    __tablename__ = "sign_in_settings"

    id: int | None = Field(default=None, primary_key=True)
    # Where single sign-on creates people trainer does not know yet; None refuses them.
    jit_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
