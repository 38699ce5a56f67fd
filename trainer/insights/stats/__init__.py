"""Relate team morale to customer outcomes, honestly.

Pure functions over pandas DataFrames or plain sequences; no Flask, no database. The rules come
from shared/reference/statistics.md (cited below as §n). Every correlation carries its n, a 95 %
interval and a within- or between-unit label, and a figure below its minimum comes back with a
``status`` and a plain ``reason`` instead of a number.

A **panel** has one row per org unit × quarter: a unit column, a period column whose values sort
in time order (``"2026Q3"``), and numeric metric columns (missing values as NaN).

The families live in their own modules; this package names their public functions in one place.
Importing it loads numpy, pandas, scipy and statsmodels, so web code imports it only when it
must compute an analysis.
"""

from trainer.insights.sources import Status
from trainer.insights.stats.base import (
    LOW_PRECISION_BELOW,
    MIN_QUARTERS_PER_UNIT,
    MIN_RESPONDENTS,
    MIN_UNITS_BETWEEN,
    MIN_UNITS_HEADLINE,
    MIN_UNITS_RM,
    MIN_UNITS_SHRINKAGE,
    add_q_values,
)
from trainer.insights.stats.correlations import (
    Corr,
    between_corr,
    fisher_interval,
    linear_fit,
    pearson_ci,
    per_unit_corr,
    rm_corr,
    spearman_ci,
    spearman_interval,
)
from trainer.insights.stats.funnel import funnel, funnel_limits, peer_funnel, robust_dispersion
from trainer.insights.stats.gaming import (
    gaming_flags,
    peer_spread_collapse_flags,
    response_rate_flags,
    score_behaviour_mismatch_flags,
    spread_collapse_flags,
    topbox_flags,
)
from trainer.insights.stats.panels import (
    DIRECTIONS,
    estimate_text,
    headline_model,
    lag_grid,
    lagged_effect,
    lagged_panel,
    plain_sentence,
)
from trainer.insights.stats.reliability import (
    cronbach_alpha,
    nps,
    nps_change_is_noise,
    nps_from_shares,
)
from trainer.insights.stats.shrinkage import shrunken_slopes

__all__ = [
    "DIRECTIONS",
    "LOW_PRECISION_BELOW",
    "MIN_QUARTERS_PER_UNIT",
    "MIN_RESPONDENTS",
    "MIN_UNITS_BETWEEN",
    "MIN_UNITS_HEADLINE",
    "MIN_UNITS_RM",
    "MIN_UNITS_SHRINKAGE",
    "Corr",
    "Status",
    "add_q_values",
    "between_corr",
    "cronbach_alpha",
    "estimate_text",
    "fisher_interval",
    "funnel",
    "funnel_limits",
    "gaming_flags",
    "headline_model",
    "lag_grid",
    "lagged_effect",
    "lagged_panel",
    "linear_fit",
    "nps",
    "nps_change_is_noise",
    "nps_from_shares",
    "pearson_ci",
    "peer_funnel",
    "per_unit_corr",
    "plain_sentence",
    "response_rate_flags",
    "rm_corr",
    "robust_dispersion",
    "score_behaviour_mismatch_flags",
    "shrunken_slopes",
    "spearman_ci",
    "spearman_interval",
    "peer_spread_collapse_flags",
    "spread_collapse_flags",
    "topbox_flags",
]
