"""Assemble the morale-versus-customer-outcomes report from per-(unit, quarter) rows.

Pure: no Flask, no database. `services` loads the rows (pulse rollups with the anonymity rules
already applied, the outcomes table, training measures and managers' ratings) into `Sources`;
`analyse` turns them into the statistics of shared/reference/statistics.md (computed by
`trainer.insights.stats`), the series behind every chart and the CSV tables.

One row of the panel is one org unit at the reporting level (teams by default) in one quarter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from trainer.anonymity import DIFFERENCING, TOO_FEW
from trainer.insights import stats

LAGS = (0, 1, 2)
HEADLINE_LAG = 1
MORALE = "engagement"
MORALE_N = "respondents"
UNIT, PERIOD = "unit_code", "period"
VALUE_FIELDS = ("value", "n", "topbox", "responses", "invited")
# Metrics that are shares of n (value / scale); other survey scores use their top-box share.
PROPORTION_SCALE = {"csat": 100.0, "retention": 100.0, "complaints": 1000.0}
BEHAVIOUR_METRICS = ("complaints", "retention")
# Fixes on own authority (trainer.fixes): behaviour measures with their own HR-only flags.
FIX_ON_SPOT, FIX_METRICS = "fix_on_spot", ("fix_on_spot", "fix_rate")
CUSTOMER_RATING_SOURCES = ("csat", "csi")  # the first with data gives customers' rating
MERGED_TEXT = "Too few people: reported with the unit above"
NOT_AN_ACCUSATION = "This is a data-quality check, not an accusation."
LEVEL_LABELS = {"team": "teams", "site": "sites", "region": "regions"}


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str  # materialised path of ancestor ids, e.g. "/1/4/"


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    higher_is_better: bool
    min_value: float | None
    max_value: float | None


@dataclass
class Sources:
    """Every row the report reads, for every unit; the rows are as the feature services return
    them (`morale` and `suppressed` from pulse, `outcomes[metric]` from outcomes, ...).
    `ratings` rows are {unit_id, period, rating (mean), raters}."""

    units: list[Unit]
    metrics: list[Metric]
    morale: list[dict] = field(default_factory=list)
    suppressed: list[dict] = field(default_factory=list)
    outcomes: dict[str, list[dict]] = field(default_factory=dict)
    completion: list[dict] = field(default_factory=list)
    ownership: list[dict] = field(default_factory=list)
    ratings: list[dict] = field(default_factory=list)

    def metric(self, code: str) -> Metric:
        for metric in self.metrics:
            if metric.code == code:
                return metric
        raise KeyError(code)


def value_column(code: str) -> str:
    """Name the panel column holding a customer metric (a dot never occurs in metric codes)."""
    return f"{code}.value"


# --------------------------------------------------------------------------------------------
# The panel


MORALE_COLUMNS = ("respondents", "invited", "engagement", "enps", "enps_moe", "customer_focus")
TRAINING_COLUMNS = {"completion": ("completion_rate", "assigned"),
                    "ownership": ("ownership_rate", "players")}


def _frame(rows, units_by_id, columns, rename=None) -> pd.DataFrame:
    rename = rename or {}
    records = [{UNIT: units_by_id[r["unit_id"]].code, PERIOD: r["period"],
                **{rename.get(c, c): r.get(c) for c in columns}}
               for r in rows if r["unit_id"] in units_by_id]
    names = [UNIT, PERIOD, *(rename.get(c, c) for c in columns)]
    frame = pd.DataFrame.from_records(records, columns=names)
    frame = frame.drop_duplicates([UNIT, PERIOD], keep="last").set_index([UNIT, PERIOD])
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def build_panel(sources: Sources, units: list[Unit]) -> pd.DataFrame:
    """Return one row per (unit, quarter) with morale, training, ratings and every metric.

    Quarters are those with morale or customer data. ``morale_status`` is "shown", or says why
    morale is missing: "suppressed" (too few respondents, or hidden against differencing),
    "merged" (reported with the unit above) or "" (no survey).
    """
    by_id = {u.id: u for u in units}
    parts = [_frame(sources.morale, by_id, MORALE_COLUMNS),
             _frame(sources.completion, by_id, TRAINING_COLUMNS["completion"]),
             _frame(sources.ownership, by_id, TRAINING_COLUMNS["ownership"]),
             _frame(sources.ratings, by_id, ("rating", "raters"),
                    {"rating": "manager_rating", "raters": "manager_raters"})]
    customer_periods: set[str] = set()
    for metric in sources.metrics:
        frame = _frame(sources.outcomes.get(metric.code, []), by_id, VALUE_FIELDS,
                       {f: f"{metric.code}.{f}" for f in VALUE_FIELDS})
        customer_periods |= set(frame.index.get_level_values(PERIOD))
        parts.append(frame)
    panel = pd.concat(parts, axis=1, join="outer")
    periods = set(parts[0].index.get_level_values(PERIOD)) | customer_periods
    panel = panel[panel.index.get_level_values(PERIOD).isin(periods)].reset_index()
    status = {(by_id[r["unit_id"]].code, r["period"]): r["reason"]
              for r in sources.suppressed if r["unit_id"] in by_id}
    panel["morale_status"] = [
        "shown" if not math.isnan(m) else status.get((u, p), "")
        for u, p, m in zip(panel[UNIT], panel[PERIOD], panel[MORALE], strict=True)]
    names = {u.code: u.name for u in units}
    panel.insert(1, "unit_name", panel[UNIT].map(names))
    panel["low_precision"] = panel[MORALE_N] < stats.LOW_PRECISION_BELOW
    return panel.sort_values([UNIT, PERIOD]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Statistics


def plain(value):
    """Return value with numpy scalars as Python numbers and NaN as None, recursively."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else round(float(value), 6)
    return value


def headline_block(panel: pd.DataFrame, metric: Metric, units_label: str) -> dict:
    """Fit the pre-registered headline model (lag 1, both directions) and word it."""
    result = stats.headline_model(panel, UNIT, PERIOD, MORALE, value_column(metric.code),
                                  HEADLINE_LAG, morale_n=MORALE_N)
    both = {}
    for direction, fit in result["both"].items():
        plain_fit = fit["without_lagged_outcome"]
        both[direction] = {
            **{k: fit.get(k) for k in ("estimate", "se", "ci_low", "ci_high", "p_value",
                                       "p_adjusted", "n_obs", "n_units", "status", "reason")},
            "without_lagged_outcome": {k: plain_fit.get(k) for k in (
                "estimate", "ci_low", "ci_high", "p_value", "status", "reason")},
        }
    keys = ("direction", "lag", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted",
            "n_units", "n_obs", "n_quarters", "method", "status", "reason")
    return plain({**{k: result[k] for k in keys}, "level": "within",
                  "sentence": stats.plain_sentence(result, metric.label, units_label),
                  "both": both})


def lag_family(panel: pd.DataFrame, metrics: list[Metric]) -> dict[str, list[dict]]:
    """Return the exploratory lag grid of every metric, with Benjamini–Hochberg q-values over
    the whole family (every metric × lag × direction that has a result)."""
    grids = {}
    for metric in metrics:
        column = value_column(metric.code)
        if column not in panel or panel[column].isna().all():
            continue
        grids[metric.code] = stats.lag_grid(panel, UNIT, PERIOD, MORALE, column, LAGS,
                                            morale_n=MORALE_N)
    tested = [row for rows in grids.values() for row in rows if row["p_value"] is not None]
    for rows in grids.values():
        for row in rows:
            row["q_value"] = None
            row["level"] = "within"
            row["method"] = "repeated-measures correlation (Pearson, Fisher-z interval)"
    if tested:
        q_values = multipletests([row["p_value"] for row in tested], method="fdr_bh")[1]
        for row, q in zip(tested, q_values, strict=True):
            row["q_value"] = float(q)
    return {code: plain(rows) for code, rows in grids.items()}


def empty_lag_grid() -> list[dict]:
    """Return the lag grid of a metric without data: every cell "insufficient data"."""
    rows = []
    for lag in LAGS:
        for direction in (("same_quarter",) if lag == 0 else stats.DIRECTIONS):
            rows.append({"lag": lag, "direction": direction, "within_r": None, "ci_low": None,
                         "ci_high": None, "n": 0, "n_units": 0, "dof": None, "p_value": None,
                         "q_value": None, "status": stats.INSUFFICIENT_DATA,
                         "reason": "No customer data for this metric in this scope.",
                         "level": "within",
                         "method": "repeated-measures correlation (Pearson, Fisher-z interval)"})
    return rows


def between_block(panel: pd.DataFrame, metric: Metric) -> list[dict]:
    """Return the between-unit correlations of unit means (same quarter), Pearson and Spearman."""
    out = []
    for method, interval in (("pearson", "Fisher-z"), ("spearman", "Bonett–Wright")):
        result = stats.between_corr(panel, UNIT, MORALE, value_column(metric.code), method)
        out.append({"lag": 0, "method": method, "interval": interval, "level": "between",
                    "r": result.r, "ci_low": result.ci_low, "ci_high": result.ci_high,
                    "n": result.n, "p_value": result.p, "status": result.status,
                    "reason": result.reason})
    return plain(out)


def per_unit_block(panel: pd.DataFrame, metric: Metric) -> list[dict]:
    """Return each unit's same-quarter association with morale, in unit order (never ranked).

    The figure to show is ``shrunk_slope``: the unit's slope from the mixed model, pulled toward
    the common slope of all units because one unit's quarters are few and noisy (§5). Beside it
    stays the unit's own Spearman correlation ``r`` (exploratory, BH-corrected) with its
    original keys.
    """
    column = value_column(metric.code)
    rows = stats.per_unit_corr(panel, UNIT, PERIOD, MORALE, column, "spearman")
    model = stats.shrunken_slopes(panel, UNIT, MORALE, column)
    shrunk = {row["unit"]: row for row in model["units"]}
    out = []
    for row in rows:
        code = row.pop("unit")
        estimate = shrunk.get(code)
        status, reason = model["status"], model["reason"]
        if status == stats.OK and estimate is None:
            status = stats.INSUFFICIENT_DATA
            reason = "Needs at least two quarters with both morale and the customer measure."
        out.append({**row, "unit_code": code,
                    "shrunk_slope": estimate["shrunk_slope"] if estimate else None,
                    "shrunk_ci_low": estimate["ci_low"] if estimate else None,
                    "shrunk_ci_high": estimate["ci_high"] if estimate else None,
                    "common_slope": model["fixed_slope"],
                    "common_ci_low": model["ci_low"], "common_ci_high": model["ci_high"],
                    "shrunk_n_units": model["n_units"],
                    "shrunk_status": status, "shrunk_reason": reason})
    return plain(out)


def scatter_block(panel: pd.DataFrame, metric: Metric) -> dict:
    """Return the points behind the within-unit (lag 1) and between-unit scatter plots."""
    column = value_column(metric.code)
    frame = panel[[UNIT, PERIOD, MORALE, column]].copy()
    lagged = stats.lagged_panel(frame, UNIT, PERIOD, [MORALE], [HEADLINE_LAG])
    earlier = f"{MORALE}__lag{HEADLINE_LAG}"
    pairs = lagged.dropna(subset=[earlier, column])
    pairs = pairs[pairs.groupby(UNIT)[UNIT].transform("size") >= 2]
    x_dev = pairs[earlier] - pairs.groupby(UNIT)[earlier].transform("mean")
    y_dev = pairs[column] - pairs.groupby(UNIT)[column].transform("mean")
    within = [{"unit_code": u, "period": p, "morale_before": m, "value": v, "x": x, "y": y}
              for u, p, m, v, x, y in zip(pairs[UNIT], pairs[PERIOD], pairs[earlier],
                                          pairs[column], x_dev, y_dev, strict=True)]
    means = frame.groupby(UNIT)[[MORALE, column]].agg(["mean", "count"]).dropna()
    between = [{"unit_code": code, "x": row[(MORALE, "mean")], "y": row[(column, "mean")],
                "quarters_morale": int(row[(MORALE, "count")]),
                "quarters_value": int(row[(column, "count")])}
               for code, row in means.iterrows()
               if row[(MORALE, "count")] > 0 and row[(column, "count")] > 0]
    fits = {}
    for name, points in (("within", within), ("between", between)):
        xs = np.array([p["x"] for p in points], dtype=float)
        if len(points) >= 3 and np.ptp(xs) > 0:
            fits[name] = stats.linear_fit(xs, [p["y"] for p in points])
        else:
            fits[name] = None
    return plain({"lag": HEADLINE_LAG, "within": within, "between": between, "fit": fits})


# --------------------------------------------------------------------------------------------
# Behaviour (§3 with fixing on the spot in place of morale): training -> behaviour -> results


def behaviour_sentence(result: dict, metric: Metric, units_label: str) -> str:
    """Word the link between fixing problems on the spot and a customer measure."""
    caveat = "Correlation, not causation."
    label = metric.label
    if result["status"] != stats.OK:
        return (f"Not enough data yet to relate fixing problems on the spot to {label}: "
                f"{result['reason']}")
    size = f"{result['n_units']} {units_label}, {result['n_quarters']} quarters"
    both = result["both"]
    if result["direction"] == "none":
        return (f"We found no clear link between fixing problems on the spot and {label} one "
                f"quarter apart in either direction (fixing first: "
                f"{stats._estimate_text(both['morale_leads'])}; {label} first: "
                f"{stats._estimate_text(both['customer_leads'])}; {size}). This does not show "
                f"that there is no link, only that these data cannot tell. {caveat}")
    rose = result["estimate"] > 0
    if result["direction"] == "morale_leads":
        if metric.higher_is_better:
            seen = f"{label} {'rise' if rose else 'fall'}"
        else:
            seen = f"{'more' if rose else 'fewer'} {label.split(' per ')[0].lower()}"
        return (f"{units_label.capitalize()} that fixed more problems on the spot tended to "
                f"see {seen} the next quarter ({stats._estimate_text(result)}; {size}). "
                f"The reverse order ({label} first): "
                f"{stats._estimate_text(both['customer_leads'])}. {caveat}")
    return (f"{units_label.capitalize()} whose {label} rose tended to fix "
            f"{'more' if rose else 'fewer'} problems on the spot the next quarter "
            f"({stats._estimate_text(result)}; {size}). The reverse order (fixing first): "
            f"{stats._estimate_text(both['morale_leads'])}. {caveat}")


def behaviour_block(panel: pd.DataFrame, metric: Metric, units_label: str) -> dict | None:
    """Fit the headline model with the share of fixes made on the spot in place of morale,
    against a customer measure; None when there is no fix log or `metric` is one of its own
    measures."""
    column = value_column(FIX_ON_SPOT)
    if metric.code in FIX_METRICS or column not in panel or panel[column].isna().all():
        return None
    result = stats.headline_model(panel, UNIT, PERIOD, column, value_column(metric.code),
                                  HEADLINE_LAG)
    keys = ("direction", "lag", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted",
            "n_units", "n_obs", "n_quarters", "method", "status", "reason")
    return plain({**{k: result[k] for k in keys}, "level": "within",
                  "predictor": FIX_ON_SPOT, "outcome": metric.code,
                  "directions": {"morale_leads": "fixing_leads",
                                 "customer_leads": "customer_leads"},
                  "sentence": behaviour_sentence(result, metric, units_label)})


# --------------------------------------------------------------------------------------------
# Funnel plot (§5): units against peers, never a league table


def funnel_measure(metric: Metric, panel: pd.DataFrame) -> dict | None:
    """Say which share the funnel plots for a metric, or None when none has a known spread.

    Shares of n (CSAT, retention, complaints per 1,000) are plotted as they are; other survey
    scores (CSI, NPS) by their top-box share of responses.
    """
    if metric.code in PROPORTION_SCALE:
        scale = PROPORTION_SCALE[metric.code]
        label = {"csat": "Share of satisfied customers", "retention": "Retention",
                 "complaints": "Complaints per transaction"}[metric.code]
        return {"kind": "share", "label": label, "scale": scale}
    if f"{metric.code}.topbox" in panel and panel[f"{metric.code}.topbox"].notna().any():
        return {"kind": "topbox", "label": "Top-box share", "scale": 1.0}
    return None


def _funnel_rows(panel: pd.DataFrame, metric: Metric, measure: dict) -> pd.DataFrame:
    code = metric.code
    if measure["kind"] == "share":
        value = panel[f"{code}.value"] / measure["scale"]
        size = panel[f"{code}.n"]
    else:
        value = panel[f"{code}.topbox"]
        size = panel[f"{code}.responses"].fillna(panel[f"{code}.n"])
    rows = pd.DataFrame({UNIT: panel[UNIT], PERIOD: panel[PERIOD], "value": value,
                         "n": size}).dropna()
    return rows[(rows["n"] >= 1) & (rows["value"] >= 0) & (rows["value"] <= 1)]


def _inflated_limits(p0: float, n, phi: float) -> dict:
    """Return normal-approximation limits widened by √phi for over-dispersion."""
    size = np.asarray(n, dtype=float)
    spread = math.sqrt(phi * p0 * (1 - p0)) / np.sqrt(size)
    limits = {}
    for name, z in (("alert", 1.959964), ("alarm", 3.290527)):
        limits[f"{name}_low"] = np.clip(p0 - z * spread, 0, 1)
        limits[f"{name}_high"] = np.clip(p0 + z * spread, 0, 1)
    return limits


def _robust_phi(values: np.ndarray, sizes: np.ndarray, p0: float) -> float:
    """Return the dispersion factor from the median absolute deviation of the z-scores, so that
    a few extreme units (the ones the funnel should show) do not widen everyone's limits."""
    z = (values - p0) / np.sqrt(p0 * (1 - p0) / sizes)
    return float((1.4826 * np.median(np.abs(z - np.median(z)))) ** 2)


def funnel_block(full_panel: pd.DataFrame, metric: Metric, scope_codes: set[str]) -> dict:
    """Place the scope's units on a funnel around the median of all units (their peers) in
    the scope's latest quarter."""
    measure = funnel_measure(metric, full_panel)
    if measure is None:
        return {"status": stats.INSUFFICIENT_DATA, "measure": None,
                "reason": f"{metric.label} has no share with a known sampling spread, so it "
                          "cannot be placed on a funnel plot.", "units": [], "lines": []}
    rows = _funnel_rows(full_panel, metric, measure)
    in_scope = rows[rows[UNIT].isin(scope_codes)]
    if in_scope.empty:
        return {"status": stats.INSUFFICIENT_DATA, "measure": measure, "units": [], "lines": [],
                "reason": "No data for this metric in this scope."}
    period = in_scope[PERIOD].max()
    rows = rows[rows[PERIOD] == period]
    # Around the median unit, so that a few extreme units do not move the centre.
    p0 = float(np.median(rows["value"]))
    if len(rows) < 3 or not 0 < p0 < 1:
        return {"status": stats.INSUFFICIENT_DATA, "measure": measure, "units": [], "lines": [],
                "period": period, "reason": "Too few units to compare with their peers."}
    result = stats.funnel(rows[[UNIT, "n", "value"]], "proportion", target=p0)
    sizes = rows["n"].to_numpy(float)
    grid = np.unique(np.geomspace(max(1.0, sizes.min() * 0.8), sizes.max() * 1.2, 40).round())
    phi = None
    if result["overdispersed"]:
        phi = _robust_phi(rows["value"].to_numpy(float), sizes, p0)
    if phi is not None and phi > 1:
        unit_limits = _inflated_limits(p0, sizes, phi)
        lines = _inflated_limits(p0, grid, phi)
    else:
        phi = None
        unit_limits = stats.funnel_limits(p0, sizes)
        lines = stats.funnel_limits(p0, grid)
    units = []
    for i, row in enumerate(result["units"]):
        limits = {key: float(unit_limits[key][i]) for key in unit_limits}
        value = row["value"]
        position = ("alarm" if not limits["alarm_low"] <= value <= limits["alarm_high"]
                    else "alert" if not limits["alert_low"] <= value <= limits["alert_high"]
                    else "within")
        side = "above" if value > p0 else "below"
        if row["unit_code"] in scope_codes:
            units.append({**row, **limits, "position": position,
                          "side": side if position != "within" else ""})
    line_rows = [{"n": float(n), **{key: float(lines[key][i]) for key in lines}}
                 for i, n in enumerate(grid)]
    note = None
    if phi is not None:
        note = (f"Units differ more than sampling noise explains (dispersion factor "
                f"{phi:.1f}), so the limits are widened for over-dispersion.")
    return plain({"status": stats.OK, "reason": "", "measure": measure, "period": period,
                  "p0": p0, "n_peers": len(rows), "overdispersed": bool(result["overdispersed"]),
                  "phi": phi, "note": note, "units": units, "lines": line_rows})


# --------------------------------------------------------------------------------------------
# Gaming flags (§8): data-quality signals for HR, never an accusation or a ranking


def gameable(metric: Metric) -> bool:
    """Say whether gaming flags apply: customer survey scores, not behaviour measures."""
    return (metric.higher_is_better and metric.code not in BEHAVIOUR_METRICS
            and metric.code not in FIX_METRICS)


def spread_collapse_flags(frame: pd.DataFrame, low: float, high: float, *,
                          ratio: float = 0.5, min_history: int = 2,
                          min_peers: int = 3) -> list[dict]:
    """Flag unit-quarters whose answers can barely vary any more, from aggregates alone.

    Only unit-quarter means are stored, so the spread of answers is bounded instead of
    measured: for answers between ``low`` and ``high`` with mean μ, the SD is at most
    √((high − μ)(μ − low)) (the Bhatia–Davis inequality). A unit-quarter is flagged when that
    bound is below ``ratio`` × the median bound of the unit's earlier quarters and below
    ``ratio`` × the median bound of the other units in the same quarter.
    """
    data = frame[[UNIT, PERIOD, "score"]].dropna()
    by_unit: dict[str, list[tuple[str, float]]] = {}
    by_period: dict[str, list[tuple[str, float]]] = {}
    records = []
    for unit, period, score in zip(data[UNIT], data[PERIOD], data["score"], strict=True):
        bound = math.sqrt(max(0.0, (high - score) * (score - low)))
        records.append((unit, period, score, bound))
        by_unit.setdefault(unit, []).append((period, bound))
        by_period.setdefault(period, []).append((unit, bound))
    flags = []
    for unit, period, score, bound in records:
        history = [b for p, b in by_unit[unit] if p < period]
        peers = [b for u, b in by_period[period] if u != unit]
        if len(history) < min_history or len(peers) < min_peers:
            continue
        own, peer = float(np.median(history)), float(np.median(peers))
        if bound < ratio * own and bound < ratio * peer:
            flags.append({
                "unit_code": unit, "period": period, "kind": "gaming",
                "signal": "variance_collapse",
                "reason": f"Scores average {score:.1f} of {high:g}, which leaves room for an "
                          f"answer spread (SD) of at most {bound:.1f}, against {own:.1f} in "
                          f"this unit's earlier quarters and {peer:.1f} at peers; check for "
                          f"coached or straight-lined answers. {NOT_AN_ACCUSATION}"})
    return flags


def gaming_flags(full_panel: pd.DataFrame, metric: Metric) -> list[dict]:
    """Return the gaming flags of every unit for a survey metric, each judged against all
    units (peers)."""
    if not gameable(metric) or full_panel[value_column(metric.code)].isna().all():
        return []
    code = metric.code
    frame = pd.DataFrame({UNIT: full_panel[UNIT], PERIOD: full_panel[PERIOD],
                          "score": full_panel[f"{code}.value"]})
    size = full_panel[f"{code}.responses"].fillna(full_panel[f"{code}.n"])
    if full_panel[f"{code}.topbox"].notna().any():
        frame["top_box"] = (full_panel[f"{code}.topbox"] * size).round()
        frame["n_responses"] = size
    if full_panel[f"{code}.invited"].notna().any():
        frame["n_responses"] = size
        frame["invitations"] = full_panel[f"{code}.invited"].where(
            full_panel[f"{code}.responses"].notna())
    for behaviour, column in (("complaints", "complaints_per_1000"), ("retention", "retention")):
        values = full_panel.get(value_column(behaviour))
        if values is not None and values.notna().sum() > 1:
            frame[column] = values
    frame = frame.dropna(subset=["score"])
    flags = stats.gaming_flags(frame)
    if metric.min_value is not None and metric.max_value is not None:
        flags += spread_collapse_flags(frame, metric.min_value, metric.max_value)
    for flag in flags:
        flag["metric"] = metric.code
    return plain(sorted(flags, key=lambda f: (f["unit_code"], f["period"], f["signal"])))


def without_flagged(panel: pd.DataFrame, flags_by_metric: dict[str, list[dict]]) -> pd.DataFrame:
    """Return the panel with each metric's flagged unit-quarters blanked for the statistics:
    scores that failed a data-quality check would distort every correlation."""
    panel = panel.copy()
    keys = list(zip(panel[UNIT], panel[PERIOD], strict=True))
    for code, flags in flags_by_metric.items():
        flagged = {(f["unit_code"], f["period"]) for f in flags}
        if flagged:
            mask = np.array([key in flagged for key in keys], dtype=bool)
            panel.loc[mask, value_column(code)] = np.nan
    return panel


# --------------------------------------------------------------------------------------------
# Perception gap


def to_five_point(value: float, metric: Metric) -> float:
    """Map a 0–100 customer score onto the 1–5 scale of the two customer-focus ratings."""
    low = metric.min_value if metric.min_value is not None else 0.0
    high = metric.max_value if metric.max_value is not None else 100.0
    return 1 + 4 * (value - low) / (high - low)


def perception_block(panel: pd.DataFrame, metrics: list[Metric], units: list[Unit],
                     period: str | None = None) -> dict:
    """Return managers', the team's and customers' view of each unit's customer focus."""
    known = {m.code: m for m in metrics}
    rated = panel[panel["customer_focus"].notna() | panel["manager_rating"].notna()]
    periods = sorted(rated[PERIOD].unique())
    if period is None:
        period = periods[-1] if periods else None
    source = next((known[c] for c in CUSTOMER_RATING_SOURCES
                   if c in known and panel[value_column(c)].notna().any()), None)
    rows = []
    cells = panel[panel[PERIOD] == period].set_index(UNIT) if period else panel.iloc[:0]
    for unit in units:
        cell = cells.loc[unit.code] if unit.code in cells.index else None
        manager = team = customers = None
        raters = 0
        team_status = "no_data"
        if cell is not None:
            if not math.isnan(cell["manager_rating"]):
                manager, raters = float(cell["manager_rating"]), int(cell["manager_raters"])
            if not math.isnan(cell["customer_focus"]):
                team, team_status = float(cell["customer_focus"]), "shown"
            elif cell["morale_status"] in ("suppressed", "merged"):
                team_status = cell["morale_status"]
            if source is not None and not math.isnan(cell[value_column(source.code)]):
                customers = to_five_point(float(cell[value_column(source.code)]), source)
        rows.append({"unit_code": unit.code, "unit_name": unit.name, "manager": manager,
                     "manager_raters": raters, "team": team, "team_status": team_status,
                     "customers": customers,
                     "gap_manager_team": None if manager is None or team is None
                     else manager - team,
                     "gap_manager_customers": None if manager is None or customers is None
                     else manager - customers})
    return plain({"period": period, "periods": periods, "rows": rows,
                  "customer_source": source.code if source else None,
                  "customer_source_label": source.label if source else None})


# --------------------------------------------------------------------------------------------
# The whole analysis


def level_units(units: list[Unit], level: str) -> list[Unit]:
    return sorted((u for u in units if u.kind == level), key=lambda u: u.code)


def suppressed_cells(sources: Sources, units: list[Unit], periods: set[str]) -> list[dict]:
    by_id = {u.id: u for u in units}
    cells = {(by_id[r["unit_id"]].code, r["period"]): r for r in sources.suppressed
             if r["unit_id"] in by_id and r["period"] in periods}
    return [{"unit_code": u, "period": p, "reason": r["reason"], "message": hidden_message(r)}
            for (u, p), r in sorted(cells.items())]


def hidden_message(row: dict) -> str:
    """Say why a unit-quarter's morale is hidden, in the words the pulse pages use."""
    if row["reason"] == "merged":
        return MERGED_TEXT
    return DIFFERENCING if row.get("differencing") else TOO_FEW


def trends_block(panel: pd.DataFrame, metric: Metric, units: list[Unit],
                 periods: list[str]) -> list[dict]:
    """Return one small-multiple series per unit: morale, eNPS, training and the metric."""
    columns = {"engagement": MORALE, "enps": "enps", "completion_rate": "completion_rate",
               "ownership_rate": "ownership_rate", "value": value_column(metric.code),
               "morale_status": "morale_status"}
    grid = pd.MultiIndex.from_product([[u.code for u in units], periods], names=[UNIT, PERIOD])
    table = panel.set_index([UNIT, PERIOD])[list(columns.values())].reindex(grid)
    out = []
    for unit in units:
        rows = table.loc[unit.code] if periods else table.iloc[:0]
        series = {name: rows[column].tolist() for name, column in columns.items()}
        series["morale_status"] = ["" if not isinstance(s, str) else s
                                   for s in series["morale_status"]]
        out.append({"unit_code": unit.code, "unit_name": unit.name, **series})
    return plain(out)


@dataclass
class Prepared:
    """The org-wide part of the analysis, shared by every scope: the panel of all units at the
    reporting level and each metric's gaming flags (peers are all units)."""

    sources: Sources
    level: str
    units: list[Unit]
    panel: pd.DataFrame
    flags: dict[str, list[dict]]
    checked: pd.DataFrame  # the panel with flagged unit-quarters blanked per metric


def prepare(sources: Sources, level: str = "team") -> Prepared:
    units = level_units(sources.units, level)
    panel = build_panel(sources, units)
    flags = {m.code: gaming_flags(panel, m) for m in sources.metrics}
    return Prepared(sources, level, units, panel, flags, without_flagged(panel, flags))


def analyse(prepared: Prepared, *, metric: str, unit_ids: set[int] | None,
            perception_period: str | None = None) -> dict:
    """Return the full analysis of `metric` for the units of `prepared` within `unit_ids`.

    Peers for the funnel and the gaming flags are all units at the level; everything else uses
    the scope's units only. Unit-quarters with a gaming flag on a metric are left out of that
    metric's statistics (not of its trends or funnel). Raises KeyError for an unknown metric.
    """
    sources = prepared.sources
    chosen = sources.metric(metric)
    scope = [u for u in prepared.units if unit_ids is None or u.id in unit_ids]
    scope_codes = {u.code for u in scope}
    panel = prepared.panel[prepared.panel[UNIT].isin(scope_codes)].reset_index(drop=True)
    checked = prepared.checked[prepared.checked[UNIT].isin(scope_codes)].reset_index(drop=True)
    column = value_column(chosen.code)
    periods = sorted(panel.loc[panel[MORALE].notna() | panel[column].notna(), PERIOD].unique())
    units_label = LEVEL_LABELS.get(prepared.level, f"{prepared.level}s")
    family = lag_family(checked, sources.metrics)
    cells = suppressed_cells(sources, scope, set(periods))
    flags = [f for f in prepared.flags[chosen.code] if f["unit_code"] in scope_codes]
    excluded = sorted({(f["unit_code"], f["period"]) for f in flags})
    return {
        "metric": chosen.code,
        "metric_label": chosen.label,
        "higher_is_better": chosen.higher_is_better,
        "level": prepared.level,
        "units_label": units_label,
        "periods": periods,
        "units": [{"code": u.code, "name": u.name} for u in scope],
        "metrics": [{"code": m.code, "label": m.label} for m in sources.metrics],
        "headline": headline_block(checked, chosen, units_label),
        "behaviour": behaviour_block(checked, chosen, units_label),
        "lags": family.get(chosen.code) or empty_lag_grid(),
        "family": sorted(family),
        "between": between_block(checked, chosen),
        "per_unit": per_unit_block(checked, chosen),
        "scatter": scatter_block(checked, chosen),
        "funnel": funnel_block(prepared.panel, chosen, scope_codes),
        "perception": perception_block(panel, sources.metrics, scope, perception_period),
        "flags": flags,
        "excluded": [{"unit_code": u, "period": p} for u, p in excluded],
        "suppressed": sorted({c["unit_code"] for c in cells}),
        "suppressed_cells": cells,
        "trends": trends_block(panel, chosen, scope, periods),
        "panel": panel,
        "panel_rows": plain(panel.to_dict("records")),
    }


# --------------------------------------------------------------------------------------------
# Documents: the JSON report and the CSV tables


def report_document(analysis: dict, *, scope: dict, with_flags: bool,
                    reference: dict | None = None) -> dict:
    """Return the documented JSON report (see README, "Insights report JSON")."""
    doc = {
        "metric": analysis["metric"],
        "metric_label": analysis["metric_label"],
        "scope": scope,
        "level": analysis["level"],
        "periods": analysis["periods"],
        "thresholds": {"respondents": stats.MIN_RESPONDENTS,
                       "low_precision_below": stats.LOW_PRECISION_BELOW,
                       "units_between": stats.MIN_UNITS_BETWEEN,
                       "units_within": stats.MIN_UNITS_RM,
                       "units_headline": stats.MIN_UNITS_HEADLINE,
                       "quarters_per_unit": stats.MIN_QUARTERS_PER_UNIT},
        "headline": analysis["headline"],
        "behaviour": analysis.get("behaviour"),
        "lags": analysis["lags"],
        "q_value_family": analysis["family"],
        "between": analysis["between"],
        "per_unit": analysis["per_unit"],
        "funnel": {k: v for k, v in analysis["funnel"].items() if k != "lines"},
        "perception": analysis["perception"],
        "flags": analysis["flags"] if with_flags else None,
        "suppressed": analysis["suppressed"],
        "suppressed_cells": analysis["suppressed_cells"],
        "reference": None,
    }
    if reference is not None:
        doc["reference"] = {"scope": reference["scope"], "headline": reference["headline"],
                            "lags": reference["lags"]}
    return doc


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def panel_table(analysis: dict) -> tuple[list[str], list[list[str]]]:
    """Return the (unit, quarter) table behind the trends, with the thresholds applied."""
    panel: pd.DataFrame = analysis["panel"]
    head = [UNIT, "unit_name", PERIOD, "morale_status", "respondents", "low_precision",
            "engagement", "enps", "enps_moe", "customer_focus", "manager_rating",
            "completion_rate", "assigned", "ownership_rate", "players"]
    metric_columns = [c for c in panel.columns if "." in c]
    rows = []
    for record in panel.to_dict("records"):
        morale_shown = record["morale_status"] == "shown"
        values = []
        for name in head:
            value = record.get(name)
            if name == "low_precision" and not morale_shown:
                value = None
            values.append(_cell(value))
        rows.append(values + [_cell(record[c]) for c in metric_columns])
    return head + metric_columns, rows


def table(analysis: dict, name: str) -> tuple[list[str], list[list[str]]]:
    """Return (header, rows) of one CSV table: panel, lags, between, per_unit, scatter,
    funnel, perception, flags or suppressed. Raises KeyError for an unknown name."""
    if name == "panel":
        return panel_table(analysis)
    specs = {
        "lags": (analysis["lags"], ["lag", "direction", "level", "within_r", "ci_low",
                                    "ci_high", "n", "n_units", "p_value", "q_value", "status",
                                    "reason"]),
        "between": (analysis["between"], ["lag", "method", "level", "r", "ci_low", "ci_high",
                                          "n", "p_value", "status", "reason"]),
        "per_unit": (analysis["per_unit"], ["unit_code", "shrunk_slope", "shrunk_ci_low",
                                            "shrunk_ci_high", "common_slope", "common_ci_low",
                                            "common_ci_high", "shrunk_n_units",
                                            "shrunk_status", "shrunk_reason", "r", "ci_low",
                                            "ci_high", "n", "p_value", "q_value", "status",
                                            "reason"]),
        "scatter": (analysis["scatter"]["within"], ["unit_code", "period", "morale_before",
                                                    "value", "x", "y"]),
        "funnel": (analysis["funnel"]["units"], ["unit_code", "n", "value", "alert_low",
                                                 "alert_high", "alarm_low", "alarm_high",
                                                 "position", "side"]),
        "perception": (analysis["perception"]["rows"], ["unit_code", "unit_name", "manager",
                                                        "manager_raters", "team",
                                                        "team_status", "customers",
                                                        "gap_manager_team",
                                                        "gap_manager_customers"]),
        "flags": (analysis["flags"], ["unit_code", "period", "kind", "signal", "reason"]),
        "suppressed": (analysis["suppressed_cells"], ["unit_code", "period", "reason"]),
    }
    rows, head = specs[name]
    return head, [[_cell(row.get(h)) for h in head] for row in rows]
