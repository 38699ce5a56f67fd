"""The pure anonymity rules: floors, suppression, differencing."""

from hypothesis import given, settings
from hypothesis import strategies as st

from trainer import anonymity
from trainer.anonymity import Cell, Cut, Thresholds, release, visible_cuts


def test_configuration_can_raise_but_never_lower_the_floors():
    assert anonymity.thresholds(3, 4) == Thresholds(5, 10)
    assert anonymity.thresholds(None, None) == Thresholds(5, 10)
    assert anonymity.thresholds(8, 12) == Thresholds(8, 12)
    assert anonymity.stricter(Thresholds(7, 10), Thresholds(5, 15)) == Thresholds(7, 15)
    assert anonymity.stricter(Thresholds(1, 1)) == Thresholds(5, 10)


def test_the_configured_thresholds_are_clamped_to_the_floors():
    assert anonymity.configured_thresholds({}) == Thresholds(5, 10)
    assert anonymity.configured_thresholds(
        {"MIN_GROUP_SCORES": 2, "MIN_GROUP_COMMENTS": 3}
    ) == Thresholds(5, 10)
    assert anonymity.configured_thresholds(
        {"MIN_GROUP_SCORES": 7, "MIN_GROUP_COMMENTS": 12}
    ) == Thresholds(7, 12)


def test_a_cut_below_the_minimum_is_hidden():
    cuts = [Cut("site", None, 20), Cut("a", "site", 16), Cut("b", "site", 4)]
    # b is too small, and a would give b away by subtraction (20 - 16), so a goes too.
    assert visible_cuts(cuts, 5) == {"site"}


def test_rest_of_the_team_must_reach_the_minimum():
    assert visible_cuts([Cut("p", None, 12), Cut("c", "p", 9)], 5) == {"p"}
    assert visible_cuts([Cut("p", None, 14), Cut("c", "p", 9)], 5) == {"p", "c"}
    # Identical groups (nothing outside the child) reveal nothing new.
    assert visible_cuts([Cut("p", None, 9), Cut("c", "p", 9)], 5) == {"p", "c"}


def test_next_smallest_siblings_are_hidden_until_the_hidden_part_is_large_enough():
    cuts = [
        Cut("p", None, 30),
        Cut("a", "p", 3),
        Cut("b", "p", 6),
        Cut("c", "p", 8),
        Cut("d", "p", 13),
    ]
    # a (3) hidden; then b (6) joins it: hidden total 9 >= 5.
    assert visible_cuts(cuts, 5) == {"p", "c", "d"}


def test_nested_cuts_are_checked_through_hidden_levels():
    cuts = [Cut("r", None, 40), Cut("s", "r", 37), Cut("t", "s", 20), Cut("u", "s", 17)]
    # r - s = 3, so s is hidden; then r's released cuts below are t and u, remainder 3 again.
    seen = visible_cuts(cuts, 5)
    assert "r" in seen and "s" not in seen
    assert len(seen & {"t", "u"}) <= 1


def test_release_withholds_scores_and_comments_and_shuffles_comments():
    cells = [
        Cell("p", None, 30, {"mean": 4}, [f"c{i}" for i in range(30)]),
        Cell("a", "p", 12, {"mean": 3}, ["x"] * 12),
        Cell("b", "p", 9, {"mean": 5}, ["y"]),
        Cell("c", "p", 9, {"mean": 2}),
    ]
    out = release(cells, Thresholds(5, 10))
    assert out["p"].scores == {"mean": 4} and sorted(out["p"].comments) == sorted(cells[0].comments)
    assert out["a"].scores == {"mean": 3} and out["a"].comments is not None
    assert out["b"].comments is None  # 9 respondents: scores yes, comments no
    orders = {tuple(release(cells, Thresholds(5, 10))["p"].comments) for _ in range(5)}
    assert len(orders) > 1


def test_suppressed_cells_carry_no_numbers():
    out = release([Cell("p", None, 8, {"m": 1}), Cell("c", "p", 4, {"m": 2})], Thresholds())
    assert out["c"].suppressed and out["c"].respondents is None and out["c"].comments is None


@st.composite
def trees(draw):
    """A random org tree of nested cuts with respondent counts that add up."""
    n_nodes = draw(st.integers(1, 25))
    parents = [None] + [draw(st.integers(0, i - 1)) for i in range(1, n_nodes)]
    own = [draw(st.integers(0, 30)) for _ in range(n_nodes)]
    totals = list(own)
    for i in range(n_nodes - 1, 0, -1):
        totals[parents[i]] += totals[i]
    return [Cut(i, parents[i], totals[i]) for i in range(n_nodes)]


def _check(cuts, k, seen):
    by = {c.key: c for c in cuts}
    for key in seen:
        assert by[key].n >= k
    # For every pair of nested visible cuts, the difference is 0 or >= k.
    for key in seen:
        up = by[key].parent
        while up is not None:
            if up in seen:
                assert by[up].n - by[key].n == 0 or by[up].n - by[key].n >= k
            up = by[up].parent
    # Under every visible cut, what no visible cut below explains is 0 or >= k.
    for key in seen:
        covered = 0
        stack = [c for c in cuts if c.parent == key]
        while stack:
            c = stack.pop()
            if c.key in seen:
                covered += c.n
            else:
                stack.extend(x for x in cuts if x.parent == c.key)
        remainder = by[key].n - covered
        assert remainder == 0 or remainder >= k


@settings(max_examples=300, deadline=None)
@given(trees(), st.sampled_from([5, 10]))
def test_no_visible_cut_is_small_or_recoverable_by_subtraction(cuts, k):
    seen = visible_cuts(cuts, k)
    _check(cuts, k, seen)
    assert seen == visible_cuts(list(reversed(cuts)), k)  # independent of input order
