"""Units against their peers: the funnel plot (§5) and the gaming flags (§8).

Peers are all units at the reporting level, whatever the scope; neither is ever a league table
or an accusation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainer.insights import stats
from trainer.insights.panel import PERIOD, UNIT, plain, value_column
from trainer.insights.sources import FIX_METRICS, Metric
from trainer.insights.words import N_

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
            "reason": N_("No data for this metric in this scope."),
        }
    period = in_scope[PERIOD].max()
    rows = rows[rows[PERIOD] == period]
    sizes = rows["n"].to_numpy(float)
    grid = np.unique(np.geomspace(max(1.0, sizes.min() * 0.8), sizes.max() * 1.2, 40).round())
    # Around the median unit, widened for over-dispersion: the limits the gaming flags use.
    result = stats.peer_funnel(rows["value"].to_numpy(float), sizes, grid=grid)
    if result is None:
        return {
            "status": stats.Status.INSUFFICIENT_DATA,
            "measure": measure,
            "units": [],
            "lines": [],
            "period": period,
            "reason": N_("Too few units to compare with their peers."),
        }
    p0, phi = result["p0"], result["phi"]
    unit_limits, lines = result["limits"], result["lines"]
    units = []
    for i, (code, n, value) in enumerate(
        zip(rows[UNIT], sizes, rows["value"].to_numpy(float), strict=True)
    ):
        limits = {key: float(unit_limits[key][i]) for key in unit_limits}
        row = {"unit_code": code, "n": int(n), "value": float(value)}
        position = (
            "alarm"
            if not limits["alarm_low"] <= value <= limits["alarm_high"]
            else "alert"
            if not limits["alert_low"] <= value <= limits["alert_high"]
            else "within"
        )
        side = "above" if value > p0 else "below"
        if code in scope_codes:
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
    frame["n_responses"] = size  # the peer signals never flag a unit below MIN_RESPONDENTS
    if full_panel[f"{code}.topbox"].notna().any():
        frame["top_box"] = full_panel[f"{code}.topbox"] * size  # unrounded: the funnel's share
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
