"""Courses and their versions, enrolments, quiz attempts, certificates and assignments.

Nothing here is deleted when content changes: a course removed from `courses/` is retired, and
an edited course gets a new version while learners keep the version they started.
"""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from trainer.util import utcnow


class CourseStatus(StrEnum):
    """Where a person stands with a course (on the learning page and in the reports)."""

    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    NOT_YET_DUE = "not yet due"
    RENEWAL_DUE = "renewal due"
    OVERDUE = "overdue"
    COMPLETED_LATE = "completed late"
    COMPLETED = "completed"


class CertificateState(StrEnum):
    """Whether a certificate is still valid; expiring means within the first reminder's window."""

    NEVER_EXPIRES = "never expires"
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"


class Course(SQLModel, table=True):
    """A course as authors know it, by its folder name; its content lives in versions."""

    __tablename__ = "course"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True, index=True)
    # The version new learners get. No foreign key: course_version already points here.
    current_version_id: int | None = Field(default=None)
    retired: bool = Field(default=False)  # removed from courses/; kept for learners' records
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CourseVersion(SQLModel, table=True):
    """One exact content of a course, named by the hash of all its files."""

    __tablename__ = "course_version"
    __table_args__ = (sa.UniqueConstraint("course_id", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    content_hash: str = Field(max_length=64)
    title: str = Field(max_length=200)
    summary: str = Field(max_length=1000)
    audience: str = Field(max_length=16)
    estimated_minutes: int
    pass_mark: int  # percent
    # Certificates earned on this version expire this many months after they are issued.
    certificate_valid_months: int | None = Field(default=None)
    # [{"file", "title", "markdown"}], in order
    lessons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Parsed GIFT questions (trainer.learn.loader.question_to_dict); answer keys stay here.
    questions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Language variants from files such as 01-intro.de.md and quiz.de.gift, by language:
    # {"de": {"title", "summary", "lessons": [...], "questions": [...]}}, the same shapes as above
    variants: dict = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    created_at: datetime = Field(default_factory=utcnow)


class Enrolment(SQLModel, table=True):
    """A person's progress in a course, pinned to the version they started."""

    __tablename__ = "course_enrolment"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    version_id: int = Field(foreign_key="course_version.id", index=True)
    started_at: datetime = Field(default_factory=utcnow)
    last_lesson: int = Field(default=1)  # 1-based: where "Continue" takes the learner
    lessons_done: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=0)
    best_score: float | None = Field(default=None)  # percent; retries never lower it
    best_attempt_id: int | None = Field(default=None)
    completed_at: datetime | None = Field(default=None, index=True)  # passed (or read all)


class QuizAttempt(SQLModel, table=True):
    """One submitted quiz: the answers as given and the score the server gave them."""

    __tablename__ = "quiz_attempt"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="course_enrolment.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    version_id: int = Field(foreign_key="course_version.id", index=True)
    number: int  # 1 for the first attempt
    submitted_at: datetime = Field(default_factory=utcnow)
    score: float  # percent
    passed: bool
    # {"<question index>": response} exactly as scored (see trainer.learn.gift.score)
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The seed the options were shuffled with for this attempt (quizzes.option_order), so
    # the result page shows them in the order the learner saw. None before shuffles were kept.
    option_seed: str | None = Field(default=None, max_length=64)


class QuizAnswer(SQLModel, table=True):
    """One answered question of an attempt, kept flat for item analysis."""

    __tablename__ = "quiz_answer"
    __table_args__ = (sa.Index("ix_quiz_answer_version_question", "version_id", "question"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="quiz_attempt.id", index=True)
    version_id: int = Field(foreign_key="course_version.id")
    question: int  # index in CourseVersion.questions
    correct: bool
    response: str = Field(max_length=500)  # a canonical form of the answer, for counting


class Certificate(SQLModel, table=True):
    """Proof of passing a course, found by its random code."""

    __tablename__ = "course_certificate"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    version_id: int = Field(foreign_key="course_version.id")
    issued_at: datetime = Field(default_factory=utcnow)
    score: float | None = None  # the best quiz score, percent; None for a course without quiz
    # Recertification (CourseVersion.certificate_valid_months); None: never expires.
    expires_on: date | None = Field(default=None, index=True)
    reminded_30_on: date | None = None  # the "expires in 30 days" email was queued that day
    reminded_7_on: date | None = None
    # Set at expiry, when the course is re-assigned to the person: renew by this date.
    renewal_due_on: date | None = None


class Assignment(SQLModel, table=True):
    """A course everyone in a unit and its subtree should complete by a date."""

    __tablename__ = "course_assignment"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    due_on: date = Field(index=True)
    assigned_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class ReminderSent(SQLModel, table=True):
    """An overdue reminder sent to one person for one assignment on one day."""

    __tablename__ = "course_reminder"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "user_id", "sent_on"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="course_assignment.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    sent_on: date
