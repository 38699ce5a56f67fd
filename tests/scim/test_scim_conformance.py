"""scim2-tester's conformance checks against trainer's SCIM service on a live HTTP server.

The checks discover the service from what it publishes (ServiceProviderConfig, ResourceTypes,
Schemas), then create, read, list, replace, patch and delete Users and Groups with generated
values. The Groups the checks create are directory groups (org units stay read-only; see
test_scim_groups.py).
"""

import httpx
from scim2_client import BaseSyncSCIMClient
from scim2_tester import Status, check_server

from trainer.auth.models import User

PEOPLE = 300  # the checks deactivate a few dozen people; the 20% guard must let them


class HttpxSCIMClient(BaseSyncSCIMClient):
    """scim2-client over httpx (the engine scim2-client ships needs httpx2)."""

    def __init__(self, client: httpx.Client, **kwargs):
        super().__init__(**kwargs)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        url = self.client.build_request("GET", endpoint).url
        base = self.client.base_url
        return url.netloc == base.netloc and url.raw_path.startswith(base.raw_path)

    def _parse_json(self, response):
        return response.json()

    def request(self, method: str, url: str, **kwargs):
        return self.client.request(method, url, **kwargs)


def _not_applicable(result) -> bool:
    """The one check that does not apply: removing `active`. trainer always knows whether a
    person may sign in, so it refuses the removal with a clear error (replace it with false)."""
    data = result.data if isinstance(result.data, dict) else {}
    return result.title == "check_remove_attribute" and data.get("urn") == "active"


def test_scim2_tester_checks_pass(live_scim, session, org):
    session.add_all(
        User(email=f"staff{i}@example.com", name=f"Staff {i}", unit_id=org.t1.id)
        for i in range(PEOPLE)
    )
    session.commit()
    scim = HttpxSCIMClient(live_scim)
    results = check_server(scim, resource_types=["User", "Group"])
    report = "\n".join(
        f"{r.status.name:8} {r.resource_type or '-':5} {r.title}: {r.reason}" for r in results
    )
    print(report)
    failed = [
        r for r in results if r.status in (Status.ERROR, Status.CRITICAL) and not _not_applicable(r)
    ]
    assert not failed, report
    assert sum(_not_applicable(r) for r in results) == 1
    for resource_type in ("User", "Group"):
        titles = {
            r.title
            for r in results
            if r.status == Status.SUCCESS and r.resource_type == resource_type
        }
        assert {"object_creation", "object_replacement", "object_deletion"} <= titles, report
