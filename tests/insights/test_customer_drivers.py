"""Customer drivers (issue 13): which question's unit-quarter mean moves with the customer
measure the next quarter, within units, with the headline model's machinery and FDR."""

import numpy as np
import pandas as pd

from trainer.insights.analysis import customer_drivers_block
from trainer.insights.panel import PERIOD, UNIT, value_column
from trainer.insights.sources import Metric, Status, Unit

CSI = Metric("csi", "Dealer CSI", True, 0, 100)
ITEMS = 5
PANELS = 30
QUARTERS = [f"{2024 + q // 4}Q{q % 4 + 1}" for q in range(8)]


def simulate(rng, n_units=30, effect=0.0):
    """Item means follow a persistent walk per unit; CSI next quarter moves with item 1 by
    `effect` (in SDs), plus unit levels and company-wide quarter shocks."""
    units = [Unit(i + 1, f"T{i:02d}", f"Team {i}", "team", None, "/") for i in range(n_units)]
    shocks = rng.normal(0, 1.0, len(QUARTERS))
    item_rows, panel_rows = [], []
    for unit in units:
        level = rng.normal(3.6, 0.3, ITEMS)
        walk = np.zeros(ITEMS)
        csi_level = rng.normal(85, 3)
        previous = None
        for q, period in enumerate(QUARTERS):
            walk = 0.5 * walk + rng.normal(0, 0.25, ITEMS)
            means = level + walk
            item_rows += [
                {
                    "unit_id": unit.id,
                    "period": period,
                    "item_id": j + 1,
                    "item_text": f"Question {j + 1}",
                    "mean": float(means[j]),
                    "n": 12,
                }
                for j in range(ITEMS)
            ]
            push = 0.0 if previous is None else effect * (previous[0] - level[0]) / 0.25 * 2
            csi = csi_level + shocks[q] + push + rng.normal(0, 2)
            panel_rows.append({UNIT: unit.code, PERIOD: period, value_column("csi"): csi})
            previous = means
    return pd.DataFrame(panel_rows), item_rows, units


def test_a_planted_item_that_moves_next_quarter_csi_is_ranked_first():
    rng = np.random.default_rng(13)
    first = 0
    for _ in range(PANELS):
        rows = customer_drivers_block(*simulate(rng, effect=0.25), CSI)
        assert len(rows) == ITEMS and all(r["target"] == "csi" for r in rows)
        ok = [r for r in rows if r["status"] == Status.OK]
        assert len(ok) == ITEMS
        first += max(ok, key=lambda r: r["estimate"])["item_id"] == 1
        for r in ok:
            assert r["ci_low"] < r["estimate"] < r["ci_high"]
            assert r["p_value"] <= r["q_value"] <= 1 and r["n_units"] == 30
    assert first / PANELS >= 0.8, first


def test_on_null_panels_few_items_are_called_drivers():
    rng = np.random.default_rng(7)
    q_values = [
        r["q_value"] for _ in range(PANELS) for r in customer_drivers_block(*simulate(rng), CSI)
    ]
    assert len(q_values) == PANELS * ITEMS and None not in q_values
    assert sum(q < 0.05 for q in q_values) / len(q_values) <= 0.05


def test_too_few_units_to_tell():
    rng = np.random.default_rng(3)
    rows = customer_drivers_block(*simulate(rng, n_units=6, effect=0.5), CSI)
    assert rows and all(r["status"] == Status.INSUFFICIENT_DATA for r in rows)
    assert all(r["estimate"] is None and r["q_value"] is None for r in rows)
    assert "Needs at least 10 units" in rows[0]["reason"]


FIELDS = {"item_id", "item_text", "target", "estimate", "ci_low", "ci_high", "q_value", "n"}


def test_the_dashboard_and_the_report_say_when_there_are_too_few_units(client, login_as, history):
    login_as(history.hr)
    for path in (
        f"/insights/units/{history.company.id}",
        f"/insights/units/{history.company.id}/detail",
    ):
        page = client.get(path).get_data(as_text=True)
        assert "What moves customers here" in page
        assert "Too few teams to tell which questions move with Dealer CSI" in page
    doc = client.get(f"/insights/api/units/{history.company.id}/report.json").get_json()
    drivers = doc["drivers"]
    assert drivers and all(set(d) == FIELDS | {"status"} for d in drivers)
    assert all(d["target"] == "csi" and d["status"] == "insufficient_data" for d in drivers)
    assert {d["item_text"] for d in drivers} >= {"My workload is manageable in most weeks."}
