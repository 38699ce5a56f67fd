"""Which report cells may be shown: minimum group size and differencing protection.

Pure Python. A cell is a unit of the org tree (with its whole subtree) for one scenario and
quarter. The rules are the pulse survey's (shared/reference/anonymity.md §3–4), applied by
`trainer.pulse.anonymity.visible_cuts`: a cell needs at least `min_players` players, and for
every shown cell the players not covered by its shown descendants (the "rest of the team",
recoverable by subtraction) must be none or at least `min_players`.
"""

from trainer.pulse.anonymity import MIN_SCORES, Cut, visible_cuts

MIN_PLAYERS = MIN_SCORES  # a floor: configuration may raise it, never lower it


def visible_cells(counts: dict[int, int], parent_of: dict[int, int | None],
                  min_players: int = MIN_PLAYERS) -> set[int]:
    """Return the units whose cell may be shown.

    `counts` maps each unit to its distinct players (subtree included); `parent_of` maps each
    unit to its parent (None at the top). Units missing from `counts` have no players.
    """
    cuts = [Cut(unit, parent_of.get(unit), n) for unit, n in counts.items()]
    return visible_cuts(cuts, max(min_players, MIN_PLAYERS))


def visible_overlaps(whole: dict[int, int], parts: dict[int, int],
                     min_players: int = MIN_PLAYERS) -> set[int]:
    """Return the units whose `parts` cell may be shown next to a `whole` cell containing it.

    The whole (e.g. all scenarios in a quarter) minus the part (one scenario) must be empty or
    hold at least `min_players` players, else the part is hidden (anonymity.md §4, overlap).
    """
    min_players = max(min_players, MIN_PLAYERS)
    return {unit for unit, n in parts.items()
            if whole.get(unit, n) - n == 0 or whole.get(unit, n) - n >= min_players}
