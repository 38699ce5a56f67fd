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


def _normal_limits(p0: float, n, phi: float) -> dict:
    """Return normal-approximation limits for a proportion, widened by √phi."""
    size = np.asarray(n, dtype=float)
    spread = math.sqrt(phi * p0 * (1 - p0)) / np.sqrt(size)
    limits = {}
    for name, level in (("alert", _ALERT), ("alarm", _ALARM)):
        z = stats.norm.ppf(1 - (1 - level) / 2)
        limits[f"{name}_low"] = np.clip(p0 - z * spread, 0, 1)
        limits[f"{name}_high"] = np.clip(p0 + z * spread, 0, 1)
    return limits


def robust_dispersion(value, n, p0: float) -> float:
    """Return the over-dispersion factor phi of shares around p0, robustly.

    Spiegelhalter (2005) estimates phi as the mean squared z-score after winsorising the
    extreme units; here the z-scores' spread is read from their median absolute deviation
    (scaled to an SD), which the few extreme units the funnel should show cannot inflate.
    """
    value = np.asarray(value, dtype=float)
    z = (value - p0) / np.sqrt(p0 * (1 - p0) / np.asarray(n, dtype=float))
    return float((1.4826 * np.median(np.abs(z - np.median(z)))) ** 2)


def peer_funnel(value, n, *, grid=None) -> dict | None:
    """Return the funnel limits for shares of peers: the one place they are computed.

    The funnel plot and the peer-based gaming flags both call this, so a flag and the funnel
    never disagree about the same cell. ``value`` are the units' shares and ``n`` their sizes
    (one period, all peers). The centre p0 is the median unit, so a few extreme units do not
    move it. When the units differ more than sampling noise explains (Spiegelhalter's test:
    Σz² above the 95th centile of χ²(units − 1)) and the robust dispersion factor phi is above
    1, the limits are normal limits widened by √phi (Spiegelhalter 2005, multiplicative
    over-dispersion); otherwise exact binomial limits. Returns ``{p0, overdispersed, phi,
    limits, lines}``: phi is None unless the limits were widened, ``limits`` holds arrays
    matching ``n`` and ``lines`` arrays matching ``grid`` (None without a grid). Returns None
    with fewer than 3 units or when p0 is 0 or 1 (no spread to judge against).
    """
    value = np.asarray(value, dtype=float)
    size = np.asarray(n, dtype=float)
    if len(value) < 3:
        return None
    p0 = float(np.median(value))
    if not 0 < p0 < 1:
        return None
    z = (value - p0) / np.sqrt(p0 * (1 - p0) / size)
    overdispersed = bool(np.sum(z**2) > stats.chi2.ppf(0.95, len(value) - 1))
    phi = robust_dispersion(value, size, p0) if overdispersed else None
    if phi is not None and phi > 1:
        limits = _normal_limits(p0, size, phi)
        lines = None if grid is None else _normal_limits(p0, grid, phi)
    else:
        phi = None
        limits = funnel_limits(p0, size)
        lines = None if grid is None else funnel_limits(p0, np.asarray(grid, dtype=float))
    return {"p0": p0, "overdispersed": overdispersed, "phi": phi, "limits": limits, "lines": lines}


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
