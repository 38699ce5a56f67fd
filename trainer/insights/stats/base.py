"""What every family of the statistics shares: the minimum data and the within-unit helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainer.multiple_testing import bh_q_values

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


def is_constant(values: np.ndarray) -> bool:
    """Say whether values are (numerically) constant, e.g. a score stuck at the ceiling."""
    if len(values) == 0:
        return True
    spread = float(np.std(values))
    return spread <= 1e-9 * max(1.0, float(np.max(np.abs(values))))


def demean_by_unit(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Subtract each unit's column means from its rows (values is rows × columns)."""
    counts = np.bincount(codes)
    sums = np.column_stack(
        [np.bincount(codes, weights=column, minlength=counts.size) for column in values.T]
    )
    return values - (sums / counts[:, None])[codes]


def units_with_two_rows(df: pd.DataFrame, unit: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop units with a single row (no within-unit information); return rows and unit codes."""
    codes = pd.factorize(df[unit])[0]
    df = df[np.bincount(codes)[codes] >= 2]
    return df, pd.factorize(df[unit])[0]


def add_q_values(rows: list[dict]) -> None:
    """Add Benjamini–Hochberg ``q_value`` to rows that have a p-value (None elsewhere)."""
    tested = [row for row in rows if row["p_value"] is not None]
    for row in rows:
        row["q_value"] = None
    if tested:
        q_values = bh_q_values([row["p_value"] for row in tested])
        for row, q in zip(tested, q_values, strict=True):
            row["q_value"] = float(q)


def drop_small_morale(panel: pd.DataFrame, morale: str, morale_n: str | None) -> pd.DataFrame:
    if morale_n is None:
        return panel
    panel = panel.copy()
    panel.loc[panel[morale_n] < MIN_RESPONDENTS, morale] = np.nan
    return panel


def standardise_within(deviations: np.ndarray) -> np.ndarray:
    return deviations / deviations.std(ddof=1)
