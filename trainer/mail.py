"""Outgoing email through a transactional outbox.

Every message is an `outbox` row written in the same transaction as the change that causes it,
under an idempotency key (`pulse:<cycle>:day0:<person>`), so a crash either keeps both or
neither, and the same message is never queued twice. A sender drains the outbox over SMTP: it
claims a row, sends it, and marks it sent only after the SMTP server has accepted it; a failure
is retried with backoff.

The one window left: if the sender dies after the server accepted a message and before the row
says so, that message is sent again when its claim expires. Every message carries a Message-ID
made from its key, so receiving systems that drop duplicate Message-IDs can drop it.

With no MAIL_SERVER (development), messages wait in the outbox and are read on /dev/mail.
"""

import contextlib
import hashlib
import logging
import signal
import smtplib
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from trainer.scheduler import register_job, still_in_charge, stop_on_sigterm
from trainer.util import utcnow

log = logging.getLogger("trainer.mail")


class OutboxStatus(StrEnum):
    """Where an outbox message stands (stored as these strings)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


# Each status as people read it, in their language.
STATUS_NAMES = {
    OutboxStatus.QUEUED: _l("waiting"),
    OutboxStatus.SENDING: _l("being sent"),
    OutboxStatus.SENT: _l("sent"),
    OutboxStatus.FAILED: _l("failed"),
}

MAX_ATTEMPTS = 8  # with the backoff below, about a day of retries
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


class OutboxMessage(SQLModel, table=True):
    """One email to send, written in the transaction that caused it."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # idempotency key
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=OutboxStatus.QUEUED, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claim: str | None = Field(default=None, max_length=32)  # who is sending it now
    claimed_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None


def queue_mail(*, session: Session, key: str, to: str | None, subject: str, body: str) -> bool:
    """Add a message to the outbox in the caller's transaction; False if the key exists.

    A person without an email (`to` empty) gets nothing, also False: they sign in with a printed
    card, and HR sees how many cards are still to use (trainer.kiosk).
    """
    if not to:
        return False
    table = OutboxMessage.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    )
    now = utcnow()
    return (
        session.execute(
            statement,
            {
                "key": key,
                "recipient": to,
                "subject": subject[:300],
                "body": body,
                "status": OutboxStatus.QUEUED,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
        ).first()
        is not None
    )


def unique_key(kind: str) -> str:
    """A key for a message that is never a repeat of another (a reset link, an invitation)."""
    return f"{kind}:{uuid.uuid4().hex}"


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@trainer.outbox>"


def _email(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = message_id(row.key)
    message.set_content(row.body)
    return message


class Smtp:
    """One SMTP connection for a run of messages, opened on first use."""

    def __init__(self, config):
        self.config = config
        self.conn: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        cfg = self.config
        if self.conn is None:
            self.conn = smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=30)
            if cfg["MAIL_USE_TLS"]:
                self.conn.starttls()
            if cfg["MAIL_USERNAME"]:
                self.conn.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        try:
            self.conn.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.conn.quit()
            self.conn = None


def _claimable(table, now: datetime):
    return sa.or_(
        sa.and_(table.c.status == OutboxStatus.QUEUED, table.c.next_attempt_at <= now),
        # a message whose sender died:
        sa.and_(table.c.status == OutboxStatus.SENDING, table.c.claimed_until < now),
    )


def _claim(session: Session, row_id: int, now: datetime, claim_for: timedelta) -> str | None:
    """Take one message for sending, committed; return the claim, or None if someone has it."""
    table = OutboxMessage.__table__
    claim = uuid.uuid4().hex
    taken = session.execute(
        sa.update(table)
        .where(table.c.id == row_id, _claimable(table, now))
        .values(status=OutboxStatus.SENDING, claim=claim, claimed_until=now + claim_for)
    ).rowcount
    session.commit()
    return claim if taken else None


def _settle(session: Session, row_id: int, claim: str, **values) -> None:
    table = OutboxMessage.__table__
    session.execute(
        sa.update(table)
        .where(table.c.id == row_id, table.c.claim == claim)
        .values(claim=None, claimed_until=None, **values)
    )
    session.commit()


def _retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def drain(
    *,
    session: Session,
    now: datetime | None = None,
    limit: int = 1000,
    keep_going: Callable[[], bool] = lambda: True,
) -> int:
    """Send due messages, oldest first; return how many the SMTP server accepted.

    Each message is claimed (committed), sent, then marked sent (committed). A claim lasts
    OUTBOX_CLAIM_SECONDS: a sender that dies holding one is replaced after that.
    """
    cfg = current_app.config
    if not cfg["MAIL_SERVER"]:
        return 0
    table = OutboxMessage.__table__
    now = now or utcnow()
    claim_for = timedelta(seconds=cfg["OUTBOX_CLAIM_SECONDS"])
    due = (
        session.execute(
            sa.select(table.c.id).where(_claimable(table, now)).order_by(table.c.id).limit(limit)
        )
        .scalars()
        .all()
    )
    session.commit()
    smtp, sent = Smtp(cfg), 0
    try:
        for row_id in due:
            if not keep_going():
                break
            claim = _claim(session, row_id, now, claim_for)
            if claim is None:
                continue
            row = session.get(OutboxMessage, row_id, populate_existing=True)
            try:
                smtp.send(_email(row, cfg["MAIL_SENDER"]))
            except (smtplib.SMTPException, OSError) as exc:
                attempts = row.attempts + 1
                failed = attempts >= MAX_ATTEMPTS or isinstance(exc, smtplib.SMTPRecipientsRefused)
                _settle(
                    session,
                    row_id,
                    claim,
                    attempts=attempts,
                    status=OutboxStatus.FAILED if failed else OutboxStatus.QUEUED,
                    next_attempt_at=utcnow() + _retry_delay(attempts),
                    last_error=f"{type(exc).__name__}: {exc}"[:500],
                )
                log.warning(
                    "Could not send outbox message %s (attempt %s): %s",
                    row_id,
                    attempts,
                    type(exc).__name__,
                )
                continue
            _settle(
                session,
                row_id,
                claim,
                status=OutboxStatus.SENT,
                sent_at=utcnow(),
                attempts=row.attempts + 1,
                last_error=None,
            )
            sent += 1
    finally:
        smtp.close()
    return sent


def drain_job(*, session: Session, now: datetime) -> None:
    """The scheduler's job: send what is due, stopping if this scheduler loses its lock."""
    drain(session=session, keep_going=still_in_charge)


def outbox_summary(*, session: Session) -> dict[str, int]:
    table = OutboxMessage.__table__
    counts = dict(
        session.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status)).all()
    )
    return {status: counts.get(status, 0) for status in OutboxStatus}


def recent_messages(
    *, session: Session, status: str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.execute(query).scalars())


@click.command("mail-sender")
@click.option("--once", is_flag=True, help="Send what is due and exit.")
@with_appcontext
def mail_sender_command(once):
    """Send the outbox's messages over SMTP, as a process of its own."""
    app = current_app._get_current_object()
    if not app.config["MAIL_SERVER"]:
        raise click.ClickException(
            "MAIL_SERVER is not set: messages stay in the outbox "
            "(read them on /dev/mail in development)."
        )
    engine = app.extensions["trainer.engine"]
    signal.signal(signal.SIGTERM, stop_on_sigterm)  # systemd stops it as Ctrl-C would
    log.info("Mail sender running.")
    try:
        while True:
            with Session(engine, expire_on_commit=False) as session:
                try:
                    drain(session=session)
                except sa.exc.SQLAlchemyError:
                    log.exception("The mail sender could not read the outbox; retrying.")
            if once:
                return
            time.sleep(app.config["OUTBOX_POLL_SECONDS"])
    except (KeyboardInterrupt, SystemExit):
        log.info("Mail sender stopped.")


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_sender_command)
    app.add_template_global(OutboxStatus, "OutboxStatus")
    app.add_template_global(STATUS_NAMES, "status_names")
    if app.config["OUTBOX_IN_SCHEDULER"]:
        register_job(
            app,
            "mail-outbox",
            drain_job,
            every_minutes=app.config["OUTBOX_POLL_SECONDS"] / 60,
            label=_l("Send queued email"),
        )
