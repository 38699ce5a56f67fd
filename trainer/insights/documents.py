"""The documents made from an analysis: the JSON report and the CSV tables.

Plain Python: an analysis is plain data once computed, so a web worker serves these without
the statistics stack.
"""

from __future__ import annotations

import math

from trainer.anonymity import FigureStatus
from trainer.insights.sources import PERIOD, UNIT

DRIVER_FIELDS = (  # the same fields as the pulse results JSON's `drivers`
    "item_id",
    "item_text",
    "target",
    "estimate",
    "ci_low",
    "ci_high",
    "q_value",
    "n",
    "status",
)


def report_document(
    analysis: dict, *, scope: dict, with_flags: bool, reference: dict | None = None
) -> dict:
    """Return the documented JSON report (see README, "Insights report JSON")."""
    doc = {
        "metric": analysis["metric"],
        "metric_label": analysis["metric_label"],
        "scope": scope,
        "level": analysis["level"],
        "periods": analysis["periods"],
        "thresholds": analysis["thresholds"],
        "headline": analysis["headline"],
        "behaviour": analysis.get("behaviour"),
        "drivers": [{k: d[k] for k in DRIVER_FIELDS} for d in analysis.get("customer_drivers", [])],
        "lags": analysis["lags"],
        "q_value_family": analysis["family"],
        "between": analysis["between"],
        "per_unit": analysis["per_unit"],
        "funnel": {k: v for k, v in analysis["funnel"].items() if k != "lines"},
        "perception": analysis["perception"],
        "flags": analysis["flags"] if with_flags else None,
        "suppressed": analysis["suppressed"],
        "suppressed_cells": analysis["suppressed_cells"],
        "reference": None,
    }
    if reference is not None:
        doc["reference"] = {
            "scope": reference["scope"],
            "headline": reference["headline"],
            "lags": reference["lags"],
        }
    return doc


def cell(value) -> str:
    """Write one value of a CSV table (numpy scalars as their Python values)."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # Full precision, so every figure can be recomputed from the export; whole numbers bare.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def panel_table(panel) -> tuple[list[str], list[list[str]]]:
    """Return the (unit, quarter) table behind the trends (a pandas DataFrame), with the
    thresholds applied."""
    head = [
        UNIT,
        "unit_name",
        PERIOD,
        "morale_status",
        "respondents",
        "low_precision",
        "engagement",
        "enps",
        "enps_moe",
        "customer_focus",
        "manager_rating",
        "completion_rate",
        "assigned",
        "ownership_rate",
        "players",
    ]
    metric_columns = [c for c in panel.columns if "." in c]
    rows = []
    for record in panel.to_dict("records"):
        morale_shown = record["morale_status"] == FigureStatus.SHOWN
        values = []
        for name in head:
            value = record.get(name)
            if name == "low_precision" and not morale_shown:
                value = None
            values.append(cell(value))
        rows.append(values + [cell(record[c]) for c in metric_columns])
    return head + metric_columns, rows


def table(analysis: dict, name: str) -> tuple[list[str], list[list[str]]]:
    """Return (header, rows) of one CSV table: panel, lags, between, per_unit, scatter,
    funnel, perception, flags or suppressed. Raises KeyError for an unknown name."""
    if name == "panel":
        return analysis["panel_table"]
    specs = {
        "lags": (
            analysis["lags"],
            [
                "lag",
                "direction",
                "level",
                "within_r",
                "ci_low",
                "ci_high",
                "n",
                "n_units",
                "p_value",
                "q_value",
                "status",
                "reason",
            ],
        ),
        "between": (
            analysis["between"],
            [
                "lag",
                "method",
                "level",
                "r",
                "ci_low",
                "ci_high",
                "n",
                "p_value",
                "status",
                "reason",
            ],
        ),
        "per_unit": (
            analysis["per_unit"],
            [
                "unit_code",
                "shrunk_slope",
                "shrunk_ci_low",
                "shrunk_ci_high",
                "common_slope",
                "common_ci_low",
                "common_ci_high",
                "shrunk_n_units",
                "shrunk_status",
                "shrunk_reason",
                "r",
                "ci_low",
                "ci_high",
                "n",
                "p_value",
                "q_value",
                "status",
                "reason",
            ],
        ),
        "scatter": (
            analysis["scatter"]["within"],
            ["unit_code", "period", "morale_before", "value", "x", "y"],
        ),
        "funnel": (
            analysis["funnel"]["units"],
            [
                "unit_code",
                "n",
                "value",
                "alert_low",
                "alert_high",
                "alarm_low",
                "alarm_high",
                "position",
                "side",
            ],
        ),
        "perception": (
            analysis["perception"]["rows"],
            [
                "unit_code",
                "unit_name",
                "manager",
                "manager_raters",
                "team",
                "team_status",
                "customers",
                "gap_manager_team",
                "gap_manager_customers",
            ],
        ),
        "flags": (analysis["flags"], ["unit_code", "period", "kind", "signal", "reason"]),
        "suppressed": (analysis["suppressed_cells"], ["unit_code", "period", "reason"]),
    }
    rows, head = specs[name]
    return head, [[cell(row.get(h)) for h in head] for row in rows]
