"""Course content into the database: check, lint and sync the course folders."""

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from trainer.learn.lint import lint_course
from trainer.learn.loader import LoadedCourse, load_library, question_to_dict
from trainer.learn.models import Course, CourseVersion
from trainer.learn.services import LearnError
from trainer.util import utcnow


def check_courses(courses_dir: Path) -> list:
    """Return every problem in the course folders (for `flask content check`)."""
    return load_library(courses_dir)[1]


def lint_courses(courses_dir: Path) -> list:
    """Return the lint warnings for every course that loads (for `flask content check`)."""
    courses = load_library(courses_dir)[0]
    return [
        warning
        for course in courses
        for warning in lint_course(course, f"{Path(courses_dir).name}/{course.id}")
    ]


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not (self.added or self.updated or self.retired):
            return f"unchanged ({len(self.unchanged)} courses)"
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.retired)} retired",
        ]
        names = (
            [f"+{n}" for n in self.added]
            + [f"~{n}" for n in self.updated]
            + [f"-{n}" for n in self.retired]
        )
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
    version = session.exec(
        select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.content_hash == loaded.content_hash
        )
    ).first()
    if version is not None and version.id == course.current_version_id and not course.retired:
        return "unchanged"
    if version is None:
        version = CourseVersion(
            course_id=course.id,
            content_hash=loaded.content_hash,
            title=loaded.title,
            summary=loaded.summary,
            audience=loaded.audience,
            estimated_minutes=loaded.estimated_minutes,
            pass_mark=loaded.pass_mark,
            certificate_valid_months=loaded.certificate_valid_months,
            lessons=_lessons(loaded.lessons),
            questions=[question_to_dict(q) for q in loaded.questions],
            variants={
                language: {
                    "title": variant.title,
                    "summary": variant.summary,
                    "lessons": _lessons(variant.lessons),
                    "questions": [question_to_dict(q) for q in variant.questions],
                }
                for language, variant in loaded.variants.items()
            },
        )
        session.add(version)
        session.flush()
    course.current_version_id, course.retired, course.updated_at = version.id, False, utcnow()
    session.add(course)
    return status


def _lessons(lessons: list) -> list[dict]:
    return [
        {"file": lesson.file, "title": lesson.title, "markdown": lesson.markdown}
        for lesson in lessons
    ]
