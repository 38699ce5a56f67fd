"""Demo step: load the course library, assign courses and invent two years of training history.

Rows are written with bulk inserts and ids allocated up front, so `flask demo --employees
10000` (about half a million answered questions) takes seconds, not minutes.
"""

import logging
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.demo import DemoOrg, bulk_write, fix_sequence, next_id, people_in_batches
from trainer.learn.assignments import offered_courses
from trainer.learn.certificates import (
    EXPIRY_REMINDER_DAYS,
    RENEWAL_DAYS,
    add_months,
    new_certificate_code,
)
from trainer.learn.gift import Question
from trainer.learn.grading import score
from trainer.learn.models import (
    Assignment,
    Certificate,
    Course,
    CourseVersion,
    Enrolment,
    QuizAnswer,
    QuizAttempt,
)
from trainer.learn.quizzes import canonical_response, questions_of
from trainer.learn.sync import check_courses, sync_courses
from trainer.org.models import OrgUnit
from trainer.util import quarter_bounds, quarter_of, shift_quarter, utcnow

log = logging.getLogger("trainer.learn")
PAST_QUARTERS = 8
CHUNK = 20_000  # answers per bulk insert


def demo_learning(*, session: Session, demo: DemoOrg) -> None:
    """Sync the courses, assign them to units across the last 8 quarters, add history."""
    folder = Path(current_app.config["COURSES_DIR"])
    if not folder.is_dir() or check_courses(folder):
        log.warning(
            "Course content in %s is missing or has problems (run `flask content "
            "check`); the demo has no courses.",
            folder,
        )
        return
    sync_courses(session=session, courses_dir=folder)
    offered = [(c, v) for c, v in offered_courses(session=session) if v.audience == "employee"]
    if not offered:
        return
    today = utcnow().date()
    plan = assignment_plan(demo, offered, today)
    session.add_all(plan)
    session.flush()
    history = History(session, demo, today)
    history.generate(plan)
    log.info(
        "Demo learning: %d assignments, %d enrolments, %d attempts.",
        len(plan),
        history.counts["enrolments"],
        history.counts["attempts"],
    )


def assignment_plan(
    demo: DemoOrg, offered: list[tuple[Course, CourseVersion]], today: date
) -> list[Assignment]:
    """Give each region one course per past quarter, then one course to everyone now.

    Courses whose certificates expire are the first ones given out. The newest course goes
    to the whole company, due at the end of this quarter (or in three weeks at least), so
    every demo login has a course still to do. A refresher that fell due ten days ago gives
    the reports an overdue list.
    """
    current = quarter_of(today)
    *older, newest = offered if len(offered) > 1 else offered * 2
    # Courses whose certificates expire go first, to the oldest quarters: their holders have
    # been through a renewal, and some are due for the next one about now.
    older.sort(key=lambda pair: pair[1].certificate_valid_months is None)
    pairs = [(course, region) for course, _ in older for region in demo.regions]
    plan = []
    for k, (course, region) in enumerate(pairs[:PAST_QUARTERS]):
        period = shift_quarter(current, k - min(len(pairs), PAST_QUARTERS))
        due = quarter_bounds(period)[1] - timedelta(days=14)
        plan.append(
            Assignment(
                course_id=course.id,
                unit_id=region.id,
                due_on=due,
                created_at=_at(due - timedelta(days=75), 9),
            )
        )
    due = max(quarter_bounds(current)[1], today + timedelta(days=21))
    plan.append(
        Assignment(
            course_id=newest[0].id,
            unit_id=demo.company.id,
            due_on=due,
            created_at=_at(today - timedelta(days=20), 9),
        )
    )
    if demo.sites and older:
        refresher_due = today - timedelta(days=10)
        site = demo.sites[len(demo.sites) // 2]
        plan.append(
            Assignment(
                course_id=older[0][0].id,
                unit_id=site.id,
                due_on=refresher_due,
                created_at=_at(refresher_due - timedelta(days=45), 9),
            )
        )
    return plan


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass
class QuizModel:
    """A version's quiz, prepared for inventing answers quickly."""

    pass_mark: int
    scorable: list[int]
    logits: list[float]  # how easy each question is
    right: list[tuple[bool, object, str, float]]  # (True, response, canonical, 1.0)
    wrong: list[tuple[list[tuple[bool, object, str, float]], list[float]]]  # options, weights

    @classmethod
    def of(cls, version: CourseVersion) -> "QuizModel":
        questions = questions_of(version)
        scorable = [i for i, q in enumerate(questions) if q.scorable]
        rng = random.Random(f"demo:{version.content_hash}")
        logits, right, wrong = [], [], []
        for index in scorable:
            question = questions[index]
            base = rng.uniform(0.55, 0.95)
            logits.append(math.log(base / (1 - base)))
            response = right_response(question)
            right.append((True, response, canonical_response(question, response), 1.0))
            options = [
                (False, r, canonical_response(question, r), score(question, r).fraction)
                for r in wrong_responses(question)
            ]
            rng.shuffle(options)  # each question gets a favourite wrong answer, as in life
            wrong.append((options, [1 / (rank + 1) ** 1.5 for rank in range(len(options))]))
        return cls(version.pass_mark, scorable, logits, right, wrong)


class History:
    """Invent who took which course when, how they scored, and what they answered."""

    TABLES = {
        Enrolment: (
            "id",
            "user_id",
            "course_id",
            "version_id",
            "started_at",
            "last_lesson",
            "lessons_done",
            "attempts",
            "best_score",
            "best_attempt_id",
            "completed_at",
        ),
        QuizAttempt: (
            "id",
            "enrolment_id",
            "user_id",
            "version_id",
            "number",
            "submitted_at",
            "score",
            "passed",
            "answers",
        ),
        QuizAnswer: ("id", "attempt_id", "version_id", "question", "correct", "response"),
        Certificate: (
            "id",
            "code",
            "user_id",
            "course_id",
            "version_id",
            "issued_at",
            "score",
            "expires_on",
            "reminded_30_on",
            "reminded_7_on",
            "renewal_due_on",
        ),
    }

    def __init__(self, session: Session, demo: DemoOrg, today: date):
        self.session, self.today = session, today
        self.rng = random.Random(demo.rng.random())
        self.named = set(demo.logins.values())
        self.rows: dict[type, list] = {model: [] for model in self.TABLES}
        self.counts = {"enrolments": 0, "attempts": 0}
        self.next_id = {model: next_id(model, session=session) for model in self.TABLES}
        self.courses = {c.id: (c, v) for c, v in offered_courses(session=session)}
        self.quizzes = {v.id: QuizModel.of(v) for _, v in self.courses.values()}

    def generate(self, plan: list[Assignment]) -> None:
        paths = {
            u: [int(i) for i in p.strip("/").split("/") if i] + [u]
            for u, p in self.session.exec(select(OrgUnit.id, OrgUnit.path)).all()
        }
        named = set(self.session.exec(select(User.id).where(User.email.in_(self.named))).all())
        plan = sorted(plan, key=lambda a: a.due_on)
        for user_id, unit_id in people_in_batches(session=self.session):
            seen = set()  # a person takes a course once, from its earliest assignment
            for assignment in plan:
                course, version = self.courses[assignment.course_id]
                if assignment.unit_id not in paths.get(unit_id, ()) or course.id in seen:
                    continue
                seen.add(course.id)
                self.person_course(user_id, user_id in named, course, version, assignment)
            if len(self.rows[QuizAnswer]) >= CHUNK:
                self.write()
        self.write()
        for model in self.TABLES:
            fix_sequence(model, session=self.session)

    def person_course(
        self,
        user_id: int,
        named: bool,
        course: Course,
        version: CourseVersion,
        assignment: Assignment,
    ) -> None:
        rng, due = self.rng, assignment.due_on
        opened = assignment.created_at.date()
        if due >= self.today:  # still open: some are done, some are reading, most not yet
            if named:
                return
            roll = rng.random()
            if roll < 0.35:
                self.complete(
                    user_id,
                    course,
                    version,
                    opened + timedelta(days=rng.randint(0, (self.today - opened).days)),
                )
            elif roll < 0.55:
                self.partial(user_id, course, version, opened)
            return
        roll = rng.random()
        if named or roll < 0.80:
            self.complete(
                user_id,
                course,
                version,
                due - timedelta(days=rng.randint(0, max(0, (due - opened).days))),
            )
        elif roll < 0.89 and (self.today - due).days > 1:
            late = due + timedelta(days=rng.randint(1, min(45, (self.today - due).days - 1)))
            self.complete(user_id, course, version, late)
        elif roll < 0.95:
            self.partial(user_id, course, version, opened)

    def enrol(
        self,
        user_id: int,
        course: Course,
        version: CourseVersion,
        started: datetime,
        lessons_read: int,
        tries: list[list[tuple]],
        finished: datetime | None,
    ) -> None:
        """Add an enrolment with its attempts (the last one passed when `finished` is set)."""
        enrolment_id = self._id(Enrolment)
        quiz = self.quizzes[version.id]
        best = best_id = None
        for number, picks in enumerate(tries, start=1):
            when = (
                finished - timedelta(days=len(tries) - number)
                if finished
                else started + timedelta(minutes=40)
            )
            attempt_id, score = self.attempt(
                enrolment_id, user_id, version.id, quiz, number, picks, when
            )
            if best is None or score > best:
                best, best_id = score, attempt_id
        self.rows[Enrolment].append(
            (
                enrolment_id,
                user_id,
                course.id,
                version.id,
                started,
                min(lessons_read + 1, len(version.lessons)),
                list(range(1, lessons_read + 1)),
                len(tries),
                best,
                best_id,
                finished,
            )
        )
        if finished:
            self.rows[Certificate].append(
                (
                    self._id(Certificate),
                    new_certificate_code(),
                    user_id,
                    course.id,
                    version.id,
                    *self.validity(version, finished, best),
                )
            )
        self.counts["enrolments"] += 1

    def complete(self, user_id: int, course: Course, version: CourseVersion, day: date) -> None:
        rng, quiz = self.rng, self.quizzes[version.id]
        skill = rng.gauss(0, 1)
        tries = []
        for number in range(1, 5):
            picks = self.answer_all(quiz, skill + 0.6 * (number - 1), force=number == 4)
            tries.append(picks)
            if percent(picks) >= quiz.pass_mark:
                break
        finished = _at(day, rng.randint(8, 17), rng.randint(0, 59))
        started = finished - timedelta(days=len(tries) - 1, hours=1)
        self.enrol(user_id, course, version, started, len(version.lessons), tries, finished)

    def partial(self, user_id: int, course: Course, version: CourseVersion, opened: date) -> None:
        rng, quiz = self.rng, self.quizzes[version.id]
        span = max(0, (self.today - opened).days - 1)
        started = _at(opened + timedelta(days=rng.randint(0, span)), rng.randint(8, 17))
        read = rng.randint(1, len(version.lessons))
        tries = []
        if read == len(version.lessons) and rng.random() < 0.5:
            picks = self.answer_all(quiz, rng.gauss(-1, 0.5), force=False)
            if percent(picks) < quiz.pass_mark:
                tries.append(picks)
        self.enrol(user_id, course, version, started, read, tries, None)

    def answer_all(self, quiz: QuizModel, skill: float, force: bool) -> list[tuple]:
        """Answer each scorable question, (right?, response, canonical, fraction);
        `force` makes the attempt pass."""
        random_, choices = self.rng.random, self.rng.choices
        picks = [
            quiz.right[n]
            if random_() < 1 / (1 + math.exp(-(logit + 0.8 * skill)))
            else choices(*quiz.wrong[n])[0]
            for n, logit in enumerate(quiz.logits)
        ]
        while force and percent(picks) < quiz.pass_mark:
            wrong = next(n for n, pick in enumerate(picks) if not pick[0])
            picks[wrong] = quiz.right[wrong]
        return picks

    def attempt(
        self,
        enrolment_id: int,
        user_id: int,
        version_id: int,
        quiz: QuizModel,
        number: int,
        picks: list[tuple],
        when: datetime,
    ) -> tuple[int, float]:
        attempt_id = self._id(QuizAttempt)
        answers, rows = {}, self.rows[QuizAnswer]
        next_answer = self.next_id[QuizAnswer]
        for n, (index, (right, response, canonical, _)) in enumerate(
            zip(quiz.scorable, picks, strict=True)
        ):
            answers[str(index)] = response
            rows.append((next_answer + n, attempt_id, version_id, index, right, canonical))
        self.next_id[QuizAnswer] = next_answer + len(picks)
        score = percent(picks)
        self.rows[QuizAttempt].append(
            (
                attempt_id,
                enrolment_id,
                user_id,
                version_id,
                number,
                when,
                score,
                score >= quiz.pass_mark,
                answers,
            )
        )
        self.counts["attempts"] += 1
        return attempt_id, score

    def validity(self, version: CourseVersion, finished: datetime, best: float | None) -> tuple:
        """Return a certificate's issued_at, score, expiry, reminders and renewal due date.

        For a course whose certificates expire, as the recertification job would have left
        them: most people renewed each time within a few weeks of expiring (the certificate
        then runs from the renewal), and the rest are due to renew.
        """
        months = version.certificate_valid_months
        issued, expires = finished, None
        while months:
            expires = add_months(issued.date(), months)
            if expires > self.today or self.rng.random() < 0.15:
                break
            issued = _at(
                expires - timedelta(days=self.rng.randint(0, 25)),
                self.rng.randint(8, 17),
                self.rng.randint(0, 59),
            )
        reminded = [
            expires - timedelta(days=d)
            if expires and expires - timedelta(days=d) <= self.today
            else None
            for d in EXPIRY_REMINDER_DAYS
        ]
        renewal = (
            expires + timedelta(days=RENEWAL_DAYS) if expires and expires <= self.today else None
        )
        return issued, best, expires, *reminded, renewal

    def _id(self, model) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def write(self) -> None:
        """Insert the buffered rows, parents before children."""
        for model, columns in self.TABLES.items():
            bulk_write(model, columns, self.rows[model], session=self.session)
            self.rows[model].clear()


def percent(picks: list[tuple]) -> float:
    """Score answers as trainer.learn.quizzes.grade does: the mean fraction, in percent."""
    return round(100 * sum(p[3] for p in picks) / len(picks), 1) if picks else 0.0


def right_response(question: Question):
    """Return a response that scores full marks."""
    if question.type == "mc":
        return max(range(len(question.answers)), key=lambda i: question.answers[i].fraction)
    if question.type == "multi":
        return [i for i, a in enumerate(question.answers) if a.fraction > 0]
    if question.type == "truefalse":
        return question.truefalse.correct
    if question.type == "short":
        return max(question.answers, key=lambda a: a.fraction).text
    if question.type == "numerical":
        best = max((a for a in question.answers if a.value is not None), key=lambda a: a.fraction)
        return f"{best.value:g}"
    return {m.left: m.right for m in question.matches if m.left}


def wrong_responses(question: Question) -> list:
    """Return a few plausible wrong responses."""
    if question.type == "mc":
        return [i for i, a in enumerate(question.answers) if a.fraction < 1]
    if question.type == "multi":
        right = [i for i, a in enumerate(question.answers) if a.fraction > 0]
        wrong = [i for i, a in enumerate(question.answers) if a.fraction <= 0]
        options = [sorted(right[:-1] + [w]) for w in wrong] + [right[:-1]]
        return [o for o in options if o] or [wrong]
    if question.type == "truefalse":
        return [not question.truefalse.correct]
    if question.type == "short":
        return ["not sure"]
    if question.type == "numerical":
        return ["0"]
    pairs = [m for m in question.matches if m.left]
    options = []
    for i in range(len(pairs) - 1):
        swapped = {m.left: m.right for m in pairs}
        swapped[pairs[i].left], swapped[pairs[i + 1].left] = pairs[i + 1].right, pairs[i].right
        options.append(swapped)
    return options
