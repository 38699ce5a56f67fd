"""Pulse surveys: question bank, programmes, cycles, anonymous responses, rollups and the ledger.

Identity and answers live in separate tables (shared/reference/anonymity.md §1):
`survey_participation` says who took part and nothing else; `response_pool` holds answers
sealed to the scheduler's key until a shuffled flush opens them into `survey_response`, with no
person, no time and no serial order.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from trainer.util import utcnow


class ItemKind(StrEnum):
    LIKERT = "likert"  # agreement, 1 to 5
    ENPS = "enps"  # likelihood to recommend, 0 to 10


class Recurrence(StrEnum):
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    ONCE = "once"


class CycleStatus(StrEnum):
    """A cycle is scheduled, then open, then closed; the scheduler moves it along."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


# The states are stored as their plain strings; a StrEnum member equals its string, so rows
# read back as str compare equal to the members.
ITEM_KINDS = tuple(ItemKind)
# Labels are lazy: each reads in the language of the page (or email) that shows it.
THEMES = {
    "empowerment": _l("Empowerment"),
    "tools_time": _l("Tools and time to serve customers"),
    "recognition": _l("Recognition"),
    "manager_action": _l("My manager acts on what we say"),
    "pride": _l("Pride in our service"),
    "customer_focus": _l("The team's customer focus"),
    "wellbeing": _l("Wellbeing and workload"),
    "enps": _l("Employee Net Promoter Score"),
}
RECURRENCES = {
    Recurrence.QUARTERLY: _l("Every quarter"),
    Recurrence.MONTHLY: _l("Every month"),
    Recurrence.ONCE: _l("One-off"),
}
LIKERT_LABELS = {
    1: _l("Strongly disagree"),
    2: _l("Disagree"),
    3: _l("Neither agree nor disagree"),
    4: _l("Agree"),
    5: _l("Strongly agree"),
}
MARK_CHOICES = {"yes": _l("Yes, it happened"), "partly": _l("Partly"), "no": _l("Not yet")}
ACTION_STATUSES = {
    ActionStatus.PLANNED: _l("Planned"),
    ActionStatus.IN_PROGRESS: _l("In progress"),
    ActionStatus.DONE: _l("Done"),
    ActionStatus.DROPPED: _l("Dropped"),
}
OPEN_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class PulseError(ValueError):
    """A request that breaks a pulse rule; the message is for the user."""


def random_key() -> str:
    """Return a random UUID as 32 hex characters: a key that carries no order."""
    return uuid.uuid4().hex


class PulseItem(SQLModel, table=True):
    """A question. Rewording creates a new item (replaces_id points back), so trends stay honest."""

    __tablename__ = "pulse_item"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    theme: str = Field(max_length=32)
    kind: str = Field(default=ItemKind.LIKERT, max_length=16)
    text: str = Field(max_length=300)
    active: bool = Field(default=True)
    replaces_id: int | None = Field(default=None, foreign_key="pulse_item.id")
    created_at: datetime = Field(default_factory=utcnow)


class PulseItemTranslation(SQLModel, table=True):
    """An item's wording in another language than English; the item keeps its one id."""

    __tablename__ = "pulse_item_translation"
    __table_args__ = (
        UniqueConstraint("item_id", "language", name="uq_pulse_item_translation_language"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="pulse_item.id", index=True)
    language: str = Field(max_length=8)  # a code of LANGUAGES other than English: "de", "es"
    text: str = Field(max_length=300)
    updated_at: datetime = Field(default_factory=utcnow)


class PulseProgramme(SQLModel, table=True):
    __tablename__ = "pulse_programme"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    recurrence: str = Field(default=Recurrence.QUARTERLY, max_length=16)
    starts_on: date
    window_days: int = Field(default=14)
    reminder_days: str = Field(default="3,7", max_length=100)  # days after opening
    budget_per_quarter: int = Field(default=2)  # surveys one person may get per quarter
    comment_prompt: str = Field(default="", max_length=300)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def reminder_day_list(self) -> list[int]:
        return sorted({int(d) for d in self.reminder_days.split(",") if d.strip()})


class ProgrammeItem(SQLModel, table=True):
    __tablename__ = "pulse_programme_item"

    programme_id: int = Field(foreign_key="pulse_programme.id", primary_key=True)
    item_id: int = Field(foreign_key="pulse_item.id", primary_key=True)
    position: int = Field(default=0)


class ProgrammeUnit(SQLModel, table=True):
    """A unit in a programme's audience: its people and everyone below it."""

    __tablename__ = "pulse_programme_unit"

    programme_id: int = Field(foreign_key="pulse_programme.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)


class PulseCycle(SQLModel, table=True):
    """One period of a programme: scheduled, then open, then closed."""

    __tablename__ = "pulse_cycle"
    __table_args__ = (UniqueConstraint("programme_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="pulse_programme.id", index=True)
    period: str = Field(max_length=16)  # 2026Q3, 2026-07 or a one-off's opening date
    quarter: str = Field(max_length=8, index=True)  # the quarter the cycle reports into
    opens_at: datetime
    closes_at: datetime
    status: str = Field(default=CycleStatus.SCHEDULED, max_length=16)
    # Thresholds locked when the cycle opens: floors that configuration could only raise.
    min_scores: int = Field(default=5)
    min_comments: int = Field(default=10)
    rollups_done: bool = Field(default=False)
    # Driver analyses and comment themes stored by the scheduler at close (trainer.pulse.analyses)
    analyses_done: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class CycleItem(SQLModel, table=True):
    """The items a cycle asked, frozen when it was created."""

    __tablename__ = "pulse_cycle_item"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    item_id: int = Field(foreign_key="pulse_item.id", primary_key=True)
    position: int = Field(default=0)


class CycleAudience(SQLModel, table=True):
    """The audience snapshot frozen at launch: unit -> reporting group and invited headcount."""

    __tablename__ = "pulse_cycle_audience"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    group_key: int = Field(foreign_key="org_unit.id")
    invited: int = Field(default=0)


class PulseInvitation(SQLModel, table=True):
    """Who was invited (identity only, never answers); counts against the survey budget."""

    __tablename__ = "pulse_invitation"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    employee_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)
    group_key: int = Field(foreign_key="org_unit.id")  # from the snapshot frozen at launch


class PulseReminder(SQLModel, table=True):
    """A reminder that was sent (or skipped on catch-up): each one goes out at most once."""

    __tablename__ = "pulse_reminder"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    day: int = Field(primary_key=True)  # 0 is the invitation at opening


class SurveyParticipation(SQLModel, table=True):
    """Who took part in which cycle: nothing else, so no time, IP or user agent."""

    __tablename__ = "survey_participation"

    survey_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    employee_id: int = Field(foreign_key="user_account.id", primary_key=True)


class ResponsePool(SQLModel, table=True):
    """Answers waiting for a shuffled flush. No person, time, device or serial id."""

    __tablename__ = "response_pool"

    id: str = Field(default_factory=random_key, primary_key=True, max_length=32)
    survey_id: int = Field(foreign_key="pulse_cycle.id", index=True)
    # A sealed box (trainer.seal) of {"g": group key, "a": {item_id: value}, "c": comment}.
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SurveyResponse(SQLModel, table=True):
    """An anonymous response, written only by a shuffled flush."""

    __tablename__ = "survey_response"
    __table_args__ = (  # a team's comments without reading the whole cycle's answers
        Index(
            "ix_survey_response_comments",
            "survey_id",
            "group_key",
            "id",
            sqlite_where=text("comment IS NOT NULL"),
            postgresql_where=text("comment IS NOT NULL"),
        ),
    )

    id: str = Field(default_factory=random_key, primary_key=True, max_length=32)
    survey_id: int = Field(foreign_key="pulse_cycle.id", index=True)
    group_key: int = Field(foreign_key="org_unit.id")
    answers: str = Field(sa_column=Column(Text, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RollupUnit(SQLModel, table=True):
    """Per (cycle, unit): respondents, invited and reliability sums, for the unit's subtree."""

    __tablename__ = "pulse_rollup_unit"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    parent_id: int | None = None  # nearest ancestor with a rollup: the cut tree
    respondents: int = Field(default=0)
    invited: int = Field(default=0)
    comments: int = Field(default=0)
    likert_n: int = Field(default=0)  # Likert answers, for the engagement index
    likert_total: int = Field(default=0)
    enps_distribution: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    alpha_stats: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class RollupItem(SQLModel, table=True):
    """Per (cycle, unit, item): answer count, sum and distribution."""

    __tablename__ = "pulse_rollup_item"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    item_id: int = Field(foreign_key="pulse_item.id", primary_key=True)
    n: int = Field(default=0)
    total: int = Field(default=0)
    distribution: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class UnitDrivers(SQLModel, table=True):
    """A released group's driver analysis, computed by the scheduler when the cycle closed."""

    __tablename__ = "pulse_unit_drivers"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    analysis: str = Field(sa_column=Column(Text, nullable=False))  # JSON, see analyses.py


class CommentTheme(SQLModel, table=True):
    """One theme of a released group's comments (10 or more), found when the cycle closed.

    Only counts and the theme's top terms are stored: never which comment is in which theme.
    """

    __tablename__ = "pulse_comment_theme"

    cycle_id: int = Field(foreign_key="pulse_cycle.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    position: int = Field(primary_key=True)  # 0 is the largest theme
    language: str = Field(default="", max_length=16)  # "" when comments carry no language
    terms: str = Field(max_length=300)  # the top terms, comma separated
    bank_theme: str = Field(default="", max_length=32)  # a THEMES key, or "" for no match
    comments: int = Field(default=0)  # comments in this theme
    of_comments: int = Field(default=0)  # comments in the group


class Commitment(SQLModel, table=True):
    """ "You said, we did": an action a manager plans after a cycle's results were released.

    `text` is the action's short title; `status` and `status_at` repeat its latest
    ActionUpdate so lists need no extra query.
    """

    __tablename__ = "pulse_commitment"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="pulse_cycle.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    text: str = Field(max_length=300)
    details: str = Field(default="", max_length=1000)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    due_on: date | None = None
    theme: str = Field(default="", max_length=32)
    item_id: int | None = Field(default=None, foreign_key="pulse_item.id")
    status: str = Field(default=ActionStatus.PLANNED, max_length=16)
    status_at: datetime | None = None
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class ActionUpdate(SQLModel, table=True):
    """One status change of an action, with a short note: the action's visible history."""

    __tablename__ = "pulse_action_update"

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="pulse_commitment.id", index=True)
    status: str = Field(max_length=16)
    note: str = Field(default="", max_length=300)
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)


class ActionNudge(SQLModel, table=True):
    """A reminder email to a manager about an action plan: each key is sent once."""

    __tablename__ = "pulse_action_nudge"

    key: str = Field(primary_key=True, max_length=120)  # e.g. none:<cycle>:<unit>:<user>
    user_id: int = Field(foreign_key="user_account.id", index=True)
    sent_at: datetime = Field(default_factory=utcnow)


class CommitmentVoter(SQLModel, table=True):
    """Who marked a commitment (so nobody marks twice); never what they said."""

    __tablename__ = "pulse_commitment_voter"

    commitment_id: int = Field(foreign_key="pulse_commitment.id", primary_key=True)
    employee_id: int = Field(foreign_key="user_account.id", primary_key=True)


class MarkPool(SQLModel, table=True):
    """Marks waiting for a shuffled flush, like response_pool."""

    __tablename__ = "pulse_mark_pool"

    id: str = Field(default_factory=random_key, primary_key=True, max_length=32)
    commitment_id: int = Field(foreign_key="pulse_commitment.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # the sealed answer


class CommitmentMark(SQLModel, table=True):
    """An anonymous mark: did the commitment happen?"""

    __tablename__ = "pulse_commitment_mark"

    id: str = Field(default_factory=random_key, primary_key=True, max_length=32)
    commitment_id: int = Field(foreign_key="pulse_commitment.id", index=True)
    answer: str = Field(max_length=8)
