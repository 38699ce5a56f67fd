"""Syncing the library: versions by content hash, retiring, and learners keeping theirs."""

import shutil

import pytest
from sqlmodel import select

from tests.learn.learn_factory import response_values, write_course
from trainer.learn import progress, quizzes, services
from trainer.learn.models import Certificate, Course, CourseVersion, Enrolment
from trainer.learn.sync import sync_courses


def sync(session, folder):
    report = sync_courses(session=session, courses_dir=folder)
    session.commit()
    return report


def versions(session):
    return session.exec(select(CourseVersion).order_by(CourseVersion.id)).all()


def test_sync_is_idempotent(session, courses_dir):
    assert (
        str(sync(session, courses_dir)) == "1 added, 0 updated, 0 unchanged, 0 retired "
        "(+sample-course)"
    )
    assert str(sync(session, courses_dir)) == "unchanged (1 courses)"
    assert len(versions(session)) == 1


def test_an_edit_makes_a_new_version_and_learners_keep_theirs(session, courses_dir, org, make_user):
    sync(session, courses_dir)
    course = services.course_by_slug(session=session, slug="sample-course")
    old_version = course.current_version_id
    early = progress.start_course(session=session, user=org.employee, course=course)
    session.commit()

    write_course(courses_dir, title="Sample course, revised")
    report = sync(session, courses_dir)
    assert report.updated == ["sample-course"]
    session.refresh(course)
    assert course.current_version_id != old_version
    assert [v.title for v in versions(session)] == ["Sample course", "Sample course, revised"]

    late = progress.start_course(session=session, user=make_user(), course=course)
    assert (early.version_id, late.version_id) == (old_version, course.current_version_id)
    version = services.version_for(session=session, course=course, enrolment=early)
    assert version.title == "Sample course"


def test_reverting_an_edit_points_back_to_the_stored_version(session, courses_dir):
    sync(session, courses_dir)
    first = services.course_by_slug(session=session, slug="sample-course").current_version_id
    write_course(courses_dir, pass_mark=50)
    sync(session, courses_dir)
    write_course(courses_dir)
    sync(session, courses_dir)
    course = services.course_by_slug(session=session, slug="sample-course")
    assert course.current_version_id == first
    assert len(versions(session)) == 2


def test_removing_a_course_retires_it_and_keeps_progress_and_certificates(
    session, courses_dir, org
):
    sync(session, courses_dir)
    course = services.course_by_slug(session=session, slug="sample-course")
    enrolment = progress.start_course(session=session, user=org.employee, course=course)
    version = services.version_for(session=session, course=course, enrolment=enrolment)
    quizzes.submit_quiz(
        session=session,
        user=org.employee,
        enrolment=enrolment,
        version=version,
        responses=response_values(quizzes.questions_of(version)),
    )
    session.commit()

    shutil.rmtree(courses_dir / "sample-course")
    assert sync(session, courses_dir).retired == ["sample-course"]
    session.refresh(course)
    assert course.retired
    assert session.get(Enrolment, enrolment.id).completed_at is not None
    assert session.exec(select(Certificate)).one().user_id == org.employee.id
    assert len(versions(session)) == 1

    write_course(courses_dir)
    assert sync(session, courses_dir).updated == ["sample-course"]
    session.refresh(course)
    assert not course.retired


def test_sync_refuses_a_library_with_problems(session, courses_dir):
    write_course(courses_dir, "broken-course", pass_mark=0)
    with pytest.raises(services.LearnError, match="pass_mark"):
        sync_courses(session=session, courses_dir=courses_dir)
    assert session.exec(select(Course)).all() == []


def test_questions_are_stored_with_their_answer_keys_on_the_server(session, courses_dir):
    sync(session, courses_dir)
    version = versions(session)[0]
    first = version.questions[0]
    assert first["type"] == "mc"
    assert [a["fraction"] for a in first["answers"]] == [1.0, 0.0, 0.0]
