"""Training reports: who has which course due, completion per unit and quarter, and item
analysis of quiz answers."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlmodel import Session, col, func, select

from trainer.auth.models import User
from trainer.learn.models import (
    Assignment,
    Certificate,
    Course,
    CourseStatus,
    CourseVersion,
    Enrolment,
    QuizAnswer,
    QuizAttempt,
)
from trainer.learn.quizzes import describe_response, questions_of
from trainer.learn.services import unit_paths, version_titles
from trainer.org.models import OrgUnit
from trainer.org.services import ordered_tree
from trainer.util import quarter_bounds, quarter_of


class Due(NamedTuple):
    """One person's obligation: a course due on a date, and when they completed it."""

    user_id: int
    unit_id: int  # the person's own unit
    course_id: int
    due_on: date
    period: str  # the quarter of due_on
    completed_on: date | None

    @property
    def on_time(self) -> bool:
        return self.completed_on is not None and self.completed_on <= self.due_on

    def status(self, today: date) -> CourseStatus:
        if self.completed_on is not None:
            return CourseStatus.COMPLETED if self.on_time else CourseStatus.COMPLETED_LATE
        return CourseStatus.OVERDUE if self.due_on < today else CourseStatus.NOT_YET_DUE


def dues(
    *, session: Session, within: set[int] | None = None, period: str | None = None
) -> list[Due]:
    """Return who has which course due when: one row per (person, course, quarter).

    Active people whose unit lies in the subtree of an assigned unit are covered (the org as
    it is now). When several assignments give a person the same course in one quarter, the
    earliest due date counts. `within` limits people to these units; `period` to one quarter.
    """
    query = select(Assignment.unit_id, Assignment.course_id, Assignment.due_on)
    if period:
        start, end = quarter_bounds(period)
        query = query.where(Assignment.due_on >= start, Assignment.due_on <= end)
    by_unit: dict[int, list[tuple[int, date, str]]] = defaultdict(list)
    for unit_id, course_id, due_on in session.exec(query).all():
        by_unit[unit_id].append((course_id, due_on, quarter_of(due_on)))
    if not by_unit:
        return []
    paths = unit_paths(session=session)
    people_query = select(User.id, User.unit_id).where(
        col(User.active).is_(True), col(User.unit_id).is_not(None)
    )
    courses = {course_id for rows in by_unit.values() for course_id, _, _ in rows}
    completed_query = select(Enrolment.user_id, Enrolment.course_id, Enrolment.completed_at).where(
        col(Enrolment.completed_at).is_not(None), col(Enrolment.course_id).in_(courses)
    )
    if within is not None:  # read only these units' people and completions, not everyone's
        people_query = people_query.where(col(User.unit_id).in_(within))
        completed_query = completed_query.where(
            col(Enrolment.user_id).in_(select(User.id).where(col(User.unit_id).in_(within)))
        )
    people = session.exec(people_query).all()
    completed = {(u, c): at.date() for u, c, at in session.exec(completed_query).all()}
    earliest: dict[tuple[int, int, str], Due] = {}
    for user_id, unit_id in people:
        for ancestor in paths.get(unit_id, ()):
            for course_id, due_on, quarter in by_unit.get(ancestor, ()):
                key = (user_id, course_id, quarter)
                if key not in earliest or due_on < earliest[key].due_on:
                    earliest[key] = Due(
                        user_id,
                        unit_id,
                        course_id,
                        due_on,
                        quarter,
                        completed.get((user_id, course_id)),
                    )
    return list(earliest.values())


def completion_by_unit_period(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return training completion per (unit, quarter), for the insights dashboard.

    A unit counts everyone in its subtree. For each quarter:
    - `assigned`: active people in the unit with at least one course due in that quarter
      (assignments to the unit or to any unit above it);
    - `completed`: those of them who completed every course due that quarter on or before its
      due date (completing it earlier, even before it was assigned, counts; late does not);
    - `completion_rate`: completed / assigned, between 0 and 1.
    Rows come only for units with someone assigned, limited to `unit_ids` when given, ordered
    by unit code and period.
    """
    all_on_time: dict[tuple[int, str], bool] = {}  # (person, quarter) -> every course on time
    unit_of: dict[int, int] = {}
    for due in dues(session=session):
        key = (due.user_id, due.period)
        all_on_time[key] = all_on_time.get(key, True) and due.on_time
        unit_of[due.user_id] = due.unit_id
    paths = unit_paths(session=session)
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for (user_id, period), on_time in all_on_time.items():
        for unit_id in paths[unit_of[user_id]]:
            if unit_ids is None or unit_id in unit_ids:
                cell = counts[unit_id, period]
                cell[0] += 1
                cell[1] += on_time
    codes = dict(session.exec(select(OrgUnit.id, OrgUnit.code)).all())
    rows = [
        {
            "unit_id": unit_id,
            "unit_code": codes[unit_id],
            "period": period,
            "assigned": assigned,
            "completed": completed,
            "completion_rate": completed / assigned,
        }
        for (unit_id, period), (assigned, completed) in counts.items()
    ]
    return sorted(rows, key=lambda r: (r["unit_code"], r["period"]))


@dataclass
class UnitSummary:
    unit: OrgUnit
    assigned: int = 0  # (person, course) pairs due in the quarter
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    not_yet_due: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.on_time / self.assigned if self.assigned else None


def unit_summaries(
    *, session: Session, scope: set[int] | None, period: str, today: date
) -> list[UnitSummary]:
    """Count a quarter's assigned courses per unit in scope (each unit with its subtree)."""
    summaries = {
        unit.id: UnitSummary(unit)
        for unit, _depth, _people in ordered_tree(session=session)
        if scope is None or unit.id in scope
    }  # in tree order
    paths = unit_paths(session=session)
    for due in dues(session=session, within=scope, period=period):
        status = due.status(today)
        for unit_id in paths.get(due.unit_id, []):
            summary = summaries.get(unit_id)
            if summary is None:
                continue
            summary.assigned += 1
            if status == CourseStatus.COMPLETED:
                summary.on_time += 1
            elif status == CourseStatus.COMPLETED_LATE:
                summary.late += 1
            elif status == CourseStatus.OVERDUE:
                summary.overdue += 1
            else:
                summary.not_yet_due += 1
    return list(summaries.values())


def unit_dues(
    *, session: Session, unit: OrgUnit, period: str, today: date, limit: int = 300
) -> tuple[list[dict], Counter]:
    """List up to `limit` people's courses due in a quarter in a unit's subtree, overdue
    first, with the count of each status over all of them."""
    paths = unit_paths(session=session)
    members = {u for u, path in paths.items() if unit.id in path}
    found = dues(session=session, within=members, period=period)
    statuses = Counter(d.status(today) for d in found)
    names = dict(
        session.exec(select(User.id, User.name).where(col(User.unit_id).in_(members))).all()
    )
    order = {
        CourseStatus.OVERDUE: 0,
        CourseStatus.NOT_YET_DUE: 1,
        CourseStatus.COMPLETED_LATE: 2,
        CourseStatus.COMPLETED: 3,
    }
    found.sort(key=lambda d: (order[d.status(today)], d.due_on, names[d.user_id]))
    courses = {c.id: c for c in session.exec(select(Course)).all()}
    titles = version_titles(
        session=session, version_ids={c.current_version_id for c in courses.values()}
    )
    codes = dict(session.exec(select(OrgUnit.id, OrgUnit.code)).all())
    shown = found[:limit]
    certificates = {
        (user_id, course_id): code
        for user_id, course_id, code in session.exec(
            select(Certificate.user_id, Certificate.course_id, Certificate.code).where(
                col(Certificate.user_id).in_({d.user_id for d in shown if d.completed_on} or {-1})
            )
        ).all()
    }
    rows = [
        {
            "name": names[d.user_id],
            "unit_code": codes.get(d.unit_id, ""),
            "course": titles.get(
                courses[d.course_id].current_version_id, courses[d.course_id].slug
            ),
            "due_on": d.due_on,
            "completed_on": d.completed_on,
            "status": d.status(today),
            "certificate": certificates.get((d.user_id, d.course_id)),
        }
        for d in shown
    ]
    return rows, statuses


def reportable_periods(*, session: Session, today: date) -> list[str]:
    """Return the quarters with assignments due, newest first, always with the current one."""
    dates = session.exec(select(Assignment.due_on).distinct()).all()
    return sorted({quarter_of(d) for d in dates} | {quarter_of(today)}, reverse=True)


def item_analysis(*, session: Session, version: CourseVersion) -> list[dict]:
    """For each scorable question: answers, share correct, and the most-chosen wrong answer."""
    totals = defaultdict(lambda: [0, 0])  # question -> [answered, correct]
    wrong: dict[int, Counter] = defaultdict(Counter)
    for question, correct, response, n in session.exec(
        select(QuizAnswer.question, QuizAnswer.correct, QuizAnswer.response, func.count())
        .where(QuizAnswer.version_id == version.id)
        .group_by(QuizAnswer.question, QuizAnswer.correct, QuizAnswer.response)
    ).all():
        totals[question][0] += n
        if correct:
            totals[question][1] += n
        else:
            wrong[question][response] += n
    rows = []
    for index, question in enumerate(questions_of(version)):
        if not question.scorable:
            continue
        answered, correct = totals[index]
        top = wrong[index].most_common(1)
        rows.append(
            {
                "index": index,
                "number": len(rows) + 1,
                "question": question,
                "answered": answered,
                "correct": correct,
                "share_correct": correct / answered if answered else None,
                "top_wrong": describe_response(question, top[0][0]) if top else None,
                "top_wrong_count": top[0][1] if top else 0,
            }
        )
    return rows


def versions_with_attempts(*, session: Session, course: Course) -> list[CourseVersion]:
    """Return the course's versions that learners have taken (and the current one), newest
    first."""
    taken = set(
        session.exec(
            select(QuizAttempt.version_id)
            .distinct()
            .join(CourseVersion, CourseVersion.id == QuizAttempt.version_id)
            .where(CourseVersion.course_id == course.id)
        ).all()
    )
    ids = taken | ({course.current_version_id} if course.current_version_id else set())
    return list(
        session.exec(
            select(CourseVersion)
            .where(col(CourseVersion.id).in_(ids))
            .order_by(col(CourseVersion.id).desc())
        ).all()
    )
