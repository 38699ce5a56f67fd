"""Outgoing email over SMTP; written to the log when no SMTP server is configured."""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("trainer.mail")


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to one recipient."""
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not cfg["MAIL_SERVER"]:
        log.info("Mail (no SMTP server configured) to %s: %s\n%s", to, subject, body)
        return
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=30) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(message)
