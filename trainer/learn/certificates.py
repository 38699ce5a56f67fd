"""Certificates: issue on completion, expiry, reminders before it, and renewal after it."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from trainer.auth.models import User
from trainer.i18n import day, language_of
from trainer.learn.models import Certificate, CertificateState, Course, CourseVersion, Enrolment
from trainer.learn.services import unit_paths, version_titles
from trainer.org.models import OrgUnit
from trainer.org.services import ordered_tree
from trainer.util import external_url, utcnow

CERTIFICATE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I look-alikes
EXPIRY_REMINDER_DAYS = (30, 7)  # remind a learner this many days before a certificate expires
RENEWAL_DAYS = 30  # at expiry the course is re-assigned to the person, due this much later


def new_certificate_code() -> str:
    """Return a random code like 7K4Q-M2XD-9PLA (60 bits; 32 letters, so no modulo bias)."""
    raw = "".join(CERTIFICATE_ALPHABET[b % 32] for b in secrets.token_bytes(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later (the month's last day if it is shorter)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def expiry_for(version: CourseVersion, issued: datetime) -> date | None:
    months = version.certificate_valid_months if version else None
    return add_months(issued.date(), months) if months else None


def renewable(certificate: Certificate, today: date) -> bool:
    """Whether passing again renews the certificate: it is due for renewal, has expired, or
    expires within the first reminder's window."""
    if certificate.expires_on is None:
        return False
    return (
        certificate.renewal_due_on is not None
        or (certificate.expires_on - today).days <= EXPIRY_REMINDER_DAYS[0]
    )


def issue_certificate(
    *, session: Session, enrolment: Enrolment, best: float | None, now: datetime | None = None
) -> Certificate:
    """Create the learner's certificate on first completion; later keep its score the best.

    A certificate that expires (the course declares certificate_valid_months) is renewed by
    completing the course again once it is due: it then runs from today, on today's version.
    """
    now = now or utcnow()
    version = session.get(CourseVersion, enrolment.version_id)
    certificate = session.exec(
        select(Certificate).where(
            Certificate.user_id == enrolment.user_id, Certificate.course_id == enrolment.course_id
        )
    ).first()
    if certificate is None:
        certificate = Certificate(
            code=new_certificate_code(),
            user_id=enrolment.user_id,
            course_id=enrolment.course_id,
            version_id=enrolment.version_id,
            issued_at=now,
            score=best,
            expires_on=expiry_for(version, now),
        )
    elif renewable(certificate, now.date()):
        certificate.issued_at, certificate.version_id = now, enrolment.version_id
        certificate.expires_on = expiry_for(version, now)
        certificate.reminded_30_on = certificate.reminded_7_on = None
        certificate.renewal_due_on = None
        if best is not None:
            certificate.score = best
    elif best is not None and (certificate.score is None or best > certificate.score):
        certificate.score = best
    session.add(certificate)
    return certificate


def send_recertification_notices(*, session: Session, now: datetime) -> int:
    """Remind people of certificates about to expire, and re-assign the expired ones.

    A certificate that expires (CourseVersion.certificate_valid_months) brings one email 30
    days before its expiry and one 7 days before; each is recorded on the certificate, so it
    goes once. On the day it expires the course is re-assigned to the person, due
    RENEWAL_DAYS later, on the course's current version, and they are told so. The records and
    the outbox messages are written in the job's transaction; running late catches up, and
    running twice changes nothing. Return the number of messages queued.
    """
    from trainer.mail import queue_mail

    today = now.date()
    horizon = today + timedelta(days=max(EXPIRY_REMINDER_DAYS))
    rows = session.exec(
        select(Certificate, User, Course)
        .join(User, User.id == Certificate.user_id)
        .join(Course, Course.id == Certificate.course_id)
        .where(
            col(Certificate.expires_on).is_not(None),
            Certificate.expires_on <= horizon,
            col(Certificate.renewal_due_on).is_(None),
            col(User.active).is_(True),
            col(Course.retired).is_(False),
        )
        .order_by(Certificate.id)
    ).all()
    titles = version_titles(
        session=session, version_ids={course.current_version_id for _, _, course in rows}
    )
    queued = 0
    for certificate, user, course in rows:
        title = titles.get(course.current_version_id, course.slug)
        link = external_url("learn.course", course_slug=course.slug)
        expires = certificate.expires_on
        days_left = (expires - today).days
        key = f"recert:{certificate.id}:{certificate.expires_on}"
        if days_left <= 0:
            certificate.renewal_due_on = today + timedelta(days=RENEWAL_DAYS)
            _renew_on_current_version(session=session, certificate=certificate, course=course)
            with force_locale(language_of(user)):
                queued += queue_mail(
                    session=session,
                    key=f"{key}:expired",
                    to=user.email,
                    subject=_(
                        "Your certificate for %(course)s has expired: please renew it",
                        course=title,
                    ),
                    body=_(
                        "Hello %(name)s,\n\nYour certificate for %(course)s expired on "
                        "%(expired)s. The course has been assigned to you again: please complete "
                        "it by %(due)s.\n\nStart here:\n%(link)s\n",
                        name=user.name,
                        course=title,
                        expired=day(certificate.expires_on, "long"),
                        due=day(certificate.renewal_due_on, "long"),
                        link=link,
                    ),
                )
        elif days_left <= EXPIRY_REMINDER_DAYS[1] and certificate.reminded_7_on is None:
            certificate.reminded_7_on = today
            queued += _queue_expiry_reminder(
                session,
                queue_mail,
                f"{key}:7",
                user,
                title,
                certificate.expires_on,
                days_left,
                link,
            )
        elif (
            EXPIRY_REMINDER_DAYS[1] < days_left <= EXPIRY_REMINDER_DAYS[0]
            and certificate.reminded_30_on is None
        ):
            certificate.reminded_30_on = today
            queued += _queue_expiry_reminder(
                session,
                queue_mail,
                f"{key}:30",
                user,
                title,
                certificate.expires_on,
                days_left,
                link,
            )
        else:
            continue
        session.add(certificate)
    return queued


def _queue_expiry_reminder(session, queue_mail, key, user, title, expires, days_left, link) -> bool:
    with force_locale(language_of(user)):
        return queue_mail(
            session=session,
            key=key,
            to=user.email,
            subject=ngettext(
                "Your certificate for %(course)s expires in %(num)d day",
                "Your certificate for %(course)s expires in %(num)d days",
                days_left,
                course=title,
            ),
            body=_(
                "Hello %(name)s,\n\nYour certificate for %(course)s is valid until %(day)s. To "
                "keep it, take the course's quiz again before then; passing renews it from that "
                "day.\n\n%(link)s\n",
                name=user.name,
                course=title,
                day=day(expires, "long"),
                link=link,
            ),
        )


def _renew_on_current_version(
    *, session: Session, certificate: Certificate, course: Course
) -> None:
    """Move the person's enrolment to the course's current version, for the renewal."""
    enrolment = session.exec(
        select(Enrolment).where(
            Enrolment.user_id == certificate.user_id, Enrolment.course_id == certificate.course_id
        )
    ).first()
    if enrolment is None or course.current_version_id in (None, enrolment.version_id):
        return
    enrolment.version_id, enrolment.last_lesson = course.current_version_id, 1
    enrolment.lessons_done = []
    session.add(enrolment)


@dataclass
class CertificateCounts:
    """Certificates that expire, held by people in a unit and its subtree."""

    unit: OrgUnit
    valid: int = 0  # valid for more than 30 days
    expiring: int = 0  # valid, but expires within 30 days
    expired: int = 0  # expired and not renewed yet

    @property
    def total(self) -> int:
        return self.valid + self.expiring + self.expired


def certificate_state(certificate: Certificate, today: date) -> CertificateState:
    """Return whether a certificate never expires, is valid, expires within 30 days or has."""
    if certificate.expires_on is None:
        return CertificateState.NEVER_EXPIRES
    days_left = (certificate.expires_on - today).days
    if days_left <= 0:
        return CertificateState.EXPIRED
    if days_left <= EXPIRY_REMINDER_DAYS[0]:
        return CertificateState.EXPIRING
    return CertificateState.VALID


def _expiring_certificates(*, session: Session, members: set[int] | None):
    query = (
        select(Certificate, User.unit_id, User.name)
        .join(User, User.id == Certificate.user_id)
        .join(Course, Course.id == Certificate.course_id)
        .where(
            col(Certificate.expires_on).is_not(None),
            col(User.active).is_(True),
            col(User.unit_id).is_not(None),
            col(Course.retired).is_(False),
        )
    )
    if members is not None:
        query = query.where(col(User.unit_id).in_(members))
    return session.exec(query).all()


def certificate_counts(
    *, session: Session, scope: set[int] | None, today: date
) -> list[CertificateCounts]:
    """Count expiring certificates per unit in scope (each unit with its subtree)."""
    summaries = {
        unit.id: CertificateCounts(unit)
        for unit, _depth, _people in ordered_tree(session=session)
        if scope is None or unit.id in scope
    }
    paths = unit_paths(session=session)
    for certificate, unit_id, _name in _expiring_certificates(session=session, members=scope):
        state = certificate_state(certificate, today)
        for ancestor in paths.get(unit_id, []):
            counts = summaries.get(ancestor)
            if counts is not None:
                setattr(counts, state, getattr(counts, state) + 1)
    return list(summaries.values())


def unit_certificates(
    *, session: Session, unit: OrgUnit, today: date, limit: int = 300
) -> list[dict]:
    """List the expired and soon-expiring certificates of people in a unit's subtree, the
    most urgent first."""
    paths = unit_paths(session=session)
    members = {u for u, path in paths.items() if unit.id in path}
    courses = {c.id: c for c in session.exec(select(Course)).all()}
    titles = version_titles(
        session=session, version_ids={c.current_version_id for c in courses.values()}
    )
    codes = dict(session.exec(select(OrgUnit.id, OrgUnit.code)).all())
    rows = []
    for certificate, unit_id, name in _expiring_certificates(session=session, members=members):
        state = certificate_state(certificate, today)
        if state in (CertificateState.EXPIRED, CertificateState.EXPIRING):
            course = courses[certificate.course_id]
            rows.append(
                {
                    "name": name,
                    "unit_code": codes.get(unit_id, ""),
                    "course": titles.get(course.current_version_id, course.slug),
                    "expires_on": certificate.expires_on,
                    "state": state,
                    "renewal_due_on": certificate.renewal_due_on,
                }
            )
    rows.sort(key=lambda r: (r["state"] != CertificateState.EXPIRED, r["expires_on"], r["name"]))
    return rows[:limit]
