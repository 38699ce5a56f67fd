"""People without email: known by an employee number, imported and edited like anyone, sent no
email (they sign in with a printed card), exported and erased by their number."""

import json

import pytest
from sqlmodel import func, select

from trainer.auth.models import User
from trainer.mail import OutboxMessage
from trainer.org.services import import_people
from trainer.pulse.cycles import non_responders, send_due_reminders

HEADER = "email,employee_number,name,unit_code,roles\n"


def _run(session, text, **kwargs):
    report = import_people(text.encode(), session=session, **kwargs)
    session.commit() if report.ok else session.rollback()
    return report


def _person(session, **where):
    ((column, value),) = where.items()
    return session.exec(select(User).where(getattr(User, column) == value)).one()


def test_a_row_with_an_employee_number_and_no_email_creates_a_person(session, org):
    report = _run(session, HEADER + ",W-1001,Wanda Workshop,T1,employee\n")
    assert (report.created, report.errors) == (1, [])
    wanda = _person(session, employee_number="W-1001")
    assert (wanda.email, wanda.name, wanda.unit_id) == (None, "Wanda Workshop", org.t1.id)
    assert _run(session, HEADER + ",W-1001,Wanda Workshop,T1,employee\n").unchanged == 1


def test_a_file_with_only_an_employee_number_column_is_accepted(session, org):
    report = _run(session, "employee_number,name,unit_code,roles\nW-1,Ann,T1,employee\n")
    assert report.created == 1 and _person(session, employee_number="W-1").email is None


def test_a_person_is_found_by_number_first_so_an_email_can_be_added_later(session, org):
    _run(session, HEADER + ",W-7,Tom Tyre,T1,employee\n")
    report = _run(session, HEADER + "tom@example.com,W-7,Tom Tyre,T2,employee\n")
    assert (report.created, report.updated) == (0, 1)
    tom = _person(session, employee_number="W-7")
    assert (tom.email, tom.unit_id) == ("tom@example.com", org.t2.id)
    # A later file without the email keeps it (an empty cell is "not known here").
    assert _run(session, HEADER + ",W-7,Tom Tyre,T2,employee\n").unchanged == 1
    assert _person(session, employee_number="W-7").email == "tom@example.com"


def test_an_existing_email_person_gets_their_number_from_the_file(session, org):
    report = _run(session, HEADER + "employee@example.com,E-1,Evie,T1,employee\n")
    assert report.updated == 1
    assert _person(session, email="employee@example.com").employee_number == "E-1"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            ",,Nobody,T1,employee\n",
            "line 2, column email/employee_number: Give an email, an employee number, or both.",
        ),
        (
            ",W-1,Ann,T1,employee\n,W-1,Bo,T1,employee\n",
            "line 3, column employee_number: Employee number W-1 already appears on line 2.",
        ),
        (
            ",W 1,Ann,T1,employee\n",
            "line 2, column employee_number: 'W 1' is not a valid employee number",
        ),
        (
            "ann@example.com,,Ann,T1,employee\nann@example.com,W-2,Ann,T1,employee\n",
            "line 3, column email: ann@example.com already appears on line 2.",
        ),
    ],
)
def test_rows_without_either_or_with_repeats_are_named_by_line_and_column(
    session, org, rows, expected
):
    before = session.exec(select(func.count()).select_from(User)).one()
    report = _run(session, HEADER + rows)
    assert any(str(e).startswith(expected) for e in report.errors), report.errors
    assert session.exec(select(func.count()).select_from(User)).one() == before


def test_a_header_without_email_or_employee_number_is_refused(session, org):
    report = _run(session, "name,unit_code,roles\nAnn,T1,employee\n")
    assert [str(e) for e in report.errors] == [
        "line 1, column email/employee_number: Add at least one of these columns: "
        "email, employee_number."
    ]


def test_a_row_naming_two_people_by_number_and_email_is_refused(session, org):
    _run(session, HEADER + ",W-9,Wil,T1,employee\n")
    report = _run(session, HEADER + "manager@example.com,W-9,Wil,T1,employee\n")
    assert [str(e) for e in report.errors] == [
        "line 2, column employee_number: Employee number W-9 belongs to one person and "
        "manager@example.com to another. Correct the row, or change one of them on the "
        "person's page."
    ]


def test_deactivate_missing_counts_people_matched_by_number(session, org):
    keep = (
        ",W-1,Ann,T1,employee\nemployee@example.com,,E,T1,employee\n"
        "manager@example.com,,M,S1,employee|manager\nhr@example.com,,H,C,employee|hr\n"
    )
    _run(session, HEADER + keep)
    report = _run(session, HEADER + keep, deactivate_missing=True)
    assert (report.deactivated, report.unchanged) == (0, 4)


def test_the_upload_page_imports_people_without_email(client, login_as, org, session):
    import io

    login_as(org.hr)
    data = {"file": (io.BytesIO((HEADER + ",W-5,Wes,T1,employee\n").encode()), "people.csv")}
    response = client.post(
        "/org/import", data=data, content_type="multipart/form-data", follow_redirects=True
    )
    assert response.status_code == 200 and "1 created" in response.get_data(as_text=True)
    assert _person(session, employee_number="W-5").email is None


def _form(**changes):
    data = {"email": "", "employee_number": "", "name": "Wanda", "roles": ["employee"]}
    data["active"] = "y"
    return {**data, **changes}


def test_hr_adds_a_person_with_only_an_employee_number(client, login_as, org, session):
    login_as(org.hr)
    response = client.post("/org/people/new", data=_form(employee_number="W-42", unit_id=org.t1.id))
    assert response.status_code == 302
    assert _person(session, employee_number="W-42").email is None
    page = client.get("/org/people", query_string={"q": "w-42"}).get_data(as_text=True)
    assert "Wanda" in page and "W-42" in page and "signs in with a card" in page


def test_a_person_needs_an_email_or_an_employee_number(client, login_as, org):
    login_as(org.hr)
    response = client.post("/org/people/new", data=_form(unit_id=org.t1.id))
    assert response.status_code == 400
    assert "Give an email, an employee number, or both." in response.get_data(as_text=True)


def test_a_taken_employee_number_is_refused_next_to_the_field(client, login_as, org, session):
    session.add(User(employee_number="W-1", name="First", unit_id=org.t1.id))
    session.commit()
    login_as(org.hr)
    response = client.post("/org/people/new", data=_form(employee_number="W-1", unit_id=org.t1.id))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="employee_number-error"' in html and "already has this employee number" in html


@pytest.fixture
def wanda(session, org):
    person = User(employee_number="W-1", name="Wanda Workshop", unit_id=org.t1.id)
    session.add(person)
    session.commit()
    return person


def _outbox(session):
    return session.exec(select(OutboxMessage)).all()


def test_no_invitation_is_emailed_to_a_person_without_email(client, login_as, org, session, wanda):
    login_as(org.hr)
    page = client.get(f"/org/people/{wanda.id}").get_data(as_text=True)
    assert "Email an invitation link" not in page and "printed sign-in card" in page
    response = client.post(f"/org/people/{wanda.id}/invite", follow_redirects=True)
    assert "has no email" in response.get_data(as_text=True)
    assert _outbox(session) == []


def test_survey_invitations_and_reminders_skip_people_without_email(session, org, wanda):
    from trainer.pulse.cycles import open_now
    from trainer.pulse.programmes import ensure_default_programme
    from trainer.util import utcnow

    programme = ensure_default_programme(org.company, session=session, starts_on=utcnow().date())
    session.commit()
    cycle = open_now(programme, session=session, now=utcnow())
    session.commit()
    queued = send_due_reminders(cycle, session=session, now=utcnow())
    session.commit()
    recipients = {m.recipient for m in _outbox(session)}
    # Wanda is invited (she takes part with a card) but gets no email; the three employees
    # with an email each get one.
    assert wanda.id in set(non_responders(cycle, session=session))
    assert queued == 3 and recipients == {
        "employee@example.com",
        "manager@example.com",
        "hr@example.com",
    }


def test_export_and_erase_by_employee_number(runner, session, wanda):
    exported = runner.invoke(args=["people", "export", "W-1"])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert data["account"]["employee_number"] == "W-1" and data["account"]["email"] is None
    assert "employee W-1" in data["about"]
    erased = runner.invoke(args=["people", "erase", "W-1", "--yes"])
    assert erased.exit_code == 0, erased.output
    session.expire_all()
    gone = session.get(User, wanda.id)
    assert gone.employee_number is None and gone.erased_at is not None


def test_hr_downloads_the_data_of_a_person_without_email(client, login_as, org, wanda):
    login_as(org.hr)
    response = client.get(f"/privacy/people/{wanda.id}/data.json")
    assert response.status_code == 200
    assert json.loads(response.data)["account"]["employee_number"] == "W-1"
