"""Reproduce the published fixtures of shared/reference/statistics.md §10, and check the
shrinkage of per-unit estimates (§5) on simulated panels."""

import math
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.regression.mixed_linear_model import MixedLM
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from trainer.insights import stats

DATA = Path(__file__).parent / "data"


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


# Anscombe 1973 -----------------------------------------------------------------------------------

ANSCOMBE_SPEARMAN = {"I": 0.818, "II": 0.691, "III": 0.991, "IV": 0.500}


@pytest.fixture(scope="module")
def anscombe():
    return {name: rows for name, rows in read("anscombe.csv").groupby("set")}


@pytest.mark.parametrize("name", ["I", "II", "III", "IV"])
def test_anscombe_pearson_matches_published_values(anscombe, name):
    rows = anscombe[name]
    result = stats.pearson_ci(rows["x"], rows["y"])
    assert result.status == "ok"
    assert result.n == 11
    # Anscombe truncated to three places: set IV's r is 0.8165.
    assert math.floor(result.r * 1000) / 1000 == 0.816
    assert round(result.p, 4) == 0.0022
    assert round(result.ci_low, 3) == (0.425 if name == "IV" else 0.424)
    assert round(result.ci_high, 3) == 0.951
    assert rows["x"].mean() == 9
    assert round(rows["y"].mean(), 2) == 7.50


@pytest.mark.parametrize("name", ["I", "II", "III", "IV"])
def test_anscombe_line_is_y_equals_3_plus_half_x(anscombe, name):
    line = stats.linear_fit(anscombe[name]["x"], anscombe[name]["y"])
    assert round(line["intercept"], 2) == 3.00
    assert round(line["slope"], 3) == 0.500


@pytest.mark.parametrize("name", ["I", "II", "III", "IV"])
def test_anscombe_spearman_differs_by_set(anscombe, name):
    rows = anscombe[name]
    result = stats.spearman_ci(rows["x"], rows["y"])
    assert result.method == "spearman"
    assert round(result.r, 3) == ANSCOMBE_SPEARMAN[name]
    assert result.ci_low < result.r < result.ci_high


# Bland & Altman 1995 -----------------------------------------------------------------------------


def test_rm_corr_reproduces_bland_altman_1995():
    data = read("bland_altman_1995.csv")
    assert len(data) == 47 and data["Subject"].nunique() == 8
    result = stats.rm_corr(data, "Subject", "pH", "PacO2")
    assert result.status == "ok"
    assert result.level == "within"
    assert round(result.r, 5) == -0.50677
    assert result.dof == 38
    assert round(result.p, 6) == 0.000847
    assert (round(result.ci_low, 2), round(result.ci_high, 2)) == (-0.71, -0.23)
    assert result.n == 47 and result.n_units == 8


def test_rm_corr_is_symmetric_in_x_and_y():
    data = read("bland_altman_1995.csv")
    forward = stats.rm_corr(data, "Subject", "pH", "PacO2")
    backward = stats.rm_corr(data, "Subject", "PacO2", "pH")
    assert forward.r == pytest.approx(backward.r)
    assert forward.p == pytest.approx(backward.p)


def test_pooling_all_observations_hides_the_within_subject_correlation():
    # Bland & Altman's point: pooled and between-subject r are near 0, within-subject r is -0.51.
    data = read("bland_altman_1995.csv")
    within = stats.rm_corr(data, "Subject", "pH", "PacO2")
    pooled = stats.pearson_ci(data["pH"], data["PacO2"])
    means = data.groupby("Subject")[["pH", "PacO2"]].mean()
    between = stats.pearson_ci(means["pH"], means["PacO2"])
    assert within.r < -0.5
    assert abs(pooled.r) < 0.1 and pooled.ci_low < 0 < pooled.ci_high
    assert between.r > 0


# Bonett–Wright interval (statpsych ci.spear) -----------------------------------------------------


def test_spearman_interval_matches_statpsych_example():
    low, high = stats.spearman_interval(0.8699639, 15, 0.95)
    assert low == pytest.approx(0.5840951, abs=1e-7)
    assert high == pytest.approx(0.9638297, abs=1e-7)


# Reliability -------------------------------------------------------------------------------------


def test_cronbach_alpha_pairwise_matches_psych():
    alpha, low, high = stats.cronbach_alpha(read("cronbach_wide_missing.csv"))
    assert round(alpha, 6) == 0.732661
    assert (round(low, 3), round(high, 3)) == (0.435, 0.909)


def test_cronbach_alpha_listwise_uses_row_count_before_deletion():
    alpha, low, high = stats.cronbach_alpha(read("cronbach_wide_missing.csv"), listwise=True)
    assert round(alpha, 6) == 0.801695
    assert (round(low, 3), round(high, 3)) == (0.581, 0.933)


# NPS ---------------------------------------------------------------------------------------------

NPS_MOE_TABLE = {20: 32.4, 30: 26.5, 50: 20.5, 100: 14.5, 200: 10.3, 400: 7.3}


def test_nps_margin_of_error_example():
    result = stats.nps_from_shares(0.60, 0.15, 100)
    assert round(result["nps"]) == 45
    assert round(result["moe"], 1) == 14.5


@pytest.mark.parametrize(("n", "moe"), NPS_MOE_TABLE.items())
def test_nps_margin_of_error_table(n, moe):
    assert round(stats.nps_from_shares(0.60, 0.15, n)["moe"], 1) == moe


def test_nps_from_scores_counts_categories():
    scores = [10] * 60 + [9] * 0 + [8] * 20 + [7] * 5 + [3] * 15
    result = stats.nps(scores)
    assert (result["promoters"], result["passives"], result["detractors"]) == (60, 25, 15)
    assert result["n"] == 100
    assert result["nps"] == pytest.approx(45)
    assert round(result["moe"], 1) == 14.5


def test_nps_change_within_noise_and_beyond():
    small_a = stats.nps_from_shares(0.60, 0.15, 30)
    small_b = stats.nps_from_shares(0.70, 0.10, 30)
    assert stats.nps_change_is_noise(small_a, small_b)
    big_a = stats.nps_from_shares(0.60, 0.15, 2000)
    big_b = stats.nps_from_shares(0.70, 0.10, 2000)
    assert not stats.nps_change_is_noise(big_a, big_b)


def test_nps_below_minimum_is_not_shown_as_a_number():
    result = stats.nps([10, 10, 3])
    assert result["status"] == "insufficient_data"
    assert result["nps"] is None and result["moe"] is None


# Shrinkage (§5) ----------------------------------------------------------------------------------


def slope_panel(seed, slope=0.4, unit_sd=0.15, units=30, quarters=8):
    """Return a unit × quarter panel where customer follows morale with slope ~ N(slope, unit_sd)
    per unit (in within-unit SDs), around unit levels of both."""
    rng = np.random.default_rng(seed)
    slopes = slope + unit_sd * rng.standard_normal((units, 1))
    x = rng.standard_normal((units, quarters))
    y = slopes * x + math.sqrt(1 - slope**2) * rng.standard_normal((units, quarters))
    return pd.DataFrame(
        {
            "unit": np.repeat([f"U{i:02d}" for i in range(units)], quarters),
            "period": np.tile([f"2024Q{t}" for t in range(quarters)], units),
            "morale": (3.6 + 0.4 * rng.standard_normal((units, 1)) + 0.3 * x).ravel(),
            "csi": (85 + 4 * rng.standard_normal((units, 1)) + 3 * y).ravel(),
        }
    )


def shrink(panel):
    return stats.shrunken_slopes(panel, "unit", "morale", "csi")


@pytest.fixture(scope="module")
def varied():
    panel = slope_panel(3)
    return panel, shrink(panel)


def test_shrunken_slopes_spread_less_than_each_units_own(varied):
    _, result = varied
    assert (result["status"], result["model"]) == ("ok", "random_slope")
    assert (result["n_units"], result["n_obs"]) == (30, 240)
    assert result["slope_sd"] > 0 and result["level"] == "within"
    shrunk = np.array([u["shrunk_slope"] for u in result["units"]])
    raw = np.array([u["raw_slope"] for u in result["units"]])
    fixed = result["fixed_slope"]
    assert result["ci_low"] < fixed < result["ci_high"]
    assert 0.2 < fixed < 0.6
    assert shrunk.std() < raw.std() / 2
    assert shrunk.mean() == pytest.approx(fixed, abs=0.03)
    extreme = np.argsort(-np.abs(raw - fixed))[:5]
    assert (np.abs(shrunk - fixed)[extreme] < np.abs(raw - fixed)[extreme]).all()
    assert (np.sign(shrunk - fixed)[extreme] == np.sign(raw - fixed)[extreme]).all()
    for unit in result["units"]:
        assert unit["ci_low"] < unit["shrunk_slope"] < unit["ci_high"]
        assert unit["n"] == 8


def test_shrunken_slopes_are_the_fixed_slope_plus_statsmodels_blups(varied):
    panel, result = varied
    within = panel[["morale", "csi"]] - panel.groupby("unit")[["morale", "csi"]].transform("mean")
    frame = pd.DataFrame(
        {
            "unit": panel["unit"],
            "morale": within["morale"] / within["morale"].std(),
            "customer": (panel["csi"] - panel["csi"].mean()) / within["csi"].std(),
        }
    )
    fit = smf.mixedlm(
        "customer ~ morale",
        frame,
        groups=frame["unit"],
        re_formula="1",
        vc_formula={"morale": "0 + morale"},
    ).fit(method=["bfgs"])
    assert fit.converged
    fixed = fit.fe_params["morale"]
    assert result["fixed_slope"] == pytest.approx(fixed, abs=1e-4)
    for unit in result["units"]:
        blup = fit.random_effects[unit["unit"]]["morale[morale]"]
        assert unit["shrunk_slope"] == pytest.approx(fixed + blup, abs=1e-4)
        rows = frame[frame["unit"] == unit["unit"]]
        own = np.polyfit(rows["morale"], rows["customer"], 1)[0]
        assert unit["raw_slope"] == pytest.approx(own)


def test_units_that_cannot_be_told_apart_all_show_the_common_slope():
    result = shrink(slope_panel(5, unit_sd=0.0))
    assert result["status"] == "ok" and result["slope_sd"] == 0
    assert "could not be told apart" in result["reason"]
    assert {u["shrunk_slope"] for u in result["units"]} == {result["fixed_slope"]}
    # No unit gets an interval of its own: the data say nothing about units apart.
    assert all(u["ci_low"] is None and u["ci_high"] is None for u in result["units"])


def test_shrinkage_with_too_few_units_says_insufficient_data():
    result = shrink(slope_panel(1, units=stats.MIN_UNITS_SHRINKAGE - 1))
    assert result["status"] == "insufficient_data"
    assert "10 units" in result["reason"]
    assert result["fixed_slope"] is None and result["units"] == []


def test_shrinkage_of_a_constant_metric_gives_a_status_and_no_warning():
    panel = slope_panel(2).assign(csi=90.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = shrink(panel)
    assert result["status"] == "insufficient_variance"
    assert result["reason"] and result["units"] == []


def test_a_mixed_model_that_never_converges_gives_a_status_and_no_warning(monkeypatch):
    def fails(self, *args, **kwargs):
        warnings.warn(
            "Maximum Likelihood optimization failed to converge.", ConvergenceWarning, stacklevel=2
        )
        return SimpleNamespace(converged=False)

    monkeypatch.setattr(MixedLM, "fit", fails)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = shrink(slope_panel(2))
    assert result["status"] == "did_not_converge"
    assert "did not settle" in result["reason"]
    assert result["fixed_slope"] is None and result["units"] == []


def test_a_slope_model_that_fails_falls_back_to_a_random_intercept(monkeypatch):
    fit = MixedLM.fit

    def fails_with_slopes(self, *args, **kwargs):
        if self.k_vc:
            warnings.warn(
                "The Hessian matrix at the estimated parameter values is not positive definite.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(MixedLM, "fit", fails_with_slopes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = shrink(slope_panel(3))
    assert (result["status"], result["model"]) == ("ok", "random_intercept")
    assert "could not be fitted" in result["reason"]
    assert {u["shrunk_slope"] for u in result["units"]} == {result["fixed_slope"]}
