"""Customer outcomes per (unit, quarter, metric), custom metrics, import log and API tokens, and
the error the outcome services raise."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from trainer.util import utcnow


class OutcomeError(ValueError):
    """A change that cannot be made; the message is for the user."""


class OutcomeMetric(SQLModel, table=True):
    """A custom metric defined by HR. The built-in metrics live in code (validation.py)."""

    __tablename__ = "outcome_metric"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    label: str = Field(max_length=100)
    direction: str = Field(max_length=24)  # higher_is_better or lower_is_better
    min_value: float | None = None
    max_value: float | None = None
    needs_n: bool = Field(default=True)
    description: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class Outcome(SQLModel, table=True):
    """One customer-outcome value: a unit's metric in a quarter."""

    __tablename__ = "outcome"
    __table_args__ = (
        UniqueConstraint("unit_id", "period", "metric", name="uq_outcome_unit_period_metric"),
        Index("ix_outcome_metric_period", "metric", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id")
    period: str = Field(max_length=6)  # a quarter like 2026Q3
    metric: str = Field(max_length=32)  # a built-in or custom metric code
    value: float
    n: int | None = None  # customers (or transactions) behind the value
    topbox: float | None = None  # share of top-box answers, 0 to 1
    responses: int | None = None  # survey responses, for the response rate
    invited: int | None = None  # customers invited to the survey
    source: str = Field(default="", max_length=120)
    updated_at: datetime = Field(default_factory=utcnow)


class OutcomeImport(SQLModel, table=True):
    """A record of one import (upload, CLI or API) and what it changed."""

    __tablename__ = "outcome_import"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    channel: str = Field(max_length=16)  # upload, cli or api
    actor: str = Field(max_length=254)  # an email, a file name or a token name
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class TokenState(StrEnum):
    """Whether an API token may be used, or why not (worked out, never stored)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)  # the first characters, to recognise a token
    scopes: str = Field(max_length=200)  # comma-separated, e.g. "outcomes:write"
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id")  # subtree limit
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)
