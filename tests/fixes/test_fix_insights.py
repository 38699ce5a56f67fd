"""The demo's fix log: the insights report recovers the planted behaviour link, the gamed site
logs little, and the pages read rollups only."""

import csv
import io
import json

from sqlmodel import select

from trainer.auth.models import User
from trainer.demo import DEMO_PASSWORD
from trainer.fixes.flags import gaming_flags
from trainer.fixes.models import FixRollup
from trainer.fixes.released import periods, released_cells
from trainer.insights import demo as insights_demo
from trainer.insights import store
from trainer.org.models import OrgUnit


def _report(runner, metric):
    result = runner.invoke(args=["insights", "report", "--metric", metric, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_report_recovers_the_planted_behaviour_link(runner, session, client):
    store.clear_cache()
    built = runner.invoke(args=["demo"])
    assert built.exit_code == 0, built.output

    # "Fixed on own authority" is a measure of its own, with the same statistics.
    report = _report(runner, "fix_on_spot")
    assert report["metric_label"] == "Fixed on the spot (% of logged fixes)"
    assert {"fix_on_spot", "fix_rate", "csi"} <= set(report["q_value_family"])
    # Planted: teams fix more on the spot when their morale is high, within and between.
    same = next(r for r in report["lags"] if r["lag"] == 0)
    assert same["within_r"] > 0.3 and same["ci_low"] > 0 and same["q_value"] < 0.05
    pearson = next(b for b in report["between"] if b["method"] == "pearson")
    assert pearson["r"] > 0 and pearson["ci_low"] > 0
    assert report["headline"]["direction"] == "morale_leads"
    assert report["flags"] == []  # the fix log has its own HR-only flags

    # Beside a customer measure, the behaviour link is worded plainly.
    complaints = _report(runner, "complaints")
    behaviour = complaints["behaviour"]
    assert behaviour["direction"] == "morale_leads" and behaviour["ci_high"] < 0
    assert behaviour["sentence"].startswith(
        "Teams that fixed more problems on the spot tended to see fewer complaints the next quarter"
    )
    assert "Correlation, not causation." in behaviour["sentence"]
    assert _report(runner, "fix_rate")["behaviour"] is None

    # The gamed site logs little, so its teams' cells stay hidden.
    gamed = session.exec(select(OrgUnit).where(OrgUnit.code == insights_demo.GAMED_SITE)).one()
    teams = session.exec(select(OrgUnit).where(OrgUnit.parent_id == gamed.id)).all()
    period = periods(session=session)[1]
    cells = released_cells(period, session=session)
    assert all(cells.get(t.id) is None for t in teams)
    busy = session.exec(
        select(FixRollup).where(FixRollup.period == period, FixRollup.unit_id == teams[0].id)
    ).first()
    others = session.exec(select(OrgUnit).where(OrgUnit.code == "LEEDS-SVC")).one()
    leeds = session.exec(
        select(FixRollup).where(FixRollup.period == period, FixRollup.unit_id == others.id)
    ).one()
    assert busy is None or busy.fixes * 4 < leeds.fixes

    # HR sees the one planted flag in neutral words; nobody is named.
    flags = gaming_flags(session=session)
    assert [(f["unit_code"], f["signal"]) for f in flags] == [("BATH-SALES", "volume_jump")]
    assert "not an accusation" in flags[0]["reason"]

    # The manager's dashboard page shows the sentence, and the team page the training.
    manager = session.exec(select(User).where(User.email == "manager@example.com")).one()
    client.post("/auth/login", data={"email": manager.email, "password": DEMO_PASSWORD})
    site = session.exec(select(OrgUnit).where(OrgUnit.code == "LEEDS")).one()
    page = client.get(f"/insights/units/{site.id}/detail?metric=complaints")
    assert page.status_code == 200
    assert "Fixing problems on the spot and Complaints" in page.get_data(as_text=True)
    assert client.get(f"/insights/units/{site.id}?metric=fix_on_spot").status_code == 200
    team = client.get("/fixes/team?unit=LEEDS-SVC").get_data(as_text=True)
    assert "fixed on the spot" in team and "Owning the problem" in team
    assert client.get("/fixes/flags").status_code == 403

    # The headline names the teams it used, and the export holds every figure at full
    # precision, so a reader can recompute them.
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": "hr@example.com", "password": DEMO_PASSWORD})
    company = session.exec(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).one()
    url = f"/insights/api/units/{company.id}/report.json?metric=fix_on_spot"
    report = client.get(url).get_json()
    assert report["headline"]["status"] == "ok"
    detail = client.get(f"/insights/units/{company.id}/detail?metric=fix_on_spot")
    used = f"Across the {report['headline']['n_units']} teams with enough data in"
    assert used in detail.get_data(as_text=True)
    export = client.get(f"/insights/units/{company.id}/export.csv?table=lags&metric=fix_on_spot")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    compared = 0
    for row, lag in zip(rows, report["lags"], strict=True):
        for column in ("within_r", "ci_low", "ci_high", "p_value", "q_value"):
            if lag[column] is not None:
                assert float(row[column]) == lag[column], column
                compared += 1
    assert compared >= 5
