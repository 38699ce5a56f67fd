"""The JSON API: bearer tokens, status codes, all-or-nothing upserts and the OpenAPI document."""

import json

import pytest
from sqlmodel import select

from trainer.outcomes import imports, metrics, tokens
from trainer.outcomes.models import ApiToken

URL = "/api/v1/outcomes"


def row(unit="T1", period="2026Q1", metric="csat", value=80.0, n=100, **extra):
    return {"unit_code": unit, "period": period, "metric": metric, "value": value, "n": n, **extra}


@pytest.fixture
def send(client):
    """POST rows (or raw text) with a bearer token; return the response."""

    def post(body, secret=None, url=URL, raw=False):
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        data = body if raw else json.dumps(body)
        return client.post(url, data=data, headers=headers, content_type="application/json")

    return post


def test_rows_are_saved_and_counted(org, make_token, send, stored):
    secret = make_token()
    response = send(
        {
            "rows": [
                row(),
                row(unit="T2", period="2026-05-03", topbox=0.5, responses=100, invited=400),
            ]
        },
        secret,
    )
    assert response.status_code == 201
    assert response.json == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "dry_run": False,
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert sorted(stored()[0]) == sorted(
        [
            (org.t1.id, "2026Q1", "csat", 80.0, 100, None, None, None),
            (org.t2.id, "2026Q2", "csat", 80.0, 100, 0.5, 100, 400),
        ]
    )


def test_resending_is_idempotent_and_changes_are_updates(org, make_token, send, stored):
    secret = make_token()
    send([row(), row(unit="T2")], secret)
    again = send([row(), row(unit="T2")], secret)
    assert again.status_code == 200
    assert again.json["unchanged"] == 2 and again.json["created"] == 0
    changed = send([row(value=85.5), row(unit="T2")], secret)
    assert changed.status_code == 200
    assert (changed.json["updated"], changed.json["unchanged"]) == (1, 1)
    assert (org.t1.id, "2026Q1", "csat", 85.5, 100, None, None, None) in stored()[0]


def test_a_dry_run_writes_nothing(org, make_token, send, stored):
    response = send([row()], make_token(), url=URL + "?dry_run=true")
    assert response.status_code == 200
    assert response.json["created"] == 1 and response.json["dry_run"] is True
    assert stored() == ([], 0)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Send an API token: 'Authorization: Bearer <token>'."),
        ("Bearer", "Send an API token: 'Authorization: Bearer <token>'."),
        ("Basic dXNlcjpwYXNz", "Send an API token: 'Authorization: Bearer <token>'."),
        ("Bearer trn_not-a-real-token", "The API token is not valid."),
    ],
)
def test_a_missing_or_garbage_token_is_401_with_a_bearer_challenge(
    org, client, stored, header, message
):
    headers = {"Authorization": header} if header else {}
    response = client.post(URL, json=[row()], headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": {"status": 401, "message": message}}
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="trainer"')
    assert stored() == ([], 0)


def test_a_revoked_token_is_401(org, session, make_token, send, stored):
    secret = make_token()
    token = session.exec(select(ApiToken)).one()
    tokens.revoke_token(session=session, token=token)
    session.commit()
    response = send([row()], secret)
    assert response.status_code == 401
    assert response.json["error"]["message"] == "This API token was revoked. Ask HR for a new one."
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert stored() == ([], 0)


def test_an_expired_token_is_401(org, session, make_token, send):
    from datetime import timedelta

    secret = make_token(expires_in_days=30)
    token = session.exec(select(ApiToken)).one()
    token.expires_at = token.created_at - timedelta(seconds=1)
    session.add(token)
    session.commit()
    assert send([row()], secret).status_code == 401


@pytest.mark.parametrize("role", ["employee", "manager", "hr", "admin"])
def test_a_signed_in_session_cookie_is_never_a_token(app, org, client, login_as, stored, role):
    login_as(org.user(role))
    token_routes = [
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")  # /scim/v2: tests/scim/test_scim_access.py
        and getattr(app.view_functions[rule.endpoint], "access", None)
        and app.view_functions[rule.endpoint].access.api_token
        for method in rule.methods & {"GET", "POST"}
    ]
    assert sorted(token_routes) == [
        ("/api/v1/fixes", "GET"),
        ("/api/v1/metrics", "GET"),
        ("/api/v1/outcomes", "GET"),
        ("/api/v1/outcomes", "POST"),
    ]
    for url, method in token_routes:
        response = client.open(url, method=method, json=[row()])
        assert response.status_code == 401, (method, url)
        assert "Set-Cookie" not in response.headers
    assert stored() == ([], 0)


def test_a_read_only_token_may_not_write(org, make_token, send, stored):
    response = send([row()], make_token(scopes=["outcomes:read"]))
    assert response.status_code == 403
    assert response.json["error"]["message"] == (
        "Wrong scope: this token lacks the outcomes:write scope."
    )
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert stored() == ([], 0)


def test_a_token_limited_to_a_unit_may_not_send_rows_outside_its_subtree(
    org, make_token, send, stored
):
    secret = make_token(unit=org.s1)
    inside = send([row(unit="T1"), row(unit="T2"), row(unit="S1")], secret)
    assert inside.status_code == 201
    before = stored()
    response = send([row(unit="T1", value=90), row(unit="T3"), row(unit="C")], secret)
    assert response.status_code == 403
    assert response.json["errors"] == [
        {"row": 1, "field": "unit_code", "message": "This token may not send data for unit T3."},
        {"row": 2, "field": "unit_code", "message": "This token may not send data for unit C."},
    ]
    assert stored() == before


@pytest.mark.parametrize("body", ['{"rows": [', "NaN", "[1, 2,]", "\xff"])
def test_malformed_json_is_400(org, make_token, send, body):
    response = send(body, make_token(), raw=True)
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("The body is not valid JSON")


@pytest.mark.parametrize("body", [{"row": []}, {"rows": {}}, "rows", 42])
def test_json_that_is_not_a_list_of_rows_is_400(org, make_token, send, body):
    response = send(body, make_token())
    assert response.status_code == 400
    assert response.json["error"]["message"] == 'Send {"rows": [...]}: a list of outcome rows.'


def test_invalid_rows_are_422_with_every_problem_and_nothing_saved(org, make_token, send, stored):
    response = send(
        {
            "rows": [
                row(),
                row(unit="NOPE"),
                row(unit="T2", value=120),
                row(unit="T3", period="2026Q9"),
                row(unit="S1", value="80", n=-1),
                row(),
            ]
        },
        make_token(),
    )
    assert response.status_code == 422
    assert response.json["error"] == {"status": 422, "message": "6 problems; nothing was saved."}
    assert [(e["row"], e["field"]) for e in response.json["errors"]] == [
        (1, "unit_code"),
        (2, "value"),
        (3, "period"),
        (4, "value"),
        (4, "n"),
        (5, "period"),
    ]
    assert "already appears on row 0" in response.json["errors"][-1]["message"]
    assert stored() == ([], 0)


def test_too_many_rows_is_413(org, make_token, send, stored, monkeypatch):
    monkeypatch.setattr(imports, "API_MAX_ROWS", 3)
    response = send([row(period=f"2025Q{q}") for q in range(1, 5)], make_token())
    assert response.status_code == 413
    assert "send them in batches" in response.json["error"]["message"]
    assert stored() == ([], 0)


def test_a_body_above_the_request_size_limit_is_413_json(app, org, make_token, send):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = send([row() for _ in range(50)], make_token())
    assert response.status_code == 413
    assert response.json == {"error": {"status": 413, "message": "That file is too large."}}


def test_unknown_api_paths_and_methods_answer_in_json(org, client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["status"] == 404
    wrong = client.put(URL, json=[])
    assert wrong.status_code == 405 and wrong.json["error"]["status"] == 405


def test_reading_outcomes_filters_by_unit_subtree_period_and_metric(org, make_token, send, client):
    secret = make_token()
    send(
        [
            row(unit="T1"),
            row(unit="T2", metric="nps", value=10),
            row(unit="T3"),
            row(unit="T1", period="2026Q2", value=70),
        ],
        secret,
    )
    auth = {"Authorization": f"Bearer {secret}"}
    everything = client.get(URL, headers=auth).json
    assert everything["total"] == 4
    assert everything["outcomes"][0] == {
        "unit_code": "T1",
        "period": "2026Q2",
        "metric": "csat",
        "value": 70.0,
        "n": 100,
        "topbox": None,
        "responses": None,
        "invited": None,
        "updated_at": everything["outcomes"][0]["updated_at"],
    }
    site = client.get(URL + "?unit_code=S1&period=2026Q1", headers=auth).json
    assert sorted((o["unit_code"], o["metric"]) for o in site["outcomes"]) == [
        ("T1", "csat"),
        ("T2", "nps"),
    ]
    csat = client.get(URL + "?metric=csat&limit=2&offset=0", headers=auth).json
    assert (csat["total"], len(csat["outcomes"])) == (3, 2)
    assert client.get(URL + "?unit_code=NOPE", headers=auth).status_code == 400
    assert client.get(URL + "?period=soon", headers=auth).status_code == 400
    assert client.get(URL + "?metric=cast", headers=auth).status_code == 400
    assert client.get(URL + "?limit=0", headers=auth).status_code == 400


def test_a_unit_limited_token_reads_only_its_subtree(org, make_token, send, client):
    send([row(unit="T1"), row(unit="T3")], make_token())
    limited = {"Authorization": f"Bearer {make_token(unit=org.s1, scopes=['outcomes:read'])}"}
    assert [o["unit_code"] for o in client.get(URL, headers=limited).json["outcomes"]] == ["T1"]
    assert client.get(URL + "?unit_code=S2", headers=limited).status_code == 403
    assert client.get(URL + "?unit_code=T1", headers=limited).status_code == 200


def test_a_write_only_token_may_not_read(org, make_token, client):
    secret = make_token(scopes=["outcomes:write"])
    response = client.get(URL, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403


def test_metrics_are_listed_with_custom_ones(org, session, make_token, client):
    metrics.create_metric(
        session=session,
        code="first_fix",
        label="First-time fix",
        direction="higher_is_better",
        min_value=0,
        max_value=100,
        needs_n=True,
    )
    session.commit()
    response = client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {make_token()}"})
    codes = [(m["code"], m["custom"]) for m in response.json["metrics"]]
    assert codes == [
        ("csat", False),
        ("nps", False),
        ("csi", False),
        ("complaints", False),
        ("retention", False),
        ("first_fix", True),
    ]


def test_custom_metrics_are_accepted_in_rows(org, session, make_token, send, stored):
    metrics.create_metric(
        session=session,
        code="first_fix",
        label="First-time fix",
        direction="higher_is_better",
        min_value=0,
        max_value=100,
        needs_n=False,
    )
    session.commit()
    response = send([row(metric="first_fix", value=91, n=None)], make_token())
    assert response.status_code == 201
    assert stored()[0] == [(org.t1.id, "2026Q1", "first_fix", 91.0, None, None, None, None)]


def test_last_use_of_a_token_is_recorded(org, session, make_token, send):
    secret = make_token()
    send([row()], secret)
    session.expire_all()
    assert session.exec(select(ApiToken)).one().last_used_at is not None


# The OpenAPI document


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_openapi_document_is_public_and_describes_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"] == "3.1.0"
    assert {"title", "version"} <= set(doc["info"])
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["operationId"] and op["responses"], (path, method)
            assert all(
                code.isdigit() and "description" in answer
                for code, answer in op["responses"].items()
            ), (path, method)
    post = doc["paths"]["/api/v1/outcomes"]["post"]
    assert {"200", "201", "400", "401", "403", "413", "422"} <= set(post["responses"])
    assert doc["components"]["schemas"]["OutcomeRow"]["required"] == [
        "unit_code",
        "period",
        "metric",
        "value",
        "n",
    ]
    for ref in _refs(doc):
        name = ref.removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"], ref
