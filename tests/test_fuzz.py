"""Fuzz every form, CSV upload and API route with generated input: never a 5xx, and a refused
request saves nothing.

Each test builds one app and database, signs in as the role the page is for, and sends
TRAINER_FUZZ_EXAMPLES generated inputs (200 by default; the nightly run uses 2,000, see
benchmarks/README.md). Values start from a valid submission with some fields replaced by
nasty ones: NUL and control characters, whitespace, huge and negative numbers, 'nan', unicode
digits, very long text. With TESTING on, an exception in a view fails the test with its
traceback instead of becoming a 500.
"""

import html
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select

from tests.access_samples import SAMPLES
from trainer.util import utcnow

EXAMPLES = int(os.environ.get("TRAINER_FUZZ_EXAMPLES", "200"))

NASTY = [
    "", " ", "\t", "\n", "\x00", "a\x00b", "\x00\x00", "\x1b[31m", "\x7f", "\u200b", "\u202e",
    "\ufeff", "\ufffd", "😀", "٣", "２", "𝟘", "0", "-0", "-1", "1.5", "1e3", "1,5", "1_000",
    "2147483647", "2147483648", "-2147483649", "9223372036854775808", "9" * 20, "9" * 401,
    "1" * 5000, "1e308", "1e309", "-1e309", "nan", "NaN", "inf", "-Infinity", "0x10", " 3 ",
    "true", "null", "[]", "{}", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "%s%n",
    "../../etc/passwd", "2026Q3", "2026Q9", "9999Q4", "2026-02-30", "0000-01-01",
    "99999-01-01", "x" * 201, "x" * 10_001, "é" * 70_000,
]


def nasty_text():
    """Text a form field might receive: hand-picked troublemakers and generated text."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=30),  # any code point but surrogates: NUL, controls, RTL, emoji
        st.integers().map(str),  # including numbers far beyond any database integer
        st.from_regex(r"\A[ \t]*-?[0-9]{1,25}[ \t]*\Z"),
        st.builds(lambda char, size: char * size, st.characters(), st.integers(100, 20_000)),
    )


def overrides(fields):
    """Replace one to three fields of a valid form with nasty values (some as lists)."""
    value = st.one_of(nasty_text(), st.lists(nasty_text(), max_size=3))
    return st.dictionaries(st.sampled_from(sorted(fields)), value, min_size=1, max_size=3)


def fuzz(strategy, check, examples: int = EXAMPLES):
    """Call `check` with `examples` values drawn from `strategy`."""

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(strategy)
    def run(value):
        check(value)

    run()


class Probe:
    """Send requests; fail on a 5xx, and on a refused one that changed any table's row count."""

    def __init__(self, client, session, ignore=()):
        self.client, self.session = client, session
        tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in ignore]
        self.query = sa.select(*[sa.select(sa.func.count()).select_from(t).scalar_subquery()
                                 .label(t.name) for t in tables])

    def counts(self) -> dict[str, int]:
        row = self.session.execute(self.query).one()._asdict()
        self.session.rollback()
        return row

    def send(self, method: str, url: str, **kwargs):
        before = self.counts()
        response = self.client.open(url, method=method, **kwargs)
        where = f"{method} {url} {kwargs!r:.300}"
        assert response.status_code < 500, where
        if response.status_code >= 400:
            after = self.counts()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, f"{where} answered {response.status_code} but saved {changed}"
        return response


@dataclass
class Ctx:
    app: Any
    session: Any
    org: Any
    cache: dict

    def sample(self, name):
        return SAMPLES[name](self)


@pytest.fixture
def ctx(app, session, org):
    return Ctx(app, session, org, {})


# Forms ----------------------------------------------------------------------------------------


def _pulse_answers(ctx):
    from trainer.pulse import services
    from trainer.pulse.models import PulseCycle

    cycle = ctx.session.get(PulseCycle, ctx.sample("cycle_id"))
    return {f"item-{ref.id}": "3" for ref in services.cycle_item_refs(ctx.session, cycle)}


def _programme(ctx):
    from trainer.pulse import services

    items = services.ensure_default_bank(ctx.session)
    ctx.session.commit()
    return {"name": "Fuzz pulse", "item_ids": [str(items[0].id)], "unit_ids": [str(ctx.org.s1.id)],
            "recurrence": "quarterly", "starts_on": str(utcnow().date() + timedelta(days=3)),
            "window_days": "7", "reminder_days": "2,5", "budget_per_quarter": "2",
            "comment_prompt": ""}


def _quiz(ctx):
    from tests.learn.learn_factory import form_answers
    from trainer.learn import services

    course = services.course_by_slug(ctx.session, ctx.sample("course_slug"))
    version = services.version_for(ctx.session, course, None)
    return {"version_id": str(version.id),
            **form_answers(version, ctx.org.employee.id, 2, ctx.app.config["SECRET_KEY"])}


def _decision(ctx):
    from trainer.scenarios.models import Play

    play = ctx.session.get(Play, ctx.sample("play_id"))
    return {"choice": "0", "node": play.node_id, "step": str(len(play.path))}


def _ratings(ctx):
    from trainer.insights.services import rating_periods

    return {"period": rating_periods()[0], f"team_{ctx.org.t1.id}": "3",
            f"team_{ctx.org.t2.id}": ""}


def _invite_url(ctx):
    from trainer.auth.services import make_link_token

    return f"/auth/invite/{make_link_token(ctx.org.employee, 'invite')}"


def _course_id(ctx):
    from trainer.learn import services

    return str(services.course_by_slug(ctx.session, ctx.sample("course_slug")).id)


@dataclass(frozen=True)
class Form:
    name: str
    role: str | None  # None: signed out
    url: Any  # ctx -> str
    valid: Any  # ctx -> dict
    ignore: tuple[str, ...] = ()  # tables a refused request may still write
    refused: bool = False  # the base submission itself is refused (a wrong password)


def _person(ctx):
    return {"email": "new.person@example.com", "name": "New Person",
            "unit_id": str(ctx.org.t1.id), "roles": ["employee"], "manager_of": [],
            "active": "y"}


def _metric(ctx):
    return {"label": "Fuzz", "direction": "higher_is_better", "min_value": "0",
            "max_value": "10", "needs_n": "y", "description": ""}


FORMS = [
    Form("sign in", None, lambda c: "/auth/login",
         lambda c: {"email": "nobody@example.com", "password": "wrong password"},
         ignore=("login_throttle",), refused=True),  # failures count, though answered 400
    Form("forgotten password", None, lambda c: "/auth/forgot",
         lambda c: {"email": "nobody@example.com"}),
    Form("set password", None, _invite_url,
         lambda c: {"password": "a long new password", "confirm": "a long new password"}),
    Form("new unit", "hr", lambda c: "/org/",
         lambda c: {"code": "NEW1", "name": "New unit", "kind": "team",
                    "parent_id": str(c.org.s1.id)}),
    Form("rename unit", "hr", lambda c: f"/org/units/{c.org.t1.id}",
         lambda c: {"name": "Renamed"}),
    Form("new person", "hr", lambda c: "/org/people/new", _person),
    Form("edit person", "hr", lambda c: f"/org/people/{c.org.employee.id}",
         lambda c: {**_person(c), "email": c.org.employee.email}),
    Form("new metric", "hr", lambda c: "/outcomes/metrics",
         lambda c: {"code": "fuzz_metric", **_metric(c)}),
    Form("edit metric", "hr", lambda c: f"/outcomes/metrics/{c.sample('metric_id')}", _metric),
    Form("new API token", "hr", lambda c: "/outcomes/tokens",
         lambda c: {"name": "Fuzz", "scopes": ["outcomes:read"], "unit_id": "0",
                    "expires_in_days": "30"}),
    Form("new pulse item", "hr", lambda c: "/pulse/items",
         lambda c: {"theme": "empowerment", "kind": "likert",
                    "text": "I can put things right for customers."}),
    Form("reword pulse item", "hr", lambda c: f"/pulse/items/{c.sample('item_id')}/reword",
         lambda c: {"text": "I can put things right for customers."}),
    Form("new programme", "hr", lambda c: "/pulse/programmes/new", _programme),
    Form("edit programme", "hr", lambda c: f"/pulse/programmes/{c.sample('programme_id')}",
         _programme),
    Form("survey answer", "employee", lambda c: f"/pulse/cycles/{c.sample('cycle_id')}/answer",
         lambda c: {**_pulse_answers(c), "comment": "Fine."}),
    Form("commitment", "manager", lambda c: f"/pulse/ledger/{c.org.t1.id}",
         lambda c: {"text": "We will hold a weekly huddle."}),
    Form("mark a commitment", "employee",
         lambda c: f"/pulse/commitments/{c.sample('commitment_id')}/mark",
         lambda c: {"answer": "yes"}),
    Form("assignment", "manager", lambda c: "/learn/assignments",
         lambda c: {"course_id": _course_id(c), "unit_id": str(c.org.t1.id),
                    "due_on": str(utcnow().date() + timedelta(days=7))}),
    Form("quiz", "employee", lambda c: f"/learn/courses/{c.sample('course_slug')}/quiz", _quiz),
    Form("ratings", "manager", lambda c: "/insights/ratings", _ratings),
    Form("scenario start", "employee",
         lambda c: f"/scenarios/{c.sample('scenario_slug')}/start", lambda c: {"mode": "play"}),
    Form("scenario decision", "employee",
         lambda c: f"/scenarios/plays/{c.sample('play_id')}/choose", _decision),
    Form("scenario re-serve", "employee", lambda c: f"/scenarios/due/{c.sample('reserve_id')}",
         lambda c: {"choice": "0", "node": "counter"}),
]


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_form_never_fails_and_saves_nothing_when_refused(form, client, session, ctx, login_as):
    url, valid = form.url(ctx), form.valid(ctx)
    if form.role:
        login_as(ctx.org.user(form.role))
    probe = Probe(client, session, form.ignore)
    baseline = probe.send("POST", url, data=valid)
    assert (baseline.status_code >= 400) == form.refused, baseline.text

    fuzz(overrides([*valid, "extra"]),
         lambda changed: probe.send("POST", url, data={**valid, **changed}))


# Query strings, search boxes and address parts ------------------------------------------------

PAGES = [
    ("hr", "/org/people", ["q", "page"]),
    ("hr", "/outcomes/", ["unit", "metric", "period", "page"]),
    ("hr", "/outcomes/export.csv", ["unit", "metric", "period"]),
    ("employee", "/learn/verify", ["code"]),
    ("manager", "/learn/reports", ["period"]),
    ("employee", "/pulse/results", ["cycle", "programme"]),
    ("employee", "/pulse/results/{t1}", ["cycle", "programme"]),
    ("employee", "/pulse/cycles/{cycle_id}/answer", ["ready"]),
    ("hr", "/insights/", ["unit", "metric"]),
    ("hr", "/insights/units/{s1}", ["metric", "period"]),
    ("hr", "/insights/units/{s1}/export.csv", ["table", "metric", "period"]),
    ("hr", "/learn/analysis/{course_slug}", ["version"]),
    ("manager", "/scenarios/reports", ["period"]),
    ("manager", "/insights/ratings", ["period"]),
    ("anonymous", "/auth/login", ["next"]),
]


@pytest.mark.parametrize(("role", "path", "params"), PAGES, ids=[p[1] for p in PAGES])
def test_query_parameters_never_fail(role, path, params, client, session, ctx, login_as):
    url = path.format(t1=ctx.org.t1.id, s1=ctx.org.s1.id, cycle_id=ctx.sample("cycle_id"),
                      course_slug=ctx.sample("course_slug"))
    if role != "anonymous":
        login_as(ctx.org.user(role))
    probe = Probe(client, session)
    fuzz(overrides([*params, "extra"]),
         lambda query: probe.send("GET", url, query_string=query))


def test_address_parts_never_fail(client, session, ctx, login_as):
    login_as(ctx.org.hr)
    probe = Probe(client, session)
    templates = ["/learn/certificates/{}", "/learn/courses/{}", "/scenarios/{}",
                 "/org/units/{}", "/pulse/results/{}.json", "/auth/reset/{}"]
    from urllib.parse import quote

    fuzz(st.tuples(st.sampled_from(templates), nasty_text().filter(bool)),
         lambda case: probe.send("GET", case[0].format(quote(case[1], safe=""))))


# CSV uploads ----------------------------------------------------------------------------------


def csv_files(header: list[str], valid_row: list[str]):
    """CSV files: the valid header and row with nasty cells, or arbitrary bytes."""

    def build(cells, extra_rows, delimiter, tail):
        rows = [header, [*cells[: len(header)], *valid_row[len(cells):]], *extra_rows]
        text = "\n".join(delimiter.join(_quoted(c) for c in row) for row in rows) + tail
        return text.encode("utf-8", "surrogatepass")

    return st.one_of(
        st.builds(build, st.lists(st.one_of(st.sampled_from(valid_row), nasty_text()),
                                  max_size=len(header) + 1),
                  st.lists(st.lists(nasty_text(), max_size=len(header) + 1), max_size=3),
                  st.sampled_from([",", ";"]), st.sampled_from(["", "\n", "\r\n", "\n\n,,"])),
        st.binary(max_size=200),
        st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe" + "a,b".encode("utf-16-le"),
                         ",".join(header).encode() + b"\n\"unclosed",
                         ",".join(header).encode() + b"\n" + b"x" * 140_000,
                         ",".join(header).encode() + b"\n\"" + b"y" * 140_000 + b"\"," * 4]),
    )


def _quoted(cell: str) -> str:
    if any(c in cell for c in ',;"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


UPLOADS = [
    ("/org/import", ["email", "name", "unit_code", "roles", "manager_of"],
     ["fuzz@example.com", "Fuzz Person", "T1", "employee", ""]),
    ("/outcomes/import", ["unit_code", "period", "metric", "value", "n", "topbox", "responses",
                          "invited"],
     ["T1", "2026Q1", "csat", "80", "120", "0.4", "50", "100"]),
]


@pytest.mark.parametrize(("url", "header", "row"), UPLOADS, ids=[u[0] for u in UPLOADS])
def test_csv_upload_never_fails_and_saves_nothing_when_refused(url, header, row, client,
                                                               session, ctx, login_as):
    import io

    login_as(ctx.org.hr)
    probe = Probe(client, session)

    def upload(data: bytes):
        response = probe.send("POST", url, data={"file": (io.BytesIO(data), "fuzz.csv")},
                              content_type="multipart/form-data")
        if response.status_code == 400:
            assert "line " in response.get_data(as_text=True)  # the problem is located

    fuzz(csv_files(header, row), upload)


# The JSON API ---------------------------------------------------------------------------------


@pytest.fixture
def api_headers(session, ctx):
    from trainer.outcomes.services import create_token

    _token, secret = create_token(session=session, name="Fuzz",
                                  scopes=["outcomes:write", "outcomes:read"],
                                  created_by=ctx.org.hr)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def json_values():
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                       st.text(st.characters(codec="utf-8")), st.sampled_from(NASTY))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
        max_leaves=8)


def outcome_bodies():
    """Request bodies: rows with nasty fields, any JSON, and hand-made troublemakers."""
    valid = {"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": 80, "n": 120}
    fields = [*valid, "topbox", "responses", "invited", "extra"]
    row = st.dictionaries(st.sampled_from(fields), json_values(), max_size=3).map(
        lambda changed: {**valid, **changed})
    as_json = st.one_of(
        st.lists(row, max_size=3).map(lambda rows: {"rows": rows}),
        st.lists(row, max_size=3),
        json_values(),
    ).map(lambda body: json.dumps(body, allow_nan=True).encode())
    special = [
        b"[" * 5000 + b"]" * 5000,
        b'{"rows": ' + b"[" * 100 + b"]" * 100 + b"}",
        b'{"rows": [{"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": '
        + b"9" * 401 + b', "n": 5}]}',
        b'{"rows": [{"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": 80, '
        b'"n": ' + b"9" * 30 + b"}]}",
        b'{"rows": [{"unit_code": "T1\\u0000", "period": "2026Q1", "metric": "csat", '
        b'"value": 80, "n": 5}]}',
        b'{"rows": [{"unit_code": "\\ud800", "period": "2026Q1", "metric": "csat", '
        b'"value": 80, "n": 5}]}',
        b'{"rows": [{"unit_code": ["T1"], "period": {}, "metric": 1, "value": "80", "n": 5}]}',
        b'{"\\u0000": 1}', b"\x00", b"\xff\xfe", b"", b"NaN", b'{"rows": [1e999]}',
        b'{"rows": 1' + b"0" * 5000 + b"}",
    ]
    return st.one_of(as_json, st.sampled_from(special), st.binary(max_size=100))


def test_outcomes_api_upload_never_fails(client, session, ctx, api_headers):
    probe = Probe(client, session)
    fuzz(st.tuples(outcome_bodies(), st.sampled_from(["", "true", "\x00", "9" * 30])),
         lambda case: probe.send("POST", "/api/v1/outcomes", data=case[0],
                                 query_string={"dry_run": case[1]} if case[1] else None,
                                 headers={**api_headers, "Content-Type": "application/json"}))


def test_outcomes_api_reads_never_fail(client, session, ctx, api_headers):
    probe = Probe(client, session)
    fuzz(overrides(["unit_code", "period", "metric", "limit", "offset", "extra"]),
         lambda query: probe.send("GET", "/api/v1/outcomes", query_string=query,
                                  headers=api_headers))


def test_api_tokens_never_fail(client, session, ctx):
    probe = Probe(client, session)
    header = st.one_of(nasty_text().map(lambda t: f"Bearer {t}"), nasty_text())

    def check(value):
        value = value.encode("latin-1", "replace").decode("latin-1").replace("\n", " ")
        for url in ("/api/v1/metrics", "/api/v1/outcomes"):
            response = probe.send("GET", url, headers={"Authorization": value})
            assert response.status_code == 401 and response.is_json

    fuzz(header, check)


# Messages --------------------------------------------------------------------------------------


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_refused_value_names_its_field(client, session, ctx, login_as, api_headers):
    """Spot checks of the messages the fuzzing above only requires to be a 400 or 422."""
    from trainer.insights.models import CustomerFocusRating

    login_as(ctx.org.manager)
    whitespace = client.post("/insights/ratings", data={**_ratings(ctx),
                                                        f"team_{ctx.org.t1.id}": " "})
    assert whitespace.status_code == 400 and "Not a valid choice" in text(whitespace)
    assert session.exec(select(CustomerFocusRating)).all() == []

    nul = client.get("/learn/verify", query_string={"code": "ab\x00c"})
    assert nul.status_code == 400 and "'code' contains a NUL character" in text(nul)

    login_as(ctx.org.hr)
    page = client.get("/org/people", query_string={"page": "9" * 30})
    assert page.status_code == 400 and "'page' must be a whole number" in text(page)
    assert client.get("/org/units/" + "9" * 30).status_code == 404
    named = client.post(f"/org/units/{ctx.org.t1.id}", data={"name": "A\x00B"})
    assert named.status_code == 400 and "'name' contains a NUL character" in text(named)

    offset = client.get("/api/v1/outcomes?offset=" + "9" * 30, headers=api_headers)
    assert offset.status_code == 400 and "'offset'" in offset.json["error"]["message"]
    deep = client.post("/api/v1/outcomes", data=b"[" * 5000 + b"]" * 5000,
                       headers={**api_headers, "Content-Type": "application/json"})
    assert deep.status_code == 400 and "nested" in deep.json["error"]["message"]
    big = client.post("/api/v1/outcomes", json={"rows": [{
        "unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": 10**400, "n": 5}]},
        headers=api_headers)
    assert big.status_code == 422
    assert big.json["errors"] == [{"row": 0, "field": "value",
                                   "message": "This number is too large."}]
