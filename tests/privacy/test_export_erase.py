"""GDPR Article 15 export and Article 17 erasure, from the pages and the command line."""

import json

from sqlmodel import func, select

from tests.conftest import PASSWORD
from tests.privacy.conftest import COMMENT, audit_entries, details
from trainer.auth.models import LoginThrottle, User
from trainer.learn.models import Certificate, Enrolment, QuizAnswer, QuizAttempt
from trainer.org.models import ManagedUnit
from trainer.pulse.models import PulseInvitation, ResponsePool, SurveyParticipation, SurveyResponse
from trainer.scenarios.models import Play, ReserveItem, ScenarioActor


def _count(session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_hr_downloads_everything_stored_about_a_person_but_no_pulse_answers(
    client, login_as, session, rich
):
    login_as(rich.hr)
    response = client.get(f"/privacy/people/{rich.employee.id}/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert data["account"]["email"] == "employee@example.com"
    assert data["account"]["unit"] == {"code": "T1", "name": "T1"}
    assert data["account"]["password_set"] is True
    assert "password_hash" not in body and rich.employee.session_token not in body
    learning = data["learning"]
    assert [c["code"] for c in learning["certificates"]] == [rich.cert_code]
    assert len(learning["quiz_attempts"]) == 1 and learning["quiz_attempts"][0]["passed"]
    assert learning["courses"][0]["course"] == "sample-course"
    assert {a["course"] for a in learning["assignments_for_you"]} == {"sample-course"}
    assert [p["id"] for p in data["scenarios"]["plays"]] == [rich.play_id]
    assert len(data["scenarios"]["practice_items"]) == 1
    assert data["scenarios"]["xapi_actor_name"].startswith("u-")
    assert [p["cycle_id"] for p in data["pulse"]["participation"]] == [rich.cycle.id]
    assert [i["cycle_id"] for i in data["pulse"]["invitations"]] == [rich.cycle.id]
    assert "Article 11(2)" in data["pulse_answers"]
    assert COMMENT not in body and '"answers"' not in json.dumps(data["pulse"])
    # The download is itself in the audit log, and shows up in the next export.
    entry = audit_entries(session, "person.export")[-1]
    assert (entry.actor_id, entry.target_id) == (rich.hr.id, rich.employee.id)
    again = client.get(f"/privacy/people/{rich.employee.id}/data.json").get_json()
    assert [e["action"] for e in again["audit_entries_about_you"]] == ["person.export"]


def test_an_employee_downloads_their_own_data_from_their_page(client, login_as, rich):
    login_as(rich.employee)
    page = client.get("/privacy/me").get_data(as_text=True)
    assert "Download my data" in page and "Article 11(2)" in page
    data = client.get("/privacy/me/data.json").get_json()
    assert data["account"]["email"] == rich.employee.email
    assert client.get(f"/privacy/people/{rich.manager.id}/data.json").status_code == 403


def test_the_person_page_links_to_export_and_erase(client, login_as, org):
    login_as(org.hr)
    html = client.get(f"/org/people/{org.employee.id}").get_data(as_text=True)
    assert f"/privacy/people/{org.employee.id}/data.json" in html
    assert f"/privacy/people/{org.employee.id}/erase" in html


def test_people_export_command_prints_json(runner, rich):
    result = runner.invoke(args=["people", "export", "employee@example.com"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["account"]["name"] == rich.employee.name
    assert COMMENT not in result.output
    unknown = runner.invoke(args=["people", "export", "nobody@example.com"])
    assert unknown.exit_code != 0 and "No person has the email" in unknown.output


def test_erasing_removes_personal_data_and_keeps_anonymous_counts(client, login_as, session, rich):
    uid = rich.employee.id
    session.add(LoginThrottle(email=rich.employee.email, failures=2))
    session.add(ManagedUnit(user_id=uid, unit_id=rich.t1.id))
    session.commit()
    answers_before = _count(session, ResponsePool) + _count(session, SurveyResponse)
    login_as(rich.hr)
    client.get(f"/privacy/people/{uid}/data.json")  # an audit entry naming them

    page = client.get(f"/privacy/people/{uid}/erase")
    assert page.status_code == 200 and "What is removed" in page.get_data(as_text=True)
    unconfirmed = client.post(f"/privacy/people/{uid}/erase", data={})
    assert unconfirmed.status_code == 400 and b"Tick the box" in unconfirmed.data
    assert session.get(User, uid).erased_at is None
    response = client.post(f"/privacy/people/{uid}/erase", data={"understood": "y"})
    assert response.status_code == 302

    session.expire_all()
    person = session.get(User, uid)
    assert person.erased_at is not None and not person.active
    assert "employee" not in person.email and person.name == "Erased person"
    assert person.password_hash is None and person.roles == "" and person.unit_id is None
    for model, where in (
        (Enrolment, Enrolment.user_id == uid),
        (QuizAttempt, QuizAttempt.user_id == uid),
        (Certificate, Certificate.user_id == uid),
        (ReserveItem, ReserveItem.user_id == uid),
        (ScenarioActor, ScenarioActor.user_id == uid),
        (PulseInvitation, PulseInvitation.employee_id == uid),
        (SurveyParticipation, SurveyParticipation.employee_id == uid),
        (ManagedUnit, ManagedUnit.user_id == uid),
        (LoginThrottle, LoginThrottle.email == "employee@example.com"),
    ):
        assert _count(session, model, where) == 0, model.__name__
    assert _count(session, QuizAnswer) == 0
    # Anonymous answers and the play that scenario counts rest on are untouched.
    assert _count(session, ResponsePool) + _count(session, SurveyResponse) == answers_before
    assert session.get(Play, rich.play_id).user_id == uid

    erasure = audit_entries(session, "person.erase")[-1]
    assert erasure.actor_id == rich.hr.id and erasure.target_label == f"erased person #{uid}"
    removed = details(erasure)["removed"]
    assert removed["certificates"] == 1 and removed["pulse participation"] == 1
    assert removed["sign-in throttle"] == 1
    assert all("employee@example.com" not in e.target_label for e in audit_entries(session))

    # The placeholder cannot be brought back to life as someone else.
    revive = client.post(
        f"/org/people/{uid}",
        data={
            "email": "new.person@example.com",
            "name": "New",
            "unit_id": rich.t1.id,
            "roles": ["employee"],
            "active": "y",
        },
    )
    assert revive.status_code == 400 and b"was erased" in revive.data
    assert "Download their data" not in client.get(f"/org/people/{uid}").get_data(as_text=True)

    client.post("/auth/logout")
    signin = client.post(
        "/auth/login", data={"email": "employee@example.com", "password": PASSWORD}
    )
    assert signin.status_code == 400


def test_an_erased_person_is_signed_out_everywhere(app, client, login_as, session, rich):
    from trainer.privacy.services import erase_person

    login_as(rich.employee)
    assert client.get("/").status_code == 200
    with app.app_context():
        erase_person(session.get(User, rich.employee.id), session=session, by=rich.hr)
    session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_certificates_are_kept_with_the_name_when_configured(app, runner, session, rich):
    app.config["ERASE_KEEP_CERTIFICATES"] = True
    result = runner.invoke(args=["people", "erase", "employee@example.com", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Kept: 1 certificates" in result.output
    session.expire_all()
    certificate = session.exec(select(Certificate)).one()
    person = session.get(User, certificate.user_id)
    assert person.name == rich.employee.name and person.erased_at is not None
    assert person.email.endswith("@erased.invalid")
    entry = audit_entries(session, "person.erase")[-1]
    assert entry.actor_label == "command line" and "certificates" not in details(entry)["removed"]


def test_erasure_refuses_yourself_the_last_admin_and_admins_for_hr(
    client, login_as, runner, session, org
):
    login_as(org.hr)
    mine = client.get(f"/privacy/people/{org.hr.id}/erase").get_data(as_text=True)
    assert "You cannot erase yourself" in mine
    assert (
        client.post(f"/privacy/people/{org.hr.id}/erase", data={"understood": "y"}).status_code
        == 409
    )
    admin = client.post(f"/privacy/people/{org.admin.id}/erase", data={"understood": "y"})
    assert admin.status_code == 409 and b"Only an admin can erase an admin" in admin.data
    result = runner.invoke(args=["people", "erase", "admin@example.com", "--yes"])
    assert result.exit_code != 0 and "last active admin" in result.output
    session.expire_all()
    assert session.get(User, org.admin.id).erased_at is None
    assert session.get(User, org.hr.id).erased_at is None
    unconfirmed = runner.invoke(args=["people", "erase", "employee@example.com"], input="n\n")
    assert unconfirmed.exit_code != 0
    session.expire_all()
    assert session.get(User, org.employee.id).erased_at is None
