"""Passwords, the database-backed sign-in throttle, and signed single-use links."""

import hashlib
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session, select

from trainer.auth.models import LoginThrottle, User, new_session_token
from trainer.util import utcnow

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None else None
    try:
        verified = _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return verified and stored is not None


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def is_locked(session: Session, email: str) -> bool:
    row = session.get(LoginThrottle, email.strip().lower())
    return bool(row and row.locked_until and row.locked_until > utcnow())


def record_failure(session: Session, email: str) -> None:
    """Count a wrong password; lock the email after LOGIN_MAX_FAILURES in a row."""
    key = email.strip().lower()
    row = session.get(LoginThrottle, key) or LoginThrottle(email=key)
    if row.locked_until and row.locked_until <= utcnow():
        row.failures, row.locked_until = 0, None
    row.failures += 1
    row.last_failure_at = utcnow()
    if row.failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        row.locked_until = utcnow() + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    session.add(row)


def clear_failures(session: Session, email: str) -> None:
    row = session.get(LoginThrottle, email.strip().lower())
    if row is not None:
        session.delete(row)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user for a correct email and password, counting failures either way."""
    if is_locked(session, email):
        return None
    user = find_user(session, email)
    if password_matches(user, password) and user.active:
        clear_failures(session, email)
        return user
    record_failure(session, email)
    return None


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password and sign out every existing session of this user."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    session.add(user)


def rotate_session_token(session: Session, user: User) -> None:
    user.session_token = new_session_token()
    session.add(user)


# Signed links. The payload carries a fingerprint of the current password hash, so a link
# stops working as soon as it has been used to set a password (single use).

def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"trainer-{purpose}")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_link_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"uid": user.id, "fp": _fingerprint(user)})


def user_for_link_token(session: Session, token: str, purpose: str) -> User | None:
    """Return the user a valid, unexpired, unused link token names, else None."""
    cfg = current_app.config
    max_age = (cfg["INVITE_MAX_AGE_HOURS"] * 3600 if purpose == "invite"
               else cfg["RESET_MAX_AGE_MINUTES"] * 60)
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("fp") != _fingerprint(user):
        return None
    return user
