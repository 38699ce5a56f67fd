"""What the analysis reads (org units, metrics and every per-(unit, quarter) row) and the
states it reports.

Plain data, no statistics stack: the web process builds `Sources` from the database and reads
`Status` and `Level`; only computing an analysis needs pandas and the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

UNIT, PERIOD = "unit_code", "period"  # the panel's and the tables' key columns
# Fixes on own authority (trainer.fixes): behaviour measures with their own HR-only flags.
FIX_ON_SPOT, FIX_METRICS = "fix_on_spot", ("fix_on_spot", "fix_rate")


class Status(StrEnum):
    """Whether a figure is shown, or why not (stored and compared as the plain string)."""

    OK = "ok"
    INSUFFICIENT_DATA = "insufficient_data"
    INSUFFICIENT_VARIANCE = "insufficient_variance"
    DID_NOT_CONVERGE = "did_not_converge"


class Level(StrEnum):
    """The org level whose units the analysis compares (the INSIGHTS_LEVEL setting)."""

    TEAM = "team"
    SITE = "site"
    REGION = "region"

    @property
    def plural(self) -> str:
        return f"{self.value}s"


DEFAULT_LEVEL = Level.TEAM


class InsightsError(ValueError):
    """A request that cannot be answered; the message is for the user."""


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str  # materialised path of ancestor ids, e.g. "/1/4/"


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    higher_is_better: bool
    min_value: float | None
    max_value: float | None


@dataclass
class Sources:
    """Every row the report reads, for every unit; the rows are as the feature services return
    them (`morale` and `suppressed` from pulse, `outcomes[metric]` from outcomes, ...).
    `ratings` rows are {unit_id, period, rating (mean), raters}; `item_means` rows are
    {unit_id, period, item_id, item_text, mean, n}, one per released question mean."""

    units: list[Unit]
    metrics: list[Metric]
    morale: list[dict] = field(default_factory=list)
    suppressed: list[dict] = field(default_factory=list)
    outcomes: dict[str, list[dict]] = field(default_factory=dict)
    completion: list[dict] = field(default_factory=list)
    ownership: list[dict] = field(default_factory=list)
    ratings: list[dict] = field(default_factory=list)
    item_means: list[dict] = field(default_factory=list)

    def metric(self, code: str) -> Metric:
        for metric in self.metrics:
            if metric.code == code:
                return metric
        raise KeyError(code)
