"""eNPS (§6) and Cronbach's alpha (§7)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from trainer.insights.sources import Status
from trainer.insights.stats.base import MIN_RESPONDENTS

# --------------------------------------------------------------------------------------------
# NPS (§6)


def nps_from_shares(p: float, d: float, n: int) -> dict:
    """Return ``{nps, moe, n, promoter_share, detractor_share, status, reason}`` from shares.

    MOE₉₅ = 100·1.96·√((P + D − (P − D)²)/n) NPS points.
    """
    if n < MIN_RESPONDENTS:
        return {
            "nps": None,
            "moe": None,
            "n": n,
            "promoter_share": None,
            "detractor_share": None,
            "status": Status.INSUFFICIENT_DATA,
            "reason": f"Needs at least {MIN_RESPONDENTS} responses, has {n}.",
        }
    variance = p + d - (p - d) ** 2
    return {
        "nps": 100 * (p - d),
        "moe": float(100 * stats.norm.ppf(0.975) * math.sqrt(variance / n)),
        "n": n,
        "promoter_share": p,
        "detractor_share": d,
        "status": Status.OK,
        "reason": "",
    }


def nps(scores: Sequence[float]) -> dict:
    """Return NPS from 0–10 scores: ``{nps, moe, n, promoters, passives, detractors, ...}``.

    Promoters score 9–10, passives 7–8, detractors 0–6; the three counts are included.
    """
    values = np.asarray(scores, dtype=float)
    values = values[~np.isnan(values)]
    if ((values < 0) | (values > 10)).any():
        raise ValueError("NPS scores must be between 0 and 10")
    n = len(values)
    promoters = int((values >= 9).sum())
    detractors = int((values <= 6).sum())
    counts = {
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
    }
    if n == 0:
        return {**nps_from_shares(0.0, 0.0, 0), **counts}
    return {**nps_from_shares(promoters / n, detractors / n, n), **counts}


def nps_change_is_noise(a: dict, b: dict) -> bool:
    """Say whether the change between two ``nps`` results is within noise (< 1.96·SE)."""
    se_a = a["moe"] / stats.norm.ppf(0.975)
    se_b = b["moe"] / stats.norm.ppf(0.975)
    return abs(b["nps"] - a["nps"]) < stats.norm.ppf(0.975) * math.sqrt(se_a**2 + se_b**2)


# --------------------------------------------------------------------------------------------
# Reliability (§7)


def cronbach_alpha(
    df_items: pd.DataFrame, listwise: bool = False, conf: float = 0.95
) -> tuple[float, float, float]:
    """Return (alpha, ci_low, ci_high) for a respondents × items frame, with a Feldt interval.

    Missing answers are handled pairwise by ``DataFrame.cov()`` unless ``listwise`` drops every
    incomplete row. The interval always uses the row count before any deletion, as R's
    ``psych::alpha`` does.
    """
    n, k = df_items.shape
    if k < 2 or n < 2:
        raise ValueError("Cronbach's alpha needs at least two items and two respondents")
    data = df_items.dropna() if listwise else df_items
    covariance = data.cov()
    alpha = k / (k - 1) * (1 - np.trace(covariance) / covariance.to_numpy().sum())
    df1 = n - 1
    df2 = df1 * (k - 1)
    tail = (1 - conf) / 2
    low = 1 - (1 - alpha) * stats.f.ppf(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * stats.f.ppf(tail, df1, df2)
    return float(alpha), float(low), float(high)
