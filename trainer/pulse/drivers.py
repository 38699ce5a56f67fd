"""Driver analysis: which questions move with engagement in one released group.

Pure functions, no Flask and no database. For each Likert item, the respondent-level Pearson r
between the item and the engagement index computed without it (the mean of the respondent's
other Likert answers), with a Fisher-z 95 % interval and p-value, and Benjamini–Hochberg
q-values across the items (shared/reference/statistics.md §2, §4, §5). Standard library only,
so the results page never loads the statistics stack into a web worker.
"""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from statistics import NormalDist, median

from trainer.multiple_testing import bh_q_values

MIN_ANSWERS = 30  # responses in the group before any driver is estimated
FOCUS_AREAS = 3
Q_LIMIT = 0.05


class DriverStatus(StrEnum):
    OK = "ok"
    TOO_FEW_ANSWERS = "too_few_answers"
    INSUFFICIENT_VARIANCE = "insufficient_variance"
    PENDING = "pending"  # the cycle closed, the scheduler has not stored the analysis yet


@dataclass(frozen=True)
class Driver:
    item_id: int
    item_text: str
    n: int  # respondents who answered the item and at least one other Likert item
    mean: float | None  # the item's mean answer, 1-5
    estimate: float | None = None  # Pearson r with the rest of the engagement index
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    status: DriverStatus = DriverStatus.OK


@dataclass(frozen=True)
class DriverAnalysis:
    status: DriverStatus  # OK, or TOO_FEW_ANSWERS for the whole group
    n: int  # responses in the group
    drivers: list[Driver] = field(default_factory=list)
    focus: list[Driver] = field(default_factory=list)  # at most FOCUS_AREAS, never padded
    minimum: int = MIN_ANSWERS


def _item_rows(answers: Sequence[Mapping[int, int]], item_id: int, likert_ids: list[int]):
    """Return (item answers, rest-score) pairs for respondents with the item and another one."""
    pairs = []
    for response in answers:
        value = response.get(item_id)
        if value is None:
            continue
        others = [response[i] for i in likert_ids if i != item_id and i in response]
        if others:
            pairs.append((value, sum(others) / len(others)))
    return pairs


def _pearson(pairs: list[tuple[float, float]]) -> float | None:
    """Return Pearson's r of the pairs, or None when either side does not vary."""
    n = len(pairs)
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def _fisher(r: float, n: int) -> dict:
    """Return the Fisher-z 95 % interval and two-sided p-value of r from n pairs (n >= 30
    here, where the normal approximation of z is good; statistics.md §2)."""
    z = math.atanh(max(-0.999999, min(0.999999, r)))
    se = 1 / math.sqrt(n - 3)
    half = NormalDist().inv_cdf(0.975) * se
    return {
        "ci_low": math.tanh(z - half),
        "ci_high": math.tanh(z + half),
        "p_value": 2 * (1 - NormalDist().cdf(abs(z) / se)),
    }


def analyse(
    answers: Sequence[Mapping[int, int]], items: Mapping[int, str], minimum: int = MIN_ANSWERS
) -> DriverAnalysis:
    """Relate each Likert item to the engagement index without it, in one released group.

    `answers` holds one dict per response (Likert item id -> 1..5; other keys are ignored);
    `items` maps the Likert items' ids to their text, in display order.
    """
    minimum = max(minimum, MIN_ANSWERS)
    likert_ids = list(items)
    answers = [{int(k): v for k, v in a.items() if int(k) in items} for a in answers]
    answers = [a for a in answers if a]
    if len(answers) < minimum:
        return DriverAnalysis(DriverStatus.TOO_FEW_ANSWERS, len(answers), minimum=minimum)

    rows = []
    for item_id in likert_ids:
        pairs = _item_rows(answers, item_id, likert_ids)
        own = [a[item_id] for a in answers if item_id in a]
        row = {
            "item_id": item_id,
            "item_text": items[item_id],
            "n": len(pairs),
            "mean": sum(own) / len(own) if own else None,
            "p_value": None,
            "status": DriverStatus.OK,
        }
        rows.append(row)
        if len(pairs) < minimum:
            row["status"] = DriverStatus.TOO_FEW_ANSWERS
            continue
        r = _pearson(pairs)
        if r is None:
            row["status"] = DriverStatus.INSUFFICIENT_VARIANCE
            continue
        row.update(estimate=r, **_fisher(r, len(pairs)))
    tested = [row for row in rows if row["p_value"] is not None]
    for row, q in zip(tested, bh_q_values([row["p_value"] for row in tested]), strict=True):
        row["q_value"] = q
    drivers = [Driver(**row) for row in rows]
    return DriverAnalysis(DriverStatus.OK, len(answers), drivers, focus_areas(drivers), minimum)


def focus_areas(drivers: Sequence[Driver], limit: int = FOCUS_AREAS) -> list[Driver]:
    """Return up to `limit` items that score low (below the median item mean) and relate
    strongly to the rest of engagement (q < 0.05, r > 0), strongest first; never padded."""
    means = [d.mean for d in drivers if d.mean is not None]
    if not means:
        return []
    middle = median(means)
    chosen = [
        d
        for d in drivers
        if d.status == DriverStatus.OK
        and d.mean is not None
        and d.mean < middle
        and d.q_value is not None
        and d.q_value < Q_LIMIT
        and d.estimate > 0
    ]
    return sorted(chosen, key=lambda d: d.estimate, reverse=True)[:limit]


def encode(analysis: DriverAnalysis) -> str:
    """Return an analysis as JSON, to be stored when a cycle closes."""
    return json.dumps(
        {
            "status": analysis.status,
            "n": analysis.n,
            "minimum": analysis.minimum,
            "drivers": [asdict(d) for d in analysis.drivers],
            "focus": [d.item_id for d in analysis.focus],
        }
    )


def decode(text: str) -> DriverAnalysis:
    """Return the analysis `encode` stored."""
    data = json.loads(text)
    drivers = [Driver(**{**d, "status": DriverStatus(d["status"])}) for d in data["drivers"]]
    by_id = {d.item_id: d for d in drivers}
    return DriverAnalysis(
        DriverStatus(data["status"]),
        data["n"],
        drivers,
        [by_id[i] for i in data["focus"]],
        data["minimum"],
    )
