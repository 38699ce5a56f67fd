"""Deactivation through SCIM passes the people import's guard: more than 20% of active people
deactivated within 24 hours is refused, and HR is alerted."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import func, select

from tests.scim.bodies import patch
from trainer.audit import AuditEntry
from trainer.auth.models import User
from trainer.mail import OutboxMessage
from trainer.org.services import import_people
from trainer.util import utcnow

DEACTIVATE = patch({"op": "replace", "path": "active", "value": False})


def _staff(make_user, org, n):
    return [make_user("employee", org.t1, email=f"staff{i}@example.com") for i in range(n)]


def test_the_deactivation_past_a_fifth_in_a_day_is_refused_and_hr_is_told(
    scim, session, org, make_user, client, login_as
):
    staff = _staff(make_user, org, 6)  # 10 active people: two may go in one day
    for person in staff[:2]:
        assert scim("PATCH", f"/Users/{person.id}", json=DEACTIVATE).status_code == 200
    refused = scim("DELETE", f"/Users/{staff[2].id}")
    assert refused.status_code == 400
    detail = refused.get_json()["detail"]
    assert "This would deactivate 3 of 10 active people" in detail
    assert "more than 20% within 24 hours" in detail and "HR has been told" in detail
    session.refresh(staff[2])
    assert staff[2].active is True
    assert scim("GET", f"/Users/{staff[2].id}").status_code == 200  # DELETE changed nothing

    mail = session.exec(select(OutboxMessage)).all()
    assert [m.recipient for m in mail] == ["hr@example.com"]
    assert mail[0].subject == "trainer refused to deactivate people"
    assert "SCIM (Directory)" in mail[0].body and "3 of 10" in mail[0].body
    refusals = session.exec(
        select(AuditEntry).where(AuditEntry.action == "people.deactivation_refused")
    ).all()
    assert len(refusals) == 1 and refusals[0].actor_label == "SCIM (Directory)"

    # The directory retries: still refused, and HR gets one email a day, not one per retry.
    assert scim("PATCH", f"/Users/{staff[2].id}", json=DEACTIVATE).status_code == 400
    assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 1

    # HR's home page lists it among the tasks, as it lists a failed people import.
    login_as(org.hr)
    home = client.get("/").get_data(as_text=True)
    tasks = home.split('id="home-todo"', 1)[1].split('id="home-figures"', 1)[0]
    assert "Deactivation refused:" in tasks
    assert "SCIM (Directory) asked to deactivate more people than the safety limit" in tasks


def test_deactivations_older_than_a_day_no_longer_count(scim, session, org, make_user):
    staff = _staff(make_user, org, 6)
    for person in staff[:2]:
        scim("PATCH", f"/Users/{person.id}", json=DEACTIVATE)
    for person in staff[:2]:
        person = session.get(User, person.id)
        session.refresh(person)
        person.inactive_since = utcnow() - timedelta(hours=25)
        session.add(person)
    session.commit()
    assert scim("PATCH", f"/Users/{staff[2].id}", json=DEACTIVATE).status_code == 200


def test_the_people_import_counts_what_scim_deactivated_today(app, scim, session, org, make_user):
    staff = _staff(make_user, org, 6)
    scim("PATCH", f"/Users/{staff[0].id}", json=DEACTIVATE)
    scim("PATCH", f"/Users/{staff[1].id}", json=DEACTIVATE)
    session.expire_all()
    keep = [
        u
        for u in session.exec(select(User).where(User.active)).all()
        if u.email != "staff2@example.com"
    ]
    rows = "".join(f"{u.email},{u.name},T1,employee,\n" for u in keep if not u.has_role("admin"))
    with app.app_context():
        report = import_people(
            ("email,name,unit_code,roles,manager_of\n" + rows).encode(),
            session=session,
            deactivate_missing=True,
        )
    assert not report.ok
    assert (
        "This would deactivate 3 of 10 active people (2 of them already in the last 24 hours)"
        in str(report.errors[0])
    )


def test_parallel_deactivations_cannot_all_slip_under_the_limit(live_scim, session, org, make_user):
    """A directory sends its changes in parallel: the guard still lets only 2 of 10 go."""
    staff = _staff(make_user, org, 6)
    # The token's first use writes its row (last used), which would queue the requests.
    assert live_scim.get("/ServiceProviderConfig").status_code == 200
    start = threading.Barrier(len(staff))

    def deactivate(person):
        start.wait()
        return live_scim.patch(f"/Users/{person.id}", json=DEACTIVATE, timeout=30).status_code

    with ThreadPoolExecutor(len(staff)) as pool:
        statuses = list(pool.map(deactivate, staff))
    assert sorted(statuses) == [200, 200, 400, 400, 400, 400]
    active = session.exec(select(func.count()).select_from(User).where(User.active)).one()
    assert active == 8
