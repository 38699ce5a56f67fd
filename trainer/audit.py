"""Record administrative actions in the audit log: `audit.record(session, actor, action,
target, detail)`, called by every feature.

The detail is a small JSON object of names, codes, ids and counts. It can never carry survey
answers or comments: keys that would hold them are refused, and so is long free text.
"""

import json
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel

from trainer.db import get_engine, write_intent
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


ACTIONS = {
    "person.create": _l("Person added"),
    "person.update": _l("Person changed (roles, unit, managed units, active)"),
    "person.invite": _l("Invitation emailed"),
    "person.export": _l("Personal data downloaded"),
    "person.erase": _l("Person erased"),
    "people.import": _l("People imported"),
    "outcomes.import": _l("Customer outcomes imported"),
    "programme.create": _l("Survey programme created"),
    "programme.update": _l("Survey programme changed"),
    "programme.open": _l("Survey cycle opened now"),
    "thresholds.change": _l("Anonymity thresholds changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "keys.rotate": _l("Encryption keys rotated"),
    "results.view": _l("Survey results viewed"),
    "action.create": _l("Action added to a team's action plan"),
    "action.status": _l("Action plan status updated"),
    "retention.purge": _l("Old data deleted by the retention schedule"),
    "fixes.settings": _l("Fix log unit type, currency or goodwill limit changed"),
    "person.sso_link": _l("Account linked to the single sign-on provider"),
    "sso.settings": _l("Single sign-on settings changed"),
    "people.deactivation_refused": _l("Deactivation refused: over the safety limit"),
    "cards.print": _l("Sign-in cards printed for a unit"),
    "directory_group.create": _l("Directory group added (SCIM)"),
    "directory_group.update": _l("Directory group changed (SCIM)"),
    "directory_group.delete": _l("Directory group deleted (SCIM)"),
}
# Keys a detail may never have: survey answers and comments stay out of the log.
FORBIDDEN_KEYS = {"answer", "answers", "comment", "comments", "response", "responses", "text"}
MAX_TEXT = 200


class AuditError(ValueError):
    """A detail that the audit log refuses to hold."""


def _check(value, key: str):
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise AuditError(f"Audit detail {key!r} is longer than {MAX_TEXT} characters.")
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item, key)
    elif isinstance(value, dict):
        _check_detail(value)
    elif value is not None and not isinstance(value, int | float | bool):
        raise AuditError(f"Audit detail {key!r} must be text, a number or a list.")


def _check_detail(detail: dict) -> None:
    for key, value in detail.items():
        if str(key).lower() in FORBIDDEN_KEYS:
            raise AuditError(f"Audit details never hold {key!r}.")
        _check(value, str(key))


def describe_actor(actor) -> tuple[int | None, str]:
    """Return (user id or None, label) for a user, or a label like "command line"."""
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.id, actor.identifier


def describe_target(target) -> tuple[str, int | None, str]:
    """Return (type, id, label) for a person, unit, programme, cycle or token."""
    if target is None:
        return "", None, ""
    if isinstance(target, tuple):
        return target
    kind = type(target).__name__
    if kind == "User":
        return "person", target.id, target.identifier
    if kind == "OrgUnit":
        return "unit", target.id, f"{target.name} ({target.code})"
    if kind == "PulseProgramme":
        return "programme", target.id, target.name
    if kind == "PulseCycle":
        return "cycle", target.id, target.period
    if kind == "ApiToken":
        return "token", target.id, target.name
    return kind.lower()[:20], getattr(target, "id", None), str(target)[:MAX_TEXT]


def record(
    actor, action: str, target=None, detail: dict | None = None, *, session: Session
) -> AuditEntry:
    """Add an entry to the audit log in the session's transaction."""
    if action not in ACTIONS:
        raise AuditError(f"Unknown audit action {action!r}; add it to ACTIONS.")
    detail = detail or {}
    _check_detail(detail)
    actor_id, actor_label = describe_actor(actor)
    target_type, target_id, target_label = describe_target(target)
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:254],
        detail=json.dumps(detail, sort_keys=True, default=str),
    )
    session.add(entry)
    return entry


def record_now(actor, action: str, target=None, detail: dict | None = None) -> None:
    """Record in a transaction of its own, committed at once: for pages that only read
    (a GET request's transaction is read-only on SQLite)."""
    token = write_intent.set(True)
    try:
        with Session(get_engine()) as session:
            record(actor, action, target, detail, session=session)
            session.commit()
    finally:
        write_intent.reset(token)
