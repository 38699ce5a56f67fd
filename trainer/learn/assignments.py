"""Assignments of courses to units, and reminders to the people whose courses are overdue."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from trainer.auth.models import User
from trainer.i18n import day, language_of
from trainer.learn.models import Assignment, Course, CourseVersion, Enrolment, ReminderSent
from trainer.learn.services import LearnError, unit_paths, version_titles
from trainer.org.models import OrgUnit
from trainer.util import external_url

REMINDER_EVERY_DAYS = 7  # remind an overdue person again after a week, never twice a day
REMINDER_WINDOW_DAYS = 42  # stop reminding six weeks after the due date


def create_assignment(
    *, session: Session, course: Course, unit: OrgUnit, due_on: date, assigned_by: User | None
) -> Assignment:
    """Assign a course to a unit and everyone below it, due on a date."""
    if course.retired:
        raise LearnError(_("This course is no longer offered."))
    duplicate = session.exec(
        select(Assignment).where(
            Assignment.course_id == course.id,
            Assignment.unit_id == unit.id,
            Assignment.due_on == due_on,
        )
    ).first()
    if duplicate:
        raise LearnError(_("This course is already assigned to this unit with that due date."))
    assignment = Assignment(
        course_id=course.id,
        unit_id=unit.id,
        due_on=due_on,
        assigned_by_id=assigned_by.id if assigned_by else None,
    )
    session.add(assignment)
    session.flush()
    return assignment


def delete_assignment(*, session: Session, assignment: Assignment) -> None:
    """Withdraw an assignment (with its reminder log); people's progress is untouched."""
    for reminder in session.exec(
        select(ReminderSent).where(ReminderSent.assignment_id == assignment.id)
    ).all():
        session.delete(reminder)
    session.delete(assignment)
    session.flush()


def assignments_in_scope(*, session: Session, scope: set[int] | None) -> list[dict]:
    """Return the assignments that cover units in scope (all when scope is None), newest due
    first: those made on a unit in scope, and those made higher up, on a unit above one in
    scope (`from_above`: the manager sees them but cannot withdraw them)."""
    query = (
        select(Assignment, Course, OrgUnit)
        .join(Course, Course.id == Assignment.course_id)
        .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
        .order_by(col(Assignment.due_on).desc(), OrgUnit.code)
    )
    above: set[int] = set()
    if scope is not None:
        paths = session.exec(select(OrgUnit.path).where(col(OrgUnit.id).in_(scope or {-1})))
        above = {int(i) for path in paths.all() for i in path.strip("/").split("/") if i}
        above -= scope
        query = query.where(col(Assignment.unit_id).in_(scope | above or {-1}))
    rows = session.exec(query).all()
    titles = version_titles(
        session=session, version_ids={course.current_version_id for _, course, _ in rows}
    )
    return [
        {
            "assignment": a,
            "course": c,
            "title": titles.get(c.current_version_id, c.slug),
            "unit": u,
            "from_above": u.id in above,
        }
        for a, c, u in rows
    ]


def offered_courses(*, session: Session) -> list[tuple[Course, CourseVersion]]:
    """Return the courses on offer with their current versions, by title."""
    rows = session.exec(
        select(Course, CourseVersion)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .where(col(Course.retired).is_(False))
    ).all()
    return sorted(rows, key=lambda r: r[1].title.lower())


def send_overdue_reminders(*, session: Session, now: datetime) -> int:
    """Queue one email per person with overdue courses, listing them; return how many.

    A person is reminded about an assignment at most once every REMINDER_EVERY_DAYS days and
    only for REMINDER_WINDOW_DAYS after its due date. The reminder's log rows and its outbox
    message are written in the job's transaction, so they stand or fall together; the outbox
    retries a failed send, and running twice the same day queues nothing twice.
    """

    from trainer.mail import queue_mail

    today = now.date()
    window = today - timedelta(days=REMINDER_WINDOW_DAYS)
    assignments = session.exec(
        select(Assignment)
        .join(Course)
        .where(
            Assignment.due_on < today, Assignment.due_on >= window, col(Course.retired).is_(False)
        )
    ).all()
    if not assignments:
        return 0
    recent = {
        (a, u)
        for a, u in session.exec(
            select(ReminderSent.assignment_id, ReminderSent.user_id).where(
                ReminderSent.sent_on > today - timedelta(days=REMINDER_EVERY_DAYS)
            )
        ).all()
    }
    paths = unit_paths(session=session)
    done = {
        (u, c)
        for u, c in session.exec(
            select(Enrolment.user_id, Enrolment.course_id).where(
                col(Enrolment.completed_at).is_not(None)
            )
        ).all()
    }
    by_unit = defaultdict(list)
    for assignment in assignments:
        by_unit[assignment.unit_id].append(assignment)
    todo: dict[int, dict[int, Assignment]] = {}  # user -> course -> earliest assignment
    for user_id, unit_id in session.exec(
        select(User.id, User.unit_id).where(
            col(User.active).is_(True), col(User.unit_id).is_not(None)
        )
    ).all():
        for ancestor in paths.get(unit_id, []):
            for a in by_unit.get(ancestor, ()):
                if (user_id, a.course_id) in done or (a.id, user_id) in recent:
                    continue
                current = todo.get(user_id, {}).get(a.course_id)
                if current is None or a.due_on < current.due_on:
                    todo.setdefault(user_id, {})[a.course_id] = a
    if not todo:
        return 0
    titles = {
        c.id: t
        for c, t in session.exec(
            select(Course, CourseVersion.title).join(
                CourseVersion, CourseVersion.id == Course.current_version_id
            )
        ).all()
    }
    link = external_url("learn.index")
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(todo))).all()}
    queued = 0
    for user_id, by_course in todo.items():
        user = users[user_id]
        session.add_all(
            ReminderSent(assignment_id=a.id, user_id=user_id, sent_on=today)
            for a in by_course.values()
        )
        with force_locale(language_of(user)):
            lines = [
                _(
                    "- %(course)s, due %(day)s",
                    course=titles.get(course_id) or _("A course"),
                    day=day(a.due_on, "long"),
                )
                for course_id, a in sorted(by_course.items(), key=lambda i: i[1].due_on)
            ]
            queued += queue_mail(
                session=session,
                key=f"overdue:{today}:{user_id}",
                to=user.email,
                subject=_("A course you were asked to complete is overdue"),
                body=_(
                    "Hello %(name)s,\n\nThese courses were due and are not completed yet:\n"
                    "%(courses)s\n\nYou can pick up where you left off here:\n%(link)s\n",
                    name=user.name,
                    courses="\n".join(lines),
                    link=link,
                ),
            )
    return queued
