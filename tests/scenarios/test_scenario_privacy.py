"""The pure suppression rules for choice reports: minimum group size and differencing."""

from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.anonymity import visible_cells, visible_overlaps

# company 1 > site 2 > teams 3, 4, 5
PARENTS = {1: None, 2: 1, 3: 2, 4: 2, 5: 2}


def test_a_cell_needs_five_players():
    assert visible_cells({1: 5, 2: 5, 3: 5}, PARENTS) == {1, 2, 3}
    assert visible_cells({1: 4, 2: 4, 3: 4}, PARENTS) == set()


def test_the_floor_cannot_be_lowered_only_raised():
    assert visible_cells({1: 5, 2: 5, 3: 5}, PARENTS, min_people=2) == {1, 2, 3}
    assert visible_cells({1: 6, 2: 6, 3: 6}, PARENTS, min_people=7) == set()


def test_complement_hides_a_child_when_the_rest_of_the_parent_is_small():
    # Site 2 has 8 players: team 3 has 5 of them, team 4 the other 3.
    shown = visible_cells({1: 8, 2: 8, 3: 5, 4: 3}, PARENTS)
    assert shown == {1, 2}


def test_a_child_that_is_the_whole_parent_may_be_shown():
    assert visible_cells({1: 6, 2: 6, 3: 6}, PARENTS) == {1, 2, 3}


def test_next_smallest_sibling_is_hidden_so_a_small_one_cannot_be_recovered():
    # Team 5 (3 players) is hidden; teams 3 and 4 alone would give it away by subtraction.
    shown = visible_cells({1: 20, 2: 20, 3: 8, 4: 9, 5: 3}, PARENTS)
    assert 5 not in shown
    assert 3 not in shown  # the smallest shown sibling goes too
    assert {1, 2, 4} <= shown


def test_people_attached_to_the_parent_count_as_its_rest():
    # Site 2 has 2 people of its own besides team 3's 6.
    assert visible_cells({1: 8, 2: 8, 3: 6}, PARENTS) == {1, 2}


def test_overlap_hides_a_part_that_differs_from_its_whole_by_a_few():
    assert visible_overlaps({2: 7, 3: 5}, {2: 5, 3: 5}) == {3}
    assert visible_overlaps({2: 10}, {2: 5}) == {2}


@st.composite
def trees(draw):
    """A random tree of up to 12 units, with leaf counts rolled up to their ancestors."""
    size = draw(st.integers(2, 12))
    parents = {0: None}
    for unit in range(1, size):
        parents[unit] = draw(st.integers(0, unit - 1))
    own = {unit: draw(st.integers(0, 12)) for unit in parents}
    counts = dict(own)
    for unit in sorted(parents, reverse=True):
        if parents[unit] is not None:
            counts[parents[unit]] += counts[unit]
    return parents, counts


def _frontier(unit, parents, shown):
    children = [u for u, p in parents.items() if p == unit]
    out = []
    for child in children:
        out += [child] if child in shown else _frontier(child, parents, shown)
    return out


@settings(max_examples=300, deadline=None)
@given(trees())
def test_no_shown_cell_leaves_a_small_remainder(tree):
    parents, counts = tree
    shown = visible_cells(counts, parents)
    for unit in shown:
        assert counts[unit] >= 5
        rest = counts[unit] - sum(counts[c] for c in _frontier(unit, parents, shown))
        assert rest == 0 or rest >= 5, (unit, rest)
