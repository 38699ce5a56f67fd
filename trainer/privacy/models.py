"""The audit log: who did what to whom, and when. Never what anyone answered."""

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from trainer.util import utcnow


class AuditEntry(SQLModel, table=True):
    """One administrative action, or one look at a unit's survey results.

    `actor_label` and `target_label` keep a readable name (an email, a unit code) so the log
    still reads well after the row they name is gone; erasing a person rewrites both.
    """

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor_label: str = Field(max_length=254)
    action: str = Field(max_length=40, index=True)
    target_type: str = Field(default="", max_length=20)
    target_id: int | None = Field(default=None, index=True)
    target_label: str = Field(default="", max_length=254)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON object
