"""API tokens: their scopes, creating and revoking them, checking a secret, and the units a
token may touch. Only the SHA-256 of a secret is stored."""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.org.scope import subtree_ids
from trainer.outcomes.models import ApiToken, OutcomeError, TokenState
from trainer.util import utcnow

SCOPES = {
    "outcomes:write": _l("Send outcomes (POST /api/v1/outcomes)"),
    "outcomes:read": _l("Read outcomes and metrics (GET /api/v1/...)"),
    "fixes:read": _l("Read fixes on own authority per unit and quarter (GET /api/v1/fixes)"),
    "scim": _l("Provision people from the company directory (SCIM 2.0, /scim/v2)"),
}
TOKEN_PREFIX = "trn_"  # noqa: S105 (a public marker, not a secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    *,
    session: Session,
    name: str,
    scopes: list[str],
    created_by: User,
    unit_id: int | None = None,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret; the secret is not stored and is shown once."""
    unknown = [s for s in scopes if s not in SCOPES]
    if not name.strip():
        raise OutcomeError(_("Give the token a name, e.g. the system that uses it."))
    if not scopes or unknown:
        raise OutcomeError(_("Choose at least one scope: %(scopes)s.", scopes=", ".join(SCOPES)))
    if unit_id is not None and session.get(OrgUnit, unit_id) is None:
        raise OutcomeError(_("That unit does not exist."))
    if unit_id is not None and "scim" in scopes:
        raise OutcomeError(
            _("A token that provisions people covers every unit: leave “Limited to unit” empty.")
        )
    now = now or utcnow()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        token_hash=hash_secret(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scopes=",".join(sorted(scopes)),
        unit_id=unit_id,
        created_by_id=created_by.id,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(*, session: Session, token: ApiToken, now: datetime | None = None) -> None:
    """Revoke a token for good (revoking twice keeps the first time)."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.add(token)


def token_state(token: ApiToken, now: datetime) -> TokenState:
    if token.revoked_at is not None:
        return TokenState.REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def authenticate_token(
    *, session: Session, secret: str, now: datetime | None = None
) -> tuple[ApiToken | None, str]:
    """Return (token, "active") for a usable secret, else (None, why: unknown/revoked/expired)."""
    now = now or utcnow()
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))).first()
    if token is None:
        return None, TokenState.UNKNOWN
    state = token_state(token, now)
    if state != TokenState.ACTIVE:
        return None, state
    # Record use at most once a minute, so reads rarely write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return token, state


def list_tokens(*, session: Session) -> list[tuple[ApiToken, User | None, OrgUnit | None]]:
    """Return every token with its creator and unit, newest first."""
    return list(
        session.exec(
            select(ApiToken, User, OrgUnit)
            .join(User, User.id == ApiToken.created_by_id, isouter=True)
            .join(OrgUnit, OrgUnit.id == ApiToken.unit_id, isouter=True)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).all()
    )


def token_unit_ids(*, session: Session, token: ApiToken) -> set[int] | None:
    """Return the unit ids a token may touch, or None for every unit."""
    if token.unit_id is None:
        return None
    unit = session.get(OrgUnit, token.unit_id)
    return subtree_ids(session=session, roots=[unit]) if unit else set()
