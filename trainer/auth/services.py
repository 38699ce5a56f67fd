"""Passwords, the database-backed sign-in throttle, and signed single-use links."""

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.dialects import postgresql, sqlite
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


def find_user(email: str, *, session: Session) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def find_person(email_or_number: str, *, session: Session) -> User | None:
    """Return the person with this email, or else with this employee number."""
    key = email_or_number.strip()
    return (
        find_user(key, session=session)
        or session.exec(select(User).where(User.employee_number == key)).first()
    )


def count_attempt(email: str, *, session: Session, limit: int | None = None) -> int:
    """Count a sign-in attempt for `email` in one atomic statement and return its number.

    The counter starts again after a lock has run out. The attempt that reaches `limit`
    (LOGIN_MAX_FAILURES) sets the lock; a right password clears the whole row. Sign-in cards
    count their codes here too, under a key of their own.
    """
    key, now = email.strip().lower(), utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(email=key, failures=0)
        .on_conflict_do_nothing(index_elements=["email"])
    )
    table = LoginThrottle.__table__.c
    expired = sa.and_(table.locked_until.is_not(None), table.locked_until <= now)
    reaches_limit = table.failures + 1 >= (limit or current_app.config["LOGIN_MAX_FAILURES"])
    lock_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    return session.execute(
        sa.update(LoginThrottle)
        .where(table.email == key)
        .values(
            failures=sa.case((expired, 1), else_=table.failures + 1),
            last_failure_at=now,
            locked_until=sa.case(
                (expired, None),
                (sa.and_(table.locked_until.is_(None), reaches_limit), lock_until),
                else_=table.locked_until,
            ),
        )
        .returning(table.failures)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def clear_failures(email: str, *, session: Session) -> None:
    session.execute(
        sa.delete(LoginThrottle)
        .where(LoginThrottle.email == email.strip().lower())
        .execution_options(synchronize_session=False)
    )


def authenticate(email: str, password: str, *, session: Session) -> User | None:
    """Return the user for a correct email and password, else None.

    `session` is the throttle's own: the attempt is counted and committed before the password
    is checked, so parallel attempts cannot slip past the limit and never wait on each other.
    Past the limit the answer takes as long as a password check, so a lock does not show.
    """
    attempt = count_attempt(email, session=session)
    session.commit()
    if attempt > current_app.config["LOGIN_MAX_FAILURES"]:
        password_matches(None, password)
        return None
    user = find_user(email, session=session)
    if password_matches(user, password) and user.active:
        clear_failures(email, session=session)
        return user
    return None


def set_password(user: User, password: str, *, session: Session) -> None:
    """Set a new password and sign out every existing session of this user."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    session.add(user)


def rotate_session_token(user: User, *, session: Session) -> None:
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


def user_for_link_token(token: str, purpose: str, *, session: Session) -> User | None:
    """Return the user a valid, unexpired, unused link token names, else None."""
    cfg = current_app.config
    max_age = (
        cfg["INVITE_MAX_AGE_HOURS"] * 3600
        if purpose == "invite"
        else cfg["RESET_MAX_AGE_MINUTES"] * 60
    )
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("fp") != _fingerprint(user):
        return None
    return user


def set_language(user: User, language: str | None, *, session: Session) -> None:
    """Save the language `user` reads trainer in (None: follow the browser)."""
    user.locale = language
    session.add(user)
