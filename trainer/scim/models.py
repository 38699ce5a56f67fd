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
