"""Every endpoint a role may use is linked from some page that role reaches from its home page.

Signed in as each demo login, the Flask test client starts at the home page and follows every
link (`<a href>`) and form (`<form action>`) it finds, visiting a few URLs per endpoint. An
endpoint the role's access policy allows but that no reached page links to is a page nobody can
find: that is how the "you said, we did" ledger slipped through.
"""

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlmodel import select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from trainer.auth.models import User
from trainer.db import db_session
from trainer.demo import DEMO_PASSWORD

ROLES = ["employee", "manager", "hr", "admin"]
VISITS_PER_ENDPOINT = 3

# Endpoints that may stay unlinked for now, each with the reason; keep this empty. (The old
# team ledger was here until the action-plan page replaced it.)
KNOWN_UNLINKED: set[str] = set()
# Endpoints that are not pages to link to: static files, the health check, and old addresses
# kept only so that old links and emails still work.
NOT_PAGES = {
    "static",
    "core.healthz",
    "pulse.team_ledger",  # /pulse/ledger/<unit_id>: redirects to the unit's action plan
    "kiosk.alive",  # a kiosk session's script posts here on input (the idle clock), no page
}
# Pages a role reaches by submitting a form rather than by a link: each counts as reached when
# the form's endpoint (here, the value) is.
REACHED_BY_SUBMITTING = {
    "pulse.thanks": "pulse.answer",
    "learn.attempt": "learn.quiz",
    "org.import_progress": "org.import_people",
    "scenarios.play": "scenarios.start",
    "scenarios.step": "scenarios.play",
    "scenarios.choose": "scenarios.step",
    "scenarios.ending": "scenarios.choose",
    "scenarios.reserve": "scenarios.choose",  # a decision comes back for practice later
}
# Actions a page shows only when there is something to act on for this person: each counts as
# reached when the page that shows it (the value) is.
SHOWN_WHEN_DUE = {
    "pulse.answer": "pulse.mine",  # only people invited to an open survey (never admin)
    "pulse.mark": "pulse.ledger",  # only commitments made for the person's own team
    "pulse.open_now": "pulse.programme",  # gone once this period's cycle exists
    "fixes.delete": "fixes.mine",  # only on fixes the person logged
}


class LinkParser(HTMLParser):
    """Collect (method, url) for every link and form on a page."""

    def __init__(self):
        super().__init__()
        self.targets: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.targets.append(("GET", attrs["href"]))
        elif attrs.get("data-src"):  # the data a chart fetches
            self.targets.append(("GET", attrs["data-src"]))
        elif tag == "form":
            method = (attrs.get("method") or "get").upper()
            self.targets.append((method, attrs.get("action") or ""))


def _endpoint(adapter, method: str, url: str):
    """Return (endpoint, path) for a local URL, or None for another site, a file or a 404."""
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    try:
        endpoint, _args = adapter.match(parts.path, method=method)
    except RequestRedirect as redirect:
        return _endpoint(adapter, method, redirect.new_url)
    except (NotFound, MethodNotAllowed):
        return None
    return endpoint, parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(app, client) -> tuple[set[str], dict[str, str]]:
    """Follow links from the home page; return the endpoints linked, and for each endpoint
    visited the first URL visited."""
    adapter = app.url_map.bind("localhost")
    linked: set[str] = set()
    visits: dict[str, list[str]] = {}
    queue, queued = ["/"], {"/"}
    while queue:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            target = urljoin(url, response.location)
            found = _endpoint(adapter, "GET", target)
            if found and found[1] not in queued:
                queued.add(found[1])
                queue.append(found[1])
            continue
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = LinkParser()
        parser.feed(response.get_data(as_text=True))
        for method, href in parser.targets:
            found = _endpoint(adapter, method, urljoin(url, href))
            if found is None:
                continue
            endpoint, path = found
            linked.add(endpoint)
            seen = visits.setdefault(endpoint, [])
            if method == "GET" and path not in queued and len(seen) < VISITS_PER_ENDPOINT:
                seen.append(path)
                queued.add(path)
                queue.append(path)
    return linked, {endpoint: urls[0] for endpoint, urls in visits.items() if urls}


def allowed_endpoints(app, user) -> set[str]:
    """Return the endpoints the user's role may use, by their declared access policies."""
    allowed = set()
    for rule in app.url_map.iter_rules():
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        if rule.endpoint in NOT_PAGES or access is None or access.public or access.api_token:
            continue
        if access.permits(user):
            allowed.add(rule.endpoint)
    return allowed


def reached(linked: set[str]) -> set[str]:
    """Add to the linked endpoints those reached by submitting a form, or shown when due."""
    found = set(linked)
    rules = {**REACHED_BY_SUBMITTING, **SHOWN_WHEN_DUE}
    while True:
        more = {endpoint for endpoint, via in rules.items() if via in found} - found
        if not more:
            return found
        found |= more


def arrange(session, app):
    """Add what the demo lacks for some links to show: a custom metric and an API token (HR's
    to change and revoke), and an assignment the demo manager made (theirs to withdraw)."""
    from trainer.learn.assignments import create_assignment, offered_courses
    from trainer.org.models import ManagedUnit, OrgUnit
    from trainer.outcomes.metrics import create_metric
    from trainer.outcomes.tokens import create_token
    from trainer.util import utcnow

    hr = session.exec(select(User).where(User.email == "hr@example.com")).one()
    manager = session.exec(select(User).where(User.email == "manager@example.com")).one()
    create_metric(
        session=session,
        code="walk_ins",
        label="Walk-ins",
        needs_n=False,
        direction="higher_is_better",
        min_value=0,
        max_value=1000,
    )
    create_token(session=session, name="Till import", scopes=["outcomes:write"], created_by=hr)
    site = session.exec(
        select(OrgUnit)
        .join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id)
        .where(ManagedUnit.user_id == manager.id)
    ).first()
    course, _version = offered_courses(session=session)[0]
    create_assignment(
        session=session,
        course=course,
        unit=site,
        due_on=utcnow().date() + timedelta(days=30),
        assigned_by=manager,
    )
    session.commit()


def sign_in(client, email):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_every_endpoint_a_role_may_use_is_linked_from_a_page_it_reaches(
    app, runner, client, session
):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("which pages link where does not depend on the database: SQLite is enough")
    if "content" in app.cli.commands:
        assert runner.invoke(args=["content", "sync"]).exit_code == 0
    built = runner.invoke(args=["demo", "--employees", "30"])
    assert built.exit_code == 0, built.output
    db_session().close()  # the CLI ran in the test's app context: end its read transaction
    arrange(session, app)
    gaps = {}
    for role in ROLES:
        user = session.exec(select(User).where(User.email == f"{role}@example.com")).one()
        sign_in(client, user.email)
        linked, _visited = crawl(app, client)
        missing = allowed_endpoints(app, user) - reached(linked) - KNOWN_UNLINKED - {"core.home"}
        if missing:
            gaps[role] = sorted(missing)
    assert not gaps, f"endpoints no reached page links to, by role: {gaps}"


def test_the_exceptions_name_real_endpoints(app):
    """A stale entry would hide nothing, but would mislead whoever reads the lists."""
    named = KNOWN_UNLINKED | NOT_PAGES | set(REACHED_BY_SUBMITTING)
    named |= set(REACHED_BY_SUBMITTING.values())
    named |= set(SHOWN_WHEN_DUE) | set(SHOWN_WHEN_DUE.values())
    assert named <= set(app.view_functions)
