"""The insights dashboard as each role sees it: scope, HR-only flags, exports, JSON, ratings."""

import csv
import io
import json
import re

import pytest
from sqlmodel import Session, select

from tests.csv_checks import EVIL, cells, guarded_rows
from tests.insights.conftest import PERIODS, SMALL_QUARTER
from trainer.db import write_intent
from trainer.insights import store
from trainer.insights.cli import _p
from trainer.insights.models import CustomerFocusRating, StoredAnalysis
from trainer.insights.views import TABLES
from trainer.outcomes.imports import upsert_outcomes
from trainer.util import shift_quarter, utcnow


def _csv(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_manager_lands_on_their_site_and_sees_only_their_teams(client, login_as, history):
    login_as(history.manager)
    response = client.get("/insights/")
    assert response.status_code == 302
    assert response.location.endswith(f"/insights/units/{history.s1.id}")
    for url in (response.location, f"/insights/units/{history.s1.id}/detail"):
        page = client.get(url).get_data(as_text=True)
        assert "correlation, not causation" in page.lower()
        assert "T1" in page and "T2" in page
        without_tokens = re.sub(r'value="[^"]*"', "", page)  # a random CSRF token may hold "T4"
        assert ">T3<" not in page and "T4" not in without_tokens
        assert "data-quality flag" not in page.lower()


@pytest.mark.parametrize(
    "path",
    [
        "/insights/units/{id}",
        "/insights/units/{id}/detail",
        "/insights/api/units/{id}/report.json",
        "/insights/api/units/{id}/trends.json",
        "/insights/api/units/{id}/scatter.json",
        "/insights/api/units/{id}/funnel.json",
        "/insights/api/units/{id}/perception.json",
        "/insights/units/{id}/export.csv",
    ],
)
def test_manager_gets_403_outside_their_scope(client, login_as, history, path):
    login_as(history.manager)
    assert client.get(path.format(id=history.s2.id)).status_code == 403
    assert client.get(path.format(id=history.t3.id)).status_code == 403
    assert client.get(path.format(id=history.t1.id)).status_code == 200
    assert client.get(f"/insights/?unit={history.s2.id}").status_code == 403


def test_employees_have_no_dashboard(client, login_as, history):
    login_as(history.employee)
    assert client.get("/insights/").status_code == 403
    assert client.get(f"/insights/api/units/{history.t1.id}/report.json").status_code == 403


def test_hr_sees_the_gaming_flags_with_reasons(client, login_as, history):
    login_as(history.hr)
    page = client.get(f"/insights/units/{history.company.id}").get_data(as_text=True)
    assert "data-quality flag" in page and "(seen by HR only)" in page
    page = client.get(f"/insights/units/{history.company.id}/detail").get_data(as_text=True)
    assert "Data-quality flags on Dealer CSI" in page
    flags = client.get(f"/insights/api/units/{history.company.id}/flags.json").get_json()
    top_box = [f for f in flags["flags"] if f["signal"] == "top_box"]
    assert {f["unit_code"] for f in top_box} == {"T3"}
    assert {f["period"] for f in top_box} == set(PERIODS)
    assert all(f["kind"] == "gaming" and "not an accusation" in f["reason"] for f in top_box)
    rows = _csv(client.get(f"/insights/units/{history.company.id}/export.csv?table=flags"))
    assert {r["unit_code"] for r in rows} == {"T3"}


def test_managers_never_see_flags(client, login_as, history):
    login_as(history.manager)
    report = client.get(f"/insights/api/units/{history.s1.id}/report.json").get_json()
    assert report["flags"] is None
    assert client.get(f"/insights/api/units/{history.s1.id}/flags.json").status_code == 403
    export = client.get(f"/insights/units/{history.s1.id}/export.csv?table=flags")
    assert export.status_code == 403


def test_a_flagged_units_own_hr_person_does_not_see_its_flags(client, login_as, history, make_user):
    insider = make_user("employee,hr", history.t3)
    login_as(insider)
    flags = client.get(f"/insights/api/units/{history.company.id}/flags.json").get_json()
    assert flags["flags"] == []
    report = client.get(f"/insights/api/units/{history.company.id}/report.json").get_json()
    assert report["flags"] == []


def test_panel_export_applies_the_anonymity_thresholds(client, login_as, history):
    login_as(history.hr)
    rows = _csv(client.get(f"/insights/units/{history.company.id}/export.csv"))
    by_cell = {(r["unit_code"], r["period"]): r for r in rows}
    assert by_cell[("T2", SMALL_QUARTER)]["morale_status"] == "suppressed"
    assert by_cell[("T2", SMALL_QUARTER)]["engagement"] == ""
    assert by_cell[("T2", SMALL_QUARTER)]["respondents"] == ""
    assert all(by_cell[("T4", p)]["morale_status"] == "merged" for p in PERIODS)
    assert all(by_cell[("T4", p)]["engagement"] == "" for p in PERIODS)
    shown = [r for r in rows if r["engagement"]]
    assert shown and all(float(r["respondents"]) >= 5 for r in shown)
    assert by_cell[("T4", PERIODS[0])]["csi.value"] == "80"  # customer data is not hidden


def test_per_unit_export_names_why_no_unit_has_an_estimate(client, login_as, history):
    login_as(history.hr)
    rows = _csv(client.get(f"/insights/units/{history.company.id}/export.csv?table=per_unit"))
    assert [r["unit_code"] for r in rows] == ["T1", "T2", "T3", "T4"]
    assert all(r["shrunk_slope"] == "" and r["shrunk_reason"] for r in rows)


def test_report_json_has_the_documented_shape(client, login_as, history):
    login_as(history.hr)
    report = client.get(f"/insights/api/units/{history.company.id}/report.json?metric=csi")
    doc = report.get_json()
    assert doc["metric"] == "csi"
    assert {
        "direction",
        "lag",
        "estimate",
        "ci_low",
        "ci_high",
        "n_units",
        "n_obs",
        "method",
    } <= set(doc["headline"])
    assert doc["headline"]["direction"] == "none"
    assert doc["headline"]["status"] == "insufficient_data"  # 3 teams, fewer than 10
    assert {(r["lag"], r["direction"]) for r in doc["lags"]} == {
        (0, "same_quarter"),
        (1, "morale_leads"),
        (1, "customer_leads"),
        (2, "morale_leads"),
        (2, "customer_leads"),
    }
    for row in doc["lags"]:
        assert {"lag", "direction", "within_r", "ci_low", "ci_high", "n", "q_value"} <= set(row)
    assert doc["flags"] and all(
        {"unit_code", "period", "kind", "reason"} <= set(f) for f in doc["flags"]
    )
    assert {"T2", "T4"} <= set(doc["suppressed"])
    cells = {(c["unit_code"], c["period"]): c["reason"] for c in doc["suppressed_cells"]}
    assert cells[("T2", SMALL_QUARTER)] == "suppressed"
    assert all(cells[("T4", p)] == "merged" for p in PERIODS)
    # T1 alone would give T2 away by subtraction from S1, so it is hidden too (anonymity §4).
    assert cells[("T1", SMALL_QUARTER)] == "suppressed"
    assert "T3" not in doc["suppressed"]
    assert doc["reference"] is None
    assert [r["unit_code"] for r in doc["per_unit"]] == ["T1", "T2", "T3", "T4"]
    for row in doc["per_unit"]:
        assert {
            "r",
            "status",
            "shrunk_slope",
            "shrunk_ci_low",
            "shrunk_ci_high",
            "common_slope",
            "shrunk_n_units",
            "shrunk_status",
            "shrunk_reason",
        } <= set(row)
        assert row["shrunk_slope"] is None  # 3 teams with morale, fewer than 10
        assert row["shrunk_status"] == "insufficient_data" and row["shrunk_reason"]


def test_a_team_scope_carries_the_company_reference(client, login_as, history):
    login_as(history.manager)
    doc = client.get(f"/insights/api/units/{history.t1.id}/report.json").get_json()
    assert doc["scope"]["code"] == "T1"
    assert doc["reference"]["scope"]["code"] == "C"
    assert "headline" in doc["reference"]


def test_unknown_metric_is_a_400(client, login_as, history):
    login_as(history.hr)
    assert client.get(f"/insights/units/{history.s1.id}?metric=nope").status_code == 400
    assert (
        client.get(f"/insights/api/units/{history.s1.id}/report.json?metric=nope").status_code
        == 400
    )
    assert client.get(f"/insights/units/{history.s1.id}/export.csv?table=nope").status_code == 404


def test_chart_endpoints_feed_every_chart(client, login_as, history):
    login_as(history.manager)
    base = f"/insights/api/units/{history.s1.id}"
    trends = client.get(f"{base}/trends.json").get_json()
    assert trends["periods"] == PERIODS
    assert [u["unit_code"] for u in trends["units"]] == ["T1", "T2"]
    t2 = trends["units"][1]
    assert t2["engagement"][PERIODS.index(SMALL_QUARTER)] is None
    assert t2["morale_status"][PERIODS.index(SMALL_QUARTER)] == "suppressed"
    funnel = client.get(f"{base}/funnel.json").get_json()
    assert funnel["status"] == "ok" and funnel["measure"]["kind"] == "topbox"
    assert {u["unit_code"] for u in funnel["units"]} == {"T1", "T2"}  # peers stay unnamed
    scatter = client.get(f"{base}/scatter.json").get_json()
    assert all(p["unit_code"] in ("T1", "T2") for p in scatter["within"])
    perception = client.get(f"{base}/perception.json").get_json()
    assert perception["period"] == PERIODS[-1]
    assert perception["rows"][0]["customers"] == pytest.approx(1 + 4 * 0.75)


def test_dashboard_page_has_a_table_for_every_chart(client, login_as, history):
    login_as(history.hr)
    page = client.get(f"/insights/units/{history.company.id}/detail").get_data(as_text=True)
    canvases = page.count("<canvas")
    assert canvases > 0
    assert page.count('role="img"') == canvases
    assert page.count("aria-label=") >= canvases
    assert "<style" not in page and " style=" not in page
    assert "<script>" not in page  # no inline scripts: the CSP would block them
    assert (
        "pulled toward the average of all teams, because 8 quarters of one unit are noisy" in page
    )


def test_manager_rates_their_teams_and_sees_it_in_the_perception_gap(
    client, login_as, history, session
):
    login_as(history.manager)
    period = PERIODS[-1]
    page = client.get(f"/insights/ratings?period={period}")
    assert page.status_code == 200
    html = re.sub(r'value="[^"]*"', "", page.get_data(as_text=True))  # drop random tokens
    assert "T1" in html and "T3" not in html
    field = f"team_{history.t1.id}"
    response = client.post(
        "/insights/ratings", data={"period": period, field: "5", f"team_{history.t2.id}": ""}
    )
    assert response.status_code == 302
    stored = session.exec(select(CustomerFocusRating)).all()
    assert [(r.unit_id, r.period, r.rating) for r in stored] == [(history.t1.id, period, 5)]
    perception = client.get(f"/insights/api/units/{history.s1.id}/perception.json").get_json()
    t1 = next(r for r in perception["rows"] if r["unit_code"] == "T1")
    assert t1["manager"] == 5 and t1["manager_raters"] == 1
    assert t1["team"] is not None and t1["gap_manager_team"] == pytest.approx(5 - t1["team"])


def test_bad_ratings_are_refused_with_a_message(client, login_as, history, session):
    login_as(history.manager)
    field = f"team_{history.t1.id}"
    bad_value = client.post("/insights/ratings", data={"period": PERIODS[-1], field: "7"})
    assert bad_value.status_code == 400
    assert "Not a valid choice" in bad_value.get_data(as_text=True)
    old = shift_quarter(PERIODS[0], -10)
    bad_period = client.post("/insights/ratings", data={"period": old, field: "3"})
    assert bad_period.status_code == 400
    assert session.exec(select(CustomerFocusRating)).all() == []


def test_only_managers_rate(client, login_as, history):
    login_as(history.hr)
    assert client.get("/insights/ratings").status_code == 403


def test_new_outcomes_show_up_without_a_restart(client, login_as, history, session):
    login_as(history.hr)
    url = f"/insights/api/units/{history.company.id}/flags.json"
    assert {
        f["unit_code"] for f in client.get(url).get_json()["flags"] if f["signal"] == "top_box"
    } == {"T3"}
    upsert_outcomes(
        session=session,
        rows=[
            {
                "unit_id": history.t3.id,
                "period": p,
                "metric": "csi",
                "value": 80.0,
                "n": 100,
                "topbox": 0.30,
                "responses": 100,
                "invited": 400,
            }
            for p in PERIODS
        ],
        source="test",
    )
    session.commit()
    # T3's corrected outcomes clear its flags. (Making a second of the three teams gamed
    # would not show: with half the peers near 100% there is no typical unit to flag against.)
    flagged = {
        f["unit_code"] for f in client.get(url).get_json()["flags"] if f["signal"] == "top_box"
    }
    assert flagged == set()


def test_cli_report_prints_json_and_text(runner, history):
    result = runner.invoke(args=["insights", "report", "--metric", "csi", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["metric"] == "csi" and doc["scope"]["code"] == "C"
    assert any(f["unit_code"] == "T3" for f in doc["flags"])
    text = runner.invoke(args=["insights", "report", "--metric", "csi", "--unit", "S1"])
    assert text.exit_code == 0, text.output
    assert "Correlation, not causation." in text.output
    assert "T3" not in text.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "nope"], "unknown metric 'nope'"),
        (["--metric", "csi", "--unit", "NOPE"], "no unit has the code 'NOPE'"),
    ],
)
def test_cli_report_rejects_bad_input_cleanly(runner, history, args, message):
    result = runner.invoke(args=["insights", "report", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_perception_gap_of_an_earlier_quarter(client, login_as, history):
    login_as(history.manager)
    base = f"/insights/api/units/{history.s1.id}/perception.json"
    assert client.get(f"{base}?period={PERIODS[0]}").get_json()["period"] == PERIODS[0]
    assert client.get(f"{base}?period=1999Q1").get_json()["period"] == PERIODS[-1]
    page = client.get(f"/insights/units/{history.s1.id}/detail?period={PERIODS[1]}")
    assert f"Customer focus in {PERIODS[1]}" in page.get_data(as_text=True)


def test_an_unknown_unit_is_a_404(client, login_as, history):
    login_as(history.hr)
    assert client.get("/insights/?unit=999999").status_code == 404
    assert client.get("/insights/units/999999").status_code == 404


def test_every_export_table_guards_a_unit_name_that_looks_like_a_formula(
    client, login_as, session, history
):
    history.t1.name = EVIL
    session.add(history.t1)
    session.commit()
    store.clear_cache()
    login_as(history.hr)
    exported = {}
    for table in TABLES:
        exported[table] = guarded_rows(
            client.get(f"/insights/units/{history.company.id}/export.csv?table={table}")
        )
    for table in ("panel", "perception"):
        assert "'" + EVIL in cells(exported[table]), table
        assert EVIL not in cells(exported[table])
    numbers = [c for table in exported.values() for c in cells(table) if c.startswith("-")]
    assert numbers and all(float(c) < 0 for c in numbers)  # negative numbers stay numbers


def test_after_a_data_change_the_page_shows_the_last_figures_until_the_job_has_new_ones(
    client, login_as, session, history
):
    login_as(history.hr)
    url = f"/insights/units/{history.company.id}"
    first = client.get(url).get_data(as_text=True)  # nothing earlier: worked out right away
    assert "Updated figures are being worked out" not in first
    upsert_outcomes(
        session=session,
        rows=[
            {"unit_id": history.t1.id, "period": p, "metric": "csi", "value": 60.0, "n": 100}
            for p in PERIODS
        ],
        source="test",
    )
    session.commit()
    stale = client.get(url).get_data(as_text=True)
    assert "Updated figures are being worked out; these are from" in stale
    assert store.refresh_analyses(session=session, now=utcnow()) > 0  # the scheduler's job
    session.commit()
    stored = session.exec(select(StoredAnalysis)).all()
    assert len(stored) == len({row.scope for row in stored})  # older analyses are dropped
    fresh = store.analysis_if_cached(session=session, metric="csi", unit=history.company)
    assert not fresh["stale"]
    t1 = next(row for row in fresh["panel_rows"] if row["unit_code"] == "T1")
    assert t1["csi.value"] == 60.0
    assert "Updated figures are being worked out" not in client.get(url).get_data(as_text=True)


def test_a_page_that_only_reads_stores_the_analysis_it_works_out(app, session, history):
    """A GET request's transaction only reads. The analysis it works out is stored in a write
    transaction of its own, even when someone else wrote after the page's snapshot began (on
    SQLite, writing from that snapshot fails with "database is locked")."""
    store.clear_cache()
    token = write_intent.set(False)  # as in a GET request
    try:
        with Session(app.extensions["trainer.engine"]) as page:
            store.data_version(session=page)  # the page's snapshot begins
            upsert_outcomes(  # someone else writes meanwhile
                session=session,
                rows=[{"unit_id": history.t1.id, "period": "2020Q1", "metric": "csat", "value": 1}],
                source="test",
            )
            session.commit()
            result = store.analysis_for(session=page, metric="csi", unit=history.company)
            page.rollback()  # the page's own transaction keeps nothing
    finally:
        write_intent.reset(token)
    assert session.get(StoredAnalysis, result["key"]) is not None


def test_p_and_q_values_below_a_thousandth_never_read_as_zero(app):
    with app.test_request_context():
        pq = app.jinja_env.get_template("insights/_macros.html").module.pq
        assert str(pq(0.00004)) == "&lt; 0.001"
        assert str(pq(0.0123)) == "0.012"
        assert str(pq(None)) == "–"
    assert _p("q", 0.00004) == "q < 0.001"
    assert _p("q", 0.25) == "q = 0.250"


def test_hr_sees_the_headline_with_and_without_the_flagged_quarters(
    client, login_as, history, make_user
):
    login_as(history.hr)
    page = client.get(f"/insights/units/{history.company.id}/detail").get_data(as_text=True)
    assert "Does leaving out flagged quarters change this?" in page
    assert f"with the {len(PERIODS)} flagged quarters kept in, we would say the same" in page
    report = client.get(f"/insights/api/units/{history.company.id}/report.json").get_json()
    sensitivity = report["sensitivity"]
    assert sensitivity["excluded_count"] == len(PERIODS) and sensitivity["differs"] is False
    assert sensitivity["headline_with_flagged"]["status"] == report["headline"]["status"]
    # Managers never see flags, and a flagged unit's own HR person never learns of them.
    for reader in (history.manager, make_user("employee,hr", history.t3)):
        login_as(reader)
        unit = history.s1 if reader is history.manager else history.company
        page = client.get(f"/insights/units/{unit.id}/detail").get_data(as_text=True)
        assert "flagged quarters" not in page
        assert (
            client.get(f"/insights/api/units/{unit.id}/report.json").get_json()["sensitivity"]
            is None
        )
