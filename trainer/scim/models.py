"""What SCIM provisioning keeps beside a person: the directory's own names for them."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from trainer.util import utcnow


class ScimUser(SQLModel, table=True):
    """A person as the company directory (the SCIM client) knows them.

    A person without a row was never provisioned: their userName is their email. `removed_at`
    is set when the directory deletes them: trainer deactivates the person and keeps their
    training record, and SCIM no longer lists them.
    """

    __tablename__ = "scim_user"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    # Unique ignoring case (RFC 7643: userName is not case-exact); the lower-case form is kept.
    user_name: str = Field(max_length=254, unique=True, index=True)
    user_name_shown: str = Field(max_length=254)
    external_id: str | None = Field(default=None, max_length=254, index=True)
    email_type: str | None = Field(default=None, max_length=64)  # as sent, e.g. "work"
    # The name parts the directory sent (trainer shows its own full name, User.name).
    formatted_name: str | None = Field(default=None, max_length=200)
    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    # The directory's "manager" of the person, kept as sent: it grants no access to anything.
    manager_id: int | None = Field(default=None, foreign_key="user_account.id")
    removed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ScimGroup(SQLModel, table=True):
    """A group the company directory pushed (not an org unit): kept with its members so the
    directory's push succeeds. It gives no rights in trainer; units and roles are set in trainer.
    """

    __tablename__ = "scim_group"

    id: int | None = Field(default=None, primary_key=True)
    scim_id: str = Field(max_length=36, unique=True, index=True)  # a UUID, never all digits
    display_name: str = Field(max_length=256, index=True)
    external_id: str | None = Field(default=None, max_length=254, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ScimGroupMember(SQLModel, table=True):
    """A person in a directory group."""

    __tablename__ = "scim_group_member"

    group_id: int = Field(foreign_key="scim_group.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)
    # The name the directory sent for the member, kept as sent (None: trainer's name is shown).
    display: str | None = Field(default=None, max_length=256)
