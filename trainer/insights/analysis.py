"""Assemble the morale-versus-customer-outcomes report from per-(unit, quarter) rows.

Pure: no Flask, no database. `store` loads the rows (pulse rollups with the anonymity rules
already applied, the outcomes table, training measures and managers' ratings) into `Sources`;
`analyse` turns them into the statistics of shared/reference/statistics.md (computed by
`trainer.insights.stats`), the series behind every chart and the tables of `documents`.

One row of the panel is one org unit at the reporting level (teams by default) in one quarter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trainer.anonymity import DIFFERENCING, TOO_FEW, FigureStatus
from trainer.insights import stats, words
from trainer.insights.documents import panel_table
from trainer.insights.panel import MORALE, MORALE_N, PERIOD, UNIT, build_panel, plain, value_column
from trainer.insights.peers import funnel_block, gaming_flags, without_flagged
from trainer.insights.sources import FIX_METRICS, FIX_ON_SPOT, Level, Metric, Sources, Unit
from trainer.insights.words import N_

LAGS = (0, 1, 2)
HEADLINE_LAG = 1
# What a headline model's result keeps (the rest is working detail).
HEADLINE_KEYS = (
    "direction",
    "lag",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "n_units",
    "n_obs",
    "n_quarters",
    "method",
    "status",
    "reason",
)
CUSTOMER_RATING_SOURCES = ("csat", "csi")  # the first with data gives customers' rating
MERGED_TEXT = N_("Too few people: reported with the unit above")


# --------------------------------------------------------------------------------------------
# Statistics


def headline_block(panel: pd.DataFrame, metric: Metric, units_label: str) -> dict:
    """Fit the pre-registered headline model (lag 1, both directions) and word it."""
    result = stats.headline_model(
        panel, UNIT, PERIOD, MORALE, value_column(metric.code), HEADLINE_LAG, morale_n=MORALE_N
    )
    both = {}
    for direction, fit in result["both"].items():
        plain_fit = fit["without_lagged_outcome"]
        both[direction] = {
            **{
                k: fit.get(k)
                for k in (
                    "estimate",
                    "se",
                    "ci_low",
                    "ci_high",
                    "p_value",
                    "p_adjusted",
                    "n_obs",
                    "n_units",
                    "status",
                    "reason",
                )
            },
            "without_lagged_outcome": {
                k: plain_fit.get(k)
                for k in ("estimate", "ci_low", "ci_high", "p_value", "status", "reason")
            },
        }
    return plain(
        {
            **{k: result[k] for k in HEADLINE_KEYS},
            "level": "within",
            "sentence": stats.plain_sentence(result, metric.label, units_label),
            "both": both,
        }
    )


def sensitivity_block(
    panel: pd.DataFrame, headline: dict, metric: Metric, units_label: str, excluded: list
) -> dict | None:
    """Refit the headline with the flagged unit-quarters kept in, as a sensitivity check.

    Flagged quarters are left out of the statistics, which selects on the outcome; so the
    headline is also fitted with them, and ``differs`` says whether that changes what is
    claimed (the direction, or whether there is enough data). None when nothing was left out.
    """
    if not excluded:
        return None
    kept = headline_block(panel, metric, units_label)
    return {
        "excluded_count": len(excluded),
        "headline_with_flagged": kept,
        "differs": (kept["status"], kept["direction"])
        != (headline["status"], headline["direction"]),
    }


LAG_METHOD = (
    "partial correlation given unit and quarter fixed effects, "
    "jackknife (CRV3) errors clustered by unit"
)


def lag_family(panel: pd.DataFrame, metrics: list[Metric]) -> dict[str, list[dict]]:
    """Return the exploratory lag grid of every metric, with Benjamini–Hochberg q-values over
    the whole family (every metric × lag × direction that has a result)."""
    grids = {}
    for metric in metrics:
        column = value_column(metric.code)
        if column not in panel or panel[column].isna().all():
            continue
        grids[metric.code] = stats.lag_grid(
            panel, UNIT, PERIOD, MORALE, column, LAGS, morale_n=MORALE_N
        )
    family = [row for rows in grids.values() for row in rows]
    stats.add_q_values(family)
    for row in family:
        row["level"] = "within"
        row["method"] = LAG_METHOD
    return {code: plain(rows) for code, rows in grids.items()}


def empty_lag_grid() -> list[dict]:
    """Return the lag grid of a metric without data: every cell "insufficient data"."""
    rows = []
    for lag in LAGS:
        for direction in ("same_quarter",) if lag == 0 else stats.DIRECTIONS:
            rows.append(
                {
                    "lag": lag,
                    "direction": direction,
                    "within_r": None,
                    "ci_low": None,
                    "ci_high": None,
                    "n": 0,
                    "n_units": 0,
                    "dof": None,
                    "p_value": None,
                    "q_value": None,
                    "status": stats.Status.INSUFFICIENT_DATA,
                    "reason": N_("No customer data for this metric in this scope."),
                    "level": "within",
                    "method": LAG_METHOD,
                }
            )
    return rows


def between_block(panel: pd.DataFrame, metric: Metric) -> list[dict]:
    """Return the between-unit correlations of unit means (same quarter), Pearson and Spearman."""
    out = []
    for method, interval in (("pearson", "Fisher-z"), ("spearman", "Bonett–Wright")):
        result = stats.between_corr(panel, UNIT, MORALE, value_column(metric.code), method)
        out.append(
            {
                "lag": 0,
                "method": method,
                "interval": interval,
                "level": "between",
                **result.row(),
            }
        )
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
        if status == stats.Status.OK and estimate is None:
            status = stats.Status.INSUFFICIENT_DATA
            reason = "Needs at least two quarters with both morale and the customer measure."
        out.append(
            {
                **row,
                "unit_code": code,
                "shrunk_slope": estimate["shrunk_slope"] if estimate else None,
                "shrunk_ci_low": estimate["ci_low"] if estimate else None,
                "shrunk_ci_high": estimate["ci_high"] if estimate else None,
                "common_slope": model["fixed_slope"],
                "common_ci_low": model["ci_low"],
                "common_ci_high": model["ci_high"],
                "shrunk_n_units": model["n_units"],
                "shrunk_status": status,
                "shrunk_reason": reason,
            }
        )
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
    within = [
        {"unit_code": u, "period": p, "morale_before": m, "value": v, "x": x, "y": y}
        for u, p, m, v, x, y in zip(
            pairs[UNIT], pairs[PERIOD], pairs[earlier], pairs[column], x_dev, y_dev, strict=True
        )
    ]
    means = frame.groupby(UNIT)[[MORALE, column]].agg(["mean", "count"]).dropna()
    between = [
        {
            "unit_code": code,
            "x": row[(MORALE, "mean")],
            "y": row[(column, "mean")],
            "quarters_morale": int(row[(MORALE, "count")]),
            "quarters_value": int(row[(column, "count")]),
        }
        for code, row in means.iterrows()
        if row[(MORALE, "count")] > 0 and row[(column, "count")] > 0
    ]
    fits = {}
    for name, points in (("within", within), ("between", between)):
        xs = np.array([p["x"] for p in points], dtype=float)
        if len(points) >= 3 and np.ptp(xs) > 0:
            fits[name] = stats.linear_fit(xs, [p["y"] for p in points])
        else:
            fits[name] = None
    return plain({"lag": HEADLINE_LAG, "within": within, "between": between, "fit": fits})


# --------------------------------------------------------------------------------------------
# Customer drivers: which question's unit-quarter mean moves with the customer measure next
# quarter, within units (the headline model, one question at a time, FDR across questions)


def customer_drivers_block(
    panel: pd.DataFrame, item_means: list[dict], units: list[Unit], metric: Metric
) -> list[dict]:
    """Return one row per question: the within-unit lagged relation of the question's
    unit-quarter mean with `metric` the next quarter, with Benjamini–Hochberg q-values across
    the questions that have an estimate.

    Rows: ``{item_id, item_text, target, estimate, ci_low, ci_high, p_value, q_value, n,
    n_units, status, reason}``, in the questions' order; ``n`` counts unit-quarters used.
    Below the headline's minimum units, status is "insufficient_data" and no estimate is made.
    """
    codes = {u.id: u.code for u in units}
    column = value_column(metric.code)
    texts: dict[int, str] = {}
    means: dict[int, dict[tuple[str, str], float]] = {}
    for row in item_means:
        if row["unit_id"] in codes:
            texts.setdefault(row["item_id"], row["item_text"])
            means.setdefault(row["item_id"], {})[(codes[row["unit_id"]], row["period"])] = row[
                "mean"
            ]
    if column not in panel:
        return []
    frame = panel[[UNIT, PERIOD, column]].copy()
    keys = list(zip(frame[UNIT], frame[PERIOD], strict=True))
    rows = []
    for item_id, text in texts.items():
        frame["item"] = [means[item_id].get(key, np.nan) for key in keys]
        fit = stats.lagged_effect(frame, UNIT, PERIOD, "item", column, HEADLINE_LAG)
        rows.append(
            {
                "item_id": item_id,
                "item_text": text,
                "target": metric.code,
                "estimate": fit.get("estimate"),
                "ci_low": fit.get("ci_low"),
                "ci_high": fit.get("ci_high"),
                "p_value": fit.get("p_value"),
                "n": fit["n_obs"],
                "n_units": fit["n_units"],
                "status": fit["status"],
                "reason": fit["reason"],
            }
        )
    stats.add_q_values(rows)
    return plain(rows)


# --------------------------------------------------------------------------------------------
# Behaviour (§3 with fixing on the spot in place of morale): training -> behaviour -> results


def behaviour_sentence(result: dict, metric: Metric, units_label: str) -> str:
    """Word the link between fixing problems on the spot and a customer measure."""
    return words.behaviour_sentence(result, metric.label, metric.higher_is_better, units_label)


def behaviour_block(panel: pd.DataFrame, metric: Metric, units_label: str) -> dict | None:
    """Fit the headline model with the share of fixes made on the spot in place of morale,
    against a customer measure; None when there is no fix log or `metric` is one of its own
    measures."""
    column = value_column(FIX_ON_SPOT)
    if metric.code in FIX_METRICS or column not in panel or panel[column].isna().all():
        return None
    result = stats.headline_model(
        panel, UNIT, PERIOD, column, value_column(metric.code), HEADLINE_LAG
    )
    return plain(
        {
            **{k: result[k] for k in HEADLINE_KEYS},
            "level": "within",
            "predictor": FIX_ON_SPOT,
            "outcome": metric.code,
            "directions": {"morale_leads": "fixing_leads", "customer_leads": "customer_leads"},
            "sentence": behaviour_sentence(result, metric, units_label),
            "both": {  # kept so that the page can word the sentence in its reader's language
                direction: {k: fit.get(k) for k in ("estimate", "ci_low", "ci_high")}
                for direction, fit in result["both"].items()
            },
        }
    )


# --------------------------------------------------------------------------------------------
# Perception gap


def to_five_point(value: float, metric: Metric) -> float:
    """Map a 0–100 customer score onto the 1–5 scale of the two customer-focus ratings."""
    low = metric.min_value if metric.min_value is not None else 0.0
    high = metric.max_value if metric.max_value is not None else 100.0
    return 1 + 4 * (value - low) / (high - low)


def perception_block(
    panel: pd.DataFrame, metrics: list[Metric], units: list[Unit], period: str | None = None
) -> dict:
    """Return managers', the team's and customers' view of each unit's customer focus."""
    known = {m.code: m for m in metrics}
    rated = panel[panel["customer_focus"].notna() | panel["manager_rating"].notna()]
    periods = sorted(rated[PERIOD].unique())
    if period is None:
        period = periods[-1] if periods else None
    source = next(
        (
            known[c]
            for c in CUSTOMER_RATING_SOURCES
            if c in known and panel[value_column(c)].notna().any()
        ),
        None,
    )
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
                team, team_status = float(cell["customer_focus"]), FigureStatus.SHOWN
            elif cell["morale_status"] in (FigureStatus.SUPPRESSED, FigureStatus.MERGED):
                team_status = cell["morale_status"]
            if source is not None and not math.isnan(cell[value_column(source.code)]):
                customers = to_five_point(float(cell[value_column(source.code)]), source)
        rows.append(
            {
                "unit_code": unit.code,
                "unit_name": unit.name,
                "manager": manager,
                "manager_raters": raters,
                "team": team,
                "team_status": team_status,
                "customers": customers,
                "gap_manager_team": None if manager is None or team is None else manager - team,
                "gap_manager_customers": None
                if manager is None or customers is None
                else manager - customers,
            }
        )
    return plain(
        {
            "period": period,
            "periods": periods,
            "rows": rows,
            "customer_source": source.code if source else None,
            "customer_source_label": source.label if source else None,
        }
    )


# --------------------------------------------------------------------------------------------
# The whole analysis


def level_units(units: list[Unit], level: Level) -> list[Unit]:
    return sorted((u for u in units if u.kind == level), key=lambda u: u.code)


def suppressed_cells(sources: Sources, units: list[Unit], periods: set[str]) -> list[dict]:
    by_id = {u.id: u for u in units}
    cells = {
        (by_id[r["unit_id"]].code, r["period"]): r
        for r in sources.suppressed
        if r["unit_id"] in by_id and r["period"] in periods
    }
    return [
        {"unit_code": u, "period": p, "reason": r["reason"], "message": hidden_message(r)}
        for (u, p), r in sorted(cells.items())
    ]


def hidden_message(row: dict) -> str:
    """Say why a unit-quarter's morale is hidden, in the words the pulse pages use."""
    if row["reason"] == FigureStatus.MERGED:
        return MERGED_TEXT
    return DIFFERENCING if row.get("differencing") else TOO_FEW


def trends_block(
    panel: pd.DataFrame, metric: Metric, units: list[Unit], periods: list[str]
) -> list[dict]:
    """Return one small-multiple series per unit: morale, eNPS, training and the metric."""
    columns = {
        "engagement": MORALE,
        "enps": "enps",
        "completion_rate": "completion_rate",
        "ownership_rate": "ownership_rate",
        "value": value_column(metric.code),
        "morale_status": "morale_status",
    }
    grid = pd.MultiIndex.from_product([[u.code for u in units], periods], names=[UNIT, PERIOD])
    table = panel.set_index([UNIT, PERIOD])[list(columns.values())].reindex(grid)
    out = []
    for unit in units:
        rows = table.loc[unit.code] if periods else table.iloc[:0]
        series = {name: rows[column].tolist() for name, column in columns.items()}
        series["morale_status"] = [
            "" if not isinstance(s, str) else s for s in series["morale_status"]
        ]
        out.append({"unit_code": unit.code, "unit_name": unit.name, **series})
    return plain(out)


@dataclass
class Prepared:
    """The org-wide part of the analysis, shared by every scope: the panel of all units at the
    reporting level and each metric's gaming flags (peers are all units)."""

    sources: Sources
    level: Level
    units: list[Unit]
    panel: pd.DataFrame
    flags: dict[str, list[dict]]
    checked: pd.DataFrame  # the panel with flagged unit-quarters blanked per metric


def prepare(sources: Sources, level: Level = Level.TEAM) -> Prepared:
    level = Level(level)
    units = level_units(sources.units, level)
    panel = build_panel(sources, units)
    flags = {m.code: gaming_flags(panel, m) for m in sources.metrics}
    return Prepared(sources, level, units, panel, flags, without_flagged(panel, flags))


def analyse(
    prepared: Prepared,
    *,
    metric: str,
    unit_ids: set[int] | None,
    perception_period: str | None = None,
) -> dict:
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
    units_label = prepared.level.plural
    family = lag_family(checked, sources.metrics)
    cells = suppressed_cells(sources, scope, set(periods))
    flags = [f for f in prepared.flags[chosen.code] if f["unit_code"] in scope_codes]
    excluded = sorted({(f["unit_code"], f["period"]) for f in flags})
    headline = headline_block(checked, chosen, units_label)
    return {
        "metric": chosen.code,
        "metric_label": chosen.label,
        "higher_is_better": chosen.higher_is_better,
        "level": prepared.level,
        "units_label": units_label,
        "periods": periods,
        "units": [{"code": u.code, "name": u.name} for u in scope],
        "metrics": [{"code": m.code, "label": m.label} for m in sources.metrics],
        "headline": headline,
        "sensitivity": sensitivity_block(panel, headline, chosen, units_label, excluded),
        "behaviour": behaviour_block(checked, chosen, units_label),
        "customer_drivers": customer_drivers_block(checked, sources.item_means, scope, chosen),
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
        "panel_rows": plain(panel.to_dict("records")),
        "panel_table": panel_table(panel),
        "thresholds": {
            "respondents": stats.MIN_RESPONDENTS,
            "low_precision_below": stats.LOW_PRECISION_BELOW,
            "units_between": stats.MIN_UNITS_BETWEEN,
            "units_within": stats.MIN_UNITS_RM,
            "units_headline": stats.MIN_UNITS_HEADLINE,
            "quarters_per_unit": stats.MIN_QUARTERS_PER_UNIT,
        },
    }
