"""The questions x units heatmap, the results page's bars, and the pulse fixes around them."""

import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.pulse.conftest import submit
from trainer.pulse import heatmap
from trainer.pulse.cycles import close_cycle
from trainer.pulse.models import SurveyResponse
from trainer.pulse.programmes import cycle_items
from trainer.pulse.progress import halfway, live_progress
from trainer.pulse.results import ItemScore

MINUS = "\u2212"


@pytest.fixture
def run_cycle(session, start_cycle):
    """Open a cycle, let `counts[team]` people of each team answer, close it."""

    def run(org, counts, now=None):
        cycle = start_cycle(org, now=now)
        for team, n in counts.items():
            for i, person in enumerate(org.people[team][:n]):
                submit(session, cycle, person, likert=3 + i % 3, enps=i % 11)
        close_cycle(cycle, session=session, now=cycle.closes_at)
        return cycle

    return run


def _rows(page: str) -> dict[str, str]:
    """Each heatmap row's HTML, keyed by its unit id, in page order."""
    return {
        m.group(1): html.unescape(m.group(0))
        for m in re.finditer(r'<tr data-unit="(\d+)".*?</tr>', page, flags=re.S)
    }


def _table(page: str) -> str:
    return re.search(r'<table class="heatmap">.*?</table>', page, flags=re.S).group(0)


def _engagement(client, unit, cycle) -> float:
    doc = client.get(f"/pulse/results/{unit.id}.json?cycle={cycle.id}").get_json()
    return doc["result"]["engagement"]


def _signed(value: float) -> str:
    text = f"{value:+.2f}"
    return "\u00b10" if float(text) == 0 else text.replace("-", MINUS)


def test_hr_sees_every_unit_with_change_and_company_comparison(
    client, session, staffed, run_cycle, login_as
):
    first = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    second = run_cycle(
        staffed, {"t1": 8, "t2": 12, "t3": 7}, now=first.opens_at + timedelta(days=92)
    )
    login_as(staffed.hr)
    page = client.get(f"/pulse/cycles/{second.id}/heatmap").get_data(as_text=True)
    rows = _rows(page)
    org = staffed
    # The real hierarchy: each region is followed by its own sites and teams.
    assert list(rows) == [
        str(u.id) for u in (org.company, org.r1, org.s1, org.t1, org.t2, org.r2, org.s2, org.t3)
    ]
    assert 'role="region"' in page and 'tabindex="0"' in page
    for unit_id, row in rows.items():
        n = re.search(r'data-respondents="(\d*)"', row).group(1)
        assert n and int(n) >= 5, unit_id
    company_now = _engagement(client, org.company, second)
    t1_now, t1_before = _engagement(client, org.t1, second), _engagement(client, org.t1, first)
    t1_row = rows[str(org.t1.id)]
    assert f"{t1_now:.2f}" in t1_row
    change = _signed(t1_now - t1_before)
    assert change in t1_row and f"since {first.period}" in t1_row
    arrow = "=" if change == "\u00b10" else ("\u25b2" if t1_now > t1_before else "\u25bc")
    assert arrow in t1_row
    assert f"{_signed(t1_now - company_now)} vs co." in t1_row
    assert "vs co." not in rows[str(org.company.id)]  # the company is the comparison itself
    assert "eNPS" in page and "Empowerment" in page
    # Every question, numbered, is spelled out in full beside the grid.
    assert "When a customer has a problem" in page


def test_hidden_cells_say_why(client, session, staffed, run_cycle, login_as):
    cycle = run_cycle(staffed, {"t1": 8, "t2": 11, "t3": 3})
    login_as(staffed.hr)
    rows = _rows(client.get(f"/pulse/cycles/{cycle.id}/heatmap").get_data(as_text=True))
    t3, t1 = rows[str(staffed.t3.id)], rows[str(staffed.t1.id)]
    assert "Hidden: too few answers" in t3 and 'data-respondents=""' in t3
    # T1 has 8 answers, but showing it would let company - S1 reveal T3's 3.
    assert "Hidden so that a smaller group can't be worked out" in t1
    assert 'data-respondents=""' in t1 and "vs co." not in t1
    assert not re.search(r"\d\.\d\d", t3 + t1)  # no number at all in a hidden row


def test_manager_sees_their_scope_and_the_company(client, session, staffed, run_cycle, login_as):
    cycle = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    login_as(staffed.manager)
    response = client.get(f"/pulse/cycles/{cycle.id}/heatmap")
    assert response.status_code == 200
    rows = _rows(response.get_data(as_text=True))
    assert set(rows) == {str(u.id) for u in (staffed.company, staffed.s1, staffed.t1, staffed.t2)}
    login_as(staffed.employee)
    assert client.get(f"/pulse/cycles/{cycle.id}/heatmap").status_code == 403


def test_an_open_cycle_has_no_heatmap(client, session, staffed, start_cycle, login_as):
    cycle = start_cycle(staffed)
    login_as(staffed.hr)
    response = client.get(f"/pulse/cycles/{cycle.id}/heatmap")
    assert response.status_code == 404 and "once this survey has closed" in response.get_data(
        as_text=True
    )
    assert client.get("/pulse/cycles/999999/heatmap").status_code == 404


def test_the_heatmap_reads_rollups_not_answers(client, session, staffed, run_cycle, login_as):
    cycle = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    login_as(staffed.hr)
    before = _table(client.get(f"/pulse/cycles/{cycle.id}/heatmap").get_data(as_text=True))
    session.execute(sa.delete(SurveyResponse).where(SurveyResponse.survey_id == cycle.id))
    session.commit()
    after = _table(client.get(f"/pulse/cycles/{cycle.id}/heatmap").get_data(as_text=True))
    assert after == before and "4." in after


def test_results_link_to_the_heatmap_and_list_units_as_a_tree(
    client, session, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    heatmap_url = f"/pulse/cycles/{cycle.id}/heatmap"
    login_as(staffed.hr)
    index = client.get("/pulse/results").get_data(as_text=True)
    assert heatmap_url in index
    names = re.findall(r'<a href="/pulse/results/\d+\?cycle=\d+">([^<]+)</a>', index)
    assert names == ["C", "R1", "S1", "T1", "T2", "R2", "S2", "T3"]
    assert 'class="depth-3"' in index  # teams are indented under their site
    assert heatmap_url in client.get(f"/pulse/results/{staffed.t1.id}").get_data(as_text=True)
    login_as(staffed.employee)
    assert heatmap_url not in client.get("/pulse/results").get_data(as_text=True)


def test_results_show_diverging_bars_and_alpha_for_hr_only(
    client, session, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    likert = [i for i in cycle_items(cycle, session=session) if i.kind == "likert"]
    login_as(staffed.employee)
    page = client.get(f"/pulse/results/{staffed.t1.id}").get_data(as_text=True)
    assert page.count('<svg class="dbar"') == len(likert) + 1  # and one eNPS bar
    # Likert answers 3, 4, 5 in turn: 10 people give 4 x 3, 3 x 4 and 3 x 5.
    assert "60% agree" in page and "40% neither" in page and "0% disagree" in page
    assert "Show the answers as a table" in page and "Promoters (9–10)" in page
    assert "Cronbach" not in page and "measure one thing" not in page
    doc = client.get(f"/pulse/results/{staffed.t1.id}.json").get_json()
    assert "cronbach_alpha" not in doc["result"]
    login_as(staffed.hr)
    page = client.get(f"/pulse/results/{staffed.t1.id}").get_data(as_text=True)
    assert "How consistently the questions measure one thing" in page
    doc = client.get(f"/pulse/results/{staffed.t1.id}.json").get_json()
    assert "cronbach_alpha" in doc["result"]


def test_low_response_alerts_wait_for_half_the_window(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)  # just opened: everyone is below half
    for person in staffed.people["t1"][:5]:
        submit(session, cycle, person)
    login_as(staffed.hr)
    page = client.get(f"/pulse/cycles/{cycle.id}/progress").get_data(as_text=True)
    assert "5 of 12" in page and "Alert: below 50%" not in page
    assert "start halfway through the survey" in page
    rows = live_progress(cycle, session=session, now=halfway(cycle))
    assert {r.unit.code for r in rows if r.below_half} == {
        "C",
        "R1",
        "S1",
        "T1",
        "T2",
        "R2",
        "S2",
        "T3",
    }
    early = halfway(cycle) - timedelta(seconds=1)
    assert not any(r.below_half for r in live_progress(cycle, session=session, now=early))
    assert [r.unit.code for r in rows] == ["C", "R1", "S1", "T1", "T2", "R2", "S2", "T3"]


def test_before_the_survey_one_short_screen_then_thanks_links_to_results(
    client, session, staffed, start_cycle, run_cycle, login_as
):
    done = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    cycle = start_cycle(staffed, now=done.opens_at + timedelta(days=92))
    login_as(staffed.employee)
    first = client.get(f"/pulse/cycles/{cycle.id}/answer").get_data(as_text=True)
    assert "Before you start: who can see what" in first
    assert f"/pulse/privacy?cycle={cycle.id}" in first
    assert "I understand: start the survey" in first and "Admins of trainer" not in first
    full = client.get(f"/pulse/privacy?cycle={cycle.id}").get_data(as_text=True)
    assert "Admins of trainer" in full and f"/pulse/cycles/{cycle.id}/answer?ready=1" in full
    assert "?ready=1" not in client.get("/pulse/privacy").get_data(as_text=True)
    assert client.get("/pulse/privacy?cycle=abc").status_code == 400
    submit(session, cycle, staffed.employee)
    thanks = client.get(f"/pulse/cycles/{cycle.id}/thanks").get_data(as_text=True)
    assert 'href="/pulse/results"' in thanks and done.period in thanks


def test_diverging_bars_share_one_centre_line():
    def score(counts):
        item = SimpleNamespace(kind="likert")
        return ItemScore(item, sum(counts), 3.0, list(zip(range(1, 6), counts, strict=True)))

    chart = heatmap.diverging_bars([score([0, 1, 2, 1, 0]), score([0, 0, 0, 2, 2])])
    assert chart.centre == pytest.approx(100 / 3)
    mixed, agreeing = chart.bars
    assert mixed.segments[0].x == pytest.approx(0)
    assert agreeing.segments[3].x == pytest.approx(100 / 3)  # starts at the centre line
    end = agreeing.segments[4].x + agreeing.segments[4].width
    assert end == pytest.approx(100)
    assert (mixed.agree, mixed.neutral, mixed.disagree) == (0.25, 0.5, 0.25)
    # The middle of "neither" sits on the centre line.
    neither = mixed.segments[2]
    assert neither.x + neither.width / 2 == pytest.approx(chart.centre)
