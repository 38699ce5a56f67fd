"""The demo step: real courses, assignments over eight quarters, consistent history."""

import pytest
from sqlmodel import func, select

from trainer.auth.models import User
from trainer.demo import DEMO_PASSWORD, build_org
from trainer.learn import progress, quizzes, reports
from trainer.learn.certificates import certificate_state
from trainer.learn.demo import demo_learning
from trainer.learn.models import (
    Assignment,
    Certificate,
    Course,
    CourseVersion,
    Enrolment,
    QuizAnswer,
    QuizAttempt,
)
from trainer.util import quarter_of, shift_quarter, utcnow


@pytest.fixture
def demo(app, session):
    demo = build_org(session=session, employees=120)
    demo_learning(session=session, demo=demo)
    session.commit()
    return demo


def test_demo_assigns_courses_across_the_last_eight_quarters(session, demo):
    periods = {quarter_of(a.due_on) for a in session.exec(select(Assignment))}
    current = quarter_of(utcnow().date())
    assert {shift_quarter(current, -k) for k in range(1, 9)} <= periods
    rows = reports.completion_by_unit_period(session=session, unit_ids={demo.company.id})
    past = [r for r in rows if r["period"] < current]
    assert len(past) == 8
    assert all(0.6 < r["completion_rate"] < 1 for r in past)


def test_the_demo_employee_has_an_assigned_course_still_to_do(session, demo):
    employee = session.exec(select(User).where(User.email == "employee@example.com")).one()
    learning = progress.my_learning(session=session, user=employee)
    assert any(not card.completed and card.due_on >= utcnow().date() for card in learning.assigned)
    assert any(card.completed for card in learning.assigned)


def test_demo_history_is_consistent_with_the_scoring(session, demo):
    completed = session.exec(select(Enrolment).where(Enrolment.completed_at.is_not(None))).all()
    certificates = session.exec(select(func.count()).select_from(Certificate)).one()
    assert len(completed) == certificates > 100
    versions = {v.id: v for v in session.exec(select(CourseVersion))}
    for enrolment in completed[:200]:
        version = versions[enrolment.version_id]
        assert enrolment.best_score >= version.pass_mark
    attempts = session.exec(select(QuizAttempt).limit(300)).all()
    for attempt in attempts:
        version = versions[attempt.version_id]
        responses = {int(k): v for k, v in attempt.answers.items()}
        graded = quizzes.grade(quizzes.questions_of(version), responses, version.pass_mark)
        assert (graded.score, graded.passed) == (attempt.score, attempt.passed)
        stored = {
            a.question: a.correct
            for a in session.exec(select(QuizAnswer).where(QuizAnswer.attempt_id == attempt.id))
        }
        assert stored == graded.correct


def test_demo_pages_work_for_the_demo_logins(client, session, demo):
    client.post("/auth/login", data={"email": "hr@example.com", "password": DEMO_PASSWORD})
    assert client.get("/learn/reports").status_code == 200
    course = session.exec(select(Course).order_by(Course.slug)).first()
    html = client.get(f"/learn/analysis/{course.slug}").get_data(as_text=True)
    assert "Most-chosen wrong answer" in html and " times)" in html
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": "employee@example.com", "password": DEMO_PASSWORD})
    html = client.get("/learn/").get_data(as_text=True)
    assert "Certificate<span" in html
    attempt = session.exec(
        select(QuizAttempt)
        .join(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(User.email == "employee@example.com")
    ).first()
    html = client.get(f"/learn/attempts/{attempt.id}").get_data(as_text=True)
    assert "Feedback on each question" in html


def test_the_demo_has_certificates_expiring_and_expired(client, session, demo):
    today = utcnow().date()
    certificates = session.exec(
        select(Certificate).where(Certificate.expires_on.is_not(None))
    ).all()
    states = [certificate_state(c, today) for c in certificates]
    assert states.count("expiring") >= 3 and states.count("expired") >= 3
    assert states.count("valid") > states.count("expired")  # most people renewed in time
    for certificate in certificates:
        assert (certificate.renewal_due_on is not None) == (certificate.expires_on <= today)
    client.post("/auth/login", data={"email": "hr@example.com", "password": DEMO_PASSWORD})
    html = client.get("/learn/reports").get_data(as_text=True)
    assert "Certificates that expire, by unit" in html
