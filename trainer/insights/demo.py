"""Demo customer outcomes that carry something true for the dashboard to find.

- A planted link: each team's customer quality follows its own pulse morale one quarter
  earlier (within-team correlation of about .5 with CSI), on top of a stable team effect.
- One gamed site: in its last three quarters its CSI sits at 97-100 with a top-box share near
  1 and an inflated response rate, while its complaints rise and its retention falls.
- Small teams: the pulse step already merges or suppresses them; they get outcomes anyway.
- A few managers' ratings of their teams' customer focus, for the perception gap.

Morale is read from the released pulse rollups (`morale_by_unit_period`), so this step must run
after the pulse demo step.
"""

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from trainer.insights.models import CustomerFocusRating
from trainer.org.models import ManagedUnit
from trainer.outcomes.imports import upsert_outcomes
from trainer.pulse.morale import morale_by_unit_period
from trainer.util import utcnow

GAMED_SITE = "YORK"
GAMED_QUARTERS = 3  # the gamed site's last quarters at 97-100
WITHIN_R = 0.55  # planted within-team correlation of customer quality with last quarter's morale


def _morale_drivers(session: Session, demo, periods: list[str]) -> dict[int, list[float]]:
    """Return each team's morale per quarter: its own released value, else its site's, else
    the company's, else its mean (small teams are reported with the unit above)."""
    released = {
        (r["unit_id"], r["period"]): r["engagement"]
        for r in morale_by_unit_period(session=session)
        if r["engagement"] is not None
    }
    drivers = {}
    for team in demo.teams:
        series = []
        for period in periods:
            value = next(
                (
                    released[(u, period)]
                    for u in (team.id, team.parent_id, demo.company.id)
                    if (u, period) in released
                ),
                np.nan,
            )
            series.append(value)
        values = np.array(series, dtype=float)
        values[np.isnan(values)] = np.nanmean(values) if not np.isnan(values).all() else 3.7
        drivers[team.id] = list(values)
    return drivers


def _team_outcomes(rng, team, site_code, morale, periods, pooled_sd, unit_effect):
    """Yield (period, {metric: row}) for one team."""
    morale = np.asarray(morale)
    deviation = (morale - morale.mean()) / pooled_sd
    noise_sd = np.sqrt(1 / WITHIN_R**2 - 1)
    gamed = site_code == GAMED_SITE
    for t, period in enumerate(periods):
        planted = deviation[t - 1] if t > 0 else 0.0
        quality = planted + rng.normal(0, noise_sd)  # within-team SD about 2
        gaming_step = t - (len(periods) - GAMED_QUARTERS) + 1  # 1, 2, 3 in the gamed quarters
        decline = max(0, gaming_step) if gamed else 0
        real = quality - 0.8 * decline
        invited = int(rng.integers(220, 420))
        rate = 0.25 + (0.12 * decline if gamed else 0)
        responses = int(rng.binomial(invited, min(rate, 0.9)))
        csi = float(np.clip(82 + 1.5 * unit_effect + 2.0 * quality, 40, 99.5))
        topbox_p = float(np.clip(0.30 + 0.004 * (csi - 82), 0.02, 0.98))
        if gamed and decline:
            csi = float(np.clip(rng.uniform(97.2, 99.8), 0, 100))
            topbox_p = float(rng.uniform(0.9, 0.97))
        topbox = rng.binomial(responses, topbox_p) / responses
        satisfied = float(np.clip(0.80 + 0.02 * unit_effect + 0.03 * real, 0.3, 0.99))
        csat_n = int(rng.integers(80, 160))
        csat = 100 * rng.binomial(csat_n, satisfied) / csat_n
        promoters = float(np.clip(0.48 + 0.02 * unit_effect + 0.04 * real, 0.05, 0.9))
        detractors = float(np.clip(0.18 - 0.01 * unit_effect - 0.025 * real, 0.02, 0.6))
        counts = rng.multinomial(csat_n, [promoters, 1 - promoters - detractors, detractors])
        nps = 100 * (counts[0] - counts[2]) / csat_n
        transactions = int(rng.integers(8000, 15000))
        complaint_rate = max(0.5, 6.0 - 0.5 * unit_effect - 0.6 * real + 2.0 * decline) / 1000
        complaints = 1000 * rng.poisson(transactions * complaint_rate) / transactions
        base = int(rng.integers(1500, 3000))
        kept = float(np.clip(0.70 + 0.01 * unit_effect + 0.012 * real - 0.04 * decline, 0.2, 0.98))
        retention = 100 * rng.binomial(base, kept) / base
        yield (
            period,
            {
                "csi": {
                    "value": round(csi, 1),
                    "n": responses,
                    "topbox": round(topbox, 4),
                    "responses": responses,
                    "invited": invited,
                },
                "csat": {
                    "value": round(csat, 1),
                    "n": csat_n,
                    "topbox": round(max(0.0, satisfied - 0.35), 4),
                },
                "nps": {
                    "value": round(nps, 1),
                    "n": csat_n,
                    "topbox": round(counts[0] / csat_n, 4),
                },
                "complaints": {"value": round(complaints, 2), "n": transactions},
                "retention": {"value": round(retention, 1), "n": base},
            },
        )


def add_customer_history(*, session: Session, demo) -> None:
    """Generate customer outcomes per team for the pulse quarters, and managers' ratings."""
    rng = np.random.default_rng(2026)
    morale_rows = morale_by_unit_period(session=session)
    periods = sorted({r["period"] for r in morale_rows})
    if len(periods) < 2:
        return
    drivers = _morale_drivers(session, demo, periods)
    deviations = np.concatenate([np.asarray(s) - np.mean(s) for s in drivers.values()])
    pooled_sd = float(deviations.std(ddof=1)) or 0.15
    sites = {site.id: site.code for site in demo.sites}
    rows = []
    for team in demo.teams:
        unit_effect = (np.mean(drivers[team.id]) - 3.7) / 0.3 * 0.8 + rng.normal(0, 0.7)
        for period, metrics in _team_outcomes(
            rng, team, sites[team.parent_id], drivers[team.id], periods, pooled_sd, unit_effect
        ):
            for metric, values in metrics.items():
                rows.append(
                    {
                        "unit_id": team.id,
                        "period": period,
                        "metric": metric,
                        "n": None,
                        "topbox": None,
                        "responses": None,
                        "invited": None,
                        **values,
                    }
                )
    upsert_outcomes(session=session, rows=rows, source="demo")
    _add_ratings(session, demo, rng, morale_rows, periods)


def _add_ratings(session: Session, demo, rng, morale_rows, periods) -> None:
    """Team leaders rate their own team, now and then a little more kindly than the team."""
    focus = {
        (r["unit_id"], r["period"]): r["customer_focus"]
        for r in morale_rows
        if r["customer_focus"] is not None
    }
    team_ids = {team.id for team in demo.teams}
    leaders = session.exec(select(ManagedUnit).where(ManagedUnit.unit_id.in_(team_ids))).all()
    now = utcnow()
    ratings = []
    for link in leaders:
        for period in periods[-4:]:
            if rng.random() > 0.7:
                continue
            team_view = focus.get((link.unit_id, period), 3.9)
            rating = int(np.clip(round(team_view + 0.6 + rng.normal(0, 0.5)), 1, 5))
            ratings.append(
                {
                    "unit_id": link.unit_id,
                    "period": period,
                    "rater_id": link.user_id,
                    "rating": rating,
                    "updated_at": now,
                }
            )
    if ratings:
        session.execute(sa.insert(CustomerFocusRating), ratings)


def summarise_training(*, session: Session, demo) -> None:
    """Fill the training rollup, as the scheduler would, so the dashboard shows it at once."""
    from trainer.insights.training_rollup import refresh_training_rollups

    session.flush()
    refresh_training_rollups(session=session, now=utcnow())


def work_out_dashboards(*, session: Session) -> None:
    """Work out the analyses people land on, as the scheduler would, so that each first view
    of the demo reads them instead of waiting for them."""
    from flask import current_app

    from trainer.insights.store import refresh_analyses

    session.flush()
    level = current_app.config["INSIGHTS_LEVEL"]
    refresh_analyses(session=session, now=utcnow(), level=level, limit=None)
