"""Logging a fix, the person's own list, and the manager's thresholded view."""

import pytest
from sqlmodel import select

from trainer.fixes.log import log_fix
from trainer.fixes.models import Fix, FixRollup
from trainer.fixes.released import periods, released_cells
from trainer.fixes.rollups import refresh_rollups
from trainer.util import utcnow


def test_an_employee_logs_a_fix_in_one_post(client, session, fixes_setup, login_as):
    org = fixes_setup
    login_as(org.employee)
    form = client.get("/fixes/new").get_data(as_text=True)
    assert "Car not ready on time" in form  # the dealer list, for a team under S1
    assert "Something else" in form and "No customer details" in form
    assert "In GBP, up to 50 per fix" in form
    response = client.post(
        "/fixes/new",
        data={
            "problem": "late-car",
            "action": "goodwill",
            "goodwill": "20",
            "note": "Loan car booked",
        },
    )
    assert response.status_code == 302
    fix = session.exec(select(Fix)).one()
    assert (fix.user_id, fix.unit_id, fix.problem, fix.action, fix.goodwill, fix.currency) == (
        org.employee.id,
        org.t1.id,
        "late-car",
        "goodwill",
        20.0,
        "GBP",
    )
    page = client.get("/fixes/").get_data(as_text=True)
    assert "Loan car booked" in page and "Car not ready on time" in page
    assert "Only you can see this list." in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"problem": "made-up", "action": "on_spot"}, "Not a valid choice"),
        ({"action": "on_spot"}, "Choose the problem"),
        ({"problem": "late-car"}, "Choose what you did."),
        ({"problem": "late-car", "action": "on_spot", "goodwill": "-3"}, "from 0 to"),
        ({"problem": "late-car", "action": "on_spot", "goodwill": "nan"}, "ordinary number"),
        ({"problem": "late-car", "action": "on_spot", "note": "x" * 121}, "120"),
    ],
)
def test_bad_input_is_explained_and_saves_nothing(
    client, session, fixes_setup, login_as, data, message
):
    login_as(fixes_setup.employee)
    response = client.post("/fixes/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.exec(select(Fix)).all() == []


def test_a_person_without_a_unit_is_told_why(client, session, fixes_setup, login_as):
    login_as(fixes_setup.admin)
    fixes_setup.admin.unit_id = None
    session.add(fixes_setup.admin)
    session.commit()
    response = client.post("/fixes/new", data={"problem": "billing-error", "action": "on_spot"})
    assert response.status_code == 400
    assert "You are not in a team yet" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["employee2", "manager", "hr", "admin"])
def test_the_own_list_is_visible_to_its_owner_only(
    client, session, fixes_setup, login_as, make_user, role
):
    org = fixes_setup
    log_fix(
        session=session,
        user=org.employee,
        problem="late-car",
        action="on_spot",
        goodwill=None,
        note="Secret remark 4711",
    )
    refresh_rollups(session=session, now=utcnow())
    session.commit()
    fix = session.exec(select(Fix)).one()
    other = make_user("employee", org.t1) if role == "employee2" else org.user(role)
    login_as(other)
    for url in (
        "/fixes/",
        "/fixes/team",
        f"/fixes/team?unit={org.t1.code}",
        "/fixes/flags",
        "/fixes/export.csv",
        "/",
        "/privacy/",
    ):
        body = client.get(url).get_data(as_text=True)
        assert "Secret remark 4711" not in body, url
    # Nobody else can delete it either; it is simply not found for them.
    response = client.post(f"/fixes/{fix.id}/delete", data={})
    assert response.status_code == 404
    assert session.get(Fix, fix.id) is not None


def test_the_owner_deletes_a_fix(client, session, fixes_setup, login_as):
    org = fixes_setup
    fix = log_fix(
        session=session, user=org.employee, problem="late-car", action="on_spot", goodwill=None
    )
    session.commit()
    fix_id = fix.id
    login_as(org.employee)
    assert "Delete<span" in client.get("/fixes/").get_data(as_text=True)
    response = client.post(f"/fixes/{fix_id}/delete", data={})
    assert response.status_code == 302
    session.expire_all()
    assert session.exec(select(Fix).where(Fix.id == fix_id)).first() is None


def test_the_manager_sees_counts_only_from_five_people(
    client, session, fixes_setup, log_fixes, login_as
):
    org = fixes_setup
    log_fixes(org.t1, 4, each=3)
    login_as(org.manager)
    page = client.get(f"/fixes/team?unit={org.t1.code}").get_data(as_text=True)
    assert "Hidden for" in page and "fewer than 5 people" in page
    assert "fixes logged by" not in page

    log_fixes(org.t1, 1, each=3, actions=("goodwill",), goodwill=80)
    page = client.get(f"/fixes/team?unit={org.t1.code}").get_data(as_text=True)
    assert "<strong>15</strong> fixes logged by 5 people" in page
    assert "<strong>80%</strong> fixed on the spot" in page and "(12 of 15)" in page
    assert (
        "240 GBP over 3 fixes, 80 on average against a limit of 50 per fix; 3 went above it" in page
    )
    assert "Never who logged what" in page or "never who logged what" in page
    # The top problem sits beside the training that declares it.
    assert "Car not ready on time" in page and "Owning the problem" in page
    assert "The car is not ready" in page


def test_differencing_hides_a_site_whose_other_team_is_small(
    client, session, fixes_setup, log_fixes, login_as
):
    org = fixes_setup
    log_fixes(org.t1, 6)
    log_fixes(org.t2, 2)
    cells = released_cells(periods(session=session)[0], session=session)
    # S1 has 8 people, T1 6: showing both would give away T2's 2, so T1 is hidden too.
    assert cells[org.s1.id].people == 8
    assert cells[org.t1.id] is None and cells[org.t2.id] is None


def test_a_manager_cannot_open_a_unit_outside_their_scope(client, fixes_setup, login_as):
    login_as(fixes_setup.manager)
    assert client.get(f"/fixes/team?unit={fixes_setup.t3.code}").status_code == 403
    assert client.get("/fixes/team?unit=NOPE").status_code == 404


def test_the_job_is_idempotent_and_the_cli_runs_it(runner, session, fixes_setup, log_fixes):
    log_fixes(fixes_setup.t1, 5)
    assert refresh_rollups(session=session, now=utcnow()) == 0
    log_fix(
        session=session,
        user=fixes_setup.employee,
        problem="late-car",
        action="on_spot",
        goodwill=None,
    )
    session.commit()
    result = runner.invoke(args=["fixes", "refresh"])
    assert result.exit_code == 0 and "rows changed" in result.output
    session.expire_all()
    t1 = session.exec(select(FixRollup).where(FixRollup.unit_id == fixes_setup.t1.id)).one()
    assert (t1.people, t1.fixes) == (6, 11)


def test_the_scheduler_job_counts_new_fixes(app, session, fixes_setup, make_user):
    from trainer.scheduler import JobRun, jobs, run_job

    job = next(j for j in jobs(app) if j.name == "fixes-rollups")
    assert job.every_minutes == 30
    for _ in range(5):
        log_fix(
            session=session,
            user=make_user("employee", fixes_setup.t1),
            problem="wrong-part",
            action="handover",
            goodwill=None,
        )
    session.commit()
    assert run_job(app, job)
    session.expire_all()
    row = session.exec(select(FixRollup).where(FixRollup.unit_id == fixes_setup.t1.id)).one()
    assert (row.people, row.fixes, row.handover, row.problems) == (5, 5, 5, {"wrong-part": 5})
    assert session.get(JobRun, "fixes-rollups").error is None
