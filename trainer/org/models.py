"""Org units (company, region, site, team) and who manages which."""

from sqlmodel import Field, SQLModel

UNIT_KINDS = ("company", "region", "site", "team")


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
