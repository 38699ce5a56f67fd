"""Demo fixes that carry something true for the dashboard to find.

- A planted behaviour link: teams fix more problems on the spot when their morale is high,
  both between teams (a team's usual morale) and within a team (this quarter's and last
  quarter's morale against its usual level).
- The gamed site (insights.demo.GAMED_SITE) logs little: few of its people log anything, so
  its cells stay hidden.
- One team logs most of a quarter's fixes in its last two weeks, for HR's data-quality flags.

Morale is read from the released pulse rollups, so this step runs after the pulse and insights
steps.
"""

from datetime import UTC, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.demo import SITES
from trainer.fixes import services
from trainer.fixes.models import Fix, FixSettings
from trainer.insights.demo import GAMED_SITE, _morale_drivers
from trainer.pulse.results import morale_by_unit_period
from trainer.util import quarter_bounds, utcnow

BETWEEN, WITHIN = 0.35, 0.45  # log-odds of fixing on the spot per SD of morale
LATE_TEAM = "BATH-SALES"  # logs a quarter's fixes in its last two weeks
SITE_SETTINGS = {"dealer": ("GBP", 75.0), "call": ("GBP", 40.0)}


def _logit(x):
    return 1 / (1 + np.exp(-x))


def add_fix_history(*, session: Session, demo) -> None:
    """Generate each team's fixes for the pulse quarters, then the rollups."""
    rng = np.random.default_rng(17)
    services.ensure_default_problem_types(session)
    kinds = {code: kind for _region, code, _name, kind in SITES}
    for site in demo.sites:
        currency, limit = SITE_SETTINGS[kinds[site.code]]
        session.add(FixSettings(unit_id=site.id, unit_type=kinds[site.code], currency=currency,
                                goodwill_limit=limit))
    session.flush()
    periods = sorted({r["period"] for r in morale_by_unit_period(session=session)})
    if len(periods) < 2:
        return
    drivers = _morale_drivers(session, demo, periods)
    means = {uid: float(np.mean(series)) for uid, series in drivers.items()}
    spread = float(np.std(list(means.values()))) or 0.2
    centre = float(np.mean(list(means.values())))
    deviations = np.concatenate([np.asarray(s) - np.mean(s) for s in drivers.values()])
    pooled = float(deviations.std(ddof=1)) or 0.15
    sites = {site.id: site for site in demo.sites}
    people = {}
    for user_id, unit_id, roles in session.exec(select(User.id, User.unit_id, User.roles)):
        if Role.EMPLOYEE in parse_roles(roles):
            people.setdefault(unit_id, []).append(user_id)
    now = utcnow()
    rows = []
    for team in demo.teams:
        site = sites[team.parent_id]
        kind = kinds[site.code]
        choices = [code for code, _label in services.problem_choices(session, kind)]
        weights = np.linspace(2.0, 0.6, len(choices))
        weights /= weights.sum()
        gamed = site.code == GAMED_SITE
        morale = np.asarray(drivers[team.id])
        within = (morale - morale.mean()) / pooled
        between = (means[team.id] - centre) / spread + rng.normal(0, 0.8)
        for t, period in enumerate(periods):
            lagged = within[t - 1] if t else 0.0
            p_spot = float(_logit(0.1 + BETWEEN * between + WITHIN * (within[t] + lagged)))
            start, end = quarter_bounds(period)
            last = min(end, now.date())
            days = (last - start).days + 1
            if days < 1:
                continue
            late = team.code == LATE_TEAM and t == len(periods) - 2
            for user_id in people.get(team.id, []):
                if rng.random() > (0.25 if gamed else 0.8):
                    continue
                count = int(rng.poisson(0.4 if gamed else 3.0))
                for _ in range(count):
                    if late:
                        offset = int(rng.integers(max(0, days - 12), days))
                    else:
                        offset = int(rng.integers(0, days))
                    at = datetime.combine(start + timedelta(days=offset),
                                          time(int(rng.integers(8, 18)),
                                               int(rng.integers(0, 60))), UTC)
                    if at > now:
                        at = now - timedelta(minutes=int(rng.integers(1, 600)))
                    action = "on_spot" if rng.random() < p_spot else str(
                        rng.choice(["goodwill", "handover", "escalated"], p=[0.45, 0.35, 0.2]))
                    goodwill = float(round(rng.uniform(10, 90))) if action == "goodwill" else 0.0
                    problem = str(rng.choice(choices, p=weights))
                    rows.append({"user_id": user_id, "unit_id": team.id, "period": period,
                                 "logged_at": at, "problem": problem,
                                 "problem_label": problem.replace("-", " ").capitalize(),
                                 "action": action, "goodwill": goodwill,
                                 "currency": SITE_SETTINGS[kind][0], "note": ""})
    labels = services.problem_labels(session)
    for row in rows:
        row["problem_label"] = labels.get(row["problem"], row["problem_label"])
    if rows:
        session.execute(sa.insert(Fix), rows)
    services.refresh_rollups(session=session, now=now)
