"""Assignments, completion reports, item analysis and overdue reminders."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from tests.learn.learn_factory import add_course, response_values
from trainer.learn import assignments, progress, quizzes, reports, services
from trainer.learn.models import Assignment, ReminderSent
from trainer.mail import drain
from trainer.scheduler import run_all
from trainer.util import quarter_of, utcnow


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def complete(session, user, course, day):
    enrolment = progress.start_course(session=session, user=user, course=course)
    enrolment.completed_at = at(day)
    session.add(enrolment)
    session.commit()


def assign(session, course, unit, due):
    assignment = Assignment(course_id=course.id, unit_id=unit.id, due_on=due)
    session.add(assignment)
    session.commit()
    return assignment


# ---------------------------------------------------------------------- assigning


def test_a_manager_assigns_within_their_scope_only(client, login_as, org, course, session):
    login_as(org.manager)
    due = (utcnow().date() + timedelta(days=30)).isoformat()
    response = client.post(
        "/learn/assignments", data={"course_id": course.id, "unit_id": org.t1.id, "due_on": due}
    )
    assert response.status_code == 302
    response = client.post(
        "/learn/assignments", data={"course_id": course.id, "unit_id": org.t3.id, "due_on": due}
    )
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert [a.unit_id for a in session.exec(select(Assignment))] == [org.t1.id]
    html = client.get("/learn/assignments").get_data(as_text=True)
    assert f'<option value="{org.t3.id}"' not in html and f'<option value="{org.t1.id}"' in html


def test_due_dates_in_the_past_and_duplicates_are_refused(client, login_as, org, course):
    login_as(org.hr)
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    response = client.post(
        "/learn/assignments",
        data={"course_id": course.id, "unit_id": org.t3.id, "due_on": yesterday},
    )
    assert response.status_code == 400
    assert "Choose today or a later date." in response.get_data(as_text=True)
    data = {
        "course_id": course.id,
        "unit_id": org.t3.id,
        "due_on": (utcnow().date() + timedelta(days=3)).isoformat(),
    }
    assert client.post("/learn/assignments", data=data).status_code == 302
    response = client.post("/learn/assignments", data=data)
    assert response.status_code == 400
    assert "already assigned" in response.get_data(as_text=True)


def test_an_assignment_covers_the_whole_subtree(client, login_as, org, course, session, make_user):
    assign(session, course, org.s1, utcnow().date() + timedelta(days=5))
    login_as(org.employee)  # in T1, under S1
    html = client.get("/learn/").get_data(as_text=True)
    assert "Sample course" in html.split('id="assigned"')[1].split('id="catalogue"')[0]
    login_as(make_user("employee", org.t3))
    html = client.get("/learn/").get_data(as_text=True)
    assert "Nothing is assigned to you right now" in html


def test_withdrawing_is_limited_to_the_scope(client, login_as, org, course, session):
    inside = assign(session, course, org.t1, utcnow().date())
    outside = assign(session, course, org.t3, utcnow().date())
    login_as(org.manager)
    assert client.post(f"/learn/assignments/{outside.id}/delete").status_code == 403
    assert client.post(f"/learn/assignments/{inside.id}/delete").status_code == 302
    assert [a.id for a in session.exec(select(Assignment))] == [outside.id]


def test_a_manager_sees_assignments_made_higher_up_as_the_report_counts_them(
    client, login_as, org, course, session
):
    due = utcnow().date() + timedelta(days=10)
    company_wide = assign(session, course, org.company, due)
    other = add_course(session, "other-course")
    session.commit()
    elsewhere = assign(session, other, org.r2, due)  # above T3 only: not the manager's
    login_as(org.manager)
    html = client.get("/learn/assignments").get_data(as_text=True)
    assert "No courses assigned yet" not in html
    assert "Sample course" in html and org.company.name in html
    assert "Set higher up" in html
    assert f"/learn/assignments/{company_wide.id}/delete" not in html
    assert f"/learn/assignments/{elsewhere.id}/delete" not in html
    assert html.count("<tr>") - 1 == 1  # the header row, then the one covering assignment
    # The training report counts that assignment for the manager's site: its 2 people.
    report = client.get(f"/learn/reports?period={quarter_of(due)}").get_data(as_text=True)
    assert re.search(r">S1</a></th>\s*<td class=\"num\">2</td>", report)
    # It stays HR's to withdraw.
    assert client.post(f"/learn/assignments/{company_wide.id}/delete").status_code == 403


# ---------------------------------------------------------------------- completion


@pytest.fixture
def history(session, org, course, make_user):
    """S1 had the course due 15 Feb 2025 (2025Q1): on time, late and never; T3 had another."""
    other = add_course(session, "other-course")
    session.commit()
    t2_person = make_user("employee", org.t2)
    due = date(2025, 2, 15)
    assign(session, course, org.s1, due)
    assign(session, other, org.t3, date(2025, 5, 1))
    complete(session, org.employee, course, date(2025, 2, 1))  # T1, on time
    complete(session, t2_person, course, date(2025, 3, 1))  # T2, late
    # org.manager (unit S1) never completes it.
    t3_person = make_user("employee", org.t3)
    complete(session, t3_person, other, date(2024, 12, 1))  # done before it was assigned
    return {"course": course, "other": other, "t2_person": t2_person}


def rows_by_code(session, **kwargs):
    return {
        (r["unit_code"], r["period"]): r
        for r in reports.completion_by_unit_period(session=session, **kwargs)
    }


def test_completion_by_unit_and_quarter_counts_each_unit_with_its_subtree(session, org, history):
    rows = rows_by_code(session)
    assert set(rows) == {
        ("T1", "2025Q1"),
        ("T2", "2025Q1"),
        ("S1", "2025Q1"),
        ("R1", "2025Q1"),
        ("C", "2025Q1"),
        ("T3", "2025Q2"),
        ("S2", "2025Q2"),
        ("R2", "2025Q2"),
        ("C", "2025Q2"),
    }
    s1 = rows[("S1", "2025Q1")]
    assert (s1["assigned"], s1["completed"]) == (3, 1)
    assert s1["completion_rate"] == pytest.approx(1 / 3)
    assert s1["unit_id"] == org.s1.id
    assert (rows[("T1", "2025Q1")]["completed"], rows[("T2", "2025Q1")]["completed"]) == (1, 0)
    assert (rows[("T3", "2025Q2")]["assigned"], rows[("T3", "2025Q2")]["completed"]) == (1, 1)
    limited = rows_by_code(session, unit_ids={org.t1.id, org.t3.id})
    assert set(limited) == {("T1", "2025Q1"), ("T3", "2025Q2")}


def test_a_person_completes_a_quarter_only_when_every_course_due_in_it_is_on_time(
    session, org, history
):
    assign(session, history["other"], org.t1, date(2025, 3, 20))
    rows = rows_by_code(session)
    assert rows[("T1", "2025Q1")]["assigned"] == 1
    assert rows[("T1", "2025Q1")]["completed"] == 0
    complete(session, org.employee, history["other"], date(2025, 3, 20))
    assert rows_by_code(session)[("T1", "2025Q1")]["completed"] == 1


def test_reports_show_units_in_scope_with_on_time_late_and_overdue(client, login_as, org, history):
    login_as(org.manager)
    html = client.get("/learn/reports?period=2025Q1").get_data(as_text=True)
    assert ">Assigned courses due in 2025Q1, by unit<" in html
    for unit, shown in ((org.s1, True), (org.t1, True), (org.t3, False), (org.company, False)):
        assert (f"/learn/reports/units/{unit.id}?" in html) is shown
    row = html.split(f">{org.s1.name}</a></th>")[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split('<td class="num">')[1:]]
    assert cells == ["3", "1", "1", "1", "0", "33%"]

    html = client.get(f"/learn/reports/units/{org.s1.id}?period=2025Q1").get_data(as_text=True)
    table = html.split("<tbody>")[1]
    assert table.index(org.manager.name) < table.index(org.employee.name)  # overdue first
    assert "! Overdue" in table and "✓ Completed late" in table
    assert client.get(f"/learn/reports/units/{org.t3.id}").status_code == 403


def test_hr_sees_every_unit(client, login_as, org, history):
    login_as(org.hr)
    html = client.get("/learn/reports?period=2025Q2").get_data(as_text=True)
    assert f"/learn/reports/units/{org.t3.id}?" in html
    assert f"/learn/reports/units/{org.company.id}?" in html
    assert "Quiz item analysis" in html


# ---------------------------------------------------------------------- item analysis


def test_item_analysis_shows_share_correct_and_the_most_chosen_wrong_answer(
    client, login_as, org, course, session, make_user
):
    version = services.version_for(session=session, course=course, enrolment=None)
    questions = quizzes.questions_of(version)
    for wrong in ((0,), (0, 1), ()):
        user = make_user("employee", org.t1)
        enrolment = progress.start_course(session=session, user=user, course=course)
        quizzes.submit_quiz(
            session=session,
            user=user,
            enrolment=enrolment,
            version=version,
            responses=response_values(questions, wrong=wrong),
        )
    session.commit()
    rows = reports.item_analysis(session=session, version=version)
    first = rows[0]
    assert (first["answered"], first["correct"], first["top_wrong"], first["top_wrong_count"]) == (
        3,
        1,
        "Nothing",
        2,
    )
    assert rows[1]["top_wrong"] == "True" and rows[2]["top_wrong"] is None

    login_as(org.manager)
    assert client.get("/learn/analysis/sample-course").status_code == 403
    login_as(org.hr)
    html = client.get("/learn/analysis/sample-course").get_data(as_text=True)
    assert "Nothing" in html and "33%" in html and "(2 times)" in html
    assert "Sample course" in client.get("/learn/analysis").get_data(as_text=True)


# ---------------------------------------------------------------------- reminders


def test_overdue_reminders_go_once_by_email_and_not_to_those_done(
    app, session, org, course, mailbox, make_user
):
    today = date(2026, 3, 10)
    assign(session, course, org.s1, date(2026, 3, 1))
    done = make_user("employee", org.t2)
    complete(session, done, course, date(2026, 2, 20))
    now = at(today)

    run_all(app, now)
    recipients = sorted(m["To"] for m in mailbox)
    assert recipients == sorted([org.employee.email, org.manager.email])
    message = next(m for m in mailbox if m["To"] == org.employee.email)
    assert "Sample course, due March 1, 2026" in message.get_content()
    assert "http://localhost/learn/" in message.get_content()

    run_all(app, now)
    run_all(app, now + timedelta(days=6))
    assert len(mailbox) == 2  # never twice a day, and only once a week
    run_all(app, now + timedelta(days=7))
    assert len(mailbox) == 4
    run_all(app, at(date(2026, 3, 1) + timedelta(days=60)))
    assert len(mailbox) == 4  # six weeks after the due date, reminders stop
    assert len(session.exec(select(ReminderSent)).all()) == 4


def test_a_reminder_survives_a_failed_send_and_goes_once(app, session, org, course, mailbox):
    assign(session, course, org.t1, date(2026, 3, 1))
    now = at(date(2026, 3, 5))
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there
    run_all(app, now)
    assert mailbox == [] and len(session.exec(select(ReminderSent)).all()) == 1
    app.config["MAIL_PORT"] = working_port
    run_all(app, now)  # the same day: nothing new is queued
    mailbox.deliver()
    assert mailbox == []  # the outbox waits a minute before its retry
    with app.app_context():
        drain(session=session, now=utcnow() + timedelta(minutes=5))
    assert [m["To"] for m in mailbox] == [org.employee.email]
    assert len(session.exec(select(ReminderSent)).all()) == 1


def test_retired_courses_send_no_reminders_and_leave_my_learning(
    app, client, login_as, session, org, course, mailbox
):
    assign(session, course, org.t1, date(2026, 3, 1))
    course.retired = True
    session.add(course)
    session.commit()
    assert assignments.send_overdue_reminders(session=session, now=at(date(2026, 3, 5))) == 0
    assert mailbox == []
    login_as(org.employee)
    assert "Nothing is assigned to you right now" in client.get("/learn/").get_data(as_text=True)
