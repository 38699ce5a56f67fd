"""HR pages: CSV upload, browsing and export, custom metrics and API tokens."""

import hashlib
import io
import re

import pytest
from sqlmodel import select

from tests.csv_checks import guarded_rows
from trainer.outcomes.models import ApiToken, OutcomeMetric


def upload(client, text, dry_run=False, name="outcomes.csv"):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name)}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/outcomes/import", data=data, content_type="multipart/form-data")


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def hr(org, login_as):
    return login_as(org.hr)


def test_hr_uploads_a_file_and_sees_the_outcomes(org, hr, client, csv_text, stored):
    response = upload(client, csv_text("T1,2026Q1,csat,81.5,120", "T3,2026Q1,nps,12,80"))
    assert response.status_code == 302
    assert response.location.endswith("/outcomes/")
    browse = page_text(client.get("/outcomes/"))
    assert "Import done. 2 rows: 2 created, 0 updated, 0 unchanged." in browse
    assert "81.5" in browse and "T3" in browse
    assert len(stored()[0]) == 2


def test_a_bad_upload_lists_every_problem_with_status_400_and_saves_nothing(
    org, hr, client, csv_text, stored
):
    response = upload(
        client,
        csv_text("T1,2026Q1,csat,81.5,120", "T9,2026Q1,csat,80,10", "T2,2026Q1,csat,eighty,10"),
    )
    assert response.status_code == 400
    text = page_text(response)
    assert "Nothing was imported. Please fix these 2 problems:" in text
    assert "line 3, column unit_code: No unit has the code &#39;T9&#39;." in text
    assert "line 4, column value: &#39;eighty&#39; is not a number." in text
    assert stored() == ([], 0)


def test_an_upload_without_a_file_is_refused_at_the_field(org, hr, client):
    response = client.post("/outcomes/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV file to import." in page_text(response)


def test_a_dry_run_upload_reports_and_saves_nothing(org, hr, client, csv_text, stored):
    response = upload(client, csv_text("T1,2026Q1,csat,81.5,120"), dry_run=True)
    assert response.status_code == 200
    assert "Dry run, nothing saved: 1 row: 1 created" in page_text(response)
    assert stored() == ([], 0)


def test_an_upload_above_the_request_limit_is_413_and_saves_nothing(
    app, org, hr, client, csv_text, stored
):
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(client, csv_text(*["T1,2026Q1,csat,81.5,120"] * 200))
    assert response.status_code == 413
    assert stored() == ([], 0)


def test_browsing_filters_by_unit_subtree_metric_and_quarter(
    org, hr, client, import_text, csv_text
):
    import_text(
        csv_text(
            "T1,2026Q1,csat,81,120",
            "T2,2026Q1,nps,22,80",
            "T3,2026Q1,csat,63,50",
            "T1,2026Q2,csat,84,110",
        )
    )
    site = page_text(client.get("/outcomes/?unit=S1"))
    assert "<code>T1</code>" in site and "<code>T2</code>" in site
    assert "<code>T3</code>" not in site
    assert "3 values." in site
    narrow = page_text(client.get("/outcomes/?unit=S1&metric=csat&period=2026Q1"))
    assert "1 value." in narrow
    odd = client.get("/outcomes/?unit=NOPE&period=someday")
    assert odd.status_code == 200
    assert "No unit has the code &#39;NOPE&#39;; showing every unit." in page_text(odd)
    assert "4 values." in page_text(odd)


def test_the_export_round_trips_through_the_import(org, hr, client, import_text, csv_text):
    header = "unit_code,period,metric,value,n,topbox,responses,invited"
    import_text(
        csv_text(
            "T1,2026Q1,csat,81.5,120,0.42,120,400", "S1,2026Q2,complaints,2.4,,,,", header=header
        )
    )
    response = client.get("/outcomes/export.csv")
    assert response.mimetype == "text/csv"
    exported = response.get_data(as_text=True)
    assert exported.splitlines() == [
        header,
        "S1,2026Q2,complaints,2.4,,,,",
        "T1,2026Q1,csat,81.5,120,0.42,120,400",
    ]
    report = import_text(exported)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)


def test_hr_defines_a_custom_metric_and_imports_it(org, hr, client, session, import_text, csv_text):
    response = client.post(
        "/outcomes/metrics",
        data={
            "code": "first_fix",
            "label": "First-time fix rate",
            "direction": "higher_is_better",
            "min_value": "0",
            "max_value": "100",
            "needs_n": "y",
            "description": "Workshop",
        },
    )
    assert response.status_code == 302
    assert "first_fix" in page_text(client.get("/outcomes/metrics"))
    report = import_text(csv_text("T1,2026Q1,first_fix,120,10", "T2,2026Q1,first_fix,88,"))
    assert [str(e) for e in report.errors] == [
        "line 2, column value: 120 is out of range: first_fix values are from 0 to 100.",
        "line 3, column n: n is required for first_fix: the number of customers behind the value.",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "csat"}, "The metric code csat is already used."),
        ({"code": "Bad Code"}, "Use 2 to 32 lowercase letters"),
        ({"min_value": "10", "max_value": "5"}, "The lowest value must be below the highest"),
        ({"label": ""}, "This field is required."),
    ],
)
def test_a_bad_custom_metric_is_refused_with_status_400(org, hr, client, session, data, message):
    form = {
        "code": "first_fix",
        "label": "First-time fix",
        "direction": "higher_is_better",
        "min_value": "",
        "max_value": "",
        **data,
    }
    response = client.post("/outcomes/metrics", data=form)
    assert response.status_code == 400
    assert message in page_text(response)
    assert session.exec(select(OutcomeMetric)).all() == []


def test_a_custom_metric_range_cannot_shut_out_stored_values_nor_be_deleted_while_used(
    org, hr, client, session, import_text, csv_text
):
    client.post(
        "/outcomes/metrics",
        data={
            "code": "wait_min",
            "label": "Wait (minutes)",
            "direction": "lower_is_better",
            "min_value": "0",
        },
    )
    metric = session.exec(select(OutcomeMetric)).one()
    import_text(csv_text("T1,2026Q1,wait_min,45,"))
    edit = client.post(
        f"/outcomes/metrics/{metric.id}",
        data={"label": "Wait", "direction": "lower_is_better", "min_value": "0", "max_value": "30"},
    )
    assert edit.status_code == 400
    assert "Stored wait_min values run from 45 to 45" in page_text(edit)
    refused = client.post(f"/outcomes/metrics/{metric.id}/delete", follow_redirects=True)
    assert "1 stored values use wait_min; it cannot be deleted." in page_text(refused)
    session.expire_all()
    assert session.get(OutcomeMetric, metric.id) is not None
    ok = client.post(
        f"/outcomes/metrics/{metric.id}",
        data={
            "label": "Waiting time",
            "direction": "lower_is_better",
            "min_value": "0",
            "max_value": "60",
        },
    )
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(OutcomeMetric, metric.id).label == "Waiting time"


def test_an_unused_custom_metric_can_be_deleted(org, hr, client, session):
    client.post(
        "/outcomes/metrics",
        data={"code": "wait_min", "label": "Wait", "direction": "lower_is_better"},
    )
    metric = session.exec(select(OutcomeMetric)).one()
    assert client.post(f"/outcomes/metrics/{metric.id}/delete").status_code == 302
    session.expire_all()
    assert session.exec(select(OutcomeMetric)).all() == []


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(org, hr, client, session):
    response = client.post(
        "/outcomes/tokens",
        data={
            "name": "Survey vendor",
            "scopes": ["outcomes:write"],
            "unit_id": str(org.s1.id),
            "expires_in_days": "90",
        },
    )
    assert response.status_code == 200
    secret = re.search(r'value="(trn_[A-Za-z0-9_-]+)"', response.get_data(as_text=True))[1]
    token = session.exec(select(ApiToken)).one()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(token.model_dump())
    assert token.prefix == secret[:10]
    assert (token.scopes, token.unit_id, token.created_by_id) == (
        "outcomes:write",
        org.s1.id,
        org.hr.id,
    )
    assert token.expires_at is not None
    listing = client.get("/outcomes/tokens").get_data(as_text=True)
    assert "Survey vendor" in listing and token.prefix in listing
    assert secret not in listing
    api = client.post(
        "/api/v1/outcomes",
        headers={"Authorization": f"Bearer {secret}"},
        json=[{"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": 80, "n": 10}],
    )
    assert api.status_code == 201


def test_a_token_needs_a_name_and_a_scope(org, hr, client, session):
    response = client.post(
        "/outcomes/tokens", data={"name": "", "unit_id": "0", "expires_in_days": "0"}
    )
    assert response.status_code == 400
    text = page_text(response)
    assert "Choose at least one scope." in text
    assert session.exec(select(ApiToken)).all() == []


def test_revoking_a_token_stops_it_at_once(org, login_as, client, session, make_token):
    secret = make_token()
    token = session.exec(select(ApiToken)).one()
    login_as(org.admin)
    response = client.post(f"/outcomes/tokens/{token.id}/revoke", follow_redirects=True)
    assert "Token Vendor revoked." in page_text(response)
    session.expire_all()
    assert session.get(ApiToken, token.id).revoked_at is not None
    client.post("/auth/logout")
    api = client.get("/api/v1/outcomes", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


@pytest.mark.parametrize("role", ["employee", "manager"])
def test_employees_and_managers_cannot_reach_the_outcome_pages(org, login_as, client, role):
    login_as(org.user(role))
    for url in (
        "/outcomes/",
        "/outcomes/import",
        "/outcomes/metrics",
        "/outcomes/tokens",
        "/outcomes/export.csv",
    ):
        assert client.get(url).status_code == 403, url


def test_the_export_keeps_negative_values_as_numbers(org, hr, client, import_text, csv_text):
    import_text(
        csv_text(
            "T1,2026Q1,nps,-12.5,80,,,",
            header="unit_code,period,metric,value,n,topbox,responses,invited",
        )
    )

    rows = guarded_rows(client.get("/outcomes/export.csv"))

    assert rows[1] == ["T1", "2026Q1", "nps", "-12.5", "80", "", "", ""]
