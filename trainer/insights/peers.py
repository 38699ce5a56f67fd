"""Units against their peers: the funnel plot (§5) and the gaming flags (§8).

Peers are all units at the reporting level, whatever the scope; neither is ever a league table
or an accusation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trainer.insights import stats
from trainer.insights.panel import PERIOD, UNIT, plain, value_column
from trainer.insights.sources import FIX_METRICS, Metric

# Metrics that are shares of n (value / scale); other survey scores use their top-box share.
PROPORTION_SCALE = {"csat": 100.0, "retention": 100.0, "complaints": 1000.0}
BEHAVIOUR_METRICS = ("complaints", "retention")


# --------------------------------------------------------------------------------------------
# Funnel plot (§5): units against peers, never a league table


def funnel_measure(metric: Metric, panel: pd.DataFrame) -> dict | None:
    """Say which share the funnel plots for a metric, or None when none has a known spread.

    Shares of n (CSAT, retention, complaints per 1,000) are plotted as they are; other survey
    scores (CSI, NPS) by their top-box share of responses.
    """
    if metric.code in PROPORTION_SCALE:
        scale = PROPORTION_SCALE[metric.code]
        label = {
            "csat": "Share of satisfied customers",
            "retention": "Retention",
            "complaints": "Complaints per transaction",
        }[metric.code]
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
    rows = pd.DataFrame(
        {UNIT: panel[UNIT], PERIOD: panel[PERIOD], "value": value, "n": size}
    ).dropna()
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
        return {
            "status": stats.Status.INSUFFICIENT_DATA,
            "measure": None,
            "reason": f"{metric.label} has no share with a known sampling spread, so it "
            "cannot be placed on a funnel plot.",
            "units": [],
            "lines": [],
        }
    rows = _funnel_rows(full_panel, metric, measure)
    in_scope = rows[rows[UNIT].isin(scope_codes)]
    if in_scope.empty:
        return {
            "status": stats.Status.INSUFFICIENT_DATA,
            "measure": measure,
            "units": [],
            "lines": [],
            "reason": "No data for this metric in this scope.",
        }
    period = in_scope[PERIOD].max()
    rows = rows[rows[PERIOD] == period]
    # Around the median unit, so that a few extreme units do not move the centre.
    p0 = float(np.median(rows["value"]))
    if len(rows) < 3 or not 0 < p0 < 1:
        return {
            "status": stats.Status.INSUFFICIENT_DATA,
            "measure": measure,
            "units": [],
            "lines": [],
            "period": period,
            "reason": "Too few units to compare with their peers.",
        }
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
        position = (
            "alarm"
            if not limits["alarm_low"] <= value <= limits["alarm_high"]
            else "alert"
            if not limits["alert_low"] <= value <= limits["alert_high"]
            else "within"
        )
        side = "above" if value > p0 else "below"
        if row["unit_code"] in scope_codes:
            units.append(
                {
                    **row,
                    **limits,
                    "position": position,
                    "side": side if position != "within" else "",
                }
            )
    line_rows = [
        {"n": float(n), **{key: float(lines[key][i]) for key in lines}} for i, n in enumerate(grid)
    ]
    note = None
    if phi is not None:
        note = (
            f"Units differ more than sampling noise explains (dispersion factor "
            f"{phi:.1f}), so the limits are widened for over-dispersion."
        )
    return plain(
        {
            "status": stats.Status.OK,
            "reason": "",
            "measure": measure,
            "period": period,
            "p0": p0,
            "n_peers": len(rows),
            "overdispersed": bool(result["overdispersed"]),
            "phi": phi,
            "note": note,
            "units": units,
            "lines": line_rows,
        }
    )


# --------------------------------------------------------------------------------------------
# Gaming flags (§8): data-quality signals for HR, never an accusation or a ranking


def gameable(metric: Metric) -> bool:
    """Say whether gaming flags apply: customer survey scores, not behaviour measures."""
    return (
        metric.higher_is_better
        and metric.code not in BEHAVIOUR_METRICS
        and metric.code not in FIX_METRICS
    )


def gaming_flags(full_panel: pd.DataFrame, metric: Metric) -> list[dict]:
    """Return the gaming flags of every unit for a survey metric, each judged against all
    units (peers)."""
    if not gameable(metric) or full_panel[value_column(metric.code)].isna().all():
        return []
    code = metric.code
    frame = pd.DataFrame(
        {UNIT: full_panel[UNIT], PERIOD: full_panel[PERIOD], "score": full_panel[f"{code}.value"]}
    )
    size = full_panel[f"{code}.responses"].fillna(full_panel[f"{code}.n"])
    if full_panel[f"{code}.topbox"].notna().any():
        frame["top_box"] = (full_panel[f"{code}.topbox"] * size).round()
        frame["n_responses"] = size
    if full_panel[f"{code}.invited"].notna().any():
        frame["n_responses"] = size
        frame["invitations"] = full_panel[f"{code}.invited"].where(
            full_panel[f"{code}.responses"].notna()
        )
    for behaviour, column in (("complaints", "complaints_per_1000"), ("retention", "retention")):
        values = full_panel.get(value_column(behaviour))
        if values is not None and values.notna().sum() > 1:
            frame[column] = values
    frame = frame.dropna(subset=["score"])
    score_range = None
    if metric.min_value is not None and metric.max_value is not None:
        score_range = (metric.min_value, metric.max_value)
    flags = stats.gaming_flags(frame, score_range=score_range)
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
