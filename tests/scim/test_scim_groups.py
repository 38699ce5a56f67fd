"""SCIM Groups: the directory's own groups are kept with their members; org units stay
read-only groups, and no group write touches the org tree or gives anyone rights."""

import pytest
from sqlmodel import func, select

from tests.scim.bodies import patch, person
from trainer.audit import AuditEntry
from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.scim.models import ScimGroupMember

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def group(name="Night shift", *members, external_id=None):
    body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    if external_id:
        body["externalId"] = external_id
    return body


def _audit(session, action):
    return session.exec(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    ).one()


def _units(session):
    return [(u.id, u.code, u.name, u.parent_id, u.active) for u in session.exec(select(OrgUnit))]


@pytest.fixture
def people(scim):
    """Two people the directory created: their SCIM ids."""
    return [
        scim("POST", "/Users", json=person(f"{name}@example.com", name=name)).get_json()["id"]
        for name in ("ada", "bo")
    ]


def test_a_created_group_is_read_listed_and_found_by_filter(scim, session, org, people):
    units_before = _units(session)
    created = scim("POST", "/Groups", json=group("Night shift", *people, external_id="entra-1"))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["displayName"] == "Night shift" and body["externalId"] == "entra-1"
    assert [(m["value"], m["display"], m["type"]) for m in body["members"]] == [
        (people[0], "ada", "User"),
        (people[1], "bo", "User"),
    ]
    assert created.headers["Location"].endswith(f"/scim/v2/Groups/{body['id']}")
    assert created.headers["ETag"] == body["meta"]["version"]
    assert not body["id"].isdigit()  # never mistaken for an org unit's id

    read = scim("GET", f"/Groups/{body['id']}")
    assert read.status_code == 200 and read.get_json() == body

    everything = scim("GET", "/Groups").get_json()
    assert everything["totalResults"] == 9  # the 8 org units, then the directory's group
    assert everything["Resources"][-1]["id"] == body["id"]
    for text in (
        'displayName eq "Night shift"',
        'externalId eq "entra-1"',
        f'id eq "{body["id"]}"',
    ):
        found = scim("GET", "/Groups", query_string={"filter": text}).get_json()
        assert [g["id"] for g in found["Resources"]] == [body["id"]], text
    none = scim("GET", "/Groups", query_string={"filter": 'displayName eq "Day shift"'})
    assert none.get_json()["totalResults"] == 0

    page = scim("GET", "/Groups", query_string={"startIndex": 8, "count": 2}).get_json()
    assert page["totalResults"] == 9 and page["startIndex"] == 8
    assert [g["displayName"] for g in page["Resources"]] == ["T3", "Night shift"]
    last = scim("GET", "/Groups", query_string={"startIndex": 9, "count": 5}).get_json()
    assert [g["id"] for g in last["Resources"]] == [body["id"]]

    # The person's User lists the group too; the org tree did not change.
    ada = scim("GET", f"/Users/{people[0]}").get_json()
    assert {"value": body["id"], "display": "Night shift"}.items() <= ada["groups"][-1].items()
    assert _units(session) == units_before
    assert _audit(session, "directory_group.create") == 1


def test_put_and_patch_sent_twice_leave_the_same_group_and_etag(scim, session, people):
    body = scim("POST", "/Groups", json=group("Crew", people[0])).get_json()
    path = f"/Groups/{body['id']}"

    replacement = group("Crew B", *people, external_id="okta-7")
    first, second = scim("PUT", path, json=replacement), scim("PUT", path, json=replacement)
    assert first.status_code == second.status_code == 200, first.get_json()
    assert first.get_json()["displayName"] == "Crew B"
    assert first.get_json() == second.get_json()
    assert first.headers["ETag"] == second.headers["ETag"] != body["meta"]["version"]
    assert _audit(session, "directory_group.update") == 1  # the second PUT changed nothing

    drop = patch({"op": "remove", "path": f'members[value eq "{people[1]}"]'})
    first, second = scim("PATCH", path, json=drop), scim("PATCH", path, json=drop)
    assert first.status_code == second.status_code == 200, second.get_json()
    assert [m["value"] for m in second.get_json()["members"]] == [people[0]]
    assert first.headers["ETag"] == second.headers["ETag"]
    assert _audit(session, "directory_group.update") == 2


def test_members_are_added_and_removed_in_the_forms_entra_and_okta_send(scim, session, people):
    body = scim("POST", "/Groups", json=group("Pickers")).get_json()
    path = f"/Groups/{body['id']}"

    def members(response):
        assert response.status_code == 200, response.get_json()
        return [m["value"] for m in response.get_json().get("members", [])]

    # Entra: add with a list of values; Okta: replace the whole list; Entra: remove by value.
    added = patch({"op": "Add", "path": "members", "value": [{"value": people[0]}]})
    assert members(scim("PATCH", path, json=added)) == [people[0]]
    again = patch({"op": "add", "path": "members", "value": [{"value": people[0]}]})
    assert members(scim("PATCH", path, json=again)) == [people[0]]  # no duplicate
    okta = patch({"op": "replace", "path": "members", "value": [{"value": p} for p in people]})
    assert members(scim("PATCH", path, json=okta)) == people
    entra = patch({"op": "Remove", "path": "members", "value": [{"value": people[0]}]})
    assert members(scim("PATCH", path, json=entra)) == [people[1]]
    renamed = scim(
        "PATCH",
        path,
        json=patch(
            {"op": "Replace", "path": "displayName", "value": "Packers"},
            {"op": "replace", "value": {"externalId": "entra-9"}},
        ),
    ).get_json()
    assert (renamed["displayName"], renamed["externalId"]) == ("Packers", "entra-9")
    emptied = scim("PATCH", path, json=patch({"op": "remove", "path": "members"})).get_json()
    assert "members" not in emptied
    assert session.exec(select(func.count()).select_from(ScimGroupMember)).one() == 0

    unknown = scim("PATCH", path, json=patch({"op": "add", "path": "members", "value": [
        {"value": "999999"}
    ]}))  # fmt: skip
    assert unknown.status_code == 400
    assert "'999999' is not a user here" in unknown.get_json()["detail"]
    stale = scim("PATCH", path, json=added, headers={"If-Match": 'W/"old"'})
    assert stale.status_code == 412


def test_deleting_a_group_keeps_its_people_and_the_org_tree(scim, session, org, people):
    units_before = _units(session)
    body = scim("POST", "/Groups", json=group("Temps", *people)).get_json()
    deleted = scim("DELETE", f"/Groups/{body['id']}")
    assert deleted.status_code == 204
    assert scim("GET", f"/Groups/{body['id']}").status_code == 404
    assert scim("DELETE", f"/Groups/{body['id']}").status_code == 404
    session.expire_all()
    assert all(session.get(User, int(p)).active for p in people)
    assert _units(session) == units_before
    assert scim("GET", "/Groups").get_json()["totalResults"] == 8
    assert _audit(session, "directory_group.delete") == 1


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PUT", group("Renamed")),
        ("PATCH", patch({"op": "replace", "path": "displayName", "value": "Renamed"})),
        ("PATCH", patch({"op": "add", "path": "members", "value": [{"value": "1"}]})),
        ("DELETE", None),
    ],
)
def test_an_org_unit_refuses_every_write_with_a_clear_scim_error(scim, session, org, method, body):
    units_before = _units(session)
    response = scim(method, f"/Groups/{org.t1.id}", json=body)
    assert response.status_code == 400
    error = response.get_json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["scimType"] == "mutability"
    assert "org unit 'T1' (T1)" in error["detail"] and "read-only" in error["detail"]
    session.expire_all()
    assert _units(session) == units_before
    assert session.exec(select(func.count()).select_from(User).where(User.unit_id == org.t1.id))


def test_a_token_without_the_scim_scope_gets_a_403(client, scim_token, session):
    secret = scim_token(scopes=["outcomes:write"])
    response = client.post(
        "/scim/v2/Groups", json=group("Sneaky"), headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 403
    assert "lacks the scim scope" in response.get_json()["detail"]
    assert _audit(session, "directory_group.create") == 0


def test_deactivating_or_deleting_a_person_takes_them_out_of_directory_groups(
    scim, session, org, people
):
    # Enough colleagues that two deactivations stay under the 20%-in-24-hours guard.
    session.add_all(User(email=f"s{i}@example.com", name=f"S {i}") for i in range(20))
    session.commit()
    body = scim("POST", "/Groups", json=group("Loaders", *people)).get_json()
    off = scim("PATCH", f"/Users/{people[0]}", json=patch({"op": "replace", "value": {
        "active": False
    }}))  # fmt: skip
    assert off.status_code == 200, off.get_json()
    assert scim("DELETE", f"/Users/{people[1]}").status_code == 204
    assert "members" not in scim("GET", f"/Groups/{body['id']}").get_json()


def test_erasing_a_person_drops_their_memberships_and_the_export_names_their_groups(
    scim, client, login_as, session, org, people
):
    body = scim("POST", "/Groups", json=group("Forklift drivers", *people)).get_json()
    ada = int(people[0])
    login_as(org.hr)
    exported = client.get(f"/privacy/people/{ada}/data.json").get_json()
    assert exported["directory_groups"] == ["Forklift drivers"]

    erased = client.post(f"/privacy/people/{ada}/erase", data={"understood": "y"})
    assert erased.status_code in (200, 302)
    left = session.exec(select(ScimGroupMember.user_id)).all()
    assert left == [int(people[1])]
    members = scim("GET", f"/Groups/{body['id']}").get_json()["members"]
    assert [m["value"] for m in members] == [people[1]]
