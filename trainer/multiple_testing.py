"""Benjamini–Hochberg q-values: the one implementation, pure (no numpy), so a web page can
apply it without loading the statistics stack (shared/reference/statistics.md §5)."""

from collections.abc import Sequence


def bh_q_values(p_values: Sequence[float]) -> list[float]:
    """Return the Benjamini–Hochberg adjusted p-values (q-values), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    q_values = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q_values[i] = running
    return q_values
