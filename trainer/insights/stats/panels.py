"""Panels (§3): lagged columns, the exploratory lead/lag grid, the pre-registered headline
model and the sentence that words it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm

from trainer.insights import words
from trainer.insights.sources import Status
from trainer.insights.stats.base import (
    MIN_UNITS_HEADLINE,
    add_q_values,
    demean_by_unit,
    drop_small_morale,
    is_constant,
    standardise_within,
)
from trainer.insights.words import N_

DIRECTIONS = ("morale_leads", "customer_leads")


def _lag_name(column: str, lag: int) -> str:
    return f"{column}__lag{lag}"


def lagged_panel(
    panel: pd.DataFrame, unit: str, period: str, columns: Sequence[str], lags: Sequence[int] = (1,)
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
    """Return the exploratory lead/lag profile of within-unit correlations.

    For each lag k > 0 there are two rows: ``"morale_leads"`` pairs customer[t] with
    morale[t − k]; ``"customer_leads"`` pairs morale[t] with customer[t − k]. Lag 0 appears once,
    with direction ``"same_quarter"``. Each cell is the partial correlation of the pair given
    unit and quarter fixed effects, like the headline model, so a company-wide shift in one
    quarter (a new product, a price rise) is not read as a link; its interval and p-value come
    from errors clustered by unit (``_partial_r``), since quarters of one unit are not
    independent. Each row is ``{lag, direction, within_r, ci_low, ci_high, n, n_units, dof,
    p_value, q_value, status, reason}`` (dof = units − 1); q-values are Benjamini–Hochberg
    across the rows of the grid that have a result. If ``morale_n`` names a respondent-count
    column, morale below MIN_RESPONDENTS is treated as missing.
    """
    panel = drop_small_morale(panel, morale, morale_n)
    positive = [lag for lag in lags if lag > 0]
    frame = lagged_panel(panel, unit, period, [morale, customer], positive)
    units = pd.factorize(frame[unit])[0]
    quarters = pd.factorize(frame[period], sort=True)[0]
    cells = []
    for lag in lags:
        if lag == 0:
            cells.append((0, "same_quarter", morale, customer))
        else:
            cells.append((lag, "morale_leads", _lag_name(morale, lag), customer))
            cells.append((lag, "customer_leads", _lag_name(customer, lag), morale))
    rows = []
    for lag, direction, earlier, later in cells:
        values = frame[[later, earlier]].to_numpy(float)
        result = _partial_r(values, units, quarters, conf=0.95)
        ok = result["status"] == Status.OK
        rows.append(
            {
                "lag": lag,
                "direction": direction,
                "within_r": result["r"] if ok else None,
                "ci_low": result["ci_low"] if ok else None,
                "ci_high": result["ci_high"] if ok else None,
                "n": result["n_obs"],
                "n_units": result["n_units"],
                "dof": result["n_units"] - 1 if ok else None,
                "p_value": result["p_value"] if ok else None,
                "status": result["status"],
                "reason": result["reason"],
            }
        )
    add_q_values(rows)
    return rows


def _design(values: np.ndarray, units: np.ndarray, quarters: np.ndarray) -> dict:
    """Prepare outcome ~ predictor [+ lagged outcome] + unit + quarter fixed effects.

    ``values`` holds rows × [outcome, predictor, optional lagged outcome]; ``units`` and
    ``quarters`` are integer codes per row. Rows with a missing value, units left with a single
    row and quarters left with a single unit are dropped. Unit effects are absorbed by
    demeaning every column within unit (Frisch–Waugh–Lovell gives the same coefficients as unit
    dummies); quarter dummies are demeaned the same way. Outcome and predictor are divided by
    their within-unit SD. Returns ``{n_obs, n_units, lagged_outcome, status, reason}`` and, when
    the status is OK, ``y``, ``regressors`` (predictor first) and ``units``.
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
    deviations = demean_by_unit(np.column_stack([values, dummies]), units)
    n_obs = len(deviations)
    n_units = int(units.max()) + 1 if n_obs else 0
    base = {"n_obs": n_obs, "n_units": n_units, "lagged_outcome": values.shape[1] == 3}
    if n_units < MIN_UNITS_HEADLINE:
        return {
            **base,
            "status": Status.INSUFFICIENT_DATA,
            "reason": f"Needs at least {MIN_UNITS_HEADLINE} units with two or more "
            f"consecutive quarters, has {n_units}.",
        }
    if is_constant(deviations[:, 0]) or is_constant(deviations[:, 1]):
        return {
            **base,
            "status": Status.INSUFFICIENT_VARIANCE,
            "reason": N_("A measure barely changes within units, so there is nothing to relate."),
        }
    y = standardise_within(deviations[:, 0])
    # Column 0 is the predictor; drop quarter columns that demeaning emptied.
    regressors = deviations[:, 1:]
    regressors = regressors[:, np.abs(regressors).max(axis=0) > 1e-12]
    regressors[:, 0] = standardise_within(regressors[:, 0])
    if n_obs <= regressors.shape[1] + n_units:
        return {
            **base,
            "status": Status.INSUFFICIENT_DATA,
            "reason": N_("Too few quarters per unit."),
        }
    return {
        **base,
        "status": Status.OK,
        "reason": "",
        "y": y,
        "regressors": regressors,
        "units": units,
    }


def _clustered_fit(design: dict, conf: float) -> dict:
    """Fit a prepared design by statsmodels' OLS, with errors clustered by unit.

    Standard errors are the leave-one-unit-out jackknife (``cov_type="cluster-crv3"``) with
    t-based inference on units − 1 degrees of freedom: the usual CR1 errors reject a true null
    too often with 40 units (MacKinnon, Nielsen & Webb 2023, J. Econometrics 232:272).
    """
    base = {key: design[key] for key in ("n_obs", "n_units", "lagged_outcome")}
    try:
        fit = sm.OLS(design["y"], design["regressors"]).fit(
            cov_type="cluster-crv3", cov_kwds={"groups": design["units"]}, use_t=True
        )
    except (ValueError, np.linalg.LinAlgError):  # a leave-one-unit-out fit is not identified
        return {
            **base,
            "status": Status.INSUFFICIENT_DATA,
            "reason": N_("Too few units share each quarter to estimate reliable errors."),
        }
    ci_low, ci_high = fit.conf_int(alpha=1 - conf)[0]
    return {
        **base,
        "status": Status.OK,
        "reason": "",
        "estimate": float(fit.params[0]),
        "se": float(fit.bse[0]),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "p_value": float(fit.pvalues[0]),
    }


def _fit_direction(
    values: np.ndarray, units: np.ndarray, quarters: np.ndarray, conf: float
) -> dict:
    """Fit outcome ~ predictor [+ lagged outcome] + unit + quarter fixed effects (see
    ``_design``), standardised within units, with unit-clustered errors (``_clustered_fit``):
    the estimate is in within-unit SDs of the outcome per within-unit SD of the predictor."""
    design = _design(values, units, quarters)
    if design["status"] != Status.OK:
        return design
    return _clustered_fit(design, conf)


def _partial_r(values: np.ndarray, units: np.ndarray, quarters: np.ndarray, conf: float) -> dict:
    """Correlate outcome and predictor within units after removing quarter effects.

    The partial correlation r of the two given unit and quarter fixed effects is the slope of
    the two-way fixed-effects regression times sd(predictor residual) / sd(outcome residual),
    the residuals being those left by the quarter dummies. Its interval and p-value are the
    slope's, with errors clustered by unit, rescaled the same way (and capped at ±1).
    """
    design = _design(values, units, quarters)
    if design["status"] != Status.OK:
        return design
    fit = _clustered_fit(design, conf)
    if fit["status"] != Status.OK:
        return fit
    y, regressors = design["y"], design["regressors"]
    others = regressors[:, 1:]
    x = regressors[:, 0]
    if others.shape[1]:
        y = y - others @ np.linalg.lstsq(others, y, rcond=None)[0]
        x = x - others @ np.linalg.lstsq(others, x, rcond=None)[0]
    scale = float(np.std(x) / np.std(y))
    return {
        **fit,
        "r": max(-1.0, min(1.0, fit["estimate"] * scale)),
        "ci_low": max(-1.0, fit["ci_low"] * scale),
        "ci_high": min(1.0, fit["ci_high"] * scale),
    }


def lagged_effect(
    panel: pd.DataFrame,
    unit: str,
    period: str,
    predictor: str,
    outcome: str,
    lag: int = 1,
    *,
    conf: float = 0.95,
) -> dict:
    """Fit outcome[i,t] ~ predictor[i,t-lag] + outcome[i,t-lag] + unit_i + quarter_t.

    The headline model's "morale leads" direction for any predictor (e.g. one question's
    unit-quarter mean), with the same fixed effects, clustered errors and minimum numbers, and
    a plain (not simultaneous) interval: one test per predictor, so correct a family of them
    with Benjamini–Hochberg. Returns ``{estimate, se, ci_low, ci_high, p_value, n_obs,
    n_units, lagged_outcome, status, reason}`` (no estimate unless status is OK).
    """
    if lag < 1:
        raise ValueError("a lagged effect needs a lag of at least one quarter")
    frame = lagged_panel(panel, unit, period, [predictor, outcome], [lag])
    units = pd.factorize(frame[unit])[0]
    quarters = pd.factorize(frame[period], sort=True)[0]
    columns = [outcome, _lag_name(predictor, lag), _lag_name(outcome, lag)]
    return _fit_direction(frame[columns].to_numpy(float), units, quarters, conf)


def _excludes_zero(fit: dict) -> bool:
    return fit["status"] == Status.OK and (fit["ci_low"] > 0 or fit["ci_high"] < 0)


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
    panel = drop_small_morale(panel, morale, morale_n)
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
            if result["status"] == Status.OK:
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
        "status": Status.OK,
        "reason": "",
        "both": both,
    }
    failed = [both[d] for d in DIRECTIONS if both[d]["status"] != Status.OK]
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


def estimate_text(details: dict) -> str:
    return words.estimate_text(details)


def plain_sentence(headline: dict, metric_label: str, unit_label: str = "sites") -> str:
    """Return a sentence a manager can read for a ``headline_model`` result (§9)."""
    return words.headline_sentence(headline, metric_label, unit_label)
