"""The demo must show something true: the planted lag, the gamed site, the hidden small teams."""

import json

from sqlmodel import select

from trainer.auth.models import User
from trainer.demo import DEMO_PASSWORD
from trainer.insights import demo as insights_demo
from trainer.insights import store, training_rollup
from trainer.org.models import OrgUnit


def test_the_dashboard_recovers_what_the_demo_planted(runner, session, client):
    store.clear_cache()
    built = runner.invoke(args=["demo"])
    assert built.exit_code == 0, built.output

    result = runner.invoke(args=["insights", "report", "--metric", "csi", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    # The planted link: morale leads CSI by one quarter within teams, and its interval
    # excludes 0; the reverse order is shown beside it and is not claimed.
    headline = report["headline"]
    assert headline["direction"] == "morale_leads"
    assert headline["lag"] == 1
    assert headline["ci_low"] > 0
    assert headline["n_units"] >= 10
    assert "Correlation, not causation." in headline["sentence"]
    lag1 = {r["direction"]: r for r in report["lags"] if r["lag"] == 1}
    assert lag1["morale_leads"]["ci_low"] > 0 and lag1["morale_leads"]["q_value"] < 0.05
    assert lag1["customer_leads"]["ci_low"] < 0 < lag1["customer_leads"]["ci_high"]

    # The gamed site: every one of its teams carries gaming flags, with reasons.
    gamed = session.exec(select(OrgUnit).where(OrgUnit.code == insights_demo.GAMED_SITE)).one()
    gamed_teams = set(session.exec(select(OrgUnit.code).where(OrgUnit.parent_id == gamed.id)).all())
    flagged = {f["unit_code"] for f in report["flags"] if f["kind"] == "gaming"}
    assert gamed_teams <= flagged
    signals = {f["signal"] for f in report["flags"] if f["unit_code"] in gamed_teams}
    assert {"top_box", "variance_collapse", "score_behaviour_mismatch", "response_rate"} <= signals
    assert len(flagged - gamed_teams) <= 3  # the checks rarely fire elsewhere
    assert all(f["reason"] for f in report["flags"])

    # The training measures are summarised for the dashboard as the demo is built.
    completion, ownership = training_rollup.training_rows(session=session)
    assert completion and ownership
    assert all(0 <= r["completion_rate"] <= 1 for r in completion)

    # The small teams (parts counters, fewer than 10 people) are hidden.
    parts = set(session.exec(select(OrgUnit.code).where(OrgUnit.code.like("%-PARTS"))).all())
    assert parts and parts <= set(report["suppressed"])

    # A manager signing in sees the link with its uncertainty, no flags, and the hidden teams.
    manager = session.exec(select(User).where(User.email == "manager@example.com")).one()
    client.post("/auth/login", data={"email": manager.email, "password": DEMO_PASSWORD})
    landing = client.get("/insights/")
    overview = client.get(landing.location).get_data(as_text=True)
    assert (
        "When morale rose across the company, Dealer CSI tended to rise the next quarter."
        in overview
    )
    assert "data-quality flag" not in overview.lower() and "hidden¹" in overview
    page = client.get(landing.location + "/detail").get_data(as_text=True)
    assert "Correlation, not causation." in page
    assert "Teams whose morale rose tended to see Dealer CSI rise the next quarter" in page
    assert "95% CI" in page
    assert "Data-quality flags" not in page and "gaming" not in page.lower()
    assert "LEEDS-PARTS" in page and "reported with the unit above" in page
