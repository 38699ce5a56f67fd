"""Correlations with their intervals (§1, §2): Pearson, Spearman, repeated-measures (within
units), between units and per unit, and the power to find a correlation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from trainer.insights.sources import Status
from trainer.insights.stats.base import (
    MIN_QUARTERS_PER_UNIT,
    MIN_UNITS_BETWEEN,
    MIN_UNITS_RM,
    add_q_values,
    demean_by_unit,
    is_constant,
    units_with_two_rows,
)


@dataclass(frozen=True)
class Corr:
    """A correlation with its interval, or a status saying why there is none.

    ``r``, ``ci_low``, ``ci_high`` and ``p`` are None unless ``status == "ok"``. ``n`` is the
    number of pairs (observations for a repeated-measures correlation, units for a between-unit
    one). ``dof`` and ``n_units`` are set for repeated-measures correlations.
    """

    r: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    p: float | None
    status: str = Status.OK
    reason: str = ""
    method: str = "pearson"
    level: str = ""
    dof: int | None = None
    n_units: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def as_dict(self) -> dict:
        return asdict(self)

    def row(self) -> dict:
        """The figures a report's row shows, under the report's names."""
        return {
            "r": self.r,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "p_value": self.p,
            "status": self.status,
            "reason": self.reason,
        }


def _no_corr(n: int, status: str, reason: str, **fields) -> Corr:
    return Corr(None, None, None, n, None, status=status, reason=reason, **fields)


def _complete_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError("x and y must have the same length")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]


def _variance_problem(x: np.ndarray, y: np.ndarray, n: int, **fields) -> Corr | None:
    for values in (x, y):
        if is_constant(values):
            return _no_corr(
                n,
                Status.INSUFFICIENT_VARIANCE,
                "One of the two measures barely varies (for example every score at the top), "
                "so a correlation would mean nothing.",
                **fields,
            )
    return None


def fisher_interval(r: float, n: int, conf: float = 0.95, se_factor: float = 1.0):
    """Return the Fisher-z interval (low, high) for a correlation r from n pairs."""
    z = math.atanh(max(min(r, 1 - 1e-15), -1 + 1e-15))
    half = stats.norm.ppf(0.5 + conf / 2) * se_factor / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def spearman_interval(rho: float, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Return the Bonett–Wright interval for Spearman's rho (SE √((1 + ρ²/2)/(n − 3)))."""
    return fisher_interval(rho, n, conf, se_factor=math.sqrt(1 + rho**2 / 2))


def pearson_ci(x, y, conf: float = 0.95) -> Corr:
    """Return Pearson's r with its Fisher-z interval and two-sided p (pairs with NaN dropped)."""
    x, y = _complete_pairs(x, y)
    n = len(x)
    if n < 4:
        return _no_corr(n, Status.INSUFFICIENT_DATA, f"Needs at least 4 pairs, has {n}.")
    problem = _variance_problem(x, y, n)
    if problem:
        return problem
    result = stats.pearsonr(x, y)
    interval = result.confidence_interval(conf)
    return Corr(
        float(result.statistic), float(interval.low), float(interval.high), n, float(result.pvalue)
    )


def spearman_ci(x, y, conf: float = 0.95) -> Corr:
    """Return Spearman's rho with its Bonett–Wright interval (pairs with NaN dropped)."""
    x, y = _complete_pairs(x, y)
    n = len(x)
    if n < 4:
        reason = f"Needs at least 4 pairs, has {n}."
        return _no_corr(n, Status.INSUFFICIENT_DATA, reason, method="spearman")
    problem = _variance_problem(x, y, n, method="spearman")
    if problem:
        return problem
    result = stats.spearmanr(x, y)
    rho = float(result.statistic)
    low, high = spearman_interval(rho, n, conf)
    return Corr(rho, low, high, n, float(result.pvalue), method="spearman")


def linear_fit(x, y) -> dict:
    """Return the least-squares line ``{"intercept", "slope"}`` for drawing under a scatter."""
    x, y = _complete_pairs(x, y)
    result = stats.linregress(x, y)
    return {"intercept": float(result.intercept), "slope": float(result.slope)}


def _within_deviations(df: pd.DataFrame, unit: str, columns: list[str]) -> pd.DataFrame:
    """Return columns minus their unit means, keeping units with at least two rows."""
    df, codes = units_with_two_rows(df, unit)
    deviations = demean_by_unit(df[columns].to_numpy(dtype=float), codes)
    result = pd.DataFrame(deviations, columns=columns, index=df.index)
    result[unit] = df[unit].to_numpy()
    return result


def rm_corr(df: pd.DataFrame, unit: str, x: str, y: str, conf: float = 0.95) -> Corr:
    """Return the repeated-measures (within-unit) correlation of x and y.

    Bland & Altman 1995 / Bakdash & Marusich 2017: the ANCOVA ``y ~ C(unit) + x`` gives
    r_rm = sign(β_x)·√(SS_x/(SS_x + SS_resid)) with dof = N − units − 1. That equals the
    correlation of the unit-demeaned values, which is how it is computed here. The Fisher-z
    interval uses n = dof + 2. ``n`` is the number of observations; units with a single
    observation carry no within-unit information and are left out.
    """
    data = df[[unit, x, y]].dropna()
    deviations = _within_deviations(data, unit, [x, y])
    n = len(deviations)
    n_units = int(deviations[unit].nunique())
    fields = {"method": "rm_corr", "level": "within", "n_units": n_units}
    if n_units < MIN_UNITS_RM:
        return _no_corr(
            n,
            Status.INSUFFICIENT_DATA,
            f"Needs at least {MIN_UNITS_RM} units with two or more quarters, has {n_units}.",
            **fields,
        )
    dof = n - n_units - 1
    if dof < 2:
        return _no_corr(n, Status.INSUFFICIENT_DATA, "Too few quarters per unit.", **fields)
    dx = deviations[x].to_numpy()
    dy = deviations[y].to_numpy()
    problem = _variance_problem(dx, dy, n, **fields)
    if problem:
        return problem
    r = float(np.sum(dx * dy) / math.sqrt(np.sum(dx**2) * np.sum(dy**2)))
    r = max(min(r, 1.0), -1.0)
    if abs(r) < 1:
        t = r * math.sqrt(dof / (1 - r**2))
        p = float(2 * stats.t.sf(abs(t), dof))
    else:
        p = 0.0
    low, high = fisher_interval(r, dof + 2, conf)
    return Corr(r, low, high, n, p, dof=dof, **fields)


def between_corr(
    df: pd.DataFrame, unit: str, x: str, y: str, method: str = "pearson", conf: float = 0.95
) -> Corr:
    """Return the correlation of unit means of x and y (n = number of units, at least 10)."""
    means = df.groupby(unit)[[x, y]].mean().dropna()
    n = len(means)
    fields = {"method": method, "level": "between"}
    if n < MIN_UNITS_BETWEEN:
        return _no_corr(
            n,
            Status.INSUFFICIENT_DATA,
            f"Needs at least {MIN_UNITS_BETWEEN} units, has {n}.",
            **fields,
        )
    compute = {"pearson": pearson_ci, "spearman": spearman_ci}[method]
    result = compute(means[x], means[y], conf)
    return Corr(**{**result.as_dict(), **fields})


def per_unit_corr(
    df: pd.DataFrame, unit: str, period: str, x: str, y: str, method: str = "spearman"
) -> list[dict]:
    """Return each unit's own correlation of x and y over its quarters (exploratory).

    Each row is ``{unit, r, ci_low, ci_high, n, p_value, q_value, status, reason,
    exploratory: True}``; a unit with fewer than MIN_QUARTERS_PER_UNIT quarters gets
    "insufficient_data". q-values are Benjamini–Hochberg across the units that have a result.
    """
    compute = {"pearson": pearson_ci, "spearman": spearman_ci}[method]
    rows = []
    for code, group in df.sort_values(period).groupby(unit, sort=True):
        pairs = group[[x, y]].dropna()
        if len(pairs) < MIN_QUARTERS_PER_UNIT:
            result = _no_corr(
                len(pairs),
                Status.INSUFFICIENT_DATA,
                f"Needs at least {MIN_QUARTERS_PER_UNIT} quarters, has {len(pairs)}.",
            )
        else:
            result = compute(pairs[x], pairs[y])
        rows.append(
            {
                "unit": code,
                **result.row(),
                "exploratory": True,
            }
        )
    add_q_values(rows)
    return rows
