"""Courses for learners, managers and HR: sync, progress, quizzes, certificates, assignments,
completion reports, item analysis and overdue reminders."""

import hashlib
import hmac
import json
import logging
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlmodel import Session, col, func, insert, select

from trainer.auth.models import User
from trainer.learn.gift import Question, public_view, score
from trainer.learn.lint import lint_course
from trainer.learn.loader import LoadedCourse, load_library, question_from_dict, question_to_dict
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
from trainer.org.models import OrgUnit
from trainer.org.services import ordered_tree
from trainer.util import external_url, quarter_bounds, quarter_of, utcnow

log = logging.getLogger("trainer.learn")
REMINDER_EVERY_DAYS = 7  # remind an overdue person again after a week, never twice a day
REMINDER_WINDOW_DAYS = 42  # stop reminding six weeks after the due date
CERTIFICATE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I look-alikes
EXPIRY_REMINDER_DAYS = (30, 7)  # remind a learner this many days before a certificate expires
RENEWAL_DAYS = 30  # at expiry the course is re-assigned to the person, due this much later


class LearnError(ValueError):
    """Something a person asked for that cannot be done; the message is for them."""


# ------------------------------------------------------------------------------- content sync


def check_courses(courses_dir: Path) -> list:
    """Return every problem in the course folders (for `flask content check`)."""
    return load_library(courses_dir)[1]


def lint_courses(courses_dir: Path) -> list:
    """Return the lint warnings for every course that loads (for `flask content check`)."""
    courses = load_library(courses_dir)[0]
    return [warning for course in courses
            for warning in lint_course(course, f"{Path(courses_dir).name}/{course.id}")]


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not (self.added or self.updated or self.retired):
            return f"unchanged ({len(self.unchanged)} courses)"
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged", f"{len(self.retired)} retired"]
        names = [f"+{n}" for n in self.added] + [f"~{n}" for n in self.updated] + [
            f"-{n}" for n in self.retired]
        return ", ".join(parts) + " (" + " ".join(names) + ")"


def sync_courses(*, session: Session, courses_dir: Path) -> SyncReport:
    """Load the course library into the database; refuse if any course has a problem.

    Each distinct content (hash of all files of a course) is stored once as a version, and the
    course points new learners at the version on disk. Courses gone from disk are retired.
    Nothing is deleted, so learners' progress and certificates always keep their version.
    """
    courses, problems = load_library(courses_dir)
    if problems:
        raise LearnError(f"{len(problems)} problems in the course content; first: {problems[0]}")
    report = SyncReport()
    on_disk = set()
    for loaded in courses:
        on_disk.add(loaded.id)
        getattr(report, save_course(session=session, loaded=loaded)).append(loaded.id)
    for course in session.exec(select(Course).where(col(Course.retired).is_(False))).all():
        if course.slug not in on_disk:
            course.retired, course.updated_at = True, utcnow()
            session.add(course)
            report.retired.append(course.slug)
    session.flush()
    return report


def save_course(*, session: Session, loaded: LoadedCourse) -> str:
    """Store one loaded course; return 'added', 'updated' or 'unchanged'."""
    course = session.exec(select(Course).where(Course.slug == loaded.id)).first()
    status = "updated"
    if course is None:
        course = Course(slug=loaded.id)
        session.add(course)
        session.flush()
        status = "added"
    version = session.exec(select(CourseVersion).where(
        CourseVersion.course_id == course.id,
        CourseVersion.content_hash == loaded.content_hash)).first()
    if version is not None and version.id == course.current_version_id and not course.retired:
        return "unchanged"
    if version is None:
        version = CourseVersion(
            course_id=course.id, content_hash=loaded.content_hash, title=loaded.title,
            summary=loaded.summary, audience=loaded.audience,
            estimated_minutes=loaded.estimated_minutes, pass_mark=loaded.pass_mark,
            certificate_valid_months=loaded.certificate_valid_months,
            lessons=[{"file": lesson.file, "title": lesson.title, "markdown": lesson.markdown}
                     for lesson in loaded.lessons],
            questions=[question_to_dict(q) for q in loaded.questions])
        session.add(version)
        session.flush()
    course.current_version_id, course.retired, course.updated_at = version.id, False, utcnow()
    session.add(course)
    return status


# ------------------------------------------------------------------------------- learners


def course_by_slug(session: Session, slug: str) -> Course | None:
    return session.exec(select(Course).where(Course.slug == slug)).first()


def enrolment_for(session: Session, user: User, course: Course) -> Enrolment | None:
    return session.exec(select(Enrolment).where(
        Enrolment.user_id == user.id, Enrolment.course_id == course.id)).first()


def version_for(session: Session, course: Course,
                enrolment: Enrolment | None) -> CourseVersion | None:
    """Return the version a learner sees: the one they started, else the current one."""
    version_id = enrolment.version_id if enrolment else course.current_version_id
    return session.get(CourseVersion, version_id) if version_id else None


def start_course(*, session: Session, user: User, course: Course) -> Enrolment:
    """Enrol `user` in the current version of `course` (or return their enrolment)."""
    enrolment = enrolment_for(session, user, course)
    if enrolment is not None:
        return enrolment
    if course.retired or course.current_version_id is None:
        raise LearnError("This course is no longer offered.")
    enrolment = Enrolment(user_id=user.id, course_id=course.id,
                          version_id=course.current_version_id)
    session.add(enrolment)
    session.flush()
    return enrolment


def has_quiz(version: CourseVersion) -> bool:
    return any(q["type"] != "description" for q in version.questions)


def complete_lesson(*, session: Session, enrolment: Enrolment, version: CourseVersion,
                    lesson_no: int) -> None:
    """Record that a lesson was read; a course without a quiz completes on its last lesson."""
    count = len(version.lessons)
    if not 1 <= lesson_no <= count:
        raise LearnError("There is no such lesson.")
    enrolment.lessons_done = sorted({*enrolment.lessons_done, lesson_no})
    enrolment.last_lesson = min(lesson_no + 1, count)
    if not has_quiz(version) and len(enrolment.lessons_done) == count:
        if enrolment.completed_at is None:
            enrolment.completed_at = utcnow()
            _issue_certificate(session, enrolment, None)
        elif lesson_no == count:  # reading the last lesson again renews a certificate due
            _issue_certificate(session, enrolment, None)
    session.add(enrolment)


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
        return (self.enrolment is not None and self.enrolment.completed_at is not None
                and not self.renewal_due)

    @property
    def renewal_due(self) -> bool:
        return self.certificate is not None and self.certificate.renewal_due_on is not None

    def status(self, today: date) -> str:
        if self.completed:
            return "completed"
        if self.renewal_due:
            return "overdue" if self.due_on and self.due_on < today else "renewal due"
        if self.due_on and self.due_on < today:
            return "overdue"
        return "in progress" if self.enrolment else "not started"

    @property
    def steps(self) -> tuple[int, int]:
        return progress_steps(self.version, self.enrolment)


@dataclass
class MyLearning:
    assigned: list[CourseCard]  # due or done, earliest due first
    in_progress: list[CourseCard]  # started, not assigned, not completed
    completed: list[CourseCard]  # completed and not assigned
    catalogue: list[CourseCard]  # everything else on offer


def unit_and_ancestor_ids(session: Session, unit_id: int | None) -> list[int]:
    if unit_id is None:
        return []
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        return []
    return [int(i) for i in unit.path.strip("/").split("/") if i] + [unit.id]


def due_dates_for(session: Session, user: User) -> dict[int, date]:
    """Return course id -> earliest due date of the assignments that cover the user's unit
    (courses still on offer only).

    A certificate due for renewal counts as an assignment due on its renewal date; the
    assignments due before it expired were met by earning it.
    """
    units = unit_and_ancestor_ids(session, user.unit_id)
    rows = session.exec(select(Assignment.course_id, Assignment.due_on)
                        .join(Course, Course.id == Assignment.course_id)
                        .where(col(Assignment.unit_id).in_(units),
                               col(Course.retired).is_(False))).all() if units else []
    renewals = renewals_due(session, user)
    due: dict[int, date] = {}
    for course_id, due_on in rows:
        expired_on = renewals.get(course_id, (None, None))[0]
        if expired_on is None or due_on >= expired_on:
            due[course_id] = min(due.get(course_id, due_on), due_on)
    for course_id, (_expired_on, renew_by) in renewals.items():
        due[course_id] = min(due.get(course_id, renew_by), renew_by)
    return due


def renewals_due(session: Session, user: User) -> dict[int, tuple[date, date]]:
    """Return course id -> (expiry, renew-by date) of `user`'s expired certificates."""
    return {course_id: (expires_on, renew_by) for course_id, expires_on, renew_by in
            session.exec(
                select(Certificate.course_id, Certificate.expires_on,
                       Certificate.renewal_due_on)
                .join(Course, Course.id == Certificate.course_id)
                .where(Certificate.user_id == user.id,
                       col(Certificate.renewal_due_on).is_not(None),
                       col(Course.retired).is_(False))).all()}


def my_learning(*, session: Session, user: User) -> MyLearning:
    """Sort every course into assigned, in progress, completed and the rest of the catalogue."""
    courses = {c.id: c for c in session.exec(select(Course)).all()}
    enrolments = {e.course_id: e for e in session.exec(
        select(Enrolment).where(Enrolment.user_id == user.id)).all()}
    certificates = {c.course_id: c for c in session.exec(
        select(Certificate).where(Certificate.user_id == user.id)).all()}
    due = due_dates_for(session, user)
    version_ids = {c.current_version_id for c in courses.values()} | {
        e.version_id for e in enrolments.values()}
    versions = {v.id: v for v in session.exec(
        select(CourseVersion).where(col(CourseVersion.id).in_(version_ids))).all()}
    result = MyLearning([], [], [], [])
    for course in courses.values():
        enrolment = enrolments.get(course.id)
        if course.retired and enrolment is None:
            continue
        version = versions.get(enrolment.version_id if enrolment else course.current_version_id)
        if version is None:
            continue
        card = CourseCard(course, version, enrolment, certificates.get(course.id),
                          due.get(course.id))
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


def next_course(*, session: Session, user: User) -> CourseCard | None:
    """Return the course to suggest next: the earliest-due assigned course not yet completed,
    else one already started, else the first in the catalogue."""
    learning = my_learning(session=session, user=user)
    for card in learning.assigned:
        if not card.completed:
            return card
    return next(iter(learning.in_progress + learning.catalogue), None)


def learning_summary(*, session: Session, user: User, today: date) -> dict[str, int]:
    """Return counts of assigned courses that are due, overdue or done (for the home page)."""
    due = due_dates_for(session, user)
    done = set(session.exec(select(Enrolment.course_id).where(
        Enrolment.user_id == user.id, col(Enrolment.completed_at).is_not(None))).all())
    done -= set(renewals_due(session, user))
    open_due = [d for course_id, d in due.items() if course_id not in done]
    return {"to_do": len(open_due), "overdue": sum(1 for d in open_due if d < today),
            "done": len(due) - len(open_due)}


# ----------------------------------------------------------------------------------- quizzes

_question_cache: dict[tuple[int, str], list[Question]] = {}


def questions_of(version: CourseVersion) -> list[Question]:
    """Return the parsed questions of a version (versions never change, so cache them)."""
    key = (version.id, version.content_hash)
    if key not in _question_cache:
        _question_cache[key] = [question_from_dict(q) for q in version.questions]
    return _question_cache[key]


def quiz_seed(secret: str, user_id: int, version_id: int, attempt: int) -> str:
    """Return the seed that shuffles the options of one learner's attempt at a quiz.

    A keyed hash: stable while the learner fixes a form error or reloads the page, and
    unpredictable from outside. The attempt stores it (QuizAttempt.option_seed), so its
    result page shows the options in the order they were seen, whatever the key becomes.
    """
    return hmac.new(secret.encode(), f"{user_id}:{version_id}:{attempt}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def shuffled_options(seed: str | None, question: int, count: int) -> list[int]:
    """Return the option indexes of question `question` in the order the seed shows them.

    The form sends back positions in this order, never the options' indexes in the file, so
    the page reveals nothing about which option is right. No seed: file order.
    """
    order = list(range(count))
    if seed is not None:
        random.Random(f"{seed}:{question}").shuffle(order)
    return order


def option_order(secret: str, user_id: int, version_id: int, attempt: int, question: int,
                 count: int) -> list[int]:
    """Return the order in which to show a question's options to one learner for one attempt."""
    return shuffled_options(quiz_seed(secret, user_id, version_id, attempt), question, count)


def option_orders(questions: list[Question], seed: str | None) -> dict[int, list[int]]:
    """Return the option order of every multiple-choice question of a quiz."""
    return {i: shuffled_options(seed, i, len(q.answers))
            for i, q in enumerate(questions) if q.type in ("mc", "multi")}


@dataclass
class QuizItem:
    """A question as the quiz form shows it: only what is safe before submission."""

    index: int
    type: str
    text: str
    text_format: str
    options: list[dict] = field(default_factory=list)  # {"value", "text", "format"}
    left: list[dict] = field(default_factory=list)  # matching items {"text", "format"}
    right: list[str] = field(default_factory=list)  # matching choices, shuffled


def quiz_items(questions: list[Question], orders: dict[int, list[int]]) -> list[QuizItem]:
    """Build the quiz form's view of the questions; `orders` gives each option order."""
    items = []
    for index, question in enumerate(questions):
        view = public_view(question)
        item = QuizItem(index, view["type"], view["text"], view["text_format"])
        if "options" in view:
            shown = [view["options"][i] for i in orders[index]]
            item.options = [{"value": str(pos), "text": o["text"], "format": o["format"]}
                            for pos, o in enumerate(shown)]
        if view["type"] == "matching":
            item.left, item.right = view["left"], view["right"]
        items.append(item)
    return items


def read_response(question: Question, index: int, order: list[int] | None,
                  getlist: Callable[[str], list[str]]) -> tuple[Any, str | None]:
    """Turn posted form values into a response for `score`; return (response, error).

    Question `index` posts under `q<index>` (matching items under `q<index>-m<item>`), and
    choices post their position in `order`, the order they were shown in.
    """
    kind = question.type
    values = getlist(f"q{index}")
    if kind in ("mc", "multi"):
        try:
            chosen = [order[int(v)] for v in values if 0 <= int(v) < len(order)]
        except ValueError:
            chosen = []
        if len(chosen) != len(values):
            return None, "Choose from the answers shown."
        if kind == "mc":
            return (chosen[0], None) if len(chosen) == 1 else (None, "Choose one answer.")
        return (sorted(set(chosen)), None) if chosen else (None, "Choose one or more answers.")
    if kind == "truefalse":
        if values in (["true"], ["false"]):
            return values[0] == "true", None
        return None, "Choose true or false."
    if kind in ("short", "numerical"):
        text = (values[0] if values else "").strip()[:200]
        return (text, None) if text else (None, "Type your answer.")
    if kind == "matching":
        rights = {m.right for m in question.matches}
        response = {}
        for item, match in enumerate(m for m in question.matches if m.left):
            value = (getlist(f"q{index}-m{item}") or [""])[0]
            if value not in rights:
                return None, "Match every item."
            response[match.left] = value
        return response, None
    return None, None


def canonical_response(question: Question, response: Any) -> str:
    """Return a short text that is equal for equal answers (for counting in item analysis)."""
    if question.type == "multi":
        return ",".join(str(i) for i in sorted(response))
    if question.type == "truefalse":
        return "true" if response else "false"
    if question.type == "short":
        return " ".join(str(response).lower().split())[:500]
    if question.type == "matching":
        return json.dumps(sorted(response.items()), ensure_ascii=False)[:500]
    return str(response)[:500]


def describe_response(question: Question, canonical: str) -> str:
    """Return a canonical response in words: the option texts, True/False or the pairs."""
    if question.type in ("mc", "multi"):
        try:
            return "; ".join(question.answers[int(i)].text for i in canonical.split(",") if i)
        except (ValueError, IndexError):
            return canonical
    if question.type == "truefalse":
        return "True" if canonical == "true" else "False"
    if question.type == "matching":
        try:
            return "; ".join(f"{left} → {right}" for left, right in json.loads(canonical))
        except ValueError:
            return canonical
    return canonical


@dataclass
class Graded:
    score: float  # percent
    passed: bool
    fractions: dict[int, float]
    correct: dict[int, bool]


def grade(questions: list[Question], responses: dict[int, Any], pass_mark: int) -> Graded:
    """Score every scorable question; the score is the mean fraction, as a percent."""
    fractions, correct = {}, {}
    for index, question in enumerate(questions):
        if question.scorable:
            scored = score(question, responses.get(index))
            fractions[index], correct[index] = scored.fraction, scored.correct
    percent = round(100 * sum(fractions.values()) / len(fractions), 1) if fractions else 0.0
    return Graded(percent, percent >= pass_mark, fractions, correct)


def submit_quiz(*, session: Session, user: User, enrolment: Enrolment,
                version: CourseVersion, responses: dict[int, Any],
                option_seed: str | None = None, now: datetime | None = None) -> QuizAttempt:
    """Score an attempt on the server, store it, and keep the best result and certificate."""
    now = now or utcnow()
    questions = questions_of(version)
    graded = grade(questions, responses, version.pass_mark)
    enrolment.attempts += 1
    attempt = QuizAttempt(enrolment_id=enrolment.id, user_id=user.id, version_id=version.id,
                          number=enrolment.attempts, submitted_at=now, score=graded.score,
                          passed=graded.passed,
                          answers={str(i): r for i, r in responses.items()},
                          option_seed=option_seed)
    session.add(attempt)
    session.flush()
    answers = [{"attempt_id": attempt.id, "version_id": version.id, "question": i,
                "correct": graded.correct[i],
                "response": canonical_response(questions[i], responses.get(i))}
               for i in graded.correct]
    if answers:
        session.execute(insert(QuizAnswer), answers)  # one executemany, not an object each
    if enrolment.best_score is None or graded.score > enrolment.best_score:
        enrolment.best_score, enrolment.best_attempt_id = graded.score, attempt.id
    if graded.passed:
        if enrolment.completed_at is None:
            enrolment.completed_at = now
        _issue_certificate(session, enrolment, enrolment.best_score, now)
    session.add(enrolment)
    session.flush()
    return attempt


def new_certificate_code() -> str:
    """Return a random code like 7K4Q-M2XD-9PLA (60 bits; 32 letters, so no modulo bias)."""
    raw = "".join(CERTIFICATE_ALPHABET[b % 32] for b in secrets.token_bytes(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


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
    return (certificate.renewal_due_on is not None
            or (certificate.expires_on - today).days <= EXPIRY_REMINDER_DAYS[0])


def _issue_certificate(session: Session, enrolment: Enrolment, best: float | None,
                       now: datetime | None = None) -> Certificate:
    """Create the learner's certificate on first completion; later keep its score the best.

    A certificate that expires (the course declares certificate_valid_months) is renewed by
    completing the course again once it is due: it then runs from today, on today's version.
    """
    now = now or utcnow()
    version = session.get(CourseVersion, enrolment.version_id)
    certificate = session.exec(select(Certificate).where(
        Certificate.user_id == enrolment.user_id,
        Certificate.course_id == enrolment.course_id)).first()
    if certificate is None:
        certificate = Certificate(code=new_certificate_code(), user_id=enrolment.user_id,
                                  course_id=enrolment.course_id, version_id=enrolment.version_id,
                                  issued_at=now, score=best, expires_on=expiry_for(version, now))
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


@dataclass
class FeedbackItem:
    index: int
    question: Question
    answer: str  # the learner's answer in words
    correct: bool
    fraction: float
    feedback: list[tuple[str, str]]  # (text, format)
    # Multiple choice: (text, format, chosen) in the order the attempt showed them.
    options: list[tuple[str, str, bool]] = field(default_factory=list)


def attempt_feedback(version: CourseVersion, attempt: QuizAttempt) -> list[FeedbackItem]:
    """Re-score a stored attempt to show feedback on each question."""
    items = []
    questions = questions_of(version)
    orders = option_orders(questions, attempt.option_seed)
    for index, question in enumerate(questions):
        if not question.scorable:
            continue
        response = attempt.answers.get(str(index))
        scored = score(question, response)
        answer = describe_response(question, canonical_response(question, response)) \
            if response is not None else "(no answer)"
        picked = response if isinstance(response, list) else [response]
        options = [(question.answers[i].text, question.answers[i].text_format, i in picked)
                   for i in orders.get(index, [])]
        items.append(FeedbackItem(index, question, answer, scored.correct, scored.fraction,
                                  list(zip(scored.feedback, scored.feedback_formats,
                                           strict=True)), options))
    return items


def certificate_for(session: Session, user: User, course: Course) -> Certificate | None:
    return session.exec(select(Certificate).where(
        Certificate.user_id == user.id, Certificate.course_id == course.id)).first()


def certificate_by_code(session: Session, code: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.code == code.strip().upper())
                        ).first()


# ------------------------------------------------------------------------------- assignments


def create_assignment(*, session: Session, course: Course, unit: OrgUnit, due_on: date,
                      assigned_by: User | None) -> Assignment:
    """Assign a course to a unit and everyone below it, due on a date."""
    if course.retired:
        raise LearnError("This course is no longer offered.")
    duplicate = session.exec(select(Assignment).where(
        Assignment.course_id == course.id, Assignment.unit_id == unit.id,
        Assignment.due_on == due_on)).first()
    if duplicate:
        raise LearnError("This course is already assigned to this unit with that due date.")
    assignment = Assignment(course_id=course.id, unit_id=unit.id, due_on=due_on,
                            assigned_by_id=assigned_by.id if assigned_by else None)
    session.add(assignment)
    session.flush()
    return assignment


def delete_assignment(*, session: Session, assignment: Assignment) -> None:
    """Withdraw an assignment (with its reminder log); people's progress is untouched."""
    for reminder in session.exec(select(ReminderSent).where(
            ReminderSent.assignment_id == assignment.id)).all():
        session.delete(reminder)
    session.delete(assignment)
    session.flush()


def assignments_in_scope(*, session: Session, scope: set[int] | None) -> list[dict]:
    """Return the assignments that cover units in scope (all when scope is None), newest due
    first: those made on a unit in scope, and those made higher up, on a unit above one in
    scope (`from_above`: the manager sees them but cannot withdraw them)."""
    query = (select(Assignment, Course, OrgUnit)
             .join(Course, Course.id == Assignment.course_id)
             .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
             .order_by(col(Assignment.due_on).desc(), OrgUnit.code))
    above: set[int] = set()
    if scope is not None:
        paths = session.exec(select(OrgUnit.path).where(col(OrgUnit.id).in_(scope or {-1})))
        above = {int(i) for path in paths.all() for i in path.strip("/").split("/") if i}
        above -= scope
        query = query.where(col(Assignment.unit_id).in_(scope | above or {-1}))
    rows = session.exec(query).all()
    titles = _titles(session, {course.current_version_id for _, course, _ in rows})
    return [{"assignment": a, "course": c, "title": titles.get(c.current_version_id, c.slug),
             "unit": u, "from_above": u.id in above} for a, c, u in rows]


def _titles(session: Session, version_ids: set[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    return dict(session.exec(select(CourseVersion.id, CourseVersion.title)
                             .where(col(CourseVersion.id).in_(version_ids))).all())


def offered_courses(*, session: Session) -> list[tuple[Course, CourseVersion]]:
    """Return the courses on offer with their current versions, by title."""
    rows = session.exec(select(Course, CourseVersion)
                        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
                        .where(col(Course.retired).is_(False))).all()
    return sorted(rows, key=lambda r: r[1].title.lower())


# --------------------------------------------------------------------------------- reporting


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

    def status(self, today: date) -> str:
        if self.completed_on is not None:
            return "completed" if self.on_time else "completed late"
        return "overdue" if self.due_on < today else "not yet due"


def _unit_paths(session: Session) -> dict[int, list[int]]:
    """Return unit id -> the ids from the top of the tree down to and including the unit."""
    return {unit_id: [int(i) for i in path.strip("/").split("/") if i] + [unit_id]
            for unit_id, path in session.exec(select(OrgUnit.id, OrgUnit.path)).all()}


def dues(*, session: Session, within: set[int] | None = None,
         period: str | None = None) -> list[Due]:
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
    paths = _unit_paths(session)
    people = session.exec(select(User.id, User.unit_id).where(
        col(User.active).is_(True), col(User.unit_id).is_not(None))).all()
    courses = {course_id for rows in by_unit.values() for course_id, _, _ in rows}
    completed = {(u, c): at.date() for u, c, at in session.exec(
        select(Enrolment.user_id, Enrolment.course_id, Enrolment.completed_at)
        .where(col(Enrolment.completed_at).is_not(None),
               col(Enrolment.course_id).in_(courses))).all()}
    earliest: dict[tuple[int, int, str], Due] = {}
    for user_id, unit_id in people:
        if within is not None and unit_id not in within:
            continue
        for ancestor in paths.get(unit_id, ()):
            for course_id, due_on, quarter in by_unit.get(ancestor, ()):
                key = (user_id, course_id, quarter)
                if key not in earliest or due_on < earliest[key].due_on:
                    earliest[key] = Due(user_id, unit_id, course_id, due_on, quarter,
                                        completed.get((user_id, course_id)))
    return list(earliest.values())


def completion_by_unit_period(*, session: Session,
                              unit_ids: set[int] | None = None) -> list[dict]:
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
    paths = _unit_paths(session)
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for (user_id, period), on_time in all_on_time.items():
        for unit_id in paths[unit_of[user_id]]:
            if unit_ids is None or unit_id in unit_ids:
                cell = counts[unit_id, period]
                cell[0] += 1
                cell[1] += on_time
    codes = dict(session.exec(select(OrgUnit.id, OrgUnit.code)).all())
    rows = [{"unit_id": unit_id, "unit_code": codes[unit_id], "period": period,
             "assigned": assigned, "completed": completed,
             "completion_rate": completed / assigned}
            for (unit_id, period), (assigned, completed) in counts.items()]
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


def unit_summaries(*, session: Session, scope: set[int] | None, period: str,
                   today: date) -> list[UnitSummary]:
    """Count a quarter's assigned courses per unit in scope (each unit with its subtree)."""
    summaries = {unit.id: UnitSummary(unit) for unit, _depth, _people in ordered_tree(session)
                 if scope is None or unit.id in scope}  # in tree order
    paths = _unit_paths(session)
    for due in dues(session=session, within=scope, period=period):
        status = due.status(today)
        for unit_id in paths.get(due.unit_id, []):
            summary = summaries.get(unit_id)
            if summary is None:
                continue
            summary.assigned += 1
            if status == "completed":
                summary.on_time += 1
            elif status == "completed late":
                summary.late += 1
            elif status == "overdue":
                summary.overdue += 1
            else:
                summary.not_yet_due += 1
    return list(summaries.values())


def unit_dues(*, session: Session, unit: OrgUnit, period: str, today: date,
              limit: int = 300) -> tuple[list[dict], Counter]:
    """List up to `limit` people's courses due in a quarter in a unit's subtree, overdue
    first, with the count of each status over all of them."""
    paths = _unit_paths(session)
    members = {u for u, path in paths.items() if unit.id in path}
    found = dues(session=session, within=members, period=period)
    statuses = Counter(d.status(today) for d in found)
    names = dict(session.exec(select(User.id, User.name).where(
        col(User.unit_id).in_(members))).all())
    order = {"overdue": 0, "not yet due": 1, "completed late": 2, "completed": 3}
    found.sort(key=lambda d: (order[d.status(today)], d.due_on, names[d.user_id]))
    courses = {c.id: c for c in session.exec(select(Course)).all()}
    titles = _titles(session, {c.current_version_id for c in courses.values()})
    codes = dict(session.exec(select(OrgUnit.id, OrgUnit.code)).all())
    shown = found[:limit]
    certificates = {(user_id, course_id): code for user_id, course_id, code in session.exec(
        select(Certificate.user_id, Certificate.course_id, Certificate.code).where(
            col(Certificate.user_id).in_({d.user_id for d in shown if d.completed_on}
                                         or {-1}))).all()}
    rows = [{"name": names[d.user_id], "unit_code": codes.get(d.unit_id, ""),
             "course": titles.get(courses[d.course_id].current_version_id,
                                  courses[d.course_id].slug),
             "due_on": d.due_on, "completed_on": d.completed_on, "status": d.status(today),
             "certificate": certificates.get((d.user_id, d.course_id))}
            for d in shown]
    return rows, statuses


def reportable_periods(*, session: Session, today: date) -> list[str]:
    """Return the quarters with assignments due, newest first, always with the current one."""
    dates = session.exec(select(Assignment.due_on).distinct()).all()
    return sorted({quarter_of(d) for d in dates} | {quarter_of(today)}, reverse=True)


# ------------------------------------------------------------------------------ item analysis


def item_analysis(*, session: Session, version: CourseVersion) -> list[dict]:
    """For each scorable question: answers, share correct, and the most-chosen wrong answer."""
    totals = defaultdict(lambda: [0, 0])  # question -> [answered, correct]
    wrong: dict[int, Counter] = defaultdict(Counter)
    for question, correct, response, n in session.exec(
            select(QuizAnswer.question, QuizAnswer.correct, QuizAnswer.response, func.count())
            .where(QuizAnswer.version_id == version.id)
            .group_by(QuizAnswer.question, QuizAnswer.correct, QuizAnswer.response)).all():
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
        rows.append({
            "index": index, "number": len(rows) + 1, "question": question,
            "answered": answered, "correct": correct,
            "share_correct": correct / answered if answered else None,
            "top_wrong": describe_response(question, top[0][0]) if top else None,
            "top_wrong_count": top[0][1] if top else 0,
        })
    return rows


def versions_with_attempts(*, session: Session, course: Course) -> list[CourseVersion]:
    """Return the course's versions that learners have taken (and the current one), newest
    first."""
    taken = set(session.exec(select(QuizAttempt.version_id).distinct()
                             .join(CourseVersion, CourseVersion.id == QuizAttempt.version_id)
                             .where(CourseVersion.course_id == course.id)).all())
    ids = taken | ({course.current_version_id} if course.current_version_id else set())
    return list(session.exec(select(CourseVersion).where(col(CourseVersion.id).in_(ids))
                             .order_by(col(CourseVersion.id).desc())).all())


# --------------------------------------------------------------------------------- reminders


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
    assignments = session.exec(select(Assignment).join(Course).where(
        Assignment.due_on < today, Assignment.due_on >= window,
        col(Course.retired).is_(False))).all()
    if not assignments:
        return 0
    recent = {(a, u) for a, u in session.exec(
        select(ReminderSent.assignment_id, ReminderSent.user_id).where(
            ReminderSent.sent_on > today - timedelta(days=REMINDER_EVERY_DAYS))).all()}
    paths = _unit_paths(session)
    done = {(u, c) for u, c in session.exec(
        select(Enrolment.user_id, Enrolment.course_id)
        .where(col(Enrolment.completed_at).is_not(None))).all()}
    by_unit = defaultdict(list)
    for assignment in assignments:
        by_unit[assignment.unit_id].append(assignment)
    todo: dict[int, dict[int, Assignment]] = {}  # user -> course -> earliest assignment
    for user_id, unit_id in session.exec(select(User.id, User.unit_id).where(
            col(User.active).is_(True), col(User.unit_id).is_not(None))).all():
        for ancestor in paths.get(unit_id, []):
            for a in by_unit.get(ancestor, ()):
                if (user_id, a.course_id) in done or (a.id, user_id) in recent:
                    continue
                current = todo.get(user_id, {}).get(a.course_id)
                if current is None or a.due_on < current.due_on:
                    todo.setdefault(user_id, {})[a.course_id] = a
    if not todo:
        return 0
    titles = {c.id: t for c, t in session.exec(
        select(Course, CourseVersion.title)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)).all()}
    link = external_url("learn.index")
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(todo))).all()}
    queued = 0
    for user_id, by_course in todo.items():
        user = users[user_id]
        lines = [f"- {titles.get(course_id, 'A course')}, due {a.due_on:%d %B %Y}"
                 for course_id, a in sorted(by_course.items(), key=lambda i: i[1].due_on)]
        session.add_all(ReminderSent(assignment_id=a.id, user_id=user_id, sent_on=today)
                        for a in by_course.values())
        queued += queue_mail(session, key=f"overdue:{today}:{user_id}", to=user.email,
                             subject="A course you were asked to complete is overdue",
                             body=f"Hello {user.name},\n\nThese courses were due and are not "
                             "completed yet:\n" + "\n".join(lines)
                             + f"\n\nYou can pick up where you left off here:\n{link}\n")
    return queued


# ------------------------------------------------------------------------- recertification


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
        .where(col(Certificate.expires_on).is_not(None), Certificate.expires_on <= horizon,
               col(Certificate.renewal_due_on).is_(None), col(User.active).is_(True),
               col(Course.retired).is_(False))
        .order_by(Certificate.id)).all()
    titles = _titles(session, {course.current_version_id for _, _, course in rows})
    queued = 0
    for certificate, user, course in rows:
        title = titles.get(course.current_version_id, course.slug)
        link = external_url("learn.course", course_slug=course.slug)
        expires = f"{certificate.expires_on:%-d %B %Y}"
        days_left = (certificate.expires_on - today).days
        key = f"recert:{certificate.id}:{certificate.expires_on}"
        if days_left <= 0:
            certificate.renewal_due_on = today + timedelta(days=RENEWAL_DAYS)
            _renew_on_current_version(session, certificate, course)
            queued += queue_mail(
                session, key=f"{key}:expired", to=user.email,
                subject=f"Your certificate for {title} has expired: please renew it",
                body=f"Hello {user.name},\n\nYour certificate for {title} expired on {expires}. "
                     "The course has been assigned to you again: please complete it by "
                     f"{certificate.renewal_due_on:%-d %B %Y}.\n\nStart here:\n{link}\n")
        elif days_left <= EXPIRY_REMINDER_DAYS[1] and certificate.reminded_7_on is None:
            certificate.reminded_7_on = today
            queued += _queue_expiry_reminder(session, queue_mail, f"{key}:7", user, title,
                                             expires, days_left, link)
        elif (EXPIRY_REMINDER_DAYS[1] < days_left <= EXPIRY_REMINDER_DAYS[0]
              and certificate.reminded_30_on is None):
            certificate.reminded_30_on = today
            queued += _queue_expiry_reminder(session, queue_mail, f"{key}:30", user, title,
                                             expires, days_left, link)
        else:
            continue
        session.add(certificate)
    return queued


def _queue_expiry_reminder(session, queue_mail, key, user, title, expires, days_left,
                           link) -> bool:
    days = "1 day" if days_left == 1 else f"{days_left} days"
    return queue_mail(
        session, key=key, to=user.email,
        subject=f"Your certificate for {title} expires in {days}",
        body=f"Hello {user.name},\n\nYour certificate for {title} is valid until {expires}. "
             "To keep it, take the course's quiz again before then; passing renews it from "
             f"that day.\n\n{link}\n")


def _renew_on_current_version(session: Session, certificate: Certificate,
                              course: Course) -> None:
    """Move the person's enrolment to the course's current version, for the renewal."""
    enrolment = session.exec(select(Enrolment).where(
        Enrolment.user_id == certificate.user_id,
        Enrolment.course_id == certificate.course_id)).first()
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


def certificate_state(certificate: Certificate, today: date) -> str:
    """Return 'never expires', 'valid', 'expiring' (within 30 days) or 'expired'."""
    if certificate.expires_on is None:
        return "never expires"
    days_left = (certificate.expires_on - today).days
    if days_left <= 0:
        return "expired"
    return "expiring" if days_left <= EXPIRY_REMINDER_DAYS[0] else "valid"


def _expiring_certificates(session: Session, members: set[int] | None):
    query = (select(Certificate, User.unit_id, User.name)
             .join(User, User.id == Certificate.user_id)
             .join(Course, Course.id == Certificate.course_id)
             .where(col(Certificate.expires_on).is_not(None), col(User.active).is_(True),
                    col(User.unit_id).is_not(None), col(Course.retired).is_(False)))
    if members is not None:
        query = query.where(col(User.unit_id).in_(members))
    return session.exec(query).all()


def certificate_counts(*, session: Session, scope: set[int] | None,
                       today: date) -> list[CertificateCounts]:
    """Count expiring certificates per unit in scope (each unit with its subtree)."""
    summaries = {unit.id: CertificateCounts(unit) for unit, _depth, _people in
                 ordered_tree(session) if scope is None or unit.id in scope}
    paths = _unit_paths(session)
    for certificate, unit_id, _name in _expiring_certificates(session, scope):
        state = certificate_state(certificate, today)
        for ancestor in paths.get(unit_id, []):
            counts = summaries.get(ancestor)
            if counts is not None:
                setattr(counts, state, getattr(counts, state) + 1)
    return list(summaries.values())


def unit_certificates(*, session: Session, unit: OrgUnit, today: date,
                      limit: int = 300) -> list[dict]:
    """List the expired and soon-expiring certificates of people in a unit's subtree, the
    most urgent first."""
    paths = _unit_paths(session)
    members = {u for u, path in paths.items() if unit.id in path}
    courses = {c.id: c for c in session.exec(select(Course)).all()}
    titles = _titles(session, {c.current_version_id for c in courses.values()})
    codes = dict(session.exec(select(OrgUnit.id, OrgUnit.code)).all())
    rows = []
    for certificate, unit_id, name in _expiring_certificates(session, members):
        state = certificate_state(certificate, today)
        if state in ("expired", "expiring"):
            course = courses[certificate.course_id]
            rows.append({"name": name, "unit_code": codes.get(unit_id, ""),
                         "course": titles.get(course.current_version_id, course.slug),
                         "expires_on": certificate.expires_on, "state": state,
                         "renewal_due_on": certificate.renewal_due_on})
    rows.sort(key=lambda r: (r["state"] != "expired", r["expires_on"], r["name"]))
    return rows[:limit]
