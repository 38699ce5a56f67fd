"""Courses: the error type and the lookups every part of the learning package shares.

The rest lives by topic: sync (content into the database), progress (a learner's courses),
quizzes, certificates (issue, expiry and renewal), assignments (and overdue reminders) and
reports (completion and item analysis).
"""

from sqlmodel import Session, col, select

from trainer.auth.models import User
from trainer.learn.models import Certificate, Course, CourseVersion, Enrolment
from trainer.org.models import OrgUnit


class LearnError(ValueError):
    """Something a person asked for that cannot be done; the message is for them."""


def course_by_slug(*, session: Session, slug: str) -> Course | None:
    return session.exec(select(Course).where(Course.slug == slug)).first()


def enrolment_for(*, session: Session, user: User, course: Course) -> Enrolment | None:
    return session.exec(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    ).first()


def version_for(
    *, session: Session, course: Course, enrolment: Enrolment | None
) -> CourseVersion | None:
    """Return the version a learner sees: the one they started, else the current one."""
    version_id = enrolment.version_id if enrolment else course.current_version_id
    return session.get(CourseVersion, version_id) if version_id else None


def certificate_for(*, session: Session, user: User, course: Course) -> Certificate | None:
    return session.exec(
        select(Certificate).where(
            Certificate.user_id == user.id, Certificate.course_id == course.id
        )
    ).first()


def certificate_by_code(*, session: Session, code: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.code == code.strip().upper())).first()


def unit_paths(*, session: Session) -> dict[int, list[int]]:
    """Return unit id -> the ids from the top of the tree down to and including the unit."""
    return {
        unit_id: [int(i) for i in path.strip("/").split("/") if i] + [unit_id]
        for unit_id, path in session.exec(select(OrgUnit.id, OrgUnit.path)).all()
    }


def unit_and_ancestor_ids(*, session: Session, unit_id: int | None) -> list[int]:
    if unit_id is None:
        return []
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        return []
    return [int(i) for i in unit.path.strip("/").split("/") if i] + [unit.id]


def version_titles(*, session: Session, version_ids: set[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    return dict(
        session.exec(
            select(CourseVersion.id, CourseVersion.title).where(
                col(CourseVersion.id).in_(version_ids)
            )
        ).all()
    )
