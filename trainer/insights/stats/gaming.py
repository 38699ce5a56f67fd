"""Gaming signals (§8): data-quality flags for HR, never accusations or rankings.

Each signal reads one row per unit × period (aggregates only, never single answers) and judges
a unit against its own history or against its peers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainer.insights.stats.base import MIN_RESPONDENTS
from trainer.insights.stats.funnel import peer_funnel
from trainer.insights.words import N_

NOT_AN_ACCUSATION = N_("This is a data-quality check, not an accusation.")


def _flag(unit_code, period, signal: str, reason: str) -> dict:
    return {
        "unit_code": unit_code,
        "period": period,
        "kind": "gaming",
        "signal": signal,
        "reason": f"{reason} {NOT_AN_ACCUSATION}",
    }


def _above_peer_funnel(
    df: pd.DataFrame, unit: str, period: str, hits: str, size: str, signal: str, label: str
) -> list[dict]:
    """Flag rows whose hits/size share is above the funnel plot's 99.9 % limit.

    The limits come from :func:`peer_funnel` over all units in the period, exactly as the
    funnel plot draws them: around the median unit and widened for over-dispersion between
    units, so honest variation between units is not flagged. Units with fewer than
    ``MIN_RESPONDENTS`` are peers but are never flagged themselves.
    """
    flags = []
    data = df.dropna(subset=[hits, size])
    data = data[data[size] >= 1]
    data = data.assign(_share=data[hits] / data[size])
    data = data[(data["_share"] >= 0) & (data["_share"] <= 1)]
    for quarter, rows in data.groupby(period, sort=True):
        result = peer_funnel(rows["_share"].to_numpy(float), rows[size].to_numpy(float))
        if result is None:
            continue
        p0, upper_limits = result["p0"], result["limits"]["alarm_high"]
        widened = (
            f", widened for the spread between units (dispersion factor {result['phi']:.1f})"
            if result["phi"] is not None
            else ""
        )
        for i, row in enumerate(rows.to_dict("records")):
            n = int(row[size])
            share, upper = float(row["_share"]), float(upper_limits[i])
            if n < MIN_RESPONDENTS or not share > upper:
                continue
            flags.append(
                _flag(
                    row[unit],
                    quarter,
                    signal,
                    f"{label} {share:.0%} ({round(row[hits])} of {n}) is above the 99.9% "
                    f"limit of {upper:.0%} expected from peers (typical unit {p0:.0%}"
                    f"{widened}).",
                )
            )
    return flags


def topbox_flags(
    df: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    top_box: str = "top_box",
    n: str = "n_responses",
) -> list[dict]:
    """Flag unit-periods whose top-box share is above the peer funnel's 99.9 % upper limit.

    ``df`` has one row per unit × period with the count of top-box answers and of responses.
    Peers are all units in the same period; the limits are the funnel plot's
    (:func:`peer_funnel`), widened for over-dispersion between units.
    """
    columns = {unit: "u", period: "t", top_box: "hits", n: "size"}
    data = df[list(columns)].rename(columns=columns)
    return _above_peer_funnel(data, "u", "t", "hits", "size", "top_box", "Top-box share")


def response_rate_flags(
    df: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    responses: str = "n_responses",
    invitations: str = "invitations",
) -> list[dict]:
    """Flag unit-periods whose response rate is above the peer funnel's 99.9 % upper limit.

    ``df`` has one row per unit × period with counts of responses and of survey invitations.
    """
    columns = {unit: "u", period: "t", responses: "hits", invitations: "size"}
    data = df[list(columns)].rename(columns=columns)
    return _above_peer_funnel(data, "u", "t", "hits", "size", "response_rate", "Response rate")


def spread_bound(mean, low: float, high: float):
    """The most the answers' SD can be, for answers between ``low`` and ``high`` with this
    mean (the Bhatia–Davis inequality): √((high − μ)(μ − low)). Works on arrays too."""
    return np.sqrt(np.clip((high - np.asarray(mean, dtype=float)) * (mean - low), 0.0, None))


def spread_collapse_flags(
    df: pd.DataFrame,
    low: float,
    high: float,
    *,
    unit: str = "unit_code",
    period: str = "period",
    score: str = "score",
    ratio: float = 0.5,
    min_history: int = 2,
    min_peers: int = 3,
) -> list[dict]:
    """Flag unit-periods whose answers can barely vary any more, from their means alone.

    Only unit-period means are stored (never single answers), so the spread of answers is
    bounded instead of measured: for answers between ``low`` and ``high`` with mean μ, the SD
    is at most √((high − μ)(μ − low)) (the Bhatia–Davis inequality). A unit-period is flagged
    when that bound is below ``ratio`` × the median bound of the unit's earlier periods and
    below ``ratio`` × the median bound of the other units in the same period.
    """
    data = df[[unit, period, score]].dropna()
    by_unit: dict[str, list[tuple[str, float]]] = {}
    by_period: dict[str, list[tuple[str, float]]] = {}
    records = []
    for code, quarter, value in zip(data[unit], data[period], data[score], strict=True):
        bound = float(spread_bound(value, low, high))
        records.append((code, quarter, value, bound))
        by_unit.setdefault(code, []).append((quarter, bound))
        by_period.setdefault(quarter, []).append((code, bound))
    flags = []
    for code, quarter, value, bound in records:
        history = [b for p, b in by_unit[code] if p < quarter]
        peers = [b for u, b in by_period[quarter] if u != code]
        if len(history) < min_history or len(peers) < min_peers:
            continue
        own, peer = float(np.median(history)), float(np.median(peers))
        if bound < ratio * own and bound < ratio * peer:
            flags.append(
                _flag(
                    code,
                    quarter,
                    "variance_collapse",
                    f"Scores average {value:.1f} of {high:g}, which leaves room for an answer "
                    f"spread (SD) of at most {bound:.1f}, against {own:.1f} in this unit's "
                    f"earlier quarters and {peer:.1f} at peers; check for coached or "
                    "straight-lined answers.",
                )
            )
    return flags


def peer_spread_collapse_flags(
    df: pd.DataFrame,
    low: float,
    high: float,
    *,
    unit: str = "unit_code",
    period: str = "period",
    score: str = "score",
    n: str = "n_responses",
    k: float = 3.0,
    ratio: float = 0.5,
    min_peers: int = 5,
) -> list[dict]:
    """Flag unit-periods far above their peers whose answers can barely vary, without history.

    :func:`spread_collapse_flags` needs a clean past, so a unit gaming from its first period is
    never caught by it. This signal compares a unit with the other units in the same period
    only: it is flagged when its mean is more than ``k`` robust SDs (1.4826 × MAD) above the
    median of the peers' means and its Bhatia–Davis bound √((high − μ)(μ − low)) is below
    ``ratio`` × the peers' median bound. Honest spread between units widens the robust SD, so
    it is not flagged. With an ``n`` column, units with fewer than ``MIN_RESPONDENTS`` are
    peers but are never flagged themselves.
    """
    columns = [unit, period, score] + ([n] if n in df.columns else [])
    data = df[columns].dropna(subset=[unit, period, score])
    flags = []
    for quarter, rows in data.groupby(period, sort=True):
        values = rows[score].to_numpy(float)
        bounds = spread_bound(values, low, high)
        sizes = rows[n].to_numpy(float) if n in rows else np.full(len(rows), np.nan)
        for i, code in enumerate(rows[unit]):
            if sizes[i] < MIN_RESPONDENTS:
                continue
            others = np.arange(len(rows)) != i
            if others.sum() < min_peers:
                continue
            centre = float(np.median(values[others]))
            spread = 1.4826 * float(np.median(np.abs(values[others] - centre)))
            peer_bound = float(np.median(bounds[others]))
            if not spread > 0 or values[i] <= centre + k * spread:
                continue
            if not bounds[i] < ratio * peer_bound:
                continue
            above = (values[i] - centre) / spread
            flags.append(
                _flag(
                    code,
                    quarter,
                    "peer_variance_collapse",
                    f"Scores average {values[i]:.1f} of {high:g}, {above:.1f} "
                    f"robust SDs above the peers' typical {centre:.1f}, which leaves room for an "
                    f"answer spread (SD) of at most {bounds[i]:.1f}, against {peer_bound:.1f} at "
                    "peers; check for coached or straight-lined answers.",
                )
            )
    return flags


def _trend(values: np.ndarray) -> float:
    """Return the least-squares change per period of a short series."""
    steps = np.arange(len(values), dtype=float)
    return float(np.polyfit(steps, values, 1)[0])


def score_behaviour_mismatch_flags(
    panel: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    score: str = "score",
    complaints: str | None = "complaints_per_1000",
    retention: str | None = "retention",
    window: int = 4,
    min_change_sd: float = 0.5,
) -> list[dict]:
    """Flag units whose score rose while complaints rose or retention fell.

    Over each unit's last ``window`` periods (all must be present), the least-squares trend of
    each measure times (window − 1) is its change. A change counts when it is at least
    ``min_change_sd`` × the measure's SD across all unit-periods. The flag is on the unit's
    latest period.
    """
    flags = []
    behaviours = [(complaints, 1, "complaints rose"), (retention, -1, "retention fell")]
    behaviours = [b for b in behaviours if b[0] is not None and b[0] in panel]
    scales = {c: float(panel[c].std()) for c in [score] + [b[0] for b in behaviours]}
    for code, rows in panel.sort_values(period).groupby(unit, sort=True):
        recent = rows.tail(window)
        if len(recent) < window or recent[score].isna().any() or not scales[score] > 0:
            continue
        score_change = _trend(recent[score].to_numpy(float)) * (window - 1)
        if score_change < min_change_sd * scales[score]:
            continue
        for column, bad_sign, wording in behaviours:
            values = recent[column].to_numpy(float)
            if np.isnan(values).any() or not scales[column] > 0:
                continue
            change = _trend(values) * (window - 1)
            if bad_sign * change >= min_change_sd * scales[column]:
                flags.append(
                    _flag(
                        code,
                        recent[period].iloc[-1],
                        "score_behaviour_mismatch",
                        f"Over the last {window} quarters the score rose by "
                        f"{score_change:.2f} while {wording} ({change:+.2f}); scores and "
                        "behaviour usually move together.",
                    )
                )
    return flags


def gaming_flags(
    unit_periods: pd.DataFrame,
    *,
    unit: str = "unit_code",
    period: str = "period",
    score_range: tuple[float, float] | None = None,
) -> list[dict]:
    """Run every gaming signal whose columns are present and return all flags.

    ``unit_periods`` has one row per unit × period with any of ``n_responses``, ``top_box``,
    ``invitations``, ``score``, ``complaints_per_1000``, ``retention``. With ``score_range``
    (the lowest and highest possible score), a collapse of the answers' spread is checked too:
    against the unit's own past and peers, and (needing no history) against peers alone; a
    unit-period both would flag gets only the first flag.
    """
    keys = {"unit": unit, "period": period}
    columns = set(unit_periods.columns)
    flags = []
    if {"top_box", "n_responses"} <= columns:
        flags += topbox_flags(unit_periods, **keys)
    if {"invitations", "n_responses"} <= columns:
        flags += response_rate_flags(unit_periods, **keys)
    if "score" in columns and columns & {"complaints_per_1000", "retention"}:
        flags += score_behaviour_mismatch_flags(
            unit_periods,
            complaints="complaints_per_1000" if "complaints_per_1000" in columns else None,
            retention="retention" if "retention" in columns else None,
            **keys,
        )
    if "score" in columns and score_range is not None:
        collapsed = spread_collapse_flags(unit_periods, *score_range, **keys)
        seen = {(f["unit_code"], f["period"]) for f in collapsed}
        flags += collapsed
        # The peer signal needs no history; where the unit's own past already flags the cell,
        # that flag (against both its past and its peers) is the one kept.
        flags += [
            f
            for f in peer_spread_collapse_flags(unit_periods, *score_range, **keys)
            if (f["unit_code"], f["period"]) not in seen
        ]
    return sorted(flags, key=lambda f: (str(f["unit_code"]), str(f["period"]), f["signal"]))
