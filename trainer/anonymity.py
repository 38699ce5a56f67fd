"""The anonymity rules of the platform: minimum group sizes and differencing protection.

Pure functions, no Flask and no database. Every released cell passes through here: pulse
results, scenario choice reports, logged fixes and the insights built on them. Pages, CSV exports
and JSON endpoints get their numbers through `release` (or `visible_cells` for counts without
payload), the single enforcement point (shared/reference/anonymity.md §3-4).

A *cut* is a reporting unit of one cycle with its respondent count. Cuts form a tree (a unit's
respondents include those of every cut below it). A cut is released only when
- it has at least k respondents, and
- for every released cut P, the respondents of P not covered by released cuts below it number
  0 or at least k. Otherwise the smallest released cut below P is hidden too, and again, until
  the hidden remainder is large enough. This covers "the rest of the team" (complement), the
  next-smallest sibling, and overlaps between nested cuts.
Visibility is computed over every cut of the cycle at once, whoever is looking, so a viewer's
earlier views and other viewers' scopes can never be subtracted from each other.
"""

import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MIN_SCORES = 5
MIN_COMMENTS = 10
SUPPRESSED_TEXT = "Not enough responses to protect anonymity"

_shuffle_rng = random.SystemRandom()


@dataclass(frozen=True)
class Thresholds:
    scores: int = MIN_SCORES
    comments: int = MIN_COMMENTS


def thresholds(scores: int | None = None, comments: int | None = None) -> Thresholds:
    """Return the thresholds in force: configuration may raise the floors, never lower them."""
    return Thresholds(max(MIN_SCORES, int(scores or 0)), max(MIN_COMMENTS, int(comments or 0)))


def configured_thresholds(config: Mapping[str, Any]) -> Thresholds:
    """Return the thresholds set by an app's MIN_GROUP_SCORES and MIN_GROUP_COMMENTS, clamped to
    the floors. This is the one place configuration turns into thresholds."""
    return thresholds(config.get("MIN_GROUP_SCORES"), config.get("MIN_GROUP_COMMENTS"))


def stricter(*options: Thresholds) -> Thresholds:
    """Return the strictest of several thresholds (e.g. locked at opening and configured now)."""
    return Thresholds(
        max(MIN_SCORES, *(t.scores for t in options)),
        max(MIN_COMMENTS, *(t.comments for t in options)),
    )


@dataclass(frozen=True)
class Cut:
    key: Hashable
    parent: Hashable | None  # the key of the nearest enclosing cut, or None at the top
    n: int  # respondents in this cut and every cut below it


def visible_cuts(cuts: Iterable[Cut], k: int) -> set[Hashable]:
    """Return the keys of cuts that may be shown with minimum group size k."""
    k = max(int(k), 1)
    by_key = {c.key: c for c in cuts}
    children: dict[Hashable, list[Cut]] = {}
    for cut in by_key.values():
        if cut.parent in by_key:
            children.setdefault(cut.parent, []).append(cut)
    visible = {key for key, cut in by_key.items() if cut.n >= k}

    def released_below(key) -> list[Cut]:
        """The released cuts under `key` with no released cut between them and `key`."""
        found = []
        for child in children.get(key, []):
            if child.key in visible:
                found.append(child)
            else:
                found.extend(released_below(child.key))
        return found

    changed = True
    while changed:
        changed = False
        for key in sorted(visible, key=lambda kk: -by_key[kk].n):
            if key not in visible:
                continue
            while True:
                below = released_below(key)
                remainder = by_key[key].n - sum(c.n for c in below)
                if not below or remainder <= 0 or remainder >= k:
                    break
                smallest = min(below, key=lambda c: (c.n, str(c.key)))
                visible.discard(smallest.key)
                changed = True
    return visible


@dataclass
class Visibility:
    scores: set[Hashable] = field(default_factory=set)
    comments: set[Hashable] = field(default_factory=set)


def protect(cuts: Sequence[Cut], limits: Thresholds) -> Visibility:
    """Return which cuts may show scores and which may show comments."""
    return Visibility(
        scores=visible_cuts(cuts, limits.scores), comments=visible_cuts(cuts, limits.comments)
    )


@dataclass(frozen=True)
class Cell:
    """A cut with everything that could be shown about it."""

    key: Hashable
    parent: Hashable | None
    respondents: int
    scores: Any = None  # any payload of numbers: means, counts, distributions, rates
    comments: Sequence[str] = ()


@dataclass(frozen=True)
class Released:
    """What may leave the server about one cut: None where it is withheld."""

    key: Hashable
    respondents: int | None
    scores: Any
    comments: list[str] | None

    @property
    def suppressed(self) -> bool:
        return self.scores is None


def release(
    cells: Sequence[Cell], limits: Thresholds, wanted: Iterable[Hashable] | None = None
) -> dict[Hashable, Released]:
    """Apply the thresholds and differencing rules to every cell of one cycle.

    `cells` must be all cuts of the cycle (not only the ones on the page), so that suppression
    is the same for every viewer. `wanted` limits which released cells are returned. Comments
    come back shuffled, so their order says nothing about when they were written.
    """
    cuts = [Cut(c.key, c.parent, c.respondents) for c in cells]
    if any(c.comments for c in cells):
        seen = protect(cuts, limits)
    else:  # no comment to release: only score visibility is needed
        seen = Visibility(scores=visible_cuts(cuts, limits.scores))
    keys = set(wanted) if wanted is not None else None
    out = {}
    for cell in cells:
        if keys is not None and cell.key not in keys:
            continue
        shown = cell.key in seen.scores
        comments = None
        if shown and cell.key in seen.comments:
            comments = list(cell.comments)
            _shuffle_rng.shuffle(comments)
        out[cell.key] = Released(
            cell.key, cell.respondents if shown else None, cell.scores if shown else None, comments
        )
    return out


class FigureStatus(StrEnum):
    """Whether a released figure is shown, or why not (stored and sent as the plain string)."""

    SHOWN = "shown"
    NONE = "none"  # no data
    SUPPRESSED = "suppressed"  # too few answers
    DIFFERENCING = "differencing"  # shown, a smaller group could be worked out
    MERGED = "merged"  # too small at launch: reported with the unit above


TOO_FEW = "Hidden: too few answers"
DIFFERENCING = "Hidden so that a smaller group can't be worked out"


def withheld_reason(respondents: int, limits: Thresholds) -> str:
    """Say in plain words why `release` withheld a cut's scores.

    A cut under the floor has too few answers; one at or over it was hidden by differencing
    protection. Call it only for cuts that `release` suppressed.
    """
    return TOO_FEW if respondents < limits.scores else DIFFERENCING


# Counts without payload, such as scenario choice reports: a cell is a unit of the org tree (with
# its whole subtree), and the rules are the same as for any other cut.


def visible_cells(
    counts: dict[int, int], parent_of: dict[int, int | None], min_people: int = MIN_SCORES
) -> set[int]:
    """Return the units whose cell may be shown.

    `counts` maps each unit to its distinct people (subtree included); `parent_of` maps each
    unit to its parent (None at the top). Units missing from `counts` have no people.
    """
    cuts = [Cut(unit, parent_of.get(unit), n) for unit, n in counts.items()]
    return visible_cuts(cuts, thresholds(min_people).scores)


def visible_overlaps(
    whole: dict[int, int], parts: dict[int, int], min_people: int = MIN_SCORES
) -> set[int]:
    """Return the units whose `parts` cell may be shown next to a `whole` cell containing it.

    The whole (e.g. all scenarios in a quarter) minus the part (one scenario) must be empty or
    hold at least `min_people` people, else the part is hidden (anonymity.md §4, overlap).
    """
    min_people = thresholds(min_people).scores
    return {
        unit
        for unit, n in parts.items()
        if whole.get(unit, n) - n == 0 or whole.get(unit, n) - n >= min_people
    }
