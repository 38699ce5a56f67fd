"""Fixes that employees made on their own authority, the problem types they pick from, each
unit's settings (unit type, currency, goodwill limit) and the rollups per (unit, quarter)."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel

from trainer.util import utcnow

ACTIONS = {  # code: what the employee did, as the form says it
    "on_spot": _l("Fixed it on the spot, within my authority"),
    "goodwill": _l("Fixed it with a goodwill gesture"),
    "handover": _l("Handed it over warmly to a colleague"),
    "escalated": _l("Had to escalate it"),
}
TEAM_ACTIONS = {  # the same, as a team's page says it
    "on_spot": _l("Fixed it on the spot, within their authority"),
    "goodwill": _l("Fixed it with a goodwill gesture"),
    "handover": _l("Handed it over warmly to a colleague"),
    "escalated": _l("Had to escalate it"),
}
OTHER = "other"  # the problem code of a problem not on the list


class ProblemType(SQLModel, table=True):
    """A problem on the short list employees pick from; HR keeps one list per unit type."""

    __tablename__ = "fix_problem_type"
    __table_args__ = (UniqueConstraint("unit_type", "code", name="uq_fix_problem_type_code"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_type: str = Field(max_length=40)  # e.g. "dealer", "call"; "" for every unit type
    code: str = Field(max_length=40)  # a slug, as content declares it (problem_types:)
    label: str = Field(max_length=100)
    active: bool = Field(default=True)
    position: int = Field(default=0)


class FixSettings(SQLModel, table=True):
    """A unit's type, currency and goodwill limit per fix; units below inherit them."""

    __tablename__ = "fix_settings"

    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    unit_type: str = Field(default="", max_length=40)
    currency: str = Field(default="EUR", max_length=3)
    goodwill_limit: float | None = None  # the most an employee may spend on one fix


class Fix(SQLModel, table=True):
    """One customer problem an employee put right. No customer data is stored."""

    __tablename__ = "fix"
    __table_args__ = (Index("ix_fix_unit_period", "unit_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id")  # the person's unit when they logged it
    period: str = Field(max_length=6)  # a quarter like 2026Q3
    logged_at: datetime = Field(default_factory=utcnow)
    problem: str = Field(max_length=40)  # a problem type code, or "other"
    problem_label: str = Field(max_length=100)  # as the list said it then
    action: str = Field(max_length=16)  # a key of ACTIONS
    goodwill: float = Field(default=0.0)  # in `currency`
    currency: str = Field(default="EUR", max_length=3)
    note: str = Field(default="", max_length=120)


class FixRollup(SQLModel, table=True):
    """Counts for one unit's subtree in one quarter, refreshed by a scheduler job.

    Pages, exports, the API and the insights dashboard read these rows only, and release them
    through the anonymity rules (at least 5 people who logged, differencing protection).
    """

    __tablename__ = "fix_rollup"
    __table_args__ = (
        UniqueConstraint("unit_id", "period", name="uq_fix_rollup_unit_period"),
        Index("ix_fix_rollup_period", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    period: str = Field(max_length=6)
    people: int = 0  # distinct people who logged at least one fix
    headcount: int = 0  # employees in the subtree when the rollup was refreshed
    fixes: int = 0
    on_spot: int = 0
    goodwill: int = 0
    handover: int = 0
    escalated: int = 0
    goodwill_spent: float = 0.0
    over_limit: int = 0  # fixes whose goodwill was above the unit's limit
    late_fixes: int = 0  # fixes in the quarter's last 14 days
    near_identical: int = 0  # fixes nearly identical to the same person's previous one
    weeks: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    problems: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    refreshed_at: datetime = Field(default_factory=utcnow)
