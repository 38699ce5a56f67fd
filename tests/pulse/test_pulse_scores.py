"""The pulse scores computed from rollup sums: eNPS, engagement index and alpha."""

import numpy as np
import pytest

from trainer.pulse import scores


def test_enps_margin_of_error_matches_the_reference_table():
    # statistics.md §6: P = .60, D = .15 -> NPS 45; n = 100 -> ± 14.5, n = 20 -> ± 32.4.
    for n, moe in ((100, 14.5), (20, 32.4), (400, 7.3)):
        promoters, detractors = int(0.6 * n), int(0.15 * n)
        dist = {10: promoters, 8: n - promoters - detractors, 3: detractors}
        score, margin, count = scores.enps(dist)
        assert count == n and score == pytest.approx(45)
        assert margin == pytest.approx(moe, abs=0.05)


def test_cronbach_alpha_matches_a_direct_computation():
    rng = np.random.default_rng(7)
    trait = rng.normal(0, 1, 200)
    data = np.clip(np.round(3 + trait[:, None] + rng.normal(0, 0.8, (200, 6))), 1, 5)
    k = data.shape[1]
    expected = k / (k - 1) * (1 - data.var(axis=0, ddof=1).sum() / data.sum(1).var(ddof=1))
    stats = {
        "n": 200,
        "item_sum": data.sum(0).tolist(),
        "item_sumsq": (data**2).sum(0).tolist(),
        "total_sum": data.sum(),
        "total_sumsq": (data.sum(1) ** 2).sum(),
    }
    assert scores.cronbach_alpha(stats) == pytest.approx(expected)
    assert scores.cronbach_alpha({"n": 1, "item_sum": [1, 2]}) is None


def test_enps_from_shares_is_the_reference_example():
    score, margin = scores.enps_from_shares(0.60, 0.15, 100)  # statistics.md §10
    assert score == pytest.approx(45) and margin == pytest.approx(14.5, abs=0.05)


def test_the_engagement_index_is_the_mean_likert_answer():
    assert scores.engagement_index(37, 10) == pytest.approx(3.7)
    assert scores.engagement_index(0, 0) is None
