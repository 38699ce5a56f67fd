"""The pure analysis: panel, exclusions, funnel, flags from aggregates, perception, documents."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from trainer.insights import analysis, documents, peers, stats
from trainer.insights.sources import Metric, Sources, Unit

PERIODS = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]
CSI = Metric("csi", "Dealer CSI", True, 0, 100)
CSAT = Metric("csat", "CSAT (% satisfied)", True, 0, 100)
COMPLAINTS = Metric("complaints", "Complaints per 1,000", False, 0, None)


def org(n_teams: int) -> list[Unit]:
    units = [
        Unit(1, "CO", "Company", "company", None, "/"),
        Unit(2, "SITE", "Site", "site", 1, "/1/"),
    ]
    units += [Unit(10 + i, f"T{i:02d}", f"Team {i}", "team", 2, "/1/2/") for i in range(n_teams)]
    return units


def planted(n_teams=16, effect=0.8, seed=1, gamed=()):
    """Teams whose CSI follows their morale one quarter later; `gamed` teams sit at 99 with a
    top-box share near 1 in the last three quarters."""
    rng = np.random.default_rng(seed)
    units = org(n_teams)
    morale, csi = [], []
    for unit in units[2:]:
        level = rng.normal(3.7, 0.3)
        values = level + np.cumsum(rng.normal(0, 0.15, len(PERIODS)))
        for t, period in enumerate(PERIODS):
            morale.append(
                {
                    "unit_id": unit.id,
                    "period": period,
                    "respondents": 12,
                    "invited": 15,
                    "engagement": values[t],
                    "enps": 10.0,
                    "enps_moe": 20.0,
                    "customer_focus": 3.8,
                }
            )
            before = (values[t - 1] - values.mean()) / 0.2 if t else 0.0
            value = 82 + 2 * (effect * before + rng.normal(0, np.sqrt(1 - effect**2)))
            topbox = 0.3 + rng.normal(0, 0.02)
            if unit.code in gamed and t >= len(PERIODS) - 3:
                value, topbox = 99.0, 0.96
            csi.append(
                {
                    "unit_id": unit.id,
                    "period": period,
                    "value": value,
                    "n": 100,
                    "topbox": topbox,
                    "responses": 100,
                    "invited": 400,
                }
            )
    return Sources(
        units=units, metrics=[CSI, CSAT, COMPLAINTS], morale=morale, outcomes={"csi": csi}
    )


def test_the_planted_lag_is_found_in_both_the_headline_and_the_grid():
    result = analysis.analyse(analysis.prepare(planted()), metric="csi", unit_ids=None)
    headline = result["headline"]
    assert headline["direction"] == "morale_leads" and headline["lag"] == 1
    assert headline["ci_low"] > 0
    assert "Correlation, not causation." in headline["sentence"]
    lag1 = next(r for r in result["lags"] if r["lag"] == 1 and r["direction"] == "morale_leads")
    assert lag1["within_r"] > 0.4 and lag1["level"] == "within"
    assert [r["method"] for r in result["between"]] == ["pearson", "spearman"]


def test_no_link_is_claimed_when_there_is_none():
    result = analysis.analyse(
        analysis.prepare(planted(effect=0.0, seed=3)), metric="csi", unit_ids=None
    )
    assert result["headline"]["direction"] == "none"
    assert result["headline"]["estimate"] is None


def test_flagged_quarters_are_left_out_of_the_statistics_but_not_the_trends():
    gamed = ("T00", "T01")
    result = analysis.analyse(analysis.prepare(planted(gamed=gamed)), metric="csi", unit_ids=None)
    excluded = {(c["unit_code"], c["period"]) for c in result["excluded"]}
    assert {(u, p) for u in gamed for p in PERIODS[-3:]} <= excluded
    used = {(p["unit_code"], p["period"]) for p in result["scatter"]["within"]}
    assert not used & excluded
    trend = next(t for t in result["trends"] if t["unit_code"] == "T00")
    assert trend["value"][-1] == 99.0
    assert result["headline"]["direction"] == "morale_leads"


def test_q_values_are_benjamini_hochberg_over_every_metric_and_lag():
    sources = planted()
    sources.outcomes["csat"] = [
        {**row, "value": 70 + (row["value"] - 82) / 2} for row in sources.outcomes["csi"]
    ]
    result = analysis.analyse(analysis.prepare(sources), metric="csi", unit_ids=None)
    assert result["family"] == ["csat", "csi"]
    panel = analysis.prepare(sources).checked
    grid = analysis.lag_family(panel, sources.metrics)
    rows = grid["csat"] + grid["csi"]
    expected = multipletests([r["p_value"] for r in rows], method="fdr_bh")[1]
    assert [r["q_value"] for r in rows] == pytest.approx(list(expected), abs=1e-5)


def test_empty_sources_give_insufficient_data_everywhere():
    sources = Sources(units=org(3), metrics=[CSI])
    result = analysis.analyse(analysis.prepare(sources), metric="csi", unit_ids=None)
    assert result["headline"]["status"] == "insufficient_data"
    assert len(result["lags"]) == 5
    assert all(r["status"] == "insufficient_data" for r in result["lags"])
    assert result["funnel"]["status"] == "insufficient_data"
    assert result["flags"] == [] and result["suppressed"] == []
    with pytest.raises(KeyError):
        analysis.analyse(analysis.prepare(sources), metric="nope", unit_ids=None)


def test_scope_limits_units_but_peers_stay_for_the_funnel():
    sources = planted(gamed=("T00",))
    prepared = analysis.prepare(sources)
    result = analysis.analyse(prepared, metric="csi", unit_ids={11, 12})
    assert [u["code"] for u in result["units"]] == ["T01", "T02"]
    assert {u["unit_code"] for u in result["funnel"]["units"]} == {"T01", "T02"}
    assert result["funnel"]["n_peers"] == 16
    assert result["flags"] == []  # T00 is flagged, but it is not in this scope
    everyone = analysis.analyse(prepared, metric="csi", unit_ids=None)
    assert {f["unit_code"] for f in everyone["flags"]} == {"T00"}


def test_funnel_puts_an_extreme_unit_above_the_alarm_limit_without_moving_the_centre():
    sources = planted(gamed=("T00",))
    result = analysis.analyse(analysis.prepare(sources), metric="csi", unit_ids=None)
    funnel = result["funnel"]
    assert funnel["measure"]["kind"] == "topbox" and funnel["period"] == PERIODS[-1]
    assert funnel["p0"] == pytest.approx(0.3, abs=0.03)
    by_unit = {u["unit_code"]: u for u in funnel["units"]}
    assert by_unit["T00"]["position"] == "alarm" and by_unit["T00"]["side"] == "above"
    assert sum(u["position"] != "within" for u in funnel["units"]) <= 2
    assert [line["n"] for line in funnel["lines"]] == sorted(line["n"] for line in funnel["lines"])


def test_a_funnel_needs_a_share_with_a_known_spread():
    frame = pd.DataFrame({"unit_code": ["A"], "period": ["2024Q1"], "x.value": [3.0]})
    assert peers.funnel_measure(Metric("x", "X", True, 1, 5), frame) is None
    assert peers.funnel_measure(CSAT, frame)["kind"] == "share"


def test_spread_collapse_is_read_from_the_means_alone():
    rows = [
        {"unit_code": u, "period": p, "score": 80.0 + i % 3}
        for u in ("A", "B", "C", "D")
        for i, p in enumerate(PERIODS[:4])
    ]
    rows[-1]["score"] = 99.3  # D's last quarter: answers can hardly differ any more
    flags = stats.spread_collapse_flags(pd.DataFrame(rows), 0, 100)
    assert [(f["unit_code"], f["period"], f["signal"]) for f in flags] == [
        ("D", PERIODS[3], "variance_collapse")
    ]
    assert "at most 8.3" in flags[0]["reason"]
    assert "not an accusation" in flags[0]["reason"]


def test_only_survey_scores_get_gaming_flags():
    assert peers.gameable(CSI)
    assert not peers.gameable(COMPLAINTS)
    assert not peers.gameable(Metric("retention", "Retention", True, 0, 100))


def test_panel_says_why_morale_is_missing():
    sources = planted(n_teams=3)
    sources.morale = [
        r for r in sources.morale if not (r["unit_id"] == 11 and r["period"] == PERIODS[0])
    ]
    sources.suppressed = [
        {"unit_id": 11, "unit_code": "T01", "period": PERIODS[0], "reason": "suppressed"},
        {"unit_id": 1, "unit_code": "CO", "period": PERIODS[0], "reason": "suppressed"},
    ]
    result = analysis.analyse(analysis.prepare(sources), metric="csi", unit_ids=None)
    statuses = {(r["unit_code"], r["period"]): r["morale_status"] for r in result["panel_rows"]}
    assert statuses[("T01", PERIODS[0])] == "suppressed"
    assert statuses[("T00", PERIODS[0])] == "shown"
    assert result["suppressed"] == ["T01"]  # the company is not at the reporting level
    head, rows = documents.table(result, "panel")
    cell = next(r for r in rows if r[0] == "T01" and r[2] == PERIODS[0])
    assert cell[head.index("engagement")] == "" and cell[head.index("respondents")] == ""


def test_perception_puts_three_views_on_one_scale():
    sources = planted(n_teams=2)
    sources.outcomes["csat"] = [{"unit_id": 10, "period": PERIODS[-1], "value": 75.0, "n": 100}]
    sources.ratings = [{"unit_id": 10, "period": PERIODS[-1], "rating": 4.5, "raters": 2}]
    result = analysis.analyse(analysis.prepare(sources), metric="csi", unit_ids=None)
    gap = result["perception"]
    assert gap["period"] == PERIODS[-1] and gap["customer_source"] == "csat"
    t0, t1 = gap["rows"]
    assert (t0["manager"], t0["manager_raters"], t0["customers"]) == (4.5, 2, 4.0)
    assert t0["gap_manager_team"] == pytest.approx(4.5 - 3.8)
    assert t1["manager"] is None and t1["customers"] is None and t1["team"] == 3.8


def test_the_report_document_hides_flags_unless_asked():
    result = analysis.analyse(
        analysis.prepare(planted(gamed=("T00",))), metric="csi", unit_ids=None
    )
    scope = {"code": "CO", "name": "Company", "kind": "company"}
    assert documents.report_document(result, scope=scope, with_flags=False)["flags"] is None
    doc = documents.report_document(result, scope=scope, with_flags=True)
    assert doc["flags"] and all(f["kind"] == "gaming" for f in doc["flags"])
    assert doc["metric"] == "csi" and doc["suppressed"] == []


def test_each_unit_shows_its_shrunken_slope_beside_its_own_correlation():
    result = analysis.analyse(analysis.prepare(planted()), metric="csi", unit_ids=None)
    rows = result["per_unit"]
    codes = [row["unit_code"] for row in rows]
    assert codes == sorted(codes) and len(codes) == 16  # listed by code, never ranked
    for row in rows:
        assert {"r", "ci_low", "ci_high", "n", "p_value", "q_value", "status", "reason"} <= set(row)
        assert row["shrunk_status"] == "ok" and row["shrunk_n_units"] == 16
        assert row["shrunk_ci_low"] is None  # no spread between units: no interval per unit
        assert row["common_ci_low"] < row["common_slope"] < row["common_ci_high"]
    # Every team follows the same planted slope, so the model cannot tell them apart.
    assert {row["shrunk_slope"] for row in rows} == {rows[0]["common_slope"]}
    assert "could not be told apart" in rows[0]["shrunk_reason"]
    head, table = documents.table(result, "per_unit")
    assert head[:2] == ["unit_code", "shrunk_slope"] and "r" in head
    assert [line[0] for line in table] == codes
    assert all(line[head.index("shrunk_slope")] for line in table)
    scope = {"code": "CO", "name": "Company", "kind": "company"}
    assert documents.report_document(result, scope=scope, with_flags=False)["per_unit"] == rows


def test_too_few_units_for_shrinkage_say_so_on_every_row():
    result = analysis.analyse(analysis.prepare(planted(n_teams=3)), metric="csi", unit_ids=None)
    rows = result["per_unit"]
    assert [row["unit_code"] for row in rows] == ["T00", "T01", "T02"]
    for row in rows:
        assert row["shrunk_slope"] is None and row["shrunk_status"] == "insufficient_data"
        assert "10 units" in row["shrunk_reason"]
        assert row["status"] == "ok"  # each team's own correlation is still there, 8 quarters


def _overdispersed_sources(seed: int) -> Sources:
    """30 honest teams whose true top-box shares differ (beta around 0.3, SD 0.05, several
    times the sampling noise) and one team T30 answering near 95% top-box, over 8 quarters."""
    rng = np.random.default_rng(seed)
    units = org(31)
    true = rng.beta(25.0, 58.0, 30)
    csi = []
    for unit in units[2:]:
        for period in PERIODS:
            n = int(rng.integers(100, 401))
            share = 0.95 if unit.code == "T30" else true[unit.id - 10]
            topbox = rng.binomial(n, share) / n
            csi.append(
                {
                    "unit_id": unit.id,
                    "period": period,
                    "value": 80 + 20 * topbox,
                    "n": n,
                    "topbox": topbox,
                    "responses": n,
                    "invited": 4 * n,
                }
            )
    return Sources(units=units, metrics=[CSI], outcomes={"csi": csi})


def test_the_top_box_flag_and_the_funnel_never_disagree_about_a_cell():
    prepared = analysis.prepare(_overdispersed_sources(seed=4))
    panel = prepared.panel
    flagged = {
        (f["unit_code"], f["period"]) for f in prepared.flags["csi"] if f["signal"] == "top_box"
    }
    codes = set(panel["unit_code"])
    widened = 0
    for period in PERIODS:
        upto = panel[panel["period"] <= period]
        funnel = peers.funnel_block(upto, CSI, codes)
        assert funnel["period"] == period and funnel["n_peers"] == 31
        widened += funnel["phi"] is not None
        above = {
            (u["unit_code"], period)
            for u in funnel["units"]
            if u["position"] == "alarm" and u["side"] == "above"
        }
        assert {cell for cell in flagged if cell[1] == period} == above
    assert widened == len(PERIODS)  # the honest spread widened the limits every quarter
    assert {("T30", p) for p in PERIODS} <= flagged
