"""Scenarios and their versions, plays, recorded choices and the spaced re-serve queue."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from trainer.util import utcnow


class PlayMode(StrEnum):
    """Why a play exists; stored in Play.mode as the plain string."""

    PLAY = "play"  # counts in reports (the first finished one)
    PRACTICE = "practice"  # private: the player sees it, reports never do
    RESERVE = "reserve"  # one decision served again for spaced practice


# Modes whose plays stay with the player: the library shows them, reports never do.
FULL_PLAY_MODES = (PlayMode.PLAY, PlayMode.PRACTICE)


class Scenario(SQLModel, table=True):
    """One scenario file, by its id; plays keep the version they were played on."""

    __tablename__ = "scenario"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True, index=True)
    title: str = Field(max_length=200)
    # The number of the version new plays use (a number, not a key: the tables would cycle).
    current_version: int = Field(default=1)
    retired_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ScenarioVersion(SQLModel, table=True):
    __tablename__ = "scenario_version"
    __table_args__ = (
        sa.UniqueConstraint("scenario_id", "number", name="uq_scenario_version_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scenario_id: int = Field(foreign_key="scenario.id", index=True)
    number: int
    content_hash: str = Field(max_length=64)
    source_file: str = Field(max_length=300)
    # The parsed graph (see sync.graph_to_json), so plays never depend on the file again.
    graph: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Play(SQLModel, table=True):
    """One attempt at a scenario (or, in mode `reserve`, at a single decision)."""

    __tablename__ = "scenario_play"
    __table_args__ = (sa.Index("ix_scenario_play_report", "scenario_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    scenario_id: int = Field(foreign_key="scenario.id")
    version_id: int = Field(foreign_key="scenario_version.id", index=True)
    # The player's unit when the play started: reports count people where they were.
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    mode: str = Field(default=PlayMode.PLAY, max_length=16)  # a PlayMode
    # The first play of this scenario by this person: the honest signal for reports.
    is_first_attempt: bool = Field(default=False)
    registration: str = Field(max_length=36)  # xAPI registration: one UUID per attempt
    node_id: str = Field(max_length=200)
    meters: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    path: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))  # [[node_id, choice_id]]
    # Shuffles the choices of each decision (engine.choice_order); None: file order (plays
    # started before choices were shuffled).
    choice_seed: int | None = Field(default=None)
    ending: str | None = Field(default=None, max_length=16)
    period: str | None = Field(default=None, max_length=6)  # quarter the play finished in
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class ChoiceRecord(SQLModel, table=True):
    """One decision taken in a play, with its xAPI `answered` statement."""

    __tablename__ = "scenario_choice"
    __table_args__ = (sa.UniqueConstraint("play_id", "step", name="uq_scenario_choice_step"),)

    id: int | None = Field(default=None, primary_key=True)
    play_id: int = Field(foreign_key="scenario_play.id", index=True)
    step: int  # 1 for the first decision of the play
    node_id: str = Field(max_length=200)
    choice_id: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    meters_after: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    xapi: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ScenarioActor(SQLModel, table=True):
    """The opaque name that stands for a person in xAPI statements (never their email)."""

    __tablename__ = "scenario_actor"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    name: str = Field(max_length=40, unique=True)


class ReserveItem(SQLModel, table=True):
    """A decision point that comes back to one person as a one-decision practice."""

    __tablename__ = "scenario_reserve"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "scenario_id", "node_id", name="uq_scenario_reserve_node"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    scenario_id: int = Field(foreign_key="scenario.id")
    node_id: str = Field(max_length=200)
    stage: int = Field(default=0)  # index into plays.RESERVE_INTERVALS
    due_at: datetime = Field(index=True)
    cleared_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
