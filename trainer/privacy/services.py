"""GDPR duties: export what is stored about a person (Art. 15), erase a person (Art. 17), and
the retention schedule that deletes old records. See shared/reference/anonymity.md §7."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, select

from trainer import audit
from trainer.access import Role
from trainer.audit import AuditEntry
from trainer.auth.models import LoginThrottle, User, new_session_token
from trainer.fixes.models import Fix
from trainer.insights.models import CustomerFocusRating
from trainer.kiosk.models import SignInCard
from trainer.learn.models import (
    Assignment,
    Certificate,
    Course,
    CourseVersion,
    Enrolment,
    QuizAnswer,
    QuizAttempt,
    ReminderSent,
)
from trainer.mail import OutboxMessage, OutboxStatus
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.outcomes.models import ApiToken
from trainer.pulse.models import (
    ActionNudge,
    ActionUpdate,
    Commitment,
    CommitmentVoter,
    CycleStatus,
    PulseCycle,
    PulseInvitation,
    PulseProgramme,
    SurveyParticipation,
)
from trainer.scenarios.models import Play, ReserveItem, Scenario, ScenarioActor
from trainer.scim.models import ScimGroup, ScimGroupMember, ScimUser
from trainer.util import utcnow

log = logging.getLogger("trainer.privacy")

ERASED_NAME = "Erased person"
ERASED_DOMAIN = "erased.invalid"

PULSE_ANSWERS_NOT_INCLUDED = _l(
    "Pulse survey answers and comments are not in this export, and cannot be. They are stored "
    "anonymously: with no name, email, time or order, pooled and shuffled with other people's "
    "answers before they are saved. Nobody, including us, can tell which answers are yours, so "
    "we cannot show, correct or erase them (GDPR Article 11(2)). What we do store is whether "
    "you were invited to a survey and, only until it closes, that you took part; both are "
    "listed under 'pulse'."
)


class PrivacyError(Exception):
    """An export or erasure that may not happen, with a reason a person can read."""


def erased_label(user_id: int) -> str:
    return f"erased person #{user_id}"


def _dump(row, exclude: set[str] = frozenset()) -> dict:
    return row.model_dump(mode="json", exclude=set(exclude))


# Export (Art. 15) ----------------------------------------------------------------------------


def export_person(person: User, *, session: Session, now: datetime | None = None) -> dict:
    """Return everything stored about `person`, as a JSON-ready dict."""
    uid = person.id
    unit = session.get(OrgUnit, person.unit_id) if person.unit_id else None
    managed = session.exec(
        select(OrgUnit)
        .join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id)
        .where(ManagedUnit.user_id == uid)
        .order_by(OrgUnit.code)
    ).all()
    titles = dict(session.exec(select(CourseVersion.id, CourseVersion.title)).all())
    courses = dict(session.exec(select(Course.id, Course.slug)).all())
    scenarios = dict(session.exec(select(Scenario.id, Scenario.slug)).all())
    cycles = {c.id: c for c in session.exec(select(PulseCycle)).all()}
    programmes = dict(session.exec(select(PulseProgramme.id, PulseProgramme.name)).all())

    def cycle_ref(cycle_id: int) -> dict:
        cycle = cycles.get(cycle_id)
        return {
            "cycle_id": cycle_id,
            "period": cycle and cycle.period,
            "programme": cycle and programmes.get(cycle.programme_id),
        }

    def rows(model, *where):
        return session.exec(select(model).where(*where)).all()

    attempts = rows(QuizAttempt, QuizAttempt.user_id == uid)
    throttle = person.email and session.get(LoginThrottle, person.email)
    unit_path = [int(i) for i in unit.path.strip("/").split("/") if i] + [unit.id] if unit else []
    return {
        "about": _(
            "Everything trainer stores about %(email)s, as of %(when)s (GDPR Article 15).",
            email=person.identifier,
            when=(now or utcnow()).isoformat(timespec="seconds"),
        ),
        "pulse_answers": str(PULSE_ANSWERS_NOT_INCLUDED),
        "account": {
            **_dump(person, {"password_hash", "session_token", "unit_id"}),
            "roles": sorted(person.role_set),
            "password_set": person.password_hash is not None,
            "unit": unit and {"code": unit.code, "name": unit.name},
        },
        "managed_units": [{"code": u.code, "name": u.name} for u in managed],
        "from_the_company_directory": [_dump(d) for d in rows(ScimUser, ScimUser.user_id == uid)],
        "directory_groups": list(
            session.exec(
                select(ScimGroup.display_name)
                .join(ScimGroupMember, col(ScimGroupMember.group_id) == ScimGroup.id)
                .where(ScimGroupMember.user_id == uid)
                .order_by(ScimGroup.display_name)
            )
        ),
        "learning": {
            "courses": [
                {**_dump(e), "course": courses.get(e.course_id), "title": titles.get(e.version_id)}
                for e in rows(Enrolment, Enrolment.user_id == uid)
            ],
            "quiz_attempts": [{**_dump(a), "title": titles.get(a.version_id)} for a in attempts],
            "certificates": [
                {**_dump(c), "title": titles.get(c.version_id)}
                for c in rows(Certificate, Certificate.user_id == uid)
            ],
            "assignments_for_you": [
                {"course": courses.get(a.course_id), "due_on": a.due_on.isoformat()}
                for a in rows(Assignment, col(Assignment.unit_id).in_(unit_path))
            ],
            "assignments_you_made": [
                _dump(a) for a in rows(Assignment, Assignment.assigned_by_id == uid)
            ],
            "overdue_reminders": [
                _dump(r) for r in rows(ReminderSent, ReminderSent.user_id == uid)
            ],
        },
        "scenarios": {
            "plays": [
                {**_dump(p), "scenario": scenarios.get(p.scenario_id)}
                for p in rows(Play, Play.user_id == uid)
            ],
            "practice_items": [_dump(r) for r in rows(ReserveItem, ReserveItem.user_id == uid)],
            "xapi_actor_name": (actor.name if (actor := session.get(ScenarioActor, uid)) else None),
        },
        "pulse": {
            "invitations": [
                cycle_ref(i.cycle_id)
                for i in rows(PulseInvitation, PulseInvitation.employee_id == uid)
            ],
            "participation": [
                cycle_ref(p.survey_id)
                for p in rows(SurveyParticipation, SurveyParticipation.employee_id == uid)
            ],
            "commitments_you_marked": [
                v.commitment_id for v in rows(CommitmentVoter, CommitmentVoter.employee_id == uid)
            ],
            "commitments_you_made": [
                _dump(c) for c in rows(Commitment, Commitment.created_by == uid)
            ],
            "actions_you_own": [_dump(c) for c in rows(Commitment, Commitment.owner_id == uid)],
            "action_updates_you_wrote": [
                _dump(u) for u in rows(ActionUpdate, ActionUpdate.by_id == uid)
            ],
        },
        "fixes_you_logged": [_dump(f, {"user_id"}) for f in rows(Fix, Fix.user_id == uid)],
        "customer_focus_ratings": [
            _dump(r) for r in rows(CustomerFocusRating, CustomerFocusRating.rater_id == uid)
        ],
        "api_tokens_you_created": [
            _dump(t, {"token_hash"}) for t in rows(ApiToken, ApiToken.created_by_id == uid)
        ],
        "sign_in_throttle": throttle and _dump(throttle),
        # The code is not stored, only its hash, which is left out too.
        "sign_in_cards": [
            _dump(c, {"code_hash"}) for c in rows(SignInCard, SignInCard.user_id == uid)
        ],
        # Without the text: an invitation or reset link in it would let the reader sign in.
        "emails_to_you": [
            _dump(m, {"body", "claim", "claimed_until", "key"})
            for m in rows(OutboxMessage, OutboxMessage.recipient == (person.email or ""))
        ],
        "audit_entries_about_you": [
            _audit_dict(e)
            for e in rows(
                AuditEntry, AuditEntry.target_type == "person", AuditEntry.target_id == uid
            )
        ],
        "audit_entries_by_you": [
            _audit_dict(e) for e in rows(AuditEntry, AuditEntry.actor_id == uid)
        ],
    }


def _audit_dict(entry: AuditEntry) -> dict:
    return {**_dump(entry, {"detail"}), "detail": json.loads(entry.detail)}


def export_json(person: User, *, session: Session) -> str:
    return json.dumps(export_person(person, session=session), indent=2, ensure_ascii=False)


# Erasure (Art. 17) ---------------------------------------------------------------------------


def check_erasable(person: User, *, session: Session, by: User | None) -> None:
    """Raise PrivacyError if `by` may not erase `person` (None: the retention schedule)."""
    if person.erased_at is not None:
        raise PrivacyError(_("This person has already been erased."))
    if by is not None and by.id == person.id:
        raise PrivacyError(_("You cannot erase yourself. Ask another HR person or an admin."))
    if person.has_role(Role.ADMIN):
        if by is not None and not by.has_role(Role.ADMIN):
            raise PrivacyError(_("Only an admin can erase an admin."))
        other_admins = session.exec(
            select(sa.func.count())
            .select_from(User)
            .where(
                col(User.roles).contains(Role.ADMIN.value),
                col(User.active).is_(True),
                col(User.erased_at).is_(None),
                User.id != person.id,
            )
        ).one()
        if not other_admins:
            raise PrivacyError(
                _("This is the last active admin. Make someone else an admin first.")
            )


@dataclass
class Erasure:
    removed: dict[str, int]
    kept: list[str]


def erase_person(
    person: User, *, session: Session, by: User | str | None, now: datetime | None = None
) -> Erasure:
    """Remove `person`'s personal data, keep what must be kept, and log what was removed.

    The account row stays as an anonymous placeholder (no name, email, password, roles or
    unit) so that anonymous counts built on it, such as scenario reports, do not change.
    """
    check_erasable(person, session=session, by=by if isinstance(by, User) else None)
    now = now or utcnow()
    uid = person.id
    keep_certificates = bool(current_app.config.get("ERASE_KEEP_CERTIFICATES"))
    removed: dict[str, int] = {}

    def delete(label: str, table, *where) -> None:
        removed[label] = session.execute(sa.delete(table).where(*where)).rowcount

    attempt_ids = select(QuizAttempt.id).where(QuizAttempt.user_id == uid)
    delete("quiz answers", QuizAnswer, col(QuizAnswer.attempt_id).in_(attempt_ids))
    delete("quiz attempts", QuizAttempt, QuizAttempt.user_id == uid)
    delete("course progress", Enrolment, Enrolment.user_id == uid)
    delete("course reminders", ReminderSent, ReminderSent.user_id == uid)
    if not keep_certificates:
        delete("certificates", Certificate, Certificate.user_id == uid)
    delete("scenario practice items", ReserveItem, ReserveItem.user_id == uid)
    delete("fixes you logged", Fix, Fix.user_id == uid)
    delete("xAPI actor name", ScenarioActor, ScenarioActor.user_id == uid)
    delete("pulse invitations", PulseInvitation, PulseInvitation.employee_id == uid)
    delete("pulse participation", SurveyParticipation, SurveyParticipation.employee_id == uid)
    delete("commitment marks (who marked)", CommitmentVoter, CommitmentVoter.employee_id == uid)
    delete("managed units", ManagedUnit, ManagedUnit.user_id == uid)
    delete("directory names (SCIM)", ScimUser, ScimUser.user_id == uid)
    delete("directory group memberships (SCIM)", ScimGroupMember, ScimGroupMember.user_id == uid)
    delete("sign-in cards", SignInCard, SignInCard.user_id == uid)
    delete("action plan reminders", ActionNudge, ActionNudge.user_id == uid)
    if person.email:
        delete("sign-in throttle", LoginThrottle, LoginThrottle.email == person.email)
        delete("emails", OutboxMessage, OutboxMessage.recipient == person.email)
    for label, model, column in (
        ("assignments (who assigned)", Assignment, "assigned_by_id"),
        ("API tokens (who created)", ApiToken, "created_by_id"),
        ("commitments (who wrote)", Commitment, "created_by"),
        ("actions (who owns)", Commitment, "owner_id"),
        ("action updates (who wrote)", ActionUpdate, "by_id"),
        ("directory managers (SCIM)", ScimUser, "manager_id"),
    ):
        removed[label] = session.execute(
            sa.update(model).where(getattr(model, column) == uid).values({column: None})
        ).rowcount
    label = erased_label(uid)
    removed["name in the audit log"] = (
        session.execute(
            sa.update(AuditEntry)
            .where(AuditEntry.target_type == "person", AuditEntry.target_id == uid)
            .values(target_label=label)
        ).rowcount
        + session.execute(
            sa.update(AuditEntry).where(AuditEntry.actor_id == uid).values(actor_label=label)
        ).rowcount
    )

    certificates = session.exec(
        select(sa.func.count()).select_from(Certificate).where(Certificate.user_id == uid)
    ).one()
    plays = session.exec(select(sa.func.count()).select_from(Play).where(Play.user_id == uid)).one()
    ratings = session.exec(
        select(sa.func.count())
        .select_from(CustomerFocusRating)
        .where(CustomerFocusRating.rater_id == uid)
    ).one()
    kept = [
        "anonymous pulse answers and results (never linked to anyone)",
        f"{plays} scenario plays, for anonymous counts, now linked to no one",
    ]
    if ratings:
        kept.append(
            f"{ratings} customer focus ratings of teams, for the dashboard, now linked to no one"
        )
    if certificates:
        kept.append(f"{certificates} certificates, with the name on them (ERASE_KEEP_CERTIFICATES)")
    if not certificates:
        person.name = ERASED_NAME
    person.email = f"erased-{uid}@{ERASED_DOMAIN}"
    person.employee_number = None
    person.password_hash = None
    person.oidc_subject = None  # the link to the single sign-on account
    person.session_token = new_session_token()  # signs out every session
    person.roles = ""
    person.unit_id = None
    person.active = False
    person.inactive_since = None
    person.erased_at = now
    session.add(person)
    removed["account (name, email, password, sessions, roles, unit)"] = 1
    audit.record(
        by,
        "person.erase",
        ("person", uid, label),
        {"removed": {k: v for k, v in removed.items() if v}, "kept": kept},
        session=session,
    )
    session.flush()
    return Erasure({k: v for k, v in removed.items() if v}, kept)


# Retention schedule --------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRule:
    config_key: str  # days to keep; None switches the rule off
    purge: Callable[..., int]  # purge(*, session, cutoff, now) -> rows deleted


def add_retention_rule(app: Flask, config_key: str, purge: Callable[..., int]) -> None:
    """Have the retention job call `purge(session=, cutoff=, now=)`, where cutoff is now minus
    `app.config[config_key]` days; features add their own old data this way."""
    app.extensions.setdefault("trainer.retention", []).append(RetentionRule(config_key, purge))


def retention_rules(app: Flask) -> list[RetentionRule]:
    return list(app.extensions.get("trainer.retention", []))


def purge_invitations(*, session: Session, cutoff: datetime, now: datetime) -> int:
    """Who was invited to a survey, once its cycle closed before the cutoff."""
    old = select(PulseCycle.id).where(
        PulseCycle.status == CycleStatus.CLOSED, PulseCycle.closes_at < cutoff
    )
    return session.execute(
        sa.delete(PulseInvitation).where(col(PulseInvitation.cycle_id).in_(old))
    ).rowcount


def purge_participation(*, session: Session, cutoff: datetime, now: datetime) -> int:
    """Who took part, for cycles whose window ended before the cutoff. Closing a cycle
    already reduces these rows to counts; this catches any left behind."""
    old = select(PulseCycle.id).where(PulseCycle.closes_at < cutoff)
    return session.execute(
        sa.delete(SurveyParticipation).where(col(SurveyParticipation.survey_id).in_(old))
    ).rowcount


def purge_login_throttle(*, session: Session, cutoff: datetime, now: datetime) -> int:
    """Failed sign-in counts last touched before the cutoff and no longer locking anyone."""
    return session.execute(
        sa.delete(LoginThrottle).where(
            sa.or_(
                col(LoginThrottle.last_failure_at).is_(None),
                col(LoginThrottle.last_failure_at) < cutoff,
            ),
            sa.or_(
                col(LoginThrottle.locked_until).is_(None), col(LoginThrottle.locked_until) < now
            ),
        )
    ).rowcount


def purge_audit(*, session: Session, cutoff: datetime, now: datetime) -> int:
    return session.execute(sa.delete(AuditEntry).where(AuditEntry.at < cutoff)).rowcount


def purge_inactive_people(*, session: Session, cutoff: datetime, now: datetime) -> int:
    """Erase people whose account has been inactive since before the cutoff.

    An account's inactive time starts when it is deactivated (for accounts deactivated before
    that was noted, when this job first sees it inactive), and is cleared if it is made active
    again.
    """
    session.execute(
        sa.update(User)
        .where(
            col(User.active).is_(False),
            col(User.inactive_since).is_(None),
            col(User.erased_at).is_(None),
        )
        .values(inactive_since=now)
    )
    session.execute(
        sa.update(User)
        .where(col(User.active).is_(True), col(User.inactive_since).is_not(None))
        .values(inactive_since=None)
    )
    erased = 0
    for person in session.exec(
        select(User).where(col(User.inactive_since) < cutoff, col(User.erased_at).is_(None))
    ).all():
        try:
            erase_person(person, session=session, by="retention schedule", now=now)
        except PrivacyError as exc:
            log.info("Retention kept inactive person #%s: %s", person.id, exc)
        else:
            erased += 1
    return erased


def purge_outbox(*, session: Session, cutoff: datetime, now: datetime) -> int:
    """Delete sent and failed emails older than the cutoff; queued ones wait to be sent."""
    return session.execute(
        sa.delete(OutboxMessage).where(
            col(OutboxMessage.status).in_((OutboxStatus.SENT, OutboxStatus.FAILED)),
            OutboxMessage.created_at < cutoff,
        )
    ).rowcount


DEFAULT_RULES = [
    ("RETENTION_OUTBOX_DAYS", purge_outbox),
    ("RETENTION_INVITATIONS_DAYS", purge_invitations),
    ("RETENTION_PARTICIPATION_DAYS", purge_participation),
    ("RETENTION_LOGIN_THROTTLE_DAYS", purge_login_throttle),
    ("RETENTION_AUDIT_DAYS", purge_audit),
    ("RETENTION_INACTIVE_PEOPLE_DAYS", purge_inactive_people),
]


def enforce_retention(*, session: Session, now: datetime) -> dict[str, int]:
    """Run every retention rule; log a summary in the audit log when anything was deleted."""
    done: dict[str, int] = {}
    for rule in retention_rules(current_app):
        days = current_app.config.get(rule.config_key)
        if days is None:
            continue
        done[rule.config_key] = rule.purge(
            session=session, cutoff=now - timedelta(days=days), now=now
        )
    deleted = {k: v for k, v in done.items() if v}
    if deleted:
        audit.record("retention schedule", "retention.purge", None, deleted, session=session)
    return done
