"""Certificates that expire: course.yaml, reminders 30 and 7 days ahead by real email through
the scheduler, re-assignment at expiry, renewal, the verification page and the reports."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date
from sqlmodel import select

from tests.learn.learn_factory import add_course, course_files, form_answers, response_values
from trainer.learn import certificates, progress, quizzes, services
from trainer.learn.loader import load_course_files
from trainer.learn.models import Certificate, CourseVersion, Enrolment
from trainer.scheduler import run_all
from trainer.util import utcnow


def long_day(value) -> str:
    """A date as English pages and emails write it ("March 10, 2026")."""
    return format_date(value, "long", locale="en")


ISSUED = datetime(2025, 3, 10, 9, tzinfo=UTC)
EXPIRES = date(2026, 3, 10)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC)


@pytest.fixture
def yearly(session):
    """The sample course, with certificates valid for 12 months."""
    course = add_course(session, extra_yaml="certificate_valid_months: 12\n")
    session.commit()
    return course


def pass_quiz(session, user, course, when, version=None):
    enrolment = services.enrolment_for(session=session, user=user, course=course)
    version = version or services.version_for(session=session, course=course, enrolment=enrolment)
    enrolment = progress.start_course(session=session, user=user, course=course)
    quizzes.submit_quiz(
        session=session,
        user=user,
        enrolment=enrolment,
        version=version,
        responses=response_values(quizzes.questions_of(version)),
        now=when,
    )
    session.commit()
    return services.certificate_for(session=session, user=user, course=course)


# ---------------------------------------------------------------------- course.yaml


def test_a_course_may_declare_how_long_its_certificate_is_valid(session, yearly):
    version = session.get(CourseVersion, yearly.current_version_id)
    assert version.certificate_valid_months == 12
    plain = load_course_files("plain", course_files("plain")).course
    assert plain.certificate_valid_months is None


@pytest.mark.parametrize("value", ["0", "121", "twelve", "1.5", "true", "-12", "''"])
def test_a_bad_validity_is_a_clear_error_with_its_line(value):
    loaded = load_course_files(
        "sample-course", course_files(extra_yaml=f"certificate_valid_months: {value}\n")
    )
    assert loaded.course is None
    assert [str(p) for p in loaded.problems] == [
        "sample-course/course.yaml:11: certificate_valid_months must be a whole number of "
        "months from 1 to 120 (for example 12 or 24), or left out if the certificate never "
        "expires"
    ]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 3, 10), 12, date(2026, 3, 10)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert certificates.add_months(day, months) == expected


# ---------------------------------------------------------------------- issuing


def test_a_certificate_expires_after_the_declared_months(session, org, yearly):
    certificate = pass_quiz(session, org.employee, yearly, ISSUED)
    assert certificate.expires_on == EXPIRES
    assert certificate.renewal_due_on is None


def test_a_course_without_validity_gives_a_certificate_that_never_expires(session, org):
    course = add_course(session)
    certificate = pass_quiz(session, org.employee, course, ISSUED)
    assert certificate.expires_on is None
    assert certificates.send_recertification_notices(session=session, now=at(date(2030, 1, 1))) == 0


# ---------------------------------------------------------------------- the job


def test_reminders_go_once_30_and_7_days_ahead_and_the_course_is_reassigned_at_expiry(
    app, client, login_as, session, org, yearly, mailbox
):
    certificate = pass_quiz(session, org.employee, yearly, ISSUED)
    run_all(app, at(EXPIRES - timedelta(days=31)))
    assert mailbox == []

    for day in (EXPIRES - timedelta(days=30), EXPIRES - timedelta(days=29)):
        run_all(app, at(day))
        run_all(app, at(day))
    assert [m["To"] for m in mailbox] == [org.employee.email]
    first = mailbox[0]
    assert first["Subject"] == "Your certificate for Sample course expires in 30 days"
    assert "valid until March 10, 2026" in first.get_content()
    assert "http://localhost/learn/courses/sample-course" in first.get_content()
    session.refresh(certificate)
    assert certificate.reminded_30_on == EXPIRES - timedelta(days=30)

    for day in (EXPIRES - timedelta(days=7), EXPIRES - timedelta(days=3)):
        run_all(app, at(day))
    assert len(mailbox) == 2
    assert mailbox[1]["Subject"] == "Your certificate for Sample course expires in 7 days"
    session.refresh(certificate)
    assert certificate.reminded_7_on == EXPIRES - timedelta(days=7)

    run_all(app, at(EXPIRES))
    run_all(app, at(EXPIRES + timedelta(days=1)))
    assert len(mailbox) == 3
    expired = mailbox[2]
    assert expired["Subject"] == "Your certificate for Sample course has expired: please renew it"
    assert "expired on March 10, 2026" in expired.get_content()
    assert "complete it by April 9, 2026" in expired.get_content()
    session.refresh(certificate)
    assert certificate.renewal_due_on == EXPIRES + timedelta(days=30)

    # Re-assigned: the course is due again on the learner's page.
    assert progress.due_dates_for(session=session, user=org.employee) == {
        yearly.id: date(2026, 4, 9)
    }
    login_as(org.employee)
    page = client.get("/learn/").get_data(as_text=True)
    assigned = page.split('id="assigned"')[1].split("</section>")[0]
    assert "Sample course" in assigned and "Due April 9, 2026" in assigned
    course_page = client.get("/learn/courses/sample-course").get_data(as_text=True)
    assert "Your certificate expired on March 10, 2026" in course_page
    assert ">Take the quiz to renew</a>" in course_page
    assert (
        progress.learning_summary(session=session, user=org.employee, today=EXPIRES)["to_do"] == 1
    )


def test_a_scheduler_that_was_down_sends_only_the_reminder_still_due(
    app, session, org, yearly, mailbox
):
    pass_quiz(session, org.employee, yearly, ISSUED)
    run_all(app, at(EXPIRES - timedelta(days=3)))
    assert [m["Subject"] for m in mailbox] == [
        "Your certificate for Sample course expires in 3 days"
    ]
    run_all(app, at(EXPIRES - timedelta(days=2)))
    assert len(mailbox) == 1


def test_renewing_by_passing_again_restarts_the_certificate(
    app, client, login_as, session, org, yearly, mailbox
):
    certificate = pass_quiz(session, org.employee, yearly, ISSUED)
    code = certificate.code
    run_all(app, at(EXPIRES + timedelta(days=2)))
    session.refresh(certificate)
    assert certificate.renewal_due_on is not None

    renewed_at = at(EXPIRES + timedelta(days=10))
    renewed = pass_quiz(session, org.employee, yearly, renewed_at)
    assert renewed.code == code  # the same certificate, renewed
    assert renewed.issued_at.date() == renewed_at.date()
    assert renewed.expires_on == date(2027, 3, 20)
    assert (renewed.renewal_due_on, renewed.reminded_30_on, renewed.reminded_7_on) == (
        None,
        None,
        None,
    )
    assert progress.due_dates_for(session=session, user=org.employee) == {}

    run_all(app, at(date(2027, 3, 20) - timedelta(days=30)))  # the next cycle starts over
    assert mailbox[-1]["Subject"].endswith("expires in 30 days")


def test_passing_again_long_before_expiry_does_not_move_it(session, org, yearly):
    certificate = pass_quiz(session, org.employee, yearly, ISSUED)
    pass_quiz(session, org.employee, yearly, ISSUED + timedelta(days=60))
    session.refresh(certificate)
    assert certificate.expires_on == EXPIRES


def test_the_renewal_is_taken_on_the_current_version(app, session, org, yearly, mailbox):
    pass_quiz(session, org.employee, yearly, ISSUED)
    newer = add_course(
        session, title="Sample course, revised", extra_yaml="certificate_valid_months: 24\n"
    )
    session.commit()
    run_all(app, at(EXPIRES))
    enrolment = session.exec(select(Enrolment)).one()
    session.refresh(enrolment)
    assert enrolment.version_id == newer.current_version_id
    assert enrolment.lessons_done == []
    renewed = pass_quiz(session, org.employee, yearly, at(EXPIRES + timedelta(days=1)))
    assert renewed.expires_on == date(2028, 3, 11)  # the new version's 24 months


def test_renewal_through_the_quiz_page(app, client, login_as, session, org, yearly, mailbox):
    pass_quiz(session, org.employee, yearly, ISSUED)
    run_all(app, at(EXPIRES))
    login_as(org.employee)
    enrolment = session.exec(select(Enrolment)).one()
    version = session.get(CourseVersion, enrolment.version_id)
    data = {
        "version_id": str(version.id),
        **form_answers(version, org.employee.id, enrolment.attempts + 1, app.config["SECRET_KEY"]),
    }
    assert client.post("/learn/courses/sample-course/quiz", data=data).status_code == 302
    certificate = session.exec(select(Certificate)).one()
    session.refresh(certificate)
    assert certificate.renewal_due_on is None
    assert certificate.expires_on == certificates.add_months(utcnow().date(), 12)


def test_no_reminders_for_inactive_people_or_retired_courses(
    app, session, org, yearly, make_user, mailbox
):
    leaver = make_user("employee", org.t1)
    pass_quiz(session, leaver, yearly, ISSUED)
    leaver.active = False
    session.add(leaver)
    session.commit()
    run_all(app, at(EXPIRES))
    assert mailbox == []
    pass_quiz(session, org.employee, yearly, ISSUED)
    yearly.retired = True
    session.add(yearly)
    session.commit()
    run_all(app, at(EXPIRES))
    assert mailbox == []
    yearly.retired = False
    session.add(yearly)
    session.commit()
    run_all(app, at(EXPIRES))
    assert [m["To"] for m in mailbox] == [org.employee.email]


# ---------------------------------------------------------------------- verification page


def verify(client, code):
    html = client.get(f"/learn/verify?code={code}").get_data(as_text=True)
    return re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('role="status"')[1].split("</div>")[0])
    )


def test_the_verification_page_says_whether_it_is_still_valid(
    client, login_as, session, org, yearly, make_user
):
    today = utcnow().date()
    fresh = pass_quiz(session, org.employee, yearly, utcnow() - timedelta(days=10))
    old = pass_quiz(session, org.manager, yearly, utcnow() - timedelta(days=400))
    plain = pass_quiz(
        session, org.hr, add_course(session, slug="plain-course"), utcnow() - timedelta(days=400)
    )
    login_as(make_user("employee", org.t2))
    text = verify(client, fresh.code)
    assert (
        f"✓ Valid until {long_day(certificates.add_months(today - timedelta(days=10), 12))}" in text
    )
    text = verify(client, old.code.lower())
    assert f"✗ Expired on {long_day(old.expires_on)}" in text and "Valid" not in text
    assert "✓ Valid. " in verify(client, plain.code)
    assert "does not expire" in verify(client, plain.code)


def test_the_certificate_page_shows_its_validity(client, login_as, session, org, yearly):
    certificate = pass_quiz(session, org.employee, yearly, utcnow() - timedelta(days=3))
    login_as(org.employee)
    html = client.get(f"/learn/certificates/{certificate.code}").get_data(as_text=True)
    assert f"<dt>Valid until</dt><dd>{long_day(certificate.expires_on)}</dd>" in html


# ---------------------------------------------------------------------- reports


def test_reports_count_expiring_and_expired_certificates_per_unit(
    client, login_as, session, org, yearly, make_user
):
    now = utcnow()
    pass_quiz(session, org.employee, yearly, now - timedelta(days=350))  # t1: expiring
    pass_quiz(session, make_user("employee", org.t2), yearly, now - timedelta(days=380))
    pass_quiz(session, make_user("employee", org.t1), yearly, now - timedelta(days=30))
    pass_quiz(session, make_user("employee", org.t3), yearly, now - timedelta(days=380))
    login_as(org.manager)  # manages s1 (t1 and t2), not t3
    html = client.get("/learn/reports").get_data(as_text=True)
    table = html.split('id="certificates-caption"')[1].split("</table>")[0]

    def cells(unit):
        row = table.split(f">{unit.name}<span")[1].split("</tr>")[0]
        return [c.split("</td>")[0] for c in row.split('<td class="num">')[1:]]

    assert cells(org.s1) == ["3", "1", "1", "1"]
    assert cells(org.t1) == ["2", "1", "1", "0"]
    assert cells(org.t2) == ["1", "0", "0", "1"]
    assert f">{org.t3.name}<" not in table

    unit = client.get(f"/learn/reports/units/{org.s1.id}").get_data(as_text=True)
    listed = unit.split('id="certificates-caption"')[1].split("</table>")[0]
    assert listed.count("<tr>") == 3  # the header, the expired one, the expiring one
    assert listed.index("! Expired") < listed.index(org.employee.name)


def test_reports_say_so_when_nothing_expires(client, login_as, org, session):
    add_course(session)
    session.commit()
    login_as(org.hr)
    html = client.get("/learn/reports").get_data(as_text=True)
    assert "No certificates held by people here expire." in html


def test_the_renewal_date_replaces_assignments_met_before_expiry(
    app, session, org, yearly, mailbox
):
    from trainer.learn.models import Assignment

    session.add(Assignment(course_id=yearly.id, unit_id=org.t1.id, due_on=date(2025, 3, 31)))
    pass_quiz(session, org.employee, yearly, ISSUED)
    run_all(app, at(EXPIRES))
    assert progress.due_dates_for(session=session, user=org.employee) == {
        yearly.id: date(2026, 4, 9)
    }
    session.add(Assignment(course_id=yearly.id, unit_id=org.s1.id, due_on=date(2026, 3, 31)))
    session.commit()
    assert progress.due_dates_for(session=session, user=org.employee) == {
        yearly.id: date(2026, 3, 31)
    }
