"""Personal sign-in cards: a short code, stored only as a keyed hash, used once."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from trainer.util import utcnow


class CardStatus(StrEnum):
    """Where a card stands (stored as these strings)."""

    UNUSED = "unused"
    USED = "used"
    REPLACED = "replaced"  # a newer card was printed for the same person


class SignInCard(SQLModel, table=True):
    """One printed card. The code itself is never stored, only its HMAC under the secret key,
    and no time of use is kept: the card says nothing about when its holder signed in, and
    nothing links it to a survey answer."""

    __tablename__ = "sign_in_card"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    status: str = Field(default=CardStatus.UNUSED, max_length=16)
    issued_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
