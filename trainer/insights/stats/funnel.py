"""Funnel plots (§5): units against limits that widen as their samples shrink."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

_ALERT = 0.95
_ALARM = 0.999


def funnel_limits(p0: float, n, kind: str = "proportion", sd: float | None = None) -> dict:
    """Return 95 % (alert) and 99.9 % (alarm) limits around p0 for sample size(s) n.

    Proportions use exact binomial quantiles ``binom.ppf(q, n, p0)/n``; means use
    p0 ± z·sd/√n. Returns ``{alert_low, alert_high, alarm_low, alarm_high}``, each a float
    or an array matching ``n``.
    """
    size = np.asarray(n, dtype=float)
    limits = {}
    for name, level in (("alert", _ALERT), ("alarm", _ALARM)):
        tail = (1 - level) / 2
        if kind == "proportion":
            low = stats.binom.ppf(tail, size, p0) / size
            high = stats.binom.ppf(1 - tail, size, p0) / size
        elif kind == "mean":
            if sd is None:
                raise ValueError("limits for a mean need the standard deviation sd")
            half = stats.norm.ppf(1 - tail) * sd / np.sqrt(size)
            low, high = p0 - half, p0 + half
        else:
            raise ValueError(f"unknown funnel kind {kind!r}")
        limits[f"{name}_low"] = low
        limits[f"{name}_high"] = high
    if np.ndim(n) == 0:
        return {key: float(value) for key, value in limits.items()}
    return limits


def funnel(
    units_df: pd.DataFrame,
    kind: str = "proportion",
    *,
    target: float | None = None,
    sd: float | None = None,
) -> dict:
    """Classify each unit against funnel limits around the overall value (or ``target``).

    ``units_df`` has columns ``unit_code``, ``n`` and ``value`` (a share for proportions, a mean
    for means; for means ``sd`` defaults to the pooled ``sd`` column if present). Returns
    ``{p0, units: [{unit_code, n, value, alert_low, alert_high, alarm_low, alarm_high,
    position}], outside_95, overdispersed, phi, note}`` where position is "within", "alert"
    (outside 95 %) or "alarm" (outside 99.9 %). Over-dispersion is Spiegelhalter's test:
    Σz² above the 95th centile of χ²(units − 1).
    """
    n = units_df["n"].to_numpy(dtype=float)
    value = units_df["value"].to_numpy(dtype=float)
    if (n < 1).any():
        raise ValueError("every unit in a funnel needs n >= 1")
    p0 = float(np.sum(value * n) / np.sum(n)) if target is None else target
    if kind == "mean" and sd is None:
        if "sd" not in units_df:
            raise ValueError("a funnel of means needs sd")
        sd = float(np.sqrt(np.sum((n - 1) * units_df["sd"] ** 2) / np.sum(n - 1)))
    limits = funnel_limits(p0, n, kind, sd)
    spread = math.sqrt(p0 * (1 - p0)) if kind == "proportion" else sd
    z = (value - p0) / (spread / np.sqrt(n)) if spread > 0 else np.zeros_like(value)
    units = []
    for i, code in enumerate(units_df["unit_code"]):
        row = {"unit_code": code, "n": int(n[i]), "value": float(value[i])}
        row.update({key: float(limit[i]) for key, limit in limits.items()})
        if value[i] < row["alarm_low"] or value[i] > row["alarm_high"]:
            row["position"] = "alarm"
        elif value[i] < row["alert_low"] or value[i] > row["alert_high"]:
            row["position"] = "alert"
        else:
            row["position"] = "within"
        units.append(row)
    outside = sum(row["position"] != "within" for row in units)
    phi = float(np.mean(z**2)) if len(units) else 0.0
    overdispersed = len(units) > 1 and float(np.sum(z**2)) > stats.chi2.ppf(0.95, len(units) - 1)
    note = None
    if overdispersed:
        note = (
            f"{outside} of {len(units)} units fall outside the 95% limits (about "
            f"{0.05 * len(units):.0f} expected by chance): units differ more than sampling "
            f"noise explains (dispersion {phi:.1f}), so the limits are too narrow; widen them "
            "for over-dispersion before reading single units."
        )
    return {
        "p0": p0,
        "units": units,
        "outside_95": outside,
        "overdispersed": overdispersed,
        "phi": phi,
        "note": note,
    }
