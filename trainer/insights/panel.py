"""The panel: one row per org unit at the reporting level and quarter, with every measure."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trainer.anonymity import FigureStatus
from trainer.insights.sources import PERIOD, UNIT, Sources, Unit
from trainer.insights.stats import LOW_PRECISION_BELOW

MORALE = "engagement"
MORALE_N = "respondents"
VALUE_FIELDS = ("value", "n", "topbox", "responses", "invited")
MORALE_COLUMNS = ("respondents", "invited", "engagement", "enps", "enps_moe", "customer_focus")
TRAINING_COLUMNS = {
    "completion": ("completion_rate", "assigned"),
    "ownership": ("ownership_rate", "players"),
}


def value_column(code: str) -> str:
    """Name the panel column holding a customer metric (a dot never occurs in metric codes)."""
    return f"{code}.value"


def _frame(rows, units_by_id, columns, rename=None) -> pd.DataFrame:
    rename = rename or {}
    records = [
        {
            UNIT: units_by_id[r["unit_id"]].code,
            PERIOD: r["period"],
            **{rename.get(c, c): r.get(c) for c in columns},
        }
        for r in rows
        if r["unit_id"] in units_by_id
    ]
    names = [UNIT, PERIOD, *(rename.get(c, c) for c in columns)]
    frame = pd.DataFrame.from_records(records, columns=names)
    frame = frame.drop_duplicates([UNIT, PERIOD], keep="last").set_index([UNIT, PERIOD])
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def build_panel(sources: Sources, units: list[Unit]) -> pd.DataFrame:
    """Return one row per (unit, quarter) with morale, training, ratings and every metric.

    Quarters are those with morale or customer data. ``morale_status`` is "shown", or says why
    morale is missing: "suppressed" (too few respondents, or hidden against differencing),
    "merged" (reported with the unit above) or "" (no survey).
    """
    by_id = {u.id: u for u in units}
    parts = [
        _frame(sources.morale, by_id, MORALE_COLUMNS),
        _frame(sources.completion, by_id, TRAINING_COLUMNS["completion"]),
        _frame(sources.ownership, by_id, TRAINING_COLUMNS["ownership"]),
        _frame(
            sources.ratings,
            by_id,
            ("rating", "raters"),
            {"rating": "manager_rating", "raters": "manager_raters"},
        ),
    ]
    customer_periods: set[str] = set()
    for metric in sources.metrics:
        frame = _frame(
            sources.outcomes.get(metric.code, []),
            by_id,
            VALUE_FIELDS,
            {f: f"{metric.code}.{f}" for f in VALUE_FIELDS},
        )
        customer_periods |= set(frame.index.get_level_values(PERIOD))
        parts.append(frame)
    panel = pd.concat(parts, axis=1, join="outer")
    periods = set(parts[0].index.get_level_values(PERIOD)) | customer_periods
    panel = panel[panel.index.get_level_values(PERIOD).isin(periods)].reset_index()
    status = {
        (by_id[r["unit_id"]].code, r["period"]): r["reason"]
        for r in sources.suppressed
        if r["unit_id"] in by_id
    }
    panel["morale_status"] = [
        FigureStatus.SHOWN if not math.isnan(m) else status.get((u, p), "")
        for u, p, m in zip(panel[UNIT], panel[PERIOD], panel[MORALE], strict=True)
    ]
    names = {u.code: u.name for u in units}
    panel.insert(1, "unit_name", panel[UNIT].map(names))
    panel["low_precision"] = panel[MORALE_N] < LOW_PRECISION_BELOW
    return panel.sort_values([UNIT, PERIOD]).reset_index(drop=True)


def plain(value):
    """Return value with numpy scalars as Python numbers and NaN as None, recursively."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else round(float(value), 6)
    return value
