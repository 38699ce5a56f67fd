"""Driver analysis: which questions move with engagement in one released group.

Pure functions, no Flask and no database. For each Likert item, the respondent-level Pearson r
between the item and the engagement index computed without it (the mean of the respondent's
other Likert answers), with a Fisher-z 95 % interval, a p-value, and Benjamini–Hochberg
q-values across the items (shared/reference/statistics.md §2, §4, §5). numpy, scipy and the
shared BH helper load only when there is something to compute.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import median

MIN_ANSWERS = 30  # responses in the group before any driver is estimated
FOCUS_AREAS = 3
Q_LIMIT = 0.05


class DriverStatus(StrEnum):
    OK = "ok"
    TOO_FEW_ANSWERS = "too_few_answers"
    INSUFFICIENT_VARIANCE = "insufficient_variance"


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

    import numpy as np
    from scipy import stats

    from trainer.insights.stats.base import add_q_values, is_constant

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
        x, y = np.array(pairs, dtype=float).T
        if is_constant(x) or is_constant(y):
            row["status"] = DriverStatus.INSUFFICIENT_VARIANCE
            continue
        result = stats.pearsonr(x, y)
        interval = result.confidence_interval(0.95)  # Fisher z, statistics.md §2
        row.update(
            estimate=float(result.statistic),
            ci_low=float(interval.low),
            ci_high=float(interval.high),
            p_value=float(result.pvalue),
        )
    add_q_values(rows)
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
