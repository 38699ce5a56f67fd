"""Org units (company, region, site, team) and who manages which."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import LargeBinary
from sqlmodel import JSON, Column, Field, SQLModel

from trainer.util import utcnow

UNIT_KINDS = ("company", "region", "site", "team")
# Each kind as people read it, in their language.
UNIT_KIND_NAMES = {
    "company": _l("company"),
    "region": _l("region"),
    "site": _l("site"),
    "team": _l("team"),
}


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    # Materialised path of ids, e.g. "/1/4/17/": a subtree is one indexed prefix match.
    path: str = Field(default="/", max_length=400, index=True)
    active: bool = Field(default=True)


class ManagedUnit(SQLModel, table=True):
    __tablename__ = "managed_unit"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True, index=True)


class ImportStatus(StrEnum):
    """Where a people import stands (stored as these strings)."""

    QUEUED = "queued"
    CHECKING = "checking"
    DONE = "done"
    FAILED = "failed"


class PeopleImport(SQLModel, table=True):
    """A large people file uploaded on the web, imported by the scheduler.

    The file is kept only until the import has run; then `data` is emptied.
    """

    __tablename__ = "people_import"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int = Field(foreign_key="user_account.id", index=True)
    filename: str = Field(max_length=200)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    deactivate_missing: bool = Field(default=False)
    force: bool = Field(default=False)
    status: str = Field(default=ImportStatus.QUEUED, max_length=16, index=True)
    total_rows: int = Field(default=0)
    rows_checked: int = Field(default=0)
    # The outcome: counts when done, or the first problems (line, column, message) when failed.
    summary: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    errors: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    error_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
