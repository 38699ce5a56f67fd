"""HR manages the org tree and people through pages."""

from sqlmodel import select

from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.org.scope import managed_scope


def test_hr_adds_a_team_under_a_site(client, login_as, org, session):
    login_as(org.hr)
    response = client.post(
        "/org/", data={"code": "T9", "name": "Night shift", "kind": "team", "parent_id": org.s1.id}
    )
    assert response.status_code == 302
    team = session.exec(select(OrgUnit).where(OrgUnit.code == "T9")).one()
    assert team.parent_id == org.s1.id and team.path == f"{org.s1.path}{org.s1.id}/"
    assert team.id in managed_scope(session=session, user=org.manager)


def test_tree_rejects_bad_units_next_to_the_field(client, login_as, org):
    login_as(org.hr)
    duplicate = client.post(
        "/org/", data={"code": "T1", "name": "x", "kind": "team", "parent_id": org.s1.id}
    )
    assert duplicate.status_code == 400 and b"already used" in duplicate.data
    misplaced = client.post(
        "/org/", data={"code": "T8", "name": "x", "kind": "team", "parent_id": org.r1.id}
    )
    assert misplaced.status_code == 400 and b"A team belongs under a site" in misplaced.data
    bad_code = client.post(
        "/org/", data={"code": "no spaces!", "name": "x", "kind": "team", "parent_id": org.s1.id}
    )
    assert bad_code.status_code == 400 and b'id="code-error"' in bad_code.data


def test_tree_page_shows_units_with_headcounts(client, login_as, org):
    login_as(org.hr)
    html = client.get("/org/").get_data(as_text=True)
    assert "<code>T1</code>" in html and "<code>C</code>" in html


def test_hr_edits_a_person_and_makes_them_a_manager(client, login_as, org, session):
    login_as(org.hr)
    response = client.post(
        f"/org/people/{org.employee.id}",
        data={
            "email": "employee@example.com",
            "name": "Evie Employee",
            "unit_id": org.t1.id,
            "roles": ["employee", "manager"],
            "manager_of": [org.t1.id],
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert managed_scope(session=session, user=session.get(User, org.employee.id)) == {org.t1.id}


def test_managing_units_requires_the_manager_role(client, login_as, org):
    login_as(org.hr)
    response = client.post(
        f"/org/people/{org.employee.id}",
        data={
            "email": "employee@example.com",
            "name": "E",
            "unit_id": org.t1.id,
            "roles": ["employee"],
            "manager_of": [org.t1.id],
            "active": "y",
        },
    )
    assert response.status_code == 400 and b"Give the Manager role" in response.data


def test_duplicate_email_is_refused_next_to_the_field(client, login_as, org):
    login_as(org.hr)
    response = client.post(
        "/org/people/new",
        data={
            "email": "manager@example.com",
            "name": "Copy",
            "unit_id": org.t1.id,
            "roles": ["employee"],
            "active": "y",
        },
    )
    assert response.status_code == 400 and b"already has this email" in response.data


def test_people_search_and_paging(client, login_as, org, make_user):
    for i in range(60):
        make_user("employee", org.t2, email=f"zz{i:02d}@example.com", name=f"Zed {i:02d}")
    login_as(org.hr)
    first = client.get("/org/people?q=zed").get_data(as_text=True)
    assert "60 people." in first and "Page 1 of 2" in first
    second = client.get("/org/people?q=zed&page=2").get_data(as_text=True)
    assert "Zed 59" in second and "Zed 00" not in second


def test_a_search_longer_than_any_email_finds_no_one_and_does_not_fail(client, login_as, org):
    login_as(org.hr)
    response = client.get("/org/people", query_string={"q": "\U00010000" * 12500})
    assert response.status_code == 200 and "0 people." in response.get_data(as_text=True)


def test_manager_scope_is_their_units_and_everything_below(session, org):
    assert managed_scope(session=session, user=org.manager) == {org.s1.id, org.t1.id, org.t2.id}
