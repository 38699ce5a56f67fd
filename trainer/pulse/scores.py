"""Pulse scores from rolled-up counts: eNPS, the engagement index and Cronbach's alpha.

Pure functions, no Flask and no database (shared/reference/statistics.md §6-7). They work on
the sums a rollup keeps, so no individual answer is needed to compute them.
"""


def enps(distribution: dict[int, int]) -> tuple[float, float, int] | None:
    """Return (eNPS, 95% margin of error, n) from counts per score 0-10 (statistics.md §6)."""
    n = sum(distribution.values())
    if n == 0:
        return None
    promoters = sum(c for score, c in distribution.items() if int(score) >= 9) / n
    detractors = sum(c for score, c in distribution.items() if int(score) <= 6) / n
    return (*enps_from_shares(promoters, detractors, n), n)


def enps_from_shares(promoters: float, detractors: float, n: int) -> tuple[float, float]:
    """Return (eNPS, 95% margin of error) from the promoter and detractor shares of n answers:
    MOE = 100 * 1.96 * sqrt((P + D - (P - D)^2) / n) (statistics.md §6)."""
    variance = promoters + detractors - (promoters - detractors) ** 2
    return 100 * (promoters - detractors), 100 * 1.96 * (max(variance, 0.0) / n) ** 0.5


def engagement_index(likert_total: float, likert_n: int) -> float | None:
    """Return the engagement index: the mean of every Likert answer (1-5), None without any."""
    return likert_total / likert_n if likert_n else None


def cronbach_alpha(stats: dict) -> float | None:
    """Return Cronbach's alpha from sums over complete responses (statistics.md §7).

    `stats` holds n, item_sum and item_sumsq (lists, one per item), total_sum, total_sumsq.
    """
    n, sums, sumsqs = stats.get("n", 0), stats.get("item_sum", []), stats.get("item_sumsq", [])
    k = len(sums)
    if n < 2 or k < 2:
        return None

    def variance(total, total_sq):
        return (total_sq - total * total / n) / (n - 1)

    item_var = sum(variance(s, q) for s, q in zip(sums, sumsqs, strict=True))
    total_var = variance(stats["total_sum"], stats["total_sumsq"])
    if total_var <= 0:
        return None
    return k / (k - 1) * (1 - item_var / total_var)
