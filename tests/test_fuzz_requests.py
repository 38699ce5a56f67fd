"""Query strings, address parts, CSV uploads and the JSON API, fuzzed: never a 5xx, and a
refused request saves nothing (see tests/fuzzing.py)."""

import json

import pytest
from hypothesis import strategies as st
from sqlmodel import select

from tests.fuzzing import NASTY, Ctx, Probe, fuzz, nasty_text, overrides, text


@pytest.fixture
def ctx(app, session, org):
    return Ctx(app, session, org, {})


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
    ("manager", "/fixes/team", ["unit", "period"]),
    ("anonymous", "/auth/login", ["next"]),
]


@pytest.mark.parametrize(("role", "path", "params"), PAGES, ids=[p[1] for p in PAGES])
def test_query_parameters_never_fail(role, path, params, client, session, ctx, login_as):
    url = path.format(
        t1=ctx.org.t1.id,
        s1=ctx.org.s1.id,
        cycle_id=ctx.sample("cycle_id"),
        course_slug=ctx.sample("course_slug"),
    )
    if role != "anonymous":
        login_as(ctx.org.user(role))
    probe = Probe(client, session)
    fuzz(
        ctx.app,
        overrides([*params, "extra"]),
        lambda query: probe.send("GET", url, query_string=query),
        share=1 / 4,
    )


def test_address_parts_never_fail(client, session, ctx, login_as):
    login_as(ctx.org.hr)
    probe = Probe(client, session)
    templates = [
        "/learn/certificates/{}",
        "/learn/courses/{}",
        "/scenarios/{}",
        "/org/units/{}",
        "/pulse/results/{}.json",
        "/auth/reset/{}",
    ]
    from urllib.parse import quote

    fuzz(
        ctx.app,
        st.tuples(st.sampled_from(templates), nasty_text().filter(bool)),
        lambda case: probe.send("GET", case[0].format(quote(case[1], safe=""))),
    )


# CSV uploads ----------------------------------------------------------------------------------


def csv_files(header: list[str], valid_row: list[str]):
    """CSV files: the valid header and row with nasty cells, or arbitrary bytes."""

    def build(cells, extra_rows, delimiter, tail):
        rows = [header, [*cells[: len(header)], *valid_row[len(cells) :]], *extra_rows]
        text = "\n".join(delimiter.join(_quoted(c) for c in row) for row in rows) + tail
        return text.encode("utf-8", "surrogatepass")

    return st.one_of(
        st.builds(
            build,
            st.lists(st.one_of(st.sampled_from(valid_row), nasty_text()), max_size=len(header) + 1),
            st.lists(st.lists(nasty_text(), max_size=len(header) + 1), max_size=3),
            st.sampled_from([",", ";"]),
            st.sampled_from(["", "\n", "\r\n", "\n\n,,"]),
        ),
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"",
                b"\xef\xbb\xbf",
                b"\xff\xfe" + "a,b".encode("utf-16-le"),
                ",".join(header).encode() + b'\n"unclosed',
                ",".join(header).encode() + b"\n" + b"x" * 140_000,
                ",".join(header).encode() + b'\n"' + b"y" * 140_000 + b'",' * 4,
            ]
        ),
    )


def _quoted(cell: str) -> str:
    if any(c in cell for c in ',;"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


UPLOADS = [
    (
        "/org/import",
        ["email", "name", "unit_code", "roles", "manager_of"],
        ["fuzz@example.com", "Fuzz Person", "T1", "employee", ""],
    ),
    (
        "/outcomes/import",
        ["unit_code", "period", "metric", "value", "n", "topbox", "responses", "invited"],
        ["T1", "2026Q1", "csat", "80", "120", "0.4", "50", "100"],
    ),
]


@pytest.mark.parametrize(("url", "header", "row"), UPLOADS, ids=[u[0] for u in UPLOADS])
def test_csv_upload_never_fails_and_saves_nothing_when_refused(
    url, header, row, client, session, ctx, login_as
):
    import io

    login_as(ctx.org.hr)
    probe = Probe(client, session)

    def upload(data: bytes):
        response = probe.send(
            "POST",
            url,
            data={"file": (io.BytesIO(data), "fuzz.csv")},
            content_type="multipart/form-data",
        )
        if response.status_code == 400:
            assert "line " in response.get_data(as_text=True)  # the problem is located

    fuzz(ctx.app, csv_files(header, row), upload)


# The JSON API ---------------------------------------------------------------------------------


@pytest.fixture
def api_headers(session, ctx):
    from trainer.outcomes.tokens import create_token

    _token, secret = create_token(
        session=session,
        name="Fuzz",
        scopes=["outcomes:write", "outcomes:read", "fixes:read"],
        created_by=ctx.org.hr,
        unit_id=ctx.org.s1.id,
    )
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def json_values():
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(st.characters(codec="utf-8")),
        st.sampled_from(NASTY),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
        ),
        max_leaves=8,
    )


def outcome_bodies():
    """Request bodies: rows with nasty fields, any JSON, and hand-made troublemakers."""
    valid = {"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": 80, "n": 120}
    fields = [*valid, "topbox", "responses", "invited", "extra"]
    row = st.dictionaries(st.sampled_from(fields), json_values(), max_size=3).map(
        lambda changed: {**valid, **changed}
    )
    as_json = st.one_of(
        st.lists(row, max_size=3).map(lambda rows: {"rows": rows}),
        st.lists(row, max_size=3),
        json_values(),
    ).map(lambda body: json.dumps(body, allow_nan=True).encode())
    special = [
        b"[" * 5000 + b"]" * 5000,
        b'{"rows": ' + b"[" * 100 + b"]" * 100 + b"}",
        b'{"rows": [{"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": '
        + b"9" * 401
        + b', "n": 5}]}',
        b'{"rows": [{"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": 80, '
        b'"n": ' + b"9" * 30 + b"}]}",
        b'{"rows": [{"unit_code": "T1\\u0000", "period": "2026Q1", "metric": "csat", '
        b'"value": 80, "n": 5}]}',
        b'{"rows": [{"unit_code": "\\ud800", "period": "2026Q1", "metric": "csat", '
        b'"value": 80, "n": 5}]}',
        b'{"rows": [{"unit_code": ["T1"], "period": {}, "metric": 1, "value": "80", "n": 5}]}',
        b'{"\\u0000": 1}',
        b"\x00",
        b"\xff\xfe",
        b"",
        b"NaN",
        b'{"rows": [1e999]}',
        b'{"rows": 1' + b"0" * 5000 + b"}",
    ]
    return st.one_of(as_json, st.sampled_from(special), st.binary(max_size=100))


def test_outcomes_api_upload_never_fails(client, session, ctx, api_headers):
    probe = Probe(client, session)
    fuzz(
        ctx.app,
        st.tuples(outcome_bodies(), st.sampled_from(["", "true", "\x00", "9" * 30])),
        lambda case: probe.send(
            "POST",
            "/api/v1/outcomes",
            data=case[0],
            query_string={"dry_run": case[1]} if case[1] else None,
            headers={**api_headers, "Content-Type": "application/json"},
        ),
    )


def test_outcomes_api_reads_never_fail(client, session, ctx, api_headers):
    probe = Probe(client, session)
    fuzz(
        ctx.app,
        overrides(["unit_code", "period", "metric", "limit", "offset", "extra"]),
        lambda query: probe.send(
            "GET", "/api/v1/outcomes", query_string=query, headers=api_headers
        ),
    )


def test_fixes_api_reads_never_fail(client, session, ctx, api_headers):
    probe = Probe(client, session)
    fuzz(
        ctx.app,
        overrides(["unit_code", "period", "extra"]),
        lambda query: probe.send("GET", "/api/v1/fixes", query_string=query, headers=api_headers),
    )


def test_api_tokens_never_fail(client, session, ctx):
    probe = Probe(client, session)
    header = st.one_of(nasty_text().map(lambda t: f"Bearer {t}"), nasty_text())

    def check(value):
        value = value.encode("latin-1", "replace").decode("latin-1")
        value = value.replace("\n", " ").replace("\r", " ")  # not sendable as a header
        for url in ("/api/v1/metrics", "/api/v1/outcomes", "/api/v1/fixes"):
            response = probe.send("GET", url, headers={"Authorization": value})
            assert response.status_code == 401 and response.is_json

    fuzz(ctx.app, header, check)


# Messages --------------------------------------------------------------------------------------


def test_a_refused_value_names_its_field(client, session, ctx, login_as, api_headers):
    """Spot checks of the messages the fuzzing above only requires to be a 400 or 422."""
    from trainer.insights.models import CustomerFocusRating

    login_as(ctx.org.manager)
    from trainer.insights.ratings import rating_periods

    whitespace = client.post(
        "/insights/ratings", data={"period": rating_periods()[0], f"team_{ctx.org.t1.id}": " "}
    )
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
    deep = client.post(
        "/api/v1/outcomes",
        data=b"[" * 5000 + b"]" * 5000,
        headers={**api_headers, "Content-Type": "application/json"},
    )
    assert deep.status_code == 400 and "nested" in deep.json["error"]["message"]
    big = client.post(
        "/api/v1/outcomes",
        json={
            "rows": [
                {"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": 10**400, "n": 5}
            ]
        },
        headers=api_headers,
    )
    assert big.status_code == 422
    assert big.json["errors"] == [
        {"row": 0, "field": "value", "message": "This number is too large."}
    ]


def test_a_refused_csv_cell_is_named_by_line_and_column(client, session, ctx, login_as):
    import io

    from trainer.auth.models import User
    from trainer.outcomes.models import Outcome

    login_as(ctx.org.hr)
    people = "email,name,unit_code,roles,manager_of\nnew@example.com," + "x" * 140_000 + ",T1,,\n"
    response = client.post(
        "/org/import",
        data={"file": (io.BytesIO(people.encode()), "p.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "line 2, column name: This cell holds 140,000 characters; the most is 10,000." in text(
        response
    )
    assert session.exec(select(User).where(User.email == "new@example.com")).first() is None

    outcomes = "unit_code,period,metric,value,n\nT1,2026Q1,csat,80," + "9" * 20 + "\n"
    response = client.post(
        "/outcomes/import",
        data={"file": (io.BytesIO(outcomes.encode()), "o.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert (
        "line 2, column n: '99999999999999999999' is too large; the most is 2,147,483,647."
        in text(response)
    )
    assert session.exec(select(Outcome)).all() == []
