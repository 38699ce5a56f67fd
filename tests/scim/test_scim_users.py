"""SCIM Users: the directory creates, finds, changes and deactivates people in trainer."""

import pytest
from sqlmodel import func, select

from tests.scim.bodies import ENTERPRISE, patch, person
from trainer.audit import AuditEntry
from trainer.auth.models import User


def _audit(session, action="person.update"):
    return session.exec(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    ).one()


def test_a_created_user_is_a_person_in_the_unit_of_their_department(scim, session, org):
    response = scim("POST", "/Users", json=person("ada@example.com", department="T2"))
    assert response.status_code == 201, response.get_json()
    assert response.mimetype == "application/scim+json"
    body = response.get_json()
    assert body["userName"] == "ada@example.com" and body["active"] is True
    assert body[ENTERPRISE]["department"] == "T2"
    assert response.headers["Location"].endswith(f"/scim/v2/Users/{body['id']}")
    ada = session.get(User, int(body["id"]))
    assert (ada.email, ada.name, ada.unit_id, ada.roles) == (
        "ada@example.com",
        "Ada Lovelace",
        org.t2.id,
        "employee",
    )
    assert _audit(session, "person.create") == 1


def test_an_unknown_department_is_refused_with_a_clear_scim_error(scim, session):
    response = scim("POST", "/Users", json=person("bob@example.com", department="NOPE"))
    assert response.status_code == 400
    error = response.get_json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["scimType"] == "invalidValue" and error["status"] == "400"
    assert "No org unit has the code 'NOPE'" in error["detail"]
    assert session.exec(select(User).where(User.email == "bob@example.com")).first() is None


def test_department_moves_a_person_between_units(scim, session, org):
    created = scim("POST", "/Users", json=person("cy@example.com", department="T1")).get_json()
    moved = scim(
        "PATCH",
        f"/Users/{created['id']}",
        json=patch({"op": "replace", "path": f"{ENTERPRISE}:department", "value": "T3"}),
    )
    assert moved.status_code == 200, moved.get_json()
    assert session.get(User, int(created["id"])).unit_id == org.t3.id
    group = scim("GET", f"/Groups/{org.t3.id}").get_json()
    assert group["displayName"] == "T3" and group["externalId"] == "T3"
    assert [m["value"] for m in group["members"]] == [created["id"]]


def test_filter_finds_people_by_username_and_external_id(scim, org):
    scim("POST", "/Users", json={**person("dee@example.com"), "externalId": "okta-42"})
    for query in ('userName eq "DEE@example.com"', 'externalId eq "okta-42"'):
        found = scim("GET", "/Users", query_string={"filter": query}).get_json()
        assert found["totalResults"] == 1, query
        assert found["Resources"][0]["userName"] == "dee@example.com"
    # People who were never provisioned are found by their email, so a directory can link them.
    existing = scim("GET", "/Users", query_string={"filter": 'userName eq "hr@example.com"'})
    assert existing.get_json()["Resources"][0]["id"] == str(org.hr.id)
    bad = scim("GET", "/Users", query_string={"filter": 'title co "x"'})
    assert bad.status_code == 400 and bad.get_json()["scimType"] == "invalidFilter"


def test_pagination_uses_start_index_and_count(scim, org):
    page = scim("GET", "/Users", query_string={"startIndex": 2, "count": 2}).get_json()
    assert page["totalResults"] == 4 and page["startIndex"] == 2
    assert [r["id"] for r in page["Resources"]] == [str(org.manager.id), str(org.hr.id)]


def test_the_same_put_twice_changes_nothing_the_second_time(scim, session, org):
    created = scim("POST", "/Users", json=person("eve@example.com", department="T1")).get_json()
    body = person("eve@example.com", name="Eve Moneypenny", department="T2", employeeNumber="E7")
    first = scim("PUT", f"/Users/{created['id']}", json=body)
    assert first.status_code == 200, first.get_json()
    entries = _audit(session)
    second = scim("PUT", f"/Users/{created['id']}", json=body)
    assert second.get_json() == first.get_json()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert _audit(session) == entries  # no audit noise from a repeat
    eve = session.get(User, int(created["id"]))
    assert (eve.name, eve.unit_id, eve.employee_number) == ("Eve Moneypenny", org.t2.id, "E7")


def test_the_same_patch_twice_changes_nothing_the_second_time(scim, session, org):
    created = scim("POST", "/Users", json=person("fay@example.com", department="T1")).get_json()
    operations = patch(
        {"op": "replace", "path": "name.formatted", "value": "Fay Wray"},
        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "T3"},
    )
    first = scim("PATCH", f"/Users/{created['id']}", json=operations)
    assert first.status_code == 200, first.get_json()
    entries = _audit(session)
    second = scim("PATCH", f"/Users/{created['id']}", json=operations)
    assert second.get_json() == first.get_json()
    assert _audit(session) == entries
    fay = session.get(User, int(created["id"]))
    assert (fay.name, fay.unit_id) == ("Fay Wray", org.t3.id)


def test_a_stale_etag_is_refused(scim):
    created = scim("POST", "/Users", json=person("gil@example.com"))
    url = f"/Users/{created.get_json()['id']}"
    etag = created.headers["ETag"]
    scim("PATCH", url, json=patch({"op": "replace", "path": "active", "value": False}))
    stale = scim("PUT", url, json=person("gil@example.com"), headers={"If-Match": etag})
    assert stale.status_code == 412


def test_delete_deactivates_and_keeps_the_record(scim, session):
    created = scim("POST", "/Users", json=person("hal@example.com")).get_json()
    assert scim("DELETE", f"/Users/{created['id']}").status_code == 204
    hal = session.get(User, int(created["id"]))
    session.refresh(hal)
    assert hal.active is False and hal.email == "hal@example.com"
    assert scim("GET", f"/Users/{created['id']}").status_code == 404
    # Provisioning the same userName again brings the same person back.
    again = scim("POST", "/Users", json=person("hal@example.com"))
    assert again.status_code == 201 and again.get_json()["id"] == created["id"]
    session.refresh(hal)
    assert hal.active is True


def test_a_taken_username_or_email_is_a_uniqueness_error(scim):
    scim("POST", "/Users", json=person("ivy@example.com"))
    again = scim("POST", "/Users", json=person("ivy@example.com"))
    assert again.status_code == 409 and again.get_json()["scimType"] == "uniqueness"
    other = scim("POST", "/Users", json=person("ivy2", email="ivy@example.com"))
    assert other.status_code == 409


def test_manager_is_kept_as_sent_and_grants_nothing(scim, session, org):
    boss = scim("POST", "/Users", json=person("boss@example.com")).get_json()
    body = person("jo@example.com", department="T1", manager={"value": boss["id"]})
    jo = scim("POST", "/Users", json=body).get_json()
    assert jo[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert session.get(User, int(boss["id"])).roles == "employee"
    unknown = person("kim@example.com", manager={"value": "999999"})
    refused = scim("POST", "/Users", json=unknown)
    assert refused.status_code == 400 and "manager" in refused.get_json()["detail"]


def test_microsoft_entra_patch_forms_work(scim, session, org):
    """Entra sends capitalised ops, "False" as a string and a work-email filter path."""
    created = scim("POST", "/Users", json=person("lee@example.com", department="T1")).get_json()
    url = f"/Users/{created['id']}"
    response = scim(
        "PATCH",
        url,
        json=patch(
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "lee@new.example"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "name.givenName", "value": "Lee"},
        ),
    )
    assert response.status_code == 200, response.get_json()
    lee = session.get(User, int(created["id"]))
    session.refresh(lee)
    assert (lee.email, lee.active) == ("lee@new.example", False)
    assert response.get_json()["emails"] == [{"value": "lee@new.example", "type": "work"}]


def test_erasing_a_person_removes_what_the_directory_sent(scim, session, org):
    from trainer.privacy.services import erase_person
    from trainer.scim.models import ScimUser

    body = {**person("mo@example.com", employeeNumber="E9"), "externalId": "x-1"}
    created = scim("POST", "/Users", json=body).get_json()
    mo = session.get(User, int(created["id"]))
    session.refresh(mo)
    erase_person(mo, session=session, by=org.admin)
    session.commit()
    assert session.get(ScimUser, mo.id) is None
    assert mo.employee_number is None
    assert scim("GET", f"/Users/{created['id']}").status_code == 404


def test_admins_are_not_deactivated_through_scim(scim, session, org):
    response = scim(
        "PATCH",
        f"/Users/{org.admin.id}",
        json=patch({"op": "replace", "path": "active", "value": False}),
    )
    assert (
        response.status_code == 400
        and "admins are not deactivated" in response.get_json()["detail"]
    )
    assert scim("DELETE", f"/Users/{org.admin.id}").status_code == 400
    session.refresh(org.admin)
    assert org.admin.active is True


def test_a_deleted_users_username_is_not_reused_by_a_rename(scim):
    gone = scim("POST", "/Users", json=person("old@example.com")).get_json()
    scim("DELETE", f"/Users/{gone['id']}")
    other = scim("POST", "/Users", json=person("new@example.com")).get_json()
    rename = patch({"op": "replace", "path": "userName", "value": "OLD@example.com"})
    response = scim("PATCH", f"/Users/{other['id']}", json=rename)
    assert response.status_code == 409 and "deleted earlier" in response.get_json()["detail"]


def test_out_of_range_ids_and_pages_find_nothing(scim, org):
    for query in ({"filter": 'id eq "99999999999999999999"'}, {"startIndex": "9" * 30}):
        found = scim("GET", "/Users", query_string=query)
        assert found.status_code == 200 and found.get_json()["Resources"] == [], query


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/Users", {"query_string": {"count": "many"}}),
        ("GET", "/Users/99999999999999999999", {}),
        ("POST", "/Users", {"json": person("nul\u0000@example.com")}),
        ("POST", "/Users", {"data": "{not json", "content_type": "application/scim+json"}),
        ("POST", "/Users", {"json": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}}),
        ("PATCH", "/Users/1", {"json": {"Operations": "nope"}}),
    ],
)
def test_bad_requests_get_scim_errors_not_500s(scim, org, method, path, kwargs):
    response = scim(method, path, **kwargs)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.get_json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_the_personal_data_export_includes_what_the_directory_sent(scim, session):
    from trainer.privacy.services import export_person

    body = {**person("ned@example.com"), "externalId": "okta-ned"}
    created = scim("POST", "/Users", json=body).get_json()
    ned = session.get(User, int(created["id"]))
    session.refresh(ned)
    exported = export_person(ned, session=session)
    assert exported["from_the_company_directory"][0]["external_id"] == "okta-ned"
    assert exported["from_the_company_directory"][0]["user_name"] == "ned@example.com"


def test_discovery_publishes_what_trainer_keeps_and_the_unit_codes(scim, org):
    config = scim("GET", "/ServiceProviderConfig").get_json()
    assert config["patch"]["supported"] is True and config["bulk"]["supported"] is False
    assert config["etag"]["supported"] is True
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    enterprise = scim("GET", f"/Schemas/{ENTERPRISE}").get_json()
    attributes = {a["name"]: a for a in enterprise["attributes"]}
    assert set(attributes) == {"employeeNumber", "department", "manager"}
    assert attributes["department"]["canonicalValues"] == [
        "C", "R1", "R2", "S1", "S2", "T1", "T2", "T3"
    ]  # fmt: skip
    types = scim("GET", "/ResourceTypes").get_json()["Resources"]
    assert [(t["name"], t["endpoint"]) for t in types] == [("User", "/Users"), ("Group", "/Groups")]


def test_groups_are_units_found_by_name_or_code(scim, org):
    by_code = scim("GET", "/Groups", query_string={"filter": 'externalId eq "S1"'}).get_json()
    assert [g["displayName"] for g in by_code["Resources"]] == ["S1"]
    members = {m["value"] for m in by_code["Resources"][0]["members"]}
    assert members == {str(org.manager.id)}
    lean = scim("GET", "/Groups", query_string={"excludedAttributes": "members"}).get_json()
    assert lean["totalResults"] == 8 and all("members" not in g for g in lean["Resources"])
