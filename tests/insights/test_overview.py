"""The insights overview: figures now with their change, the link in one sentence, the power
to find it, and the heatmap of the units below, as managers and HR see them."""

import pytest

from trainer.insights import overview, store
from trainer.insights.overview import correlation_power
from trainer.pulse.morale import morale_by_unit_period


def _released(session, unit_id):
    return {
        r["period"]: r for r in morale_by_unit_period(session=session) if r["unit_id"] == unit_id
    }


def test_manager_sees_their_sites_morale_and_customers_first(client, login_as, history, session):
    login_as(history.manager)
    page = client.get(f"/insights/units/{history.s1.id}").get_data(as_text=True)
    released = _released(session, history.s1.id)
    latest = released[max(released)]
    view = store.overview_for(session=session, metric="csi", unit=history.s1)
    # Morale is the site's own released figure, never a sum of its teams.
    assert view["morale"]["value"] == pytest.approx(latest["engagement"])
    assert view["morale"]["n"] == latest["respondents"]
    earlier = [p for p in sorted(released) if p < max(released)]
    if earlier:
        assert view["morale"]["change"] == pytest.approx(
            latest["engagement"] - released[earlier[-1]]["engagement"]
        )
    # Dealer CSI for the site: its teams' n-weighted mean (both 80 + 3 in the last quarter).
    assert view["measure"]["value"] == pytest.approx(83.0)
    assert view["measure"]["change"] == pytest.approx(1.0)
    assert view["measure"]["n"] == 200
    first_screen = page[: page.index('id="overview-chart"')]
    assert f"{latest['engagement']:.2f}" in first_screen
    assert "83.0" in first_screen and "▲ Up 1.0 since" in first_screen
    assert f"{latest['respondents']} people answered in {max(released)}" in first_screen
    assert "tended to" in first_screen or "not enough data" in first_screen.lower()
    assert "jackknife" not in first_screen and "Benjamini" not in first_screen


def test_company_customer_figure_weights_teams_by_customers(client, login_as, history, session):
    view = store.overview_for(session=session, metric="csi", unit=history.company)
    # T1, T2 and T4 at 83 and the gamed T3 at 99, 100 customers each.
    assert view["measure"]["value"] == pytest.approx((3 * 83 + 99) / 4)


def test_hr_heatmap_lists_sites_then_every_team_with_hidden_cells_marked(
    client, login_as, history, session
):
    login_as(history.hr)
    page = client.get(f"/insights/units/{history.company.id}").get_data(as_text=True)
    assert 'id="heatmap-h"' in page and "Sites in" in page
    sites = store.overview_for(session=session, metric="csi", unit=history.company)["heatmap"]
    assert [r["unit"].code for r in sites["rows"]] == ["S1", "S2"]
    teams = store.overview_for(session=session, metric="csi", unit=history.company, rows="team")[
        "heatmap"
    ]
    cells = {r["unit"].code: r["cells"] for r in teams["rows"]}
    assert sorted(cells) == ["T1", "T2", "T3", "T4"]
    assert cells["T4"]["engagement"]["status"] == "merged"  # 6 people: counted with S2
    assert cells["T4"]["engagement"]["value"] is None and cells["T4"]["engagement"]["n"] is None
    assert cells["T3"]["csi"]["value"] == 99.0 and cells["T3"]["csi"]["band"] > 0
    assert cells["T1"]["csi"]["band"] <= 0
    page = client.get(f"/insights/units/{history.company.id}?rows=team").get_data(as_text=True)
    assert "Teams in" in page and "hidden¹" in page
    for code, row in cells.items():
        shown = row["engagement"]
        if shown["status"] == "shown":
            assert shown["n"] >= 5, code


def test_a_team_page_is_reached_from_the_heatmap_and_links_back(client, login_as, history):
    login_as(history.manager)
    page = client.get(f"/insights/units/{history.s1.id}").get_data(as_text=True)
    assert f'href="/insights/units/{history.t1.id}?metric=csi"' in page
    team = client.get(f"/insights/units/{history.t1.id}").get_data(as_text=True)
    assert "How T1 is doing" in team
    assert f'href="/insights/units/{history.s1.id}?metric=csi"' in team  # the breadcrumb
    assert f"/insights/units/{history.t1.id}/detail" in team  # "All the statistics"
    assert client.get("/insights/methods").status_code == 200


def test_rows_of_teams_only_make_sense_above_a_site(client, login_as, history):
    login_as(history.manager)
    page = client.get(f"/insights/units/{history.s1.id}?rows=team").get_data(as_text=True)
    assert "Show every team" not in page and "Teams in" in page


@pytest.mark.parametrize(
    ("headline", "expected"),
    [
        (
            {"status": "ok", "direction": "morale_leads", "estimate": 0.4, "lag": 1},
            "When morale rose here, CSAT tended to rise the next quarter.",
        ),
        (
            {"status": "ok", "direction": "customer_leads", "estimate": -0.4, "lag": 1},
            "When CSAT rose here, morale tended to fall the next quarter.",
        ),
        (
            {"status": "ok", "direction": "none", "estimate": None, "lag": 1},
            "No clear link between morale and CSAT here yet.",
        ),
        (
            {"status": "insufficient_data", "reason": "x"},
            "There is not enough data yet to tell whether morale and CSAT move together here.",
        ),
    ],
)
def test_the_link_in_one_plain_sentence(headline, expected):
    assert overview.link_sentence(headline, "CSAT", "here").startswith(expected)


def test_power_matches_the_textbook_and_warns_with_few_units():
    # r = 0.3 needs n = 84 for 80% power at alpha = .05 two-sided (Cohen 1988, table 3.4.1).
    assert correlation_power(0.3, 84) == pytest.approx(0.80, abs=0.02)
    assert correlation_power(0.3, 12) < 0.2
    few = overview.power_sentence({"dof": 10, "n_units": 4}, "teams", 4)
    assert "about 2 times in 10" in few["text"] and "easily be missed" in few["text"]
    many = overview.power_sentence({"dof": 300, "n_units": 40}, "teams", 8)
    assert "almost always" in many["text"] and "missed" not in many["text"]


def test_bands_follow_each_measures_good_direction():
    assert overview._band(10.0, 5.0, higher_is_better=True) == 2
    assert overview._band(10.0, 5.0, higher_is_better=False) == -2
    assert overview._band(1.0, 5.0, higher_is_better=True) == 0
    assert overview._band(None, 5.0, higher_is_better=True) == 0
