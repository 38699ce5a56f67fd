"""A learner's courses: starting, reading lessons, progress, due dates and the learning page."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask_babel import gettext as _
from markupsafe import Markup
from sqlmodel import Session, col, select

from trainer.auth.models import User
from trainer.content import markdown_to_html
from trainer.learn.certificates import issue_certificate
from trainer.learn.models import (
    Assignment,
    Certificate,
    Course,
    CourseStatus,
    CourseVersion,
    Enrolment,
)
from trainer.learn.services import LearnError, enrolment_for, unit_and_ancestor_ids
from trainer.learn.variants import localized
from trainer.util import utcnow


def start_course(*, session: Session, user: User, course: Course) -> Enrolment:
    """Enrol `user` in the current version of `course` (or return their enrolment)."""
    enrolment = enrolment_for(session=session, user=user, course=course)
    if enrolment is not None:
        return enrolment
    if course.retired or course.current_version_id is None:
        raise LearnError(_("This course is no longer offered."))
    enrolment = Enrolment(
        user_id=user.id, course_id=course.id, version_id=course.current_version_id
    )
    session.add(enrolment)
    session.flush()
    return enrolment


def has_quiz(version: CourseVersion) -> bool:
    return any(q["type"] != "description" for q in version.questions)


def complete_lesson(
    *, session: Session, enrolment: Enrolment, version: CourseVersion, lesson_no: int
) -> None:
    """Record that a lesson was read; a course without a quiz completes on its last lesson."""
    count = len(version.lessons)
    if not 1 <= lesson_no <= count:
        raise LearnError(_("There is no such lesson."))
    enrolment.lessons_done = sorted({*enrolment.lessons_done, lesson_no})
    enrolment.last_lesson = min(lesson_no + 1, count)
    if not has_quiz(version) and len(enrolment.lessons_done) == count:
        if enrolment.completed_at is None:
            enrolment.completed_at = utcnow()
            issue_certificate(session=session, enrolment=enrolment, best=None)
        elif lesson_no == count:  # reading the last lesson again renews a certificate due
            issue_certificate(session=session, enrolment=enrolment, best=None)
    session.add(enrolment)


def lesson_html(version: CourseVersion, lesson_no: int) -> Markup:
    """Return a lesson's HTML, rendered once per course version (a version never changes)."""
    return _render_lesson(
        version.content_hash, lesson_no, version.lessons[lesson_no - 1]["markdown"]
    )


@lru_cache(maxsize=256)
def _render_lesson(content_hash: str, lesson_no: int, markdown: str) -> Markup:
    return markdown_to_html(markdown)


def progress_steps(version: CourseVersion, enrolment: Enrolment | None) -> tuple[int, int]:
    """Return (steps done, steps in all): one per lesson, plus one for passing the quiz."""
    total = len(version.lessons) + (1 if has_quiz(version) else 0)
    if enrolment is None:
        return 0, total
    done = len([n for n in enrolment.lessons_done if n <= len(version.lessons)])
    if has_quiz(version) and enrolment.completed_at is not None:
        done += 1
    return done, total


@dataclass
class CourseCard:
    """A course as one learner sees it on their learning page."""

    course: Course
    version: CourseVersion
    enrolment: Enrolment | None = None
    certificate: Certificate | None = None
    due_on: date | None = None

    @property
    def completed(self) -> bool:
        return (
            self.enrolment is not None
            and self.enrolment.completed_at is not None
            and not self.renewal_due
        )

    @property
    def renewal_due(self) -> bool:
        return self.certificate is not None and self.certificate.renewal_due_on is not None

    def status(self, today: date) -> CourseStatus:
        overdue = self.due_on is not None and self.due_on < today
        if self.completed:
            return CourseStatus.COMPLETED
        if self.renewal_due:
            return CourseStatus.OVERDUE if overdue else CourseStatus.RENEWAL_DUE
        if overdue:
            return CourseStatus.OVERDUE
        return CourseStatus.IN_PROGRESS if self.enrolment else CourseStatus.NOT_STARTED

    @property
    def steps(self) -> tuple[int, int]:
        return progress_steps(self.version, self.enrolment)


@dataclass
class MyLearning:
    assigned: list[CourseCard]  # due or done, earliest due first
    in_progress: list[CourseCard]  # started, not assigned, not completed
    completed: list[CourseCard]  # completed and not assigned
    catalogue: list[CourseCard]  # everything else on offer


def due_dates_for(*, session: Session, user: User) -> dict[int, date]:
    """Return course id -> earliest due date of the assignments that cover the user's unit
    (courses still on offer only).

    A certificate due for renewal counts as an assignment due on its renewal date; the
    assignments due before it expired were met by earning it.
    """
    units = unit_and_ancestor_ids(session=session, unit_id=user.unit_id)
    rows = (
        session.exec(
            select(Assignment.course_id, Assignment.due_on)
            .join(Course, Course.id == Assignment.course_id)
            .where(col(Assignment.unit_id).in_(units), col(Course.retired).is_(False))
        ).all()
        if units
        else []
    )
    renewals = renewals_due(session=session, user=user)
    due: dict[int, date] = {}
    for course_id, due_on in rows:
        expired_on = renewals.get(course_id, (None, None))[0]
        if expired_on is None or due_on >= expired_on:
            due[course_id] = min(due.get(course_id, due_on), due_on)
    for course_id, (_expired_on, renew_by) in renewals.items():
        due[course_id] = min(due.get(course_id, renew_by), renew_by)
    return due


def renewals_due(*, session: Session, user: User) -> dict[int, tuple[date, date]]:
    """Return course id -> (expiry, renew-by date) of `user`'s expired certificates."""
    return {
        course_id: (expires_on, renew_by)
        for course_id, expires_on, renew_by in session.exec(
            select(Certificate.course_id, Certificate.expires_on, Certificate.renewal_due_on)
            .join(Course, Course.id == Certificate.course_id)
            .where(
                Certificate.user_id == user.id,
                col(Certificate.renewal_due_on).is_not(None),
                col(Course.retired).is_(False),
            )
        ).all()
    }


def my_learning(*, session: Session, user: User, language: str = "en") -> MyLearning:
    """Sort every course into assigned, in progress, completed and the rest of the catalogue.

    Each card's version is in `language` when the course has a translation in it."""
    courses = {c.id: c for c in session.exec(select(Course)).all()}
    enrolments = {
        e.course_id: e
        for e in session.exec(select(Enrolment).where(Enrolment.user_id == user.id)).all()
    }
    certificates = {
        c.course_id: c
        for c in session.exec(select(Certificate).where(Certificate.user_id == user.id)).all()
    }
    due = due_dates_for(session=session, user=user)
    version_ids = {c.current_version_id for c in courses.values()} | {
        e.version_id for e in enrolments.values()
    }
    versions = {
        v.id: v
        for v in session.exec(
            select(CourseVersion).where(col(CourseVersion.id).in_(version_ids))
        ).all()
    }
    result = MyLearning([], [], [], [])
    for course in courses.values():
        enrolment = enrolments.get(course.id)
        if course.retired and enrolment is None:
            continue
        version = versions.get(enrolment.version_id if enrolment else course.current_version_id)
        if version is None:
            continue
        card = CourseCard(
            course,
            localized(version, language),
            enrolment,
            certificates.get(course.id),
            due.get(course.id),
        )
        if card.due_on and not course.retired:
            result.assigned.append(card)
        elif card.completed:
            result.completed.append(card)
        elif enrolment:
            result.in_progress.append(card)
        elif not course.retired:
            result.catalogue.append(card)
    result.assigned.sort(key=lambda c: (c.completed, c.due_on, c.version.title))
    for cards in (result.in_progress, result.completed, result.catalogue):
        cards.sort(key=lambda c: c.version.title.lower())
    return result


def next_course(*, session: Session, user: User, language: str = "en") -> CourseCard | None:
    """Return the course to suggest next: the earliest-due assigned course not yet completed,
    else one already started, else the first in the catalogue."""
    learning = my_learning(session=session, user=user, language=language)
    for card in learning.assigned:
        if not card.completed:
            return card
    return next(iter(learning.in_progress + learning.catalogue), None)


def learning_summary(*, session: Session, user: User, today: date) -> dict[str, int]:
    """Return counts of assigned courses that are due, overdue or done (for the home page)."""
    due = due_dates_for(session=session, user=user)
    done = set(
        session.exec(
            select(Enrolment.course_id).where(
                Enrolment.user_id == user.id, col(Enrolment.completed_at).is_not(None)
            )
        ).all()
    )
    done -= set(renewals_due(session=session, user=user))
    open_due = [d for course_id, d in due.items() if course_id not in done]
    return {
        "to_do": len(open_due),
        "overdue": sum(1 for d in open_due if d < today),
        "done": len(due) - len(open_due),
    }
