"""A learner's path through the pages: catalogue, lessons, quiz, retries and certificate."""

import re
from datetime import timedelta

from babel.dates import format_date
from sqlmodel import select

from tests.learn.learn_factory import add_course, form_answers
from trainer.content import markdown_to_html
from trainer.learn import progress, services
from trainer.learn.models import Assignment, Certificate, Enrolment, QuizAnswer, QuizAttempt
from trainer.util import utcnow


def long_day(value) -> str:
    """A date as English pages and emails write it ("March 10, 2026")."""
    return format_date(value, "long", locale="en")


SECRET = "test-secret"


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def enrolment_of(session, user, course):
    session.expire_all()
    return services.enrolment_for(session=session, user=user, course=course)


def submit(client, session, user, course, wrong=()):
    enrolment = enrolment_of(session, user, course)
    version = services.version_for(session=session, course=course, enrolment=enrolment)
    attempt_no = (enrolment.attempts if enrolment else 0) + 1
    data = form_answers(version, user.id, attempt_no, SECRET, wrong)
    data["version_id"] = str(version.id)
    return client.post(f"/learn/courses/{course.slug}/quiz", data=data)


def test_a_lesson_is_rendered_once_per_course_version(client, login_as, org, session, monkeypatch):
    rendered = []

    def counting_renderer(text):
        rendered.append(text)
        return markdown_to_html(text)

    monkeypatch.setattr(progress, "markdown_to_html", counting_renderer)
    progress._render_lesson.cache_clear()
    add_course(session, lessons={"01-start.md": "# Once\n\nThe **first** text.\n"})
    session.commit()
    login_as(org.employee)
    for _ in range(2):
        assert "The <strong>first</strong> text." in page(
            client, "/learn/courses/sample-course/lessons/1"
        )
    assert len(rendered) == 1

    add_course(session, lessons={"01-start.md": "# Once\n\nThe **edited** text.\n"})
    session.commit()
    assert "The <strong>edited</strong> text." in page(
        client, "/learn/courses/sample-course/lessons/1"
    )
    assert len(rendered) == 2


def test_catalogue_lists_assigned_courses_with_their_due_date(
    client, login_as, org, course, session
):
    login_as(org.employee)
    html = page(client, "/learn/")
    assert "Sample course" in html.split('id="catalogue"')[1]
    due = utcnow().date() + timedelta(days=10)
    session.add(Assignment(course_id=course.id, unit_id=org.s1.id, due_on=due))
    session.commit()
    html = page(client, "/learn/")
    assigned = html.split('id="assigned"')[1].split('id="catalogue"')[0]
    assert "Sample course" in assigned and f"Due {long_day(due)}" in assigned
    assert "Not started" in assigned


def test_reading_lessons_records_progress_only_on_post_and_resumes(
    client, login_as, org, course, session
):
    login_as(org.employee)
    html = page(client, "/learn/courses/sample-course/lessons/1")
    assert "<h1>Why it matters</h1>" in html and "<strong>stay</strong>" in html
    assert "Lesson 1 of 2, then the quiz" in html
    assert 'value="1" max="3"' in html
    assert enrolment_of(session, org.employee, course) is None  # GET changes nothing

    response = client.post("/learn/courses/sample-course/lessons/1/done")
    assert response.status_code == 302
    assert response.location.endswith("/learn/courses/sample-course/lessons/2")
    enrolment = enrolment_of(session, org.employee, course)
    assert (enrolment.lessons_done, enrolment.last_lesson) == ([1], 2)
    assert "Continue: lesson 2" in page(client, "/learn/courses/sample-course")

    response = client.post("/learn/courses/sample-course/lessons/2/done")
    assert response.location.endswith("/learn/courses/sample-course/quiz")
    assert "Take the quiz" in page(client, "/learn/courses/sample-course")
    page(client, "/learn/courses/sample-course/lessons/3", status=404)


def test_the_quiz_page_sends_no_answer_keys_or_feedback(client, login_as, org, course):
    login_as(org.employee)
    html = page(client, "/learn/courses/sample-course/quiz")
    assert "Question 5 of 5" in html
    for secret in (
        "Right: policy allows it",
        "She leaves unhappy",
        "Not so.",
        "No blame",
        "fraction",
        "grievance",
        "gripe",
        "%50%",
        "100",
    ):
        assert secret not in html
    # Options are posted by their shown position, never by their place in the quiz file.
    values = re.findall(r'name="q0" value="([^"]+)"', html)
    assert values == ["0", "1", "2"]


def test_fail_then_retry_and_pass_keeps_the_best_result(client, login_as, org, course, session):
    login_as(org.employee)
    response = submit(client, session, org.employee, course, wrong=(0, 1))
    assert response.status_code == 302
    html = page(client, response.location)
    assert "Your result: 60%" in html and "Not passed this time" in html
    assert "She leaves unhappy." in html  # feedback on the chosen wrong answer
    assert "Not so." in html  # true/false feedback for the wrong answer
    assert session.exec(select(Certificate)).all() == []

    response = submit(client, session, org.employee, course)
    html = page(client, response.location)
    assert "Your result: 100%" in html and "Passed" in html
    certificate = session.exec(select(Certificate)).one()
    assert certificate.score == 100

    response = submit(client, session, org.employee, course, wrong=(4,))
    html = page(client, response.location)
    assert "Your result: 80%" in html
    assert "Your best result, which is the one that counts: 100%" in html
    enrolment = enrolment_of(session, org.employee, course)
    assert (enrolment.attempts, enrolment.best_score) == (3, 100)
    session.refresh(certificate)
    assert certificate.score == 100
    assert [a.score for a in session.exec(select(QuizAttempt).order_by(QuizAttempt.id))] == [
        60,
        100,
        80,
    ]
    assert len(session.exec(select(QuizAnswer)).all()) == 15


def test_an_incomplete_quiz_is_shown_again_with_messages_and_nothing_saved(
    client, login_as, org, course, session
):
    login_as(org.employee)
    version = services.version_for(session=session, course=course, enrolment=None)
    data = form_answers(version, org.employee.id, 1, SECRET)
    del data["q1"], data["q3-m1"]
    data["version_id"] = str(version.id)
    response = client.post("/learn/courses/sample-course/quiz", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please answer every question" in html
    assert "Choose true or false." in html and "Match every item." in html
    chosen = data["q0"][0]
    assert f'name="q0" value="{chosen}" checked' in html  # answers already given are kept
    assert session.exec(select(QuizAttempt)).all() == []


def test_a_quiz_changed_while_answering_asks_to_answer_again(
    client, login_as, org, course, session
):
    login_as(org.employee)
    version = services.version_for(session=session, course=course, enrolment=None)
    data = form_answers(version, org.employee.id, 1, SECRET)
    data["version_id"] = str(version.id + 100)
    response = client.post("/learn/courses/sample-course/quiz", data=data)
    assert response.status_code == 400
    assert "This quiz changed while you were answering it" in response.get_data(as_text=True)


def test_only_the_learner_sees_their_attempts(client, login_as, org, course, session, make_user):
    login_as(org.employee)
    location = submit(client, session, org.employee, course).location
    login_as(make_user("employee", org.t1))
    page(client, location, status=404)
    login_as(org.hr)
    page(client, location, status=404)


def test_certificates_are_seen_by_the_owner_hr_and_managers_in_scope(
    client, login_as, org, course, session, make_user
):
    login_as(org.employee)
    submit(client, session, org.employee, course)
    code = session.exec(select(Certificate)).one().code
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    url = f"/learn/certificates/{code}"
    html = page(client, url)
    assert org.employee.name in html and "Sample course" in html and "100%" in html
    for viewer, status in (
        (org.hr, 200),
        (org.admin, 200),
        (org.manager, 200),
        (make_user("employee,manager", org.t3, manages=[org.s2]), 404),
        (make_user("employee", org.t1), 404),
    ):
        login_as(viewer)
        page(client, url, status=status)
    html = page(client, f"/learn/verify?code={code.lower()}")
    assert "Valid." in html and org.employee.name in html
    assert "No certificate has the code" in page(client, "/learn/verify?code=NOPE-NOPE-NOPE")


def test_a_retired_course_stays_visible_only_to_those_who_took_it(
    client, login_as, org, course, session, make_user
):
    login_as(org.employee)
    client.post("/learn/courses/sample-course/start")
    course.retired = True
    session.add(course)
    session.commit()
    html = page(client, "/learn/courses/sample-course")
    assert "no longer offered" in html
    login_as(make_user("employee", org.t1))
    assert "Sample course" not in page(client, "/learn/")
    page(client, "/learn/courses/sample-course", status=404)
    assert client.post("/learn/courses/sample-course/start").status_code == 404


def test_hostile_lesson_content_is_neutralised_on_the_page(client, login_as, org, course, session):
    version = services.version_for(session=session, course=course, enrolment=None)
    version.lessons = [
        dict(
            version.lessons[0],
            markdown=(
                "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n"
                '<a href="javascript:alert(2)" onclick="alert(3)">y</a>\n'
            ),
        ),
        version.lessons[1],
    ]
    session.add(version)
    session.commit()
    login_as(org.employee)
    html = page(client, "/learn/courses/sample-course/lessons/1")
    article = html.split('<article class="lesson">')[1].split("</article>")[0]
    assert "<script" not in article and "<a " not in article
    assert "&lt;script&gt;" in article


def test_a_course_without_quiz_completes_on_its_last_lesson(client, login_as, org, session):
    from tests.learn.learn_factory import add_course

    course = add_course(session, "reading-only", quiz=None)
    session.commit()
    login_as(org.employee)
    client.post("/learn/courses/reading-only/lessons/1/done")
    response = client.post("/learn/courses/reading-only/lessons/2/done")
    assert response.location.endswith("/learn/courses/reading-only")
    enrolment = enrolment_of(session, org.employee, course)
    assert enrolment.completed_at is not None
    assert session.exec(select(Certificate)).one().score is None
    page(client, "/learn/courses/reading-only/quiz", status=404)


def test_home_panel_counts_what_is_due(client, login_as, org, course, session):
    session.add(
        Assignment(
            course_id=course.id, unit_id=org.company.id, due_on=utcnow().date() - timedelta(days=1)
        )
    )
    session.commit()
    login_as(org.employee)
    html = page(client, "/")
    assert 'To do <span class="count">(1)</span>' in html
    assert "<strong>overdue</strong>, was due" in html and course.slug in html
    enrolment = progress.start_course(session=session, user=org.employee, course=course)
    enrolment.completed_at = utcnow()
    session.add(enrolment)
    session.commit()
    assert "Nothing is waiting for you right now." in page(client, "/")
    assert session.exec(select(Enrolment)).one().user_id == org.employee.id


def test_the_certificate_suggests_the_next_course(client, login_as, org, course, session):
    from tests.learn.learn_factory import add_course

    add_course(session, "next-course", title="Handling complaints")
    session.commit()
    login_as(org.employee)
    submit(client, session, org.employee, course)
    code = session.exec(select(Certificate)).one().code
    html = page(client, f"/learn/certificates/{code}")
    assert "Next for you" in html and "/learn/courses/next-course" in html
    # Once an assignment is due, the assigned course comes first.
    third = add_course(session, "third-course", title="Safe test drives")
    session.add(
        Assignment(
            course_id=third.id, unit_id=org.t1.id, due_on=utcnow().date() + timedelta(days=5)
        )
    )
    session.commit()
    html = page(client, f"/learn/certificates/{code}")
    assert "/learn/courses/third-course" in html and "/learn/courses/next-course" not in html
    # HR looking at someone else's certificate gets no suggestion meant for its owner.
    login_as(org.hr)
    assert "Next for you" not in page(client, f"/learn/certificates/{code}")
