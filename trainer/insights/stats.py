"""Relate team morale to customer outcomes, honestly.

Pure functions over pandas DataFrames or plain sequences; no Flask, no database. The rules come
from shared/reference/statistics.md (cited below as §n). Every correlation carries its n, a 95 %
interval and a within- or between-unit label, and a figure below its minimum comes back with a
``status`` and a plain ``reason`` instead of a number.

Data shapes
-----------
- A **panel** has one row per org unit × quarter: a unit column, a period column whose values sort
  in time order (``"2026Q3"``), and numeric metric columns (missing values as NaN).
- A **responses** frame has one row per individual answer: unit, period and a numeric score.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.tools.sm_exceptions import ModelWarning

# Minimum data, §4 and anonymity.md §3.
MIN_RESPONDENTS = 5
LOW_PRECISION_BELOW = 10
MIN_QUARTERS_PER_UNIT = 8
MIN_UNITS_BETWEEN = 10
MIN_UNITS_RM = 3
# The headline panel model clusters its standard errors by unit, which is unreliable with few
# clusters, so it asks for as many units as a between-unit correlation.
MIN_UNITS_HEADLINE = MIN_UNITS_BETWEEN
# How much units' slopes differ is a between-unit quantity, so the shrinkage model asks for as
# many units as a between-unit correlation.
MIN_UNITS_SHRINKAGE = MIN_UNITS_BETWEEN

OK = "ok"
INSUFFICIENT_DATA = "insufficient_data"
INSUFFICIENT_VARIANCE = "insufficient_variance"
DID_NOT_CONVERGE = "did_not_converge"

DIRECTIONS = ("morale_leads", "customer_leads")


# --------------------------------------------------------------------------------------------
# Result types


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
    status: str = OK
    reason: str = ""
    method: str = "pearson"
    level: str = ""
    dof: int | None = None
    n_units: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Mean:
    """A mean with its t-interval, or a status saying why it cannot be shown."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    status: str = OK
    reason: str = ""
    low_precision: bool = False


def _no_corr(n: int, status: str, reason: str, **fields) -> Corr:
    return Corr(None, None, None, n, None, status=status, reason=reason, **fields)


def _is_constant(values: np.ndarray) -> bool:
    """Say whether values are (numerically) constant, e.g. a score stuck at the ceiling."""
    if len(values) == 0:
        return True
    spread = float(np.std(values))
    return spread <= 1e-9 * max(1.0, float(np.max(np.abs(values))))


def _complete_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError("x and y must have the same length")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]


def _variance_problem(x: np.ndarray, y: np.ndarray, n: int, **fields) -> Corr | None:
    for values in (x, y):
        if _is_constant(values):
            return _no_corr(
                n,
                INSUFFICIENT_VARIANCE,
                "One of the two measures barely varies (for example every score at the top), "
                "so a correlation would mean nothing.",
                **fields,
            )
    return None


# --------------------------------------------------------------------------------------------
# Means and correlations (§1, §2)


def unit_quarter_mean(scores: Sequence[float], conf: float = 0.95) -> Mean:
    """Return the mean of one unit-quarter's answers with a t-interval.

    Below MIN_RESPONDENTS the mean is withheld; below LOW_PRECISION_BELOW it is flagged.
    """
    values = np.asarray(scores, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n < MIN_RESPONDENTS:
        return Mean(
            None,
            None,
            None,
            n,
            INSUFFICIENT_DATA,
            f"Not enough responses to protect anonymity (needs {MIN_RESPONDENTS}).",
        )
    mean = float(values.mean())
    half = stats.t.ppf(0.5 + conf / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    low_precision = n < LOW_PRECISION_BELOW
    reason = f"Low precision: only {n} responses." if low_precision else ""
    return Mean(mean, mean - half, mean + half, n, OK, reason, low_precision)


def fisher_interval(r: float, n: int, conf: float = 0.95, se_factor: float = 1.0):
    """Return the Fisher-z interval (low, high) for a correlation r from n pairs."""
    z = math.atanh(max(min(r, 1 - 1e-15), -1 + 1e-15))
    half = stats.norm.ppf(0.5 + conf / 2) * se_factor / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def correlation_power(r: float, n: int, alpha: float = 0.05) -> float:
    """Return the chance that a two-sided test at `alpha` finds a true correlation `r` from n
    pairs (Fisher-z approximation, the same scale as `fisher_interval`)."""
    if n <= 3:
        return alpha
    shift = abs(math.atanh(r)) * math.sqrt(n - 3)
    critical = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift))


def spearman_interval(rho: float, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Return the Bonett–Wright interval for Spearman's rho (SE √((1 + ρ²/2)/(n − 3)))."""
    return fisher_interval(rho, n, conf, se_factor=math.sqrt(1 + rho**2 / 2))


def pearson_ci(x, y, conf: float = 0.95) -> Corr:
    """Return Pearson's r with its Fisher-z interval and two-sided p (pairs with NaN dropped)."""
    x, y = _complete_pairs(x, y)
    n = len(x)
    if n < 4:
        return _no_corr(n, INSUFFICIENT_DATA, f"Needs at least 4 pairs, has {n}.")
    problem = _variance_problem(x, y, n)
    if problem:
        return problem
    result = stats.pearsonr(x, y)
    interval = result.confidence_interval(conf)
    return Corr(
        float(result.statistic),
        float(interval.low),
        float(interval.high),
        n,
        float(result.pvalue),
    )


def spearman_ci(x, y, conf: float = 0.95) -> Corr:
    """Return Spearman's rho with its Bonett–Wright interval (pairs with NaN dropped)."""
    x, y = _complete_pairs(x, y)
    n = len(x)
    if n < 4:
        reason = f"Needs at least 4 pairs, has {n}."
        return _no_corr(n, INSUFFICIENT_DATA, reason, method="spearman")
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


def _demean_by_unit(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Subtract each unit's column means from its rows (values is rows × columns)."""
    counts = np.bincount(codes)
    sums = np.column_stack(
        [np.bincount(codes, weights=column, minlength=counts.size) for column in values.T]
    )
    return values - (sums / counts[:, None])[codes]


def _units_with_two_rows(df: pd.DataFrame, unit: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop units with a single row (no within-unit information); return rows and unit codes."""
    codes = pd.factorize(df[unit])[0]
    df = df[np.bincount(codes)[codes] >= 2]
    return df, pd.factorize(df[unit])[0]


def _within_deviations(df: pd.DataFrame, unit: str, columns: list[str]) -> pd.DataFrame:
    """Return columns minus their unit means, keeping units with at least two rows."""
    df, codes = _units_with_two_rows(df, unit)
    deviations = _demean_by_unit(df[columns].to_numpy(dtype=float), codes)
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
            INSUFFICIENT_DATA,
            f"Needs at least {MIN_UNITS_RM} units with two or more quarters, has {n_units}.",
            **fields,
        )
    dof = n - n_units - 1
    if dof < 2:
        return _no_corr(n, INSUFFICIENT_DATA, "Too few quarters per unit.", **fields)
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
            n, INSUFFICIENT_DATA, f"Needs at least {MIN_UNITS_BETWEEN} units, has {n}.", **fields
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
                INSUFFICIENT_DATA,
                f"Needs at least {MIN_QUARTERS_PER_UNIT} quarters, has {len(pairs)}.",
            )
        else:
            result = compute(pairs[x], pairs[y])
        rows.append(
            {
                "unit": code,
                "r": result.r,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "n": result.n,
                "p_value": result.p,
                "status": result.status,
                "reason": result.reason,
                "exploratory": True,
            }
        )
    _add_q_values(rows)
    return rows


def _add_q_values(rows: list[dict]) -> None:
    """Add Benjamini–Hochberg ``q_value`` to rows that have a p-value (None elsewhere)."""
    tested = [row for row in rows if row["p_value"] is not None]
    for row in rows:
        row["q_value"] = None
    if tested:
        _, q_values, _, _ = multipletests([row["p_value"] for row in tested], method="fdr_bh")
        for row, q in zip(tested, q_values, strict=True):
            row["q_value"] = float(q)


# --------------------------------------------------------------------------------------------
# Panels: lags, lead/lag grid and the headline model (§3)


def _lag_name(column: str, lag: int) -> str:
    return f"{column}__lag{lag}"


def lagged_panel(
    panel: pd.DataFrame,
    unit: str,
    period: str,
    columns: Sequence[str],
    lags: Sequence[int] = (1,),
) -> pd.DataFrame:
    """Return the panel with ``<column>__lag<k>`` columns holding the value k quarters earlier.

    Quarters are ranked over the whole panel's sorted periods, and a lag is taken only from the
    quarter exactly k steps back, so a missing quarter leaves a gap instead of pairing quarters
    that are further apart.
    """
    if panel.duplicated([unit, period]).any():
        raise ValueError("the panel must have one row per unit and period")
    frame = panel.copy()
    rank = {value: i for i, value in enumerate(sorted(frame[period].unique()))}
    frame["_rank"] = frame[period].map(rank)
    for lag in lags:
        earlier = frame[[unit, "_rank", *columns]].copy()
        earlier["_rank"] += lag
        earlier = earlier.rename(columns={c: _lag_name(c, lag) for c in columns})
        frame = frame.merge(earlier, on=[unit, "_rank"], how="left")
    return frame.drop(columns="_rank")


def _drop_small_morale(panel: pd.DataFrame, morale: str, morale_n: str | None) -> pd.DataFrame:
    if morale_n is None:
        return panel
    panel = panel.copy()
    panel.loc[panel[morale_n] < MIN_RESPONDENTS, morale] = np.nan
    return panel


def lag_grid(
    panel: pd.DataFrame,
    unit: str,
    period: str,
    morale: str,
    customer: str,
    lags: Sequence[int] = (0, 1, 2),
    *,
    morale_n: str | None = None,
) -> list[dict]:
    """Return the exploratory lead/lag profile of within-unit (rm_corr) correlations.

    For each lag k > 0 there are two rows: ``"morale_leads"`` pairs customer[t] with
    morale[t − k]; ``"customer_leads"`` pairs morale[t] with customer[t − k]. Lag 0 appears once,
    with direction ``"same_quarter"``. Each row is ``{lag, direction, within_r, ci_low, ci_high,
    n, n_units, dof, p_value, q_value, status, reason}``; q-values are Benjamini–Hochberg across
    the rows of the grid that have a result. If ``morale_n`` names a respondent-count column,
    morale below MIN_RESPONDENTS is treated as missing.
    """
    panel = _drop_small_morale(panel, morale, morale_n)
    positive = [lag for lag in lags if lag > 0]
    frame = lagged_panel(panel, unit, period, [morale, customer], positive)
    cells = []
    for lag in lags:
        if lag == 0:
            cells.append((0, "same_quarter", morale, customer))
        else:
            cells.append((lag, "morale_leads", _lag_name(morale, lag), customer))
            cells.append((lag, "customer_leads", _lag_name(customer, lag), morale))
    rows = []
    for lag, direction, earlier, later in cells:
        result = rm_corr(frame, unit, earlier, later)
        rows.append(
            {
                "lag": lag,
                "direction": direction,
                "within_r": result.r,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "n": result.n,
                "n_units": result.n_units,
                "dof": result.dof,
                "p_value": result.p,
                "status": result.status,
                "reason": result.reason,
            }
        )
    _add_q_values(rows)
    return rows


def _standardise_within(deviations: np.ndarray) -> np.ndarray:
    return deviations / deviations.std(ddof=1)


def _fit_direction(
    values: np.ndarray, units: np.ndarray, quarters: np.ndarray, conf: float
) -> dict:
    """Fit outcome ~ predictor [+ lagged outcome] + unit + quarter fixed effects.

    ``values`` holds rows × [outcome, predictor, optional lagged outcome]; ``units`` and
    ``quarters`` are integer codes per row. Rows with a missing value, units left with a single
    row and quarters left with a single unit are dropped. Unit effects are absorbed by
    demeaning every column within unit (Frisch–Waugh–Lovell gives the same coefficients as unit
    dummies); quarter dummies are demeaned the same way. Outcome and predictor are divided by
    their within-unit SD, so the estimate is in within-unit SDs of the outcome per within-unit
    SD of the predictor. The
    regression is statsmodels' OLS with standard errors clustered by unit by the
    leave-one-unit-out jackknife (``cov_type="cluster-crv3"``) and t-based inference on
    units − 1 degrees of freedom: the usual CR1 errors reject a true null too often with 40
    units (MacKinnon, Nielsen & Webb 2023, J. Econometrics 232:272).
    """
    keep = ~np.isnan(values).any(axis=1)
    # A unit with one row says nothing within units, and a quarter with one row (one unit: a
    # panel has one row per unit and quarter) is fitted exactly by its own dummy and would leave
    # a leave-one-unit-out fit rank-deficient. Dropping either can make more of the other.
    while keep.any():
        rows_per_unit = np.bincount(units[keep], minlength=units.max() + 1)
        rows_per_quarter = np.bincount(quarters[keep], minlength=quarters.max() + 1)
        thin = keep & ((rows_per_unit[units] < 2) | (rows_per_quarter[quarters] < 2))
        if not thin.any():
            break
        keep &= ~thin
    values, units, quarters = values[keep], units[keep], quarters[keep]
    units = np.unique(units, return_inverse=True)[1]
    dummies = (quarters[:, None] == np.unique(quarters)[1:]).astype(float)
    deviations = _demean_by_unit(np.column_stack([values, dummies]), units)
    n_obs = len(deviations)
    n_units = int(units.max()) + 1 if n_obs else 0
    base = {"n_obs": n_obs, "n_units": n_units, "lagged_outcome": values.shape[1] == 3}
    if n_units < MIN_UNITS_HEADLINE:
        return {
            **base,
            "status": INSUFFICIENT_DATA,
            "reason": f"Needs at least {MIN_UNITS_HEADLINE} units with two or more "
            f"consecutive quarters, has {n_units}.",
        }
    if _is_constant(deviations[:, 0]) or _is_constant(deviations[:, 1]):
        return {
            **base,
            "status": INSUFFICIENT_VARIANCE,
            "reason": "A measure barely changes within units, so there is nothing to relate.",
        }
    y = _standardise_within(deviations[:, 0])
    # Column 0 is the predictor; drop quarter columns that demeaning emptied.
    regressors = deviations[:, 1:]
    regressors = regressors[:, np.abs(regressors).max(axis=0) > 1e-12]
    regressors[:, 0] = _standardise_within(regressors[:, 0])
    if n_obs <= regressors.shape[1] + n_units:
        return {**base, "status": INSUFFICIENT_DATA, "reason": "Too few quarters per unit."}
    try:
        fit = sm.OLS(y, regressors).fit(cov_type="cluster-crv3", cov_kwds={"groups": units},
                                        use_t=True)
    except (ValueError, np.linalg.LinAlgError):  # a leave-one-unit-out fit is not identified
        return {**base, "status": INSUFFICIENT_DATA,
                "reason": "Too few units share each quarter to estimate reliable errors."}
    ci_low, ci_high = fit.conf_int(alpha=1 - conf)[0]
    return {
        **base,
        "status": OK,
        "reason": "",
        "estimate": float(fit.params[0]),
        "se": float(fit.bse[0]),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "p_value": float(fit.pvalues[0]),
    }


def _excludes_zero(fit: dict) -> bool:
    return fit["status"] == OK and (fit["ci_low"] > 0 or fit["ci_high"] < 0)


def _robustly_excludes_zero(fit: dict) -> bool:
    """Say whether a direction's interval excludes 0 with and without the lagged outcome."""
    plain = fit["without_lagged_outcome"]
    return (
        _excludes_zero(fit)
        and _excludes_zero(plain)
        and math.copysign(1, fit["estimate"]) == math.copysign(1, plain["estimate"])
    )


def headline_model(
    panel: pd.DataFrame,
    unit: str,
    period: str,
    morale: str,
    customer: str,
    lag: int = 1,
    *,
    morale_n: str | None = None,
    conf: float = 0.95,
) -> dict:
    """Fit the pre-registered mirror pair of §3 and decide which direction, if any, to claim.

    ::

        customer[i,t] ~ morale[i,t-lag] + customer[i,t-lag] + unit_i + quarter_t   (morale_leads)
        morale[i,t]   ~ customer[i,t-lag] + morale[i,t-lag] + unit_i + quarter_t   (customer_leads)

    Both are also fitted without the lagged outcome (Nickell 1981 bias check), reported under
    ``both[direction]["without_lagged_outcome"]``; the model with the lagged outcome is the
    headline. Estimates are standardised by within-unit SDs; SEs are clustered by unit.

    Decision rule: two directions are two tests, so each direction's 95 % interval is a
    simultaneous one (Bonferroni: each at 97.5 %), and ``p_adjusted`` = min(1, 2p). A direction
    is claimed only if its interval excludes 0, and the model without the lagged outcome agrees
    (its interval also excludes 0, with the same sign); if both directions qualify, the one with
    the smaller p wins; otherwise ``direction`` is "none". The agreement check guards against
    each specification's own bias (Nickell's for the lagged outcome, persistence for the model
    without it). In simulation this claims a link on about 5 % of null panels or fewer.

    Returns ``{direction, lag, estimate, ci_low, ci_high, p_value, p_adjusted, n_units, n_obs,
    n_quarters, method, status, reason, both: {"morale_leads": {...}, "customer_leads": {...}}}``.
    ``estimate``/``ci_*``/``p_*`` are those of the claimed direction and None when none is
    claimed; each entry of ``both`` carries ``estimate, se, ci_low, ci_high, p_value,
    p_adjusted, n_obs, n_units, status, reason, outcome, predictor, without_lagged_outcome``.
    """
    if lag < 1:
        raise ValueError("the headline model needs a lag of at least one quarter")
    panel = _drop_small_morale(panel, morale, morale_n)
    frame = lagged_panel(panel, unit, period, [morale, customer], [lag])
    units = pd.factorize(frame[unit])[0]
    quarters = pd.factorize(frame[period], sort=True)[0]
    simultaneous = 1 - (1 - conf) / len(DIRECTIONS)
    variables = {
        "morale_leads": (customer, _lag_name(morale, lag), _lag_name(customer, lag)),
        "customer_leads": (morale, _lag_name(customer, lag), _lag_name(morale, lag)),
    }
    both = {}
    for direction, (outcome, predictor, lagged_outcome) in variables.items():
        columns = [outcome, predictor, lagged_outcome]
        main = _fit_direction(frame[columns].to_numpy(float), units, quarters, simultaneous)
        plain = _fit_direction(frame[columns[:2]].to_numpy(float), units, quarters, simultaneous)
        for result in (main, plain):
            if result["status"] == OK:
                result["p_adjusted"] = min(1.0, result["p_value"] * len(DIRECTIONS))
        both[direction] = {
            **main,
            "outcome": outcome,
            "predictor": predictor.split("__lag")[0],
            "without_lagged_outcome": plain,
        }
    primary = both["morale_leads"]
    result = {
        "direction": "none",
        "lag": lag,
        "estimate": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
        "p_adjusted": None,
        "n_units": primary["n_units"],
        "n_obs": primary["n_obs"],
        "n_quarters": int(panel[period].nunique()),
        "conf": conf,
        "method": (
            "Two-way fixed effects (unit and quarter) regression with the lagged outcome, "
            "variables standardised within units, statsmodels OLS with jackknife (CRV3) standard "
            "errors clustered by unit, "
            f"{conf:.0%} intervals simultaneous over both directions"
        ),
        "status": OK,
        "reason": "",
        "both": both,
    }
    failed = [both[d] for d in DIRECTIONS if both[d]["status"] != OK]
    if failed:
        result["status"] = failed[0]["status"]
        result["reason"] = failed[0]["reason"]
        return result
    claimed = [d for d in DIRECTIONS if _robustly_excludes_zero(both[d])]
    if claimed:
        winner = min(claimed, key=lambda d: both[d]["p_value"])
        chosen = both[winner]
        result.update(
            direction=winner,
            estimate=chosen["estimate"],
            ci_low=chosen["ci_low"],
            ci_high=chosen["ci_high"],
            p_value=chosen["p_value"],
            p_adjusted=chosen["p_adjusted"],
            n_units=chosen["n_units"],
            n_obs=chosen["n_obs"],
        )
    return result


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _when(lag: int) -> str:
    return "the next quarter" if lag == 1 else f"{lag} quarters later"


def _estimate_text(details: dict) -> str:
    return (
        f"estimate {_number(details['estimate'])}, 95% CI {_number(details['ci_low'])} "
        f"to {_number(details['ci_high'])}"
    )


def plain_sentence(headline: dict, metric_label: str, unit_label: str = "sites") -> str:
    """Return a sentence a manager can read for a ``headline_model`` result (§9)."""
    caveat = "Correlation, not causation."
    if headline["status"] != OK:
        return f"Not enough data yet to relate morale to {metric_label}: {headline['reason']}"
    size = f"{headline['n_units']} {unit_label}, {headline['n_quarters']} quarters"
    when = _when(headline["lag"])
    both = headline["both"]
    direction = headline["direction"]
    if direction == "none":
        return (
            f"We found no clear link between morale and {metric_label} one quarter apart"
            if headline["lag"] == 1
            else f"We found no clear link between morale and {metric_label} "
            f"{headline['lag']} quarters apart"
        ) + (
            f" in either direction (morale first: {_estimate_text(both['morale_leads'])}; "
            f"{metric_label} first: {_estimate_text(both['customer_leads'])}; {size}). "
            f"This does not show that there is no link, only that these data cannot tell. "
            f"{caveat}"
        )
    moved = "rise" if headline["estimate"] > 0 else "fall"
    if direction == "morale_leads":
        first, second, reverse = "morale", metric_label, both["customer_leads"]
        reverse_label = f"{metric_label} first"
    else:
        first, second, reverse = metric_label, "morale", both["morale_leads"]
        reverse_label = "morale first"
    subject = unit_label.capitalize()
    return (
        f"{subject} whose {first} rose tended to see {second} {moved} {when} "
        f"({_estimate_text(headline)}; {size}). "
        f"The reverse order ({reverse_label}): {_estimate_text(reverse)}. {caveat}"
    )


# --------------------------------------------------------------------------------------------
# Shrinkage (§5): per-unit slopes from a mixed model

# Tried in turn: Powell is slower, but settles on panels where the gradient method stalls.
_OPTIMIZERS = ("bfgs", "powell")
_SLOPE_EFFECT = "morale[morale]"  # the random slope's name in ``result.random_effects``
# Warnings about the fit itself: statsmodels' model warnings and numerical ones.
_FIT_TROUBLE = (ModelWarning, RuntimeWarning)
# A variance estimated at zero is a legitimate answer (units do not differ beyond noise); these
# are the only warnings a fit may raise and still be used. At zero, the curvature in that
# variance is flat too, so statsmodels' Hessian check fails alongside; that is allowed only then.
_AT_BOUNDARY = ("on the boundary", "covariance is singular")
_FLAT_AT_BOUNDARY = "Hessian matrix at the estimated parameter values is not positive definite"
_NO_SPREAD = 1e-6  # a slope variance below this (standardised units) counts as zero


def _fit_quietly(model, *, with_slopes: bool) -> dict | None:
    """Fit a MixedLM with each optimizer in turn; return the first usable fit, or None.

    Returns ``{fixed, fixed_variance, slope_variance, random_intercept_only, blups,
    conditional}``: the fixed slope of morale and its variance and, with ``with_slopes``, the
    variance of the units' slopes and each unit's random slope (BLUP) with its conditional
    variance (``blups`` is None when the slopes' variance is estimated at zero).

    Convergence and numerical warnings are caught here and never reach the caller: a fit that
    did not converge, or warned about anything but a variance at zero, is not used. Any other
    warning (a deprecation, say) is passed on.
    """
    for method in _OPTIMIZERS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                found = _fit_once(model, method, with_slopes)
            except np.linalg.LinAlgError:
                found = None
        trouble = [str(w.message) for w in caught if issubclass(w.category, _FIT_TROUBLE)]
        for other in caught:
            if not issubclass(other.category, _FIT_TROUBLE):
                warnings.warn_explicit(other.message, other.category, other.filename,
                                       other.lineno)
        if found is not None and _only_boundary(trouble):
            return found
    return None


def _only_boundary(messages: list[str]) -> bool:
    """Say whether a fit's warnings only report a variance estimated at zero."""
    boundary = [m for m in messages if any(b in m for b in _AT_BOUNDARY)]
    return all(m in boundary or (bool(boundary) and _FLAT_AT_BOUNDARY in m) for m in messages)


def _fit_once(model, method: str, with_slopes: bool) -> dict | None:
    result = model.fit(method=[method])
    if not result.converged:
        return None
    estimates = {
        "fixed": float(result.fe_params["morale"]),
        "fixed_variance": float(result.bse_fe["morale"]) ** 2,
        "slope_variance": float(result.vcomp[0]) if with_slopes else 0.0,
    }
    if not all(map(math.isfinite, estimates.values())) or estimates["fixed_variance"] <= 0:
        return None
    found = {**estimates, "random_intercept_only": not with_slopes, "blups": None,
             "conditional": None}
    if found["slope_variance"] < _NO_SPREAD:
        return found
    try:
        effects, covariances = result.random_effects, result.random_effects_cov
    except ValueError:  # statsmodels: "Cannot predict random effects from singular covariance"
        return None
    found["blups"] = {unit: float(effect[_SLOPE_EFFECT]) for unit, effect in effects.items()}
    found["conditional"] = {unit: float(cov.loc[_SLOPE_EFFECT, _SLOPE_EFFECT])
                            for unit, cov in covariances.items()}
    return found


def shrunken_slopes(
    panel: pd.DataFrame,
    unit: str,
    morale: str,
    customer: str,
    *,
    morale_n: str | None = None,
    conf: float = 0.95,
) -> dict:
    """Return each unit's same-quarter slope of customer on morale, shrunk toward all units'.

    One unit's 8 quarters give a very noisy slope, so per-unit displays use the mixed model's
    BLUPs (§5). Both measures are standardised as in the headline model: morale is the
    deviation from the unit's mean and both are divided by their pooled within-unit SD, so a
    slope is in within-unit SDs of the customer metric per within-unit SD of morale. The model
    ``customer ~ morale`` (statsmodels MixedLM, REML) has a random intercept per unit, which
    takes the unit's customer level, and a random slope, independent of it: morale is centred
    within units, and a free correlation estimated from a few units would let a unit's customer
    level move its slope. A unit's shrunken slope is the fixed slope plus its BLUP from
    ``result.random_effects``, so the units with the least information move furthest toward
    the common slope.

    The interval is the BLUP's 95 % prediction interval given the variance estimates: the
    conditional variance from ``result.random_effects_cov`` plus the fixed slope's variance
    weighted by how far the unit is pulled. It ignores the uncertainty in the estimated spread
    of slopes, so it is approximate and somewhat narrow (it covered about 90 % of true slopes in
    simulations with 30 units × 8 quarters). When the spread is estimated at zero or not
    estimated (the fallback), no unit gets an interval of its own: the common slope's interval
    would claim a certainty about each unit that the data do not give.

    When the slopes' variance is estimated at zero (a singular fit), every unit gets the common
    slope and ``reason`` says so; the status stays "ok", as with no detectable spread the
    common slope is each unit's best estimate. When that model cannot be fitted (it does not
    converge, or warns), a random-intercept model gives the common slope instead (``model``
    "random_intercept"); if that fails too, the status is "did_not_converge". A random
    intercept's variance at zero is accepted. Units with fewer than two quarters with both
    measures are left out.

    Returns ``{status, reason, model ("random_slope", "random_intercept" or None),
    fixed_slope, ci_low, ci_high, slope_sd, n_units, n_obs, level: "within", method,
    units: [{unit, shrunk_slope, ci_low, ci_high, raw_slope, n}]}``; ``raw_slope`` is the
    unit's own least-squares slope on the same scale (None when its morale never changed).
    """
    panel = _drop_small_morale(panel, morale, morale_n)
    data = panel[[unit, morale, customer]].dropna()
    data, codes = _units_with_two_rows(data, unit)
    deviations = _demean_by_unit(data[[morale, customer]].to_numpy(dtype=float), codes)
    n_obs = len(data)
    n_units = int(codes.max()) + 1 if n_obs else 0
    result = {
        "status": OK,
        "reason": "",
        "model": None,
        "fixed_slope": None,
        "ci_low": None,
        "ci_high": None,
        "slope_sd": None,
        "n_units": n_units,
        "n_obs": n_obs,
        "level": "within",
        "method": "",
        "units": [],
    }
    if n_units < MIN_UNITS_SHRINKAGE:
        return {
            **result,
            "status": INSUFFICIENT_DATA,
            "reason": f"Needs at least {MIN_UNITS_SHRINKAGE} units with two or more quarters, "
            f"has {n_units}.",
        }
    if _is_constant(deviations[:, 0]) or _is_constant(deviations[:, 1]):
        return {
            **result,
            "status": INSUFFICIENT_VARIANCE,
            "reason": "A measure barely changes within units, so there is nothing to relate.",
        }
    y_scale = deviations[:, 1].std(ddof=1)
    frame = pd.DataFrame(
        {
            "unit": data[unit].to_numpy(),
            "morale": _standardise_within(deviations[:, 0]),
            "customer": (data[customer].to_numpy(dtype=float) - data[customer].mean()) / y_scale,
            "customer_within": deviations[:, 1] / y_scale,
        }
    )
    found = _fit_quietly(
        smf.mixedlm("customer ~ morale", frame, groups=frame["unit"], re_formula="1",
                    vc_formula={"morale": "0 + morale"}),
        with_slopes=True,
    )
    if found is not None and found["blups"] is None:
        result["reason"] = (
            "The units' slopes could not be told apart from the common slope, so every unit "
            "shows the common slope."
        )
    elif found is None:
        result["reason"] = (
            "The model with a slope per unit could not be fitted to these data, so every unit "
            "shows the common slope of a model without one."
        )
        found = _fit_quietly(smf.mixedlm("customer ~ morale", frame, groups=frame["unit"]),
                             with_slopes=False)
    if found is None:
        return {
            **result,
            "status": DID_NOT_CONVERGE,
            "reason": "The mixed model did not settle on an answer for these data, so no "
            "unit's estimate is shown.",
        }
    fixed, fixed_variance = found["fixed"], found["fixed_variance"]
    slope_variance = found["slope_variance"] if found["blups"] else 0.0
    z = float(stats.norm.ppf(0.5 + conf / 2))
    half = z * math.sqrt(fixed_variance)
    result.update(
        model="random_intercept" if found["random_intercept_only"] else "random_slope",
        fixed_slope=fixed,
        ci_low=fixed - half,
        ci_high=fixed + half,
        slope_sd=math.sqrt(slope_variance),
        method="Mixed model (statsmodels MixedLM, REML), variables standardised within units, "
        + (
            "with a random intercept and an independent random slope per unit; each unit's "
            "slope is the fixed slope plus its BLUP"
            if not found["random_intercept_only"]
            else "with a random intercept per unit; every unit gets the fixed slope"
        ),
    )
    for code, rows in frame.groupby("unit", sort=True):
        x = rows["morale"].to_numpy()
        raw = None
        if not _is_constant(x):
            raw = float(np.sum(x * rows["customer_within"].to_numpy()) / np.sum(x**2))
        blup, low, high = 0.0, None, None
        if found["blups"]:
            blup, conditional = found["blups"][code], found["conditional"][code]
            # The share of the fixed slope's error a unit inherits: all of it when fully pulled.
            pulled = conditional / slope_variance
            half = z * math.sqrt(conditional + pulled**2 * fixed_variance)
            low, high = fixed + blup - half, fixed + blup + half
        result["units"].append(
            {
                "unit": code,
                "shrunk_slope": fixed + blup,
                "ci_low": low,
                "ci_high": high,
                "raw_slope": raw,
                "n": len(rows),
            }
        )
    return result


# --------------------------------------------------------------------------------------------
# NPS (§6)


def nps_from_shares(p: float, d: float, n: int) -> dict:
    """Return ``{nps, moe, n, promoter_share, detractor_share, status, reason}`` from shares.

    MOE₉₅ = 100·1.96·√((P + D − (P − D)²)/n) NPS points.
    """
    if n < MIN_RESPONDENTS:
        return {
            "nps": None,
            "moe": None,
            "n": n,
            "promoter_share": None,
            "detractor_share": None,
            "status": INSUFFICIENT_DATA,
            "reason": f"Needs at least {MIN_RESPONDENTS} responses, has {n}.",
        }
    variance = p + d - (p - d) ** 2
    return {
        "nps": 100 * (p - d),
        "moe": float(100 * stats.norm.ppf(0.975) * math.sqrt(variance / n)),
        "n": n,
        "promoter_share": p,
        "detractor_share": d,
        "status": OK,
        "reason": "",
    }


def nps(scores: Sequence[float]) -> dict:
    """Return NPS from 0–10 scores: ``{nps, moe, n, promoters, passives, detractors, ...}``.

    Promoters score 9–10, passives 7–8, detractors 0–6; the three counts are included.
    """
    values = np.asarray(scores, dtype=float)
    values = values[~np.isnan(values)]
    if ((values < 0) | (values > 10)).any():
        raise ValueError("NPS scores must be between 0 and 10")
    n = len(values)
    promoters = int((values >= 9).sum())
    detractors = int((values <= 6).sum())
    counts = {
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
    }
    if n == 0:
        return {**nps_from_shares(0.0, 0.0, 0), **counts}
    return {**nps_from_shares(promoters / n, detractors / n, n), **counts}


def nps_change_is_noise(a: dict, b: dict) -> bool:
    """Say whether the change between two ``nps`` results is within noise (< 1.96·SE)."""
    se_a = a["moe"] / stats.norm.ppf(0.975)
    se_b = b["moe"] / stats.norm.ppf(0.975)
    return abs(b["nps"] - a["nps"]) < stats.norm.ppf(0.975) * math.sqrt(se_a**2 + se_b**2)


# --------------------------------------------------------------------------------------------
# Reliability (§7)


def cronbach_alpha(
    df_items: pd.DataFrame, listwise: bool = False, conf: float = 0.95
) -> tuple[float, float, float]:
    """Return (alpha, ci_low, ci_high) for a respondents × items frame, with a Feldt interval.

    Missing answers are handled pairwise by ``DataFrame.cov()`` unless ``listwise`` drops every
    incomplete row. The interval always uses the row count before any deletion, as R's
    ``psych::alpha`` does.
    """
    n, k = df_items.shape
    if k < 2 or n < 2:
        raise ValueError("Cronbach's alpha needs at least two items and two respondents")
    data = df_items.dropna() if listwise else df_items
    covariance = data.cov()
    alpha = k / (k - 1) * (1 - np.trace(covariance) / covariance.to_numpy().sum())
    df1 = n - 1
    df2 = df1 * (k - 1)
    tail = (1 - conf) / 2
    low = 1 - (1 - alpha) * stats.f.ppf(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * stats.f.ppf(tail, df1, df2)
    return float(alpha), float(low), float(high)


def icc1_icc2(df: pd.DataFrame, unit: str, score: str, conf: float = 0.95) -> dict:
    """Return ICC(1) and ICC(2) of individual scores nested in units (one-way ANOVA).

    With k = mean unit size: ICC(1) = (MSB − MSW)/(MSB + (k − 1)·MSW) and
    ICC(2) = (MSB − MSW)/MSB. Intervals use the F distribution (exact for equal unit sizes).
    Returns ``{icc1, icc1_ci, icc2, icc2_ci, k, n_units, msb, msw}``.
    """
    data = df[[unit, score]].dropna()
    groups = data.groupby(unit)[score]
    n_units = groups.ngroups
    n = len(data)
    if n_units < 2 or n <= n_units:
        raise ValueError("ICCs need at least two units and more than one score per unit")
    k = n / n_units
    grand = data[score].mean()
    ss_between = float((groups.size() * (groups.mean() - grand) ** 2).sum())
    ss_within = float(((data[score] - groups.transform("mean")) ** 2).sum())
    df_between, df_within = n_units - 1, n - n_units
    msb, msw = ss_between / df_between, ss_within / df_within
    f_value = msb / msw
    tail = (1 - conf) / 2
    f_low = f_value / stats.f.ppf(1 - tail, df_between, df_within)
    f_high = f_value * stats.f.ppf(1 - tail, df_within, df_between)
    return {
        "icc1": (msb - msw) / (msb + (k - 1) * msw),
        "icc1_ci": (float((f_low - 1) / (f_low + k - 1)), float((f_high - 1) / (f_high + k - 1))),
        "icc2": (msb - msw) / msb,
        "icc2_ci": (float(1 - 1 / f_low), float(1 - 1 / f_high)),
        "k": k,
        "n_units": n_units,
        "msb": msb,
        "msw": msw,
    }


# --------------------------------------------------------------------------------------------
# Funnel plots (§5)

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


# --------------------------------------------------------------------------------------------
# Simpson's paradox check (§1)


def pooled_and_stratified_rates(
    df: pd.DataFrame, group: str, stratum: str, outcome: str, weight: str | None = None
) -> dict:
    """Return outcome rates per group, pooled and within each stratum.

    ``outcome`` is 0/1 (or boolean); ``weight`` optionally names a count column for
    aggregated rows. Returns ``{"pooled": DataFrame[group → rate, n], "stratified":
    DataFrame[(stratum, group) → rate, n]}``.
    """
    data = df.assign(_w=1.0 if weight is None else df[weight].astype(float))
    data["_hits"] = data[outcome].astype(float) * data["_w"]

    def rates(keys):
        sums = data.groupby(keys)[["_hits", "_w"]].sum()
        return pd.DataFrame({"rate": sums["_hits"] / sums["_w"], "n": sums["_w"]})

    return {"pooled": rates([group]), "stratified": rates([stratum, group])}


# --------------------------------------------------------------------------------------------
# Gaming signals (§8): data-quality flags, never accusations or rankings

_NOT_AN_ACCUSATION = "This is a data-quality check, not an accusation."


def _flag(unit_code, period, signal: str, reason: str) -> dict:
    return {
        "unit_code": unit_code,
        "period": period,
        "kind": "gaming",
        "signal": signal,
        "reason": f"{reason} {_NOT_AN_ACCUSATION}",
    }


def _above_peer_funnel(
    df: pd.DataFrame, unit: str, period: str, hits: str, size: str, signal: str, label: str
) -> list[dict]:
    """Flag rows whose hits/size share exceeds the 99.9 % binomial limit of the other units."""
    flags = []
    for quarter, rows in df.dropna(subset=[hits, size]).groupby(period, sort=True):
        total_hits, total_size = rows[hits].sum(), rows[size].sum()
        for row in rows.to_dict("records"):
            n = int(row[size])
            peer_size = total_size - n
            if n < MIN_RESPONDENTS or peer_size <= 0:
                continue
            p0 = (total_hits - row[hits]) / peer_size
            upper = funnel_limits(p0, n)["alarm_high"]
            share = row[hits] / n
            if share > upper:
                flags.append(
                    _flag(
                        row[unit],
                        quarter,
                        signal,
                        f"{label} {share:.0%} ({int(row[hits])} of {n}) is above the 99.9% "
                        f"limit of {upper:.0%} expected from peers (peer rate {p0:.0%}).",
                    )
                )
    return flags


def topbox_flags(
    df: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    top_box: str = "top_box",
    n: str = "n_responses",
) -> list[dict]:
    """Flag unit-periods whose top-box share is above the peer funnel's 99.9 % upper limit.

    ``df`` has one row per unit × period with the count of top-box answers and of responses.
    Peers are all other units in the same period, pooled.
    """
    columns = {unit: "u", period: "t", top_box: "hits", n: "size"}
    data = df[list(columns)].rename(columns=columns)
    return _above_peer_funnel(data, "u", "t", "hits", "size", "top_box", "Top-box share")


def response_rate_flags(
    df: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    responses: str = "n_responses",
    invitations: str = "invitations",
) -> list[dict]:
    """Flag unit-periods whose response rate is above the peer funnel's 99.9 % upper limit.

    ``df`` has one row per unit × period with counts of responses and of survey invitations.
    """
    columns = {unit: "u", period: "t", responses: "hits", invitations: "size"}
    data = df[list(columns)].rename(columns=columns)
    return _above_peer_funnel(data, "u", "t", "hits", "size", "response_rate", "Response rate")


def variance_collapse_flags(
    responses: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    score: str = "score",
    ratio: float = 0.5,
    alpha: float = 0.01,
    min_responses: int = 10,
) -> list[dict]:
    """Flag unit-periods whose spread of scores has collapsed against history and peers.

    ``responses`` has one row per answer. A unit-period (with at least ``min_responses``) is
    flagged when all three hold:

    - its score SD is below ``ratio`` × the SD of the same unit's earlier answers (pooled);
    - a median-centred Levene test of this period against that history has p < ``alpha``;
    - its SD is below ``ratio`` × the median SD of the other units in the same period.
    """
    data = responses[[unit, period, score]].dropna()
    sds = data.groupby([period, unit])[score].agg(["std", "size"])
    flags = []
    for (quarter, code), row in sds.iterrows():
        if row["size"] < min_responses:
            continue
        mine = data[data[unit] == code]
        current = mine.loc[mine[period] == quarter, score].to_numpy()
        history = mine.loc[mine[period] < quarter, score].to_numpy()
        if len(history) < min_responses or _is_constant(history):
            continue
        history_sd = history.std(ddof=1)
        peers = sds.loc[quarter].drop(index=code)
        peers = peers[peers["size"] >= min_responses]
        if peers.empty:
            continue
        peer_sd = float(peers["std"].median())
        current_sd = float(row["std"])
        if current_sd >= ratio * history_sd or current_sd >= ratio * peer_sd:
            continue
        if stats.levene(current, history, center="median").pvalue >= alpha:
            continue
        flags.append(
            _flag(
                code,
                quarter,
                "variance_collapse",
                f"Scores are unusually uniform: spread (SD) {current_sd:.2f} against "
                f"{history_sd:.2f} in this unit's earlier quarters and {peer_sd:.2f} at peers "
                "this quarter; check for coached or straight-lined answers.",
            )
        )
    return flags


def _trend(values: np.ndarray) -> float:
    """Return the least-squares change per period of a short series."""
    steps = np.arange(len(values), dtype=float)
    return float(np.polyfit(steps, values, 1)[0])


def score_behaviour_mismatch_flags(
    panel: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    score: str = "score",
    complaints: str | None = "complaints_per_1000",
    retention: str | None = "retention",
    window: int = 4,
    min_change_sd: float = 0.5,
) -> list[dict]:
    """Flag units whose score rose while complaints rose or retention fell.

    Over each unit's last ``window`` periods (all must be present), the least-squares trend of
    each measure times (window − 1) is its change. A change counts when it is at least
    ``min_change_sd`` × the measure's SD across all unit-periods. The flag is on the unit's
    latest period.
    """
    flags = []
    behaviours = [(complaints, 1, "complaints rose"), (retention, -1, "retention fell")]
    behaviours = [b for b in behaviours if b[0] is not None and b[0] in panel]
    scales = {c: float(panel[c].std()) for c in [score] + [b[0] for b in behaviours]}
    for code, rows in panel.sort_values(period).groupby(unit, sort=True):
        recent = rows.tail(window)
        if len(recent) < window or recent[score].isna().any() or not scales[score] > 0:
            continue
        score_change = _trend(recent[score].to_numpy(float)) * (window - 1)
        if score_change < min_change_sd * scales[score]:
            continue
        for column, bad_sign, wording in behaviours:
            values = recent[column].to_numpy(float)
            if np.isnan(values).any() or not scales[column] > 0:
                continue
            change = _trend(values) * (window - 1)
            if bad_sign * change >= min_change_sd * scales[column]:
                flags.append(
                    _flag(
                        code,
                        recent[period].iloc[-1],
                        "score_behaviour_mismatch",
                        f"Over the last {window} quarters the score rose by "
                        f"{score_change:.2f} while {wording} ({change:+.2f}); scores and "
                        "behaviour usually move together.",
                    )
                )
    return flags


def gaming_flags(
    unit_periods: pd.DataFrame,
    responses: pd.DataFrame | None = None,
    *,
    unit: str = "unit_code",
    period: str = "period",
) -> list[dict]:
    """Run every gaming signal whose columns are present and return all flags.

    ``unit_periods`` has one row per unit × period with any of ``n_responses``, ``top_box``,
    ``invitations``, ``score``, ``complaints_per_1000``, ``retention``; ``responses`` has one
    row per answer with ``score``.
    """
    keys = {"unit": unit, "period": period}
    columns = set(unit_periods.columns)
    flags = []
    if {"top_box", "n_responses"} <= columns:
        flags += topbox_flags(unit_periods, **keys)
    if {"invitations", "n_responses"} <= columns:
        flags += response_rate_flags(unit_periods, **keys)
    if "score" in columns and columns & {"complaints_per_1000", "retention"}:
        flags += score_behaviour_mismatch_flags(
            unit_periods,
            complaints="complaints_per_1000" if "complaints_per_1000" in columns else None,
            retention="retention" if "retention" in columns else None,
            **keys,
        )
    if responses is not None:
        flags += variance_collapse_flags(responses, **keys)
    return sorted(flags, key=lambda f: (str(f["unit_code"]), str(f["period"]), f["signal"]))
