"""Ratings of teams' customer focus, the training rollup and the stored analyses."""

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from trainer.util import utcnow


class CustomerFocusRating(SQLModel, table=True):
    """How one manager rates one team's customer focus in one quarter (1 to 5)."""

    __tablename__ = "customer_focus_rating"
    __table_args__ = (
        UniqueConstraint("unit_id", "period", "rater_id", name="uq_customer_focus_rating"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    period: str = Field(max_length=6, index=True)  # a quarter like 2026Q3
    rater_id: int = Field(foreign_key="user_account.id", index=True)
    rating: int  # 1 (not at all customer-focused) to 5 (very)
    updated_at: datetime = Field(default_factory=utcnow)


class TrainingRollup(SQLModel, table=True):
    """A training measure per (unit, quarter), summarised for the dashboard by a scheduler job.

    `measure` is "completion" (`size` = people with a course due, `rate` = share who finished
    every course on time) or "ownership" (`size` = scenario players, `rate` = ownership rate).
    """

    __tablename__ = "training_rollup"

    measure: str = Field(primary_key=True, max_length=16)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    period: str = Field(primary_key=True, max_length=6)
    size: int
    rate: float
    refreshed_at: datetime = Field(default_factory=utcnow)


class StoredAnalysis(SQLModel, table=True):
    """One computed analysis, shared by every process: the scheduler and any web worker that
    misses write it, the others read it without loading the statistics stack.

    `key` names the data version and the scope; `scope` the scope alone (level, units, metric,
    quarter), so the newest analysis of a scope can be shown while its data change.
    """

    __tablename__ = "insights_analysis"

    key: str = Field(primary_key=True, max_length=64)
    scope: str = Field(max_length=64, index=True)
    scope_spec: str  # JSON: what the scheduler needs to work the scope out again
    computed_at: datetime = Field(default_factory=utcnow, index=True)
    payload: str = Field(sa_type=Text)  # the analysis as JSON
