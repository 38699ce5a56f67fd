"""The insights overview: a unit's figures now, their trend, a heatmap of the units below it,
and the headline link in words a manager reads in five seconds.

Pure: no Flask, no database. It reads the same `Sources` as the analysis (released pulse
rollups with the anonymity rules already applied, customer outcomes, training rollups), so it
shows nothing the detailed statistics would not. Any unit can be summarised, not only units at
the reporting level: a site's morale is the site's own released rollup (never a sum of its
teams, which could undo the differencing protection); its customer figures are the n-weighted
mean of the outcomes recorded below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainer.anonymity import FigureStatus
from trainer.i18n import number
from trainer.insights import words
from trainer.insights.sources import FIX_METRICS, Metric, Sources, Status, Unit

USUAL_LINK = 0.3  # "a real link of the usual size": Harter, Schmidt & Hayes 2002 (r ≈ .33)
ROW_KINDS = {"company": "site", "region": "site", "site": "team"}
MORALE, ENPS, COMPLETION, OWNERSHIP = "engagement", "enps", "completion", "ownership"


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    short: str  # column heading in the heatmap
    higher_is_better: bool
    fmt: str  # "%.1f" and the like
    scale: float = 1.0  # shown value = stored value × scale


def measures(metrics: list[Metric]) -> list[Measure]:
    """Return the heatmap's columns: morale, eNPS, each customer metric, then training."""
    on_spot, per_person = FIX_METRICS
    behaviour = {on_spot: "%.0f%%", per_person: "%.1f"}  # from the fix log: after training
    return [
        Measure(MORALE, _l("Morale (1–5)"), _l("Morale"), True, "%.2f"),
        Measure(ENPS, _l("eNPS (−100 to 100)"), "eNPS", True, "%+.0f"),
        *(
            Measure(m.code, m.label, m.label.split(" (")[0], m.higher_is_better, "%.1f")
            for m in metrics
            if m.code not in behaviour
        ),
        Measure(COMPLETION, _l("Courses completed (%)"), _l("Courses done"), True, "%.0f%%", 100.0),
        Measure(
            OWNERSHIP,
            _l("Scenario choices that owned the problem (%)"),
            _l("Owned it"),
            True,
            "%.0f%%",
            100.0,
        ),
        *(
            Measure(m.code, m.label, m.label.split(" (")[0], m.higher_is_better, behaviour[m.code])
            for m in metrics
            if m.code in behaviour
        ),
    ]


class Figures:
    """Every unit's figures per quarter, indexed once per set of sources."""

    def __init__(self, sources: Sources):
        self.units = {u.id: u for u in sources.units}
        self.metrics = sources.metrics
        self.morale = {(r["unit_id"], r["period"]): r for r in sources.morale}
        self.hidden = {
            (r["unit_id"], r["period"]): FigureStatus.DIFFERENCING
            if r.get("differencing")
            else r["reason"]
            for r in sources.suppressed
        }
        self.training = {
            COMPLETION: {
                (r["unit_id"], r["period"]): (r["completion_rate"], r["assigned"])
                for r in sources.completion
            },
            OWNERSHIP: {
                (r["unit_id"], r["period"]): (r["ownership_rate"], r["players"])
                for r in sources.ownership
            },
        }
        self.outcomes = {
            code: {(r["unit_id"], r["period"]): r for r in rows}
            for code, rows in sources.outcomes.items()
        }
        self.below: dict[int, list[int]] = {u: [] for u in self.units}
        for unit in sources.units:
            for ancestor in (int(i) for i in unit.path.strip("/").split("/") if i):
                if ancestor in self.below:
                    self.below[ancestor].append(unit.id)

    def periods(self) -> list[str]:
        found = {p for _, p in self.morale} | {
            p for rows in self.outcomes.values() for _, p in rows
        }
        return sorted(found)

    def cell(self, unit_id: int, period: str, code: str) -> dict:
        """Return {value, n, status} for one unit, quarter and measure.

        status: "shown", "none" (no data), or why the anonymity rules hide morale, with no
        count: "suppressed" (too few answers), "differencing" (a smaller group could be worked
        out) or "merged" (counted with the unit above).
        """
        if code in (MORALE, ENPS):
            row = self.morale.get((unit_id, period))
            if row is None:
                reason = self.hidden.get((unit_id, period))
                return {"value": None, "n": None, "status": reason or FigureStatus.NONE}
            return {"value": row[code], "n": row["respondents"], "status": FigureStatus.SHOWN}
        if code in self.training:
            rate, size = self.training[code].get((unit_id, period), (None, None))
            return _shown(rate, size)
        return self._outcome(unit_id, period, code)

    def _outcome(self, unit_id: int, period: str, code: str) -> dict:
        rows = self.outcomes.get(code, {})
        own = rows.get((unit_id, period))
        if own is not None:
            return _shown(own["value"], own["n"])
        found = [rows[(u, period)] for u in self.below.get(unit_id, ()) if (u, period) in rows]
        found = [r for r in found if r["value"] is not None]
        if not found:
            return _shown(None, None)
        weights = [r["n"] or 0 for r in found]
        if sum(weights) > 0:
            value = sum(r["value"] * w for r, w in zip(found, weights, strict=True)) / sum(weights)
            return _shown(value, sum(weights))
        return _shown(sum(r["value"] for r in found) / len(found), None)

    def series(self, unit_id: int, code: str, periods: list[str]) -> list[dict]:
        return [self.cell(unit_id, p, code) for p in periods]


def _shown(value, n) -> dict:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {"value": None, "n": None, "status": FigureStatus.NONE}
    return {"value": float(value), "n": None if n is None else int(n), "status": FigureStatus.SHOWN}


def now_and_change(series: list[dict], periods: list[str]) -> dict:
    """Return the latest shown value, its quarter and n, and the change since the shown
    quarter before it (None when there is none)."""
    shown = [
        (p, c) for p, c in zip(periods, series, strict=True) if c["status"] == FigureStatus.SHOWN
    ]
    if not shown:
        last_status = next(
            (c["status"] for c in reversed(series) if c["status"] != FigureStatus.NONE),
            FigureStatus.NONE,
        )
        return {
            "value": None,
            "period": None,
            "n": None,
            "change": None,
            "since": None,
            "status": last_status,
        }
    period, cell = shown[-1]
    before = shown[-2] if len(shown) > 1 else None
    return {
        "value": cell["value"],
        "period": period,
        "n": cell["n"],
        "status": FigureStatus.SHOWN,
        "change": cell["value"] - before[1]["value"] if before else None,
        "since": before[0] if before else None,
    }


def heatmap(
    figures: Figures,
    scope: Unit,
    root: Unit | None,
    period: str | None,
    row_kind: str | None = None,
) -> dict:
    """Return the units × measures grid for `period` below `scope`.

    Rows are the scope's sites (or teams, under a site, or with `row_kind="team"`). Each cell
    has its value, n, status, the difference from the company and a band from −2 to 2 saying
    how far it sits from the other rows, in the measure's good direction.
    """
    row_kind = row_kind or ROW_KINDS.get(scope.kind)
    columns = measures(figures.metrics)
    if row_kind is None or period is None:
        return {
            "period": period,
            "row_kind": row_kind,
            "columns": columns,
            "rows": [],
            "company": {},
            "quarter": {},
        }
    ids = sorted(
        (u for u in figures.below.get(scope.id, ()) if figures.units[u].kind == row_kind),
        key=lambda u: (figures.units[u].path, figures.units[u].code),
    )
    # Each measure is shown for the latest quarter that has it (training is counted less often
    # than customer scores), and its heading names that quarter when it is not `period`.
    periods = [p for p in figures.periods() if p <= period][-2:]
    quarter = {m.code: _latest_quarter(figures, ids, m.code, periods) or period for m in columns}
    company = (
        {m.code: figures.cell(root.id, quarter[m.code], m.code) for m in columns}
        if root is not None
        else {}
    )
    rows = [
        {
            "unit": figures.units[u],
            "cells": {m.code: figures.cell(u, quarter[m.code], m.code) for m in columns},
        }
        for u in ids
    ]
    for m in columns:
        values = [
            r["cells"][m.code]["value"]
            for r in rows
            if r["cells"][m.code]["status"] == FigureStatus.SHOWN
        ]
        centre = company.get(m.code, {}).get("value")
        spread = _spread(values)
        for r in rows:
            cell = r["cells"][m.code]
            cell["vs_company"] = (
                cell["value"] - centre
                if cell["status"] == FigureStatus.SHOWN and centre is not None
                else None
            )
            cell["band"] = _band(cell["vs_company"], spread, m.higher_is_better)
    return {
        "period": period,
        "row_kind": row_kind,
        "columns": columns,
        "rows": rows,
        "company": company,
        "quarter": quarter,
    }


def _latest_quarter(figures: Figures, ids: list[int], code: str, periods: list[str]):
    for period in reversed(periods):
        if any(figures.cell(u, period, code)["status"] != FigureStatus.NONE for u in ids):
            return period
    return None


def _spread(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return sd or None


def _band(difference: float | None, spread: float | None, higher_is_better: bool) -> int:
    """Return −2..2: how many spreads better (+) or worse (−) than the company a cell is."""
    if difference is None or spread is None:
        return 0
    z = difference / spread * (1 if higher_is_better else -1)
    return 2 if z >= 1.5 else 1 if z >= 0.5 else -2 if z <= -1.5 else -1 if z <= -0.5 else 0


# Words -----------------------------------------------------------------------------------------


def link_sentence(headline: dict, metric_label: str, where: str) -> str:
    """Return the headline model in one plain sentence, e.g. "When morale rose here, Dealer
    CSI tended to rise the next quarter." The numbers go in the small print."""
    where = {"here": _("here"), "across the company": _("across the company")}.get(where, where)
    names = {"metric": metric_label, "where": where}
    if headline.get("status") != Status.OK:
        return _(
            "There is not enough data yet to tell whether morale and %(metric)s move together "
            "%(where)s.",
            **names,
        )
    direction = headline["direction"]
    if direction == "none" or headline.get("estimate") is None:
        return _(
            "No clear link between morale and %(metric)s %(where)s yet. That does not mean "
            "there is none: these data cannot tell.",
            **names,
        )
    names["when"] = (
        _("the same quarter")
        if headline["lag"] == 0
        else (
            _("the next quarter")
            if headline["lag"] == 1
            else _("%(num)d quarters later", num=headline["lag"])
        )
    )
    rise = headline["estimate"] > 0
    if direction == "morale_leads":
        if rise:
            return _("When morale rose %(where)s, %(metric)s tended to rise %(when)s.", **names)
        return _("When morale rose %(where)s, %(metric)s tended to fall %(when)s.", **names)
    if rise:
        return _("When %(metric)s rose %(where)s, morale tended to rise %(when)s.", **names)
    return _("When %(metric)s rose %(where)s, morale tended to fall %(when)s.", **names)


def correlation_power(r: float, n: int, alpha: float = 0.05) -> float:
    """Return the chance that a two-sided test at `alpha` finds a true correlation `r` from n
    pairs (Fisher-z approximation, the same scale as `stats.fisher_interval`; the standard
    library's normal distribution keeps the overview free of the statistics stack)."""
    if n <= 3:
        return alpha
    normal = NormalDist()
    shift = abs(math.atanh(r)) * math.sqrt(n - 3)
    critical = normal.inv_cdf(1 - alpha / 2)
    return normal.cdf(shift - critical) + normal.cdf(-critical - shift)


def power_sentence(lag_row: dict | None, units_label: str, n_quarters: int) -> dict | None:
    """Say how often a real within-unit link of the usual size (r = 0.3) would be found with
    this much data, so a reader knows what "no clear link" is worth."""
    if not lag_row or not lag_row.get("dof") or lag_row["dof"] < 2:
        return None
    power = correlation_power(USUAL_LINK, lag_row["dof"] + 2)
    found = {
        "power": power,
        "n_units": lag_row["n_units"],
        "units_label": units_label,
        "n_quarters": n_quarters,
    }
    return {**found, "text": power_text(found)}


def power_text(found: dict) -> str:
    """Word `power_sentence`'s finding in the reader's language."""
    power = found["power"]
    tens = max(1, min(9, round(power * 10)))
    names = {
        "n_units": found["n_units"],
        "units": words.level_words(found["units_label"])[1],
        "n_quarters": found["n_quarters"],
        "r": number(USUAL_LINK, 1),
    }
    if power >= 0.95:
        text = _(
            "With %(n_units)d %(units)s over %(n_quarters)d quarters, a real link of the usual "
            "size (a correlation of %(r)s) would be found almost always.",
            **names,
        )
    else:
        text = _(
            "With %(n_units)d %(units)s over %(n_quarters)d quarters, a real link of the usual "
            "size (a correlation of %(r)s) would be found about %(tens)d times in 10.",
            tens=tens,
            **names,
        )
    if power < 0.5:
        text += " " + _("So a real link could easily be missed here.")
    return text


# The whole overview ----------------------------------------------------------------------------

QUARTERS_SHOWN = 8


def summary(
    figures: Figures,
    result: dict,
    *,
    unit_id: int,
    root_id: int | None,
    row_kind: str | None = None,
    reference: dict | None = None,
) -> dict:
    """Return everything the overview page shows for one unit and the analysis of its scope.

    `reference` is the company's analysis, used for the headline when the scope has too few
    units of its own.
    """
    unit = figures.units[unit_id]
    periods = figures.periods()[-QUARTERS_SHOWN:]
    metric = result["metric"]
    series = {
        code: figures.series(unit_id, code, periods)
        for code in (MORALE, ENPS, metric, COMPLETION, OWNERSHIP)
    }
    source = result
    where = "here"
    if result["headline"]["status"] != Status.OK and reference is not None:
        source, where = reference, "across the company"
    lag_row = next(
        (
            row
            for row in source["lags"]
            if row["lag"] == source["headline"]["lag"] and row["status"] == Status.OK
        ),
        None,
    )
    root = figures.units.get(root_id) if root_id is not None else None
    return {
        "unit": unit,
        "periods": periods,
        "morale": now_and_change(series[MORALE], periods),
        "enps": now_and_change(series[ENPS], periods),
        "measure": now_and_change(series[metric], periods),
        "completion": now_and_change(series[COMPLETION], periods),
        "ownership": now_and_change(series[OWNERSHIP], periods),
        "chart": {
            "periods": periods,
            "metric_label": result["metric_label"],
            "morale": [c["value"] for c in series[MORALE]],
            "measure": [c["value"] for c in series[metric]],
            "morale_status": [c["status"] for c in series[MORALE]],
            "morale_n": [c["n"] for c in series[MORALE]],
            "measure_n": [c["n"] for c in series[metric]],
        },
        "link": {
            "sentence": link_sentence(source["headline"], result["metric_label"], where),
            "where": where,
            "headline": source["headline"],
            "power": power_sentence(
                lag_row, source["units_label"], source["headline"].get("n_quarters") or 0
            ),
        },
        "heatmap": heatmap(figures, unit, root, periods[-1] if periods else None, row_kind),
    }
