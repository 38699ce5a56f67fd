"""Results by role, thresholds in pages, CSV and JSON, trend, live counts and the ledger."""

import csv
import io
import re
from datetime import date, timedelta

import sqlalchemy as sa

from tests.csv_checks import EVIL, guarded_rows
from tests.pulse.conftest import submit
from trainer import anonymity
from trainer.pulse import results
from trainer.pulse.ledger import commitments_for, released_tallies
from trainer.pulse.models import MarkPool
from trainer.pulse.pool import flush_waiting_pools


def _json(client, unit, cycle):
    response = client.get(f"/pulse/results/{unit.id}.json?cycle={cycle.id}")
    assert response.status_code == 200
    return response.get_json()


def test_results_follow_the_thresholds_for_every_role(
    client, session, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 8, "t2": 11, "t3": 6})
    login_as(staffed.hr)
    t1 = _json(client, staffed.t1, cycle)["result"]
    assert t1["status"] == "shown" and t1["respondents"] == 8 and t1["invited"] == 12
    assert t1["comments"] is None  # 8 respondents: scores yes, comments no
    assert {i["code"] for i in t1["items"]} >= {"EMP-1", "CUS-1", "ENPS-1"}
    company = _json(client, staffed.company, cycle)["result"]
    assert company["respondents"] == 25
    assert len(company["comments"]) == 25
    assert not any(c.startswith("2026") for c in company["comments"])
    # S1 has 19 respondents, but showing its comments would expose the 6 outside it.
    assert _json(client, staffed.s1, cycle)["result"]["comments"] is None
    orders = {tuple(_json(client, staffed.company, cycle)["result"]["comments"]) for _ in range(3)}
    assert len(orders) > 1  # random order each time

    login_as(staffed.employee)
    assert client.get(f"/pulse/results/{staffed.t1.id}?cycle={cycle.id}").status_code == 200
    assert client.get(f"/pulse/results/{staffed.company.id}").status_code == 200
    assert client.get(f"/pulse/results/{staffed.t2.id}").status_code == 403
    assert client.get(f"/pulse/results/{staffed.t2.id}.json").status_code == 403
    index = client.get("/pulse/results").get_data(as_text=True)
    assert shown(staffed.t1.name, index) and not shown(staffed.t3.name, index)

    login_as(staffed.manager)
    assert client.get(f"/pulse/results/{staffed.t2.id}").status_code == 200
    assert client.get(f"/pulse/results/{staffed.t3.id}").status_code == 403
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/pulse/cycles/{cycle.id}/results.csv").get_data(as_text=True))
        )
    )
    codes = {r["unit_code"] for r in rows}
    assert {"S1", "T1", "T2", "C"} <= codes and "T3" not in codes
    assert all(int(r["respondents"]) >= 5 for r in rows if r["status"] == "shown")


def test_a_cut_that_would_expose_the_rest_is_hidden_everywhere(
    client, session, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 8, "t2": 11, "t3": 3})
    login_as(staffed.hr)
    assert _json(client, staffed.t3, cycle)["result"]["status"] == "suppressed"
    # T1 has 8 answers, but company - S1 would reveal T3's 3: T1 and S1 are hidden too.
    t1 = _json(client, staffed.t1, cycle)["result"]
    assert t1 == {"status": "suppressed", "message": anonymity.SUPPRESSED_TEXT}
    page = client.get(f"/pulse/results/{staffed.t1.id}?cycle={cycle.id}").get_data(as_text=True)
    assert "Not enough responses to protect anonymity" in page and "Engagement index" not in page
    rows = {
        r["unit_code"]: r
        for r in csv.DictReader(
            io.StringIO(client.get(f"/pulse/cycles/{cycle.id}/results.csv").get_data(as_text=True))
        )
    }
    assert rows["T3"]["status"] == rows["T1"]["status"] == "suppressed"
    assert rows["T3"]["respondents"] == "" and rows["C"]["respondents"] == "22"


def test_configuration_raises_thresholds_but_cannot_lower_them(
    app, client, session, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 8, "t2": 11, "t3": 6})
    login_as(staffed.hr)
    app.config["MIN_GROUP_SCORES"] = 9
    assert _json(client, staffed.t1, cycle)["result"]["status"] == "suppressed"
    app.config["MIN_GROUP_SCORES"] = 2
    app.config["MIN_GROUP_COMMENTS"] = 3
    assert _json(client, staffed.t1, cycle)["result"]["status"] == "shown"
    assert _json(client, staffed.t1, cycle)["result"]["comments"] is None


def test_open_cycles_show_counts_only(client, session, staffed, start_cycle, login_as):
    from datetime import timedelta

    from trainer.util import utcnow

    cycle = start_cycle(staffed, now=utcnow() - timedelta(days=10))  # past half its window
    for person in staffed.people["t2"][:7]:
        submit(session, cycle, person)
    for person in staffed.people["t1"][:5]:
        submit(session, cycle, person)
    login_as(staffed.hr)
    assert client.get(f"/pulse/results/{staffed.t2.id}.json").get_json()["result"] is None
    assert client.get(f"/pulse/results/{staffed.t2.id}.json?cycle={cycle.id}").status_code == 404
    page = client.get(f"/pulse/cycles/{cycle.id}/progress").get_data(as_text=True)
    assert "7 of 12" in page and "5 of 12" in page and "fewer than 5" in page  # T3: none
    assert page.count("Alert: below 50%") == 5  # C (12 of 37), T1 (5 of 12), T3, S2, R2
    assert "Engagement" not in page
    login_as(staffed.manager)
    page = client.get(f"/pulse/cycles/{cycle.id}/progress").get_data(as_text=True)
    assert shown(staffed.t2.name, page) and not shown(staffed.t3.name, page)


def test_trend_and_ledger_across_cycles(client, session, staffed, run_cycle, login_as):
    first = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    login_as(staffed.manager)
    url = f"/pulse/plans/{staffed.t1.id}"
    due = str(date.today() + timedelta(days=30))
    for text in ("Fix the rota", "Weekly huddle", "New headsets"):
        assert (
            client.post(
                url,
                data={
                    "text": text,
                    "answers": "theme:wellbeing",
                    "owner_id": staffed.manager.id,
                    "due_on": due,
                },
            ).status_code
            == 302
        )
    fourth = client.post(
        url,
        data={
            "text": "One too many",
            "answers": "theme:wellbeing",
            "owner_id": staffed.manager.id,
            "due_on": due,
        },
    )
    assert fourth.status_code == 400 and "at most 3" in fourth.get_data(as_text=True)
    assert client.get(f"/pulse/plans/{staffed.t3.id}").status_code == 403

    commitment, other, _ = commitments_for({staffed.t1.id}, session=session)
    for person in staffed.people["t1"][:6]:
        login_as(person)
        response = client.post(
            f"/pulse/commitments/{commitment.id}/mark",
            data={"answer": "yes" if person.id % 3 else "partly"},
        )
        assert response.status_code == 302
        again = client.post(f"/pulse/commitments/{commitment.id}/mark", data={"answer": "no"})
        assert again.status_code == 302
    outsider = staffed.people["t3"][0]
    login_as(outsider)
    assert (
        client.post(f"/pulse/commitments/{commitment.id}/mark", data={"answer": "no"}).status_code
        == 404
    )

    # Six marks wait in the pool: fewer than 10, so even the next close leaves them there.
    second = run_cycle(
        staffed, {"t1": 9, "t2": 11, "t3": 6}, now=first.opens_at + timedelta(days=92)
    )
    assert released_tallies([commitment.id], session=session)[commitment.id] is None
    for person in staffed.people["t1"][6:10]:  # the unit's 10th mark
        login_as(person)
        client.post(f"/pulse/commitments/{other.id}/mark", data={"answer": "no"})
    assert _count(session, MarkPool) == 10  # sealed: only the scheduler's flush opens them
    flush_waiting_pools(session=session, now=second.closes_at)
    assert _count(session, MarkPool) == 0
    tallies = released_tallies([commitment.id, other.id], session=session)
    assert sum(tallies[commitment.id].values()) == 6 and tallies[commitment.id]["no"] == 0
    assert tallies[other.id] is None  # 4 marks: fewer than 5

    login_as(staffed.employee)
    doc = _json(client, staffed.t1, second)
    assert [p["period"] for p in doc["trend"]] == [first.period, second.period]
    assert all(p["status"] == "shown" for p in doc["trend"])
    assert {entry["text"] for entry in doc["ledger"]} == {
        "Fix the rota",
        "Weekly huddle",
        "New headsets",
    }
    assert "Fix the rota" in client.get("/pulse/ledger").get_data(as_text=True)
    login_as(staffed.hr)
    page = client.get("/pulse/follow-through").get_data(as_text=True)
    assert staffed.t1.name in page and "Not enough marks" not in page


def shown(text: str, page: str) -> bool:
    """Whether `text` is a word of the page's text (not inside a tag: a token may hold "T3")."""
    return re.search(rf"\b{re.escape(text)}\b", re.sub(r"<[^>]*>", " ", page)) is not None


def _count(session, model) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _three_quarters(staffed, run_cycle):
    """Three cycles a quarter apart; T3 has too few respondents in the second."""
    from datetime import timedelta

    first = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    second = run_cycle(
        staffed, {"t1": 10, "t2": 11, "t3": 3}, now=first.opens_at + timedelta(days=92)
    )
    third = run_cycle(
        staffed, {"t1": 10, "t2": 11, "t3": 7}, now=first.opens_at + timedelta(days=184)
    )
    return first, second, third


def test_the_json_trend_carries_released_points_only(client, session, staffed, run_cycle, login_as):
    first, second, third = _three_quarters(staffed, run_cycle)
    login_as(staffed.hr)
    trend = _json(client, staffed.t3, third)["trend"]
    assert [p["period"] for p in trend] == [first.period, second.period, third.period]
    assert [p["status"] for p in trend] == ["shown", "suppressed", "shown"]
    # A cycle below the threshold carries no number at all, so a chart cannot draw a zero.
    assert trend[1] == {"period": second.period, "status": "suppressed"}
    assert [trend[0]["respondents"], trend[2]["respondents"]] == [6, 7]

    expected = results.trend(
        session=session, unit_id=staffed.t3.id, programme_id=third.programme_id
    )
    for entry, point in zip(trend, expected, strict=True):
        if entry["status"] == "shown":
            scores = point.result.scores
            assert 1 <= entry["engagement"] <= 5
            assert entry["engagement"] == round(scores.engagement, 2)
            assert entry["enps"] == round(scores.enps, 1)
            assert entry["enps_moe"] == round(scores.enps_moe, 1)
    page = client.get(f"/pulse/results/{staffed.t3.id}?cycle={third.id}").get_data(as_text=True)
    assert f"{trend[2]['engagement']:.2f}" in page and "Not enough responses" in page

    # An earlier cycle's document ends with it, as the page's trend table does.
    earlier = _json(client, staffed.t3, second)["trend"]
    assert [p["period"] for p in earlier] == [first.period, second.period]


def test_the_trend_json_keeps_to_the_viewer_scope(client, session, staffed, run_cycle, login_as):
    *_, third = _three_quarters(staffed, run_cycle)
    login_as(staffed.manager)
    assert client.get(f"/pulse/results/{staffed.t3.id}.json?cycle={third.id}").status_code == 403
    assert client.get(f"/pulse/results/{staffed.s2.id}.json").status_code == 403
    assert len(_json(client, staffed.t2, third)["trend"]) == 3
    login_as(staffed.employee)
    assert client.get(f"/pulse/results/{staffed.t2.id}.json?cycle={third.id}").status_code == 403


def test_the_results_page_has_a_trend_chart_with_a_table_alternative(
    client, session, staffed, run_cycle, login_as
):
    first, second, third = _three_quarters(staffed, run_cycle)
    login_as(staffed.hr)
    page = client.get(f"/pulse/results/{staffed.t3.id}?cycle={third.id}").get_data(as_text=True)
    chart_group = r'<div class="chart-group trend-charts" data-src="([^"]+)" data-labels='
    group = re.search(chart_group, page)
    assert group is not None
    assert group.group(1) == f"/pulse/results/{staffed.t3.id}.json?cycle={third.id}"
    canvases = re.findall(r'<canvas data-series="(\w+)" role="img" aria-label="([^"]+)">', page)
    assert [series for series, _ in canvases] == ["engagement", "enps"]
    for _, label in canvases:
        assert "over 3 cycles: " in label and f"in {first.period} to " in label
        assert "1 of them has no results to show" in label and "table below" in label
    assert f"<caption>{staffed.t3.name} in recent cycles</caption>" in page
    assert "Gaps in the lines are cycles without results to show" in page
    # Vendored Chart.js and our scripts, nothing inline (the CSP forbids it).
    scripts = re.findall(r"<script[^>]*>", re.sub(r"\?v=\w+", "", page))  # minus the version
    assert scripts == [
        '<script src="/static/js/nav.js">',
        '<script src="/static/vendor/chartjs/chart.umd.min.js">',
        '<script src="/static/js/charts.js">',
        '<script src="/static/js/pulse.js">',
    ]
    assert " style=" not in page


def test_a_unit_without_released_points_gets_the_table_only(
    client, session, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 3})
    login_as(staffed.hr)
    page = client.get(f"/pulse/results/{staffed.t3.id}?cycle={cycle.id}").get_data(as_text=True)
    assert "<canvas" not in page and "trend-charts" not in page
    assert "Not enough responses" in page
    assert f"<caption>{staffed.t3.name} in recent cycles</caption>" in page


def test_results_csv_guards_a_unit_name_that_looks_like_a_formula(
    client, session, staffed, run_cycle, login_as
):
    staffed.t1.name = EVIL
    session.add(staffed.t1)
    session.commit()
    cycle = run_cycle(staffed, {"t1": 8, "t2": 11, "t3": 6})
    login_as(staffed.hr)

    rows = guarded_rows(client.get(f"/pulse/cycles/{cycle.id}/results.csv"))

    header, *data = rows
    t1 = next(dict(zip(header, row, strict=True)) for row in data if row[0] == "T1")
    assert t1["unit_name"] == "'" + EVIL
    assert t1["status"] == "shown" and float(t1["engagement"]) > 0
