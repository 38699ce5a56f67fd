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

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

import numpy as np
from sqlmodel import Session

from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.demo import SITES, bulk_write, people_in_batches
from trainer.fixes.models import Fix, FixSettings
from trainer.fixes.released import problem_labels
from trainer.fixes.rollups import refresh_rollups
from trainer.fixes.settings import ensure_default_problem_types, problem_choices
from trainer.insights.demo import GAMED_SITE, _morale_drivers
from trainer.pulse.morale import morale_by_unit_period
from trainer.util import quarter_bounds, utcnow

BETWEEN, WITHIN = 0.35, 0.45  # log-odds of fixing on the spot per SD of morale
LATE_TEAM = "BATH-SALES"  # logs a quarter's fixes in its last two weeks
SITE_SETTINGS = {"dealer": ("GBP", 75.0), "call": ("GBP", 40.0)}


def _logit(x):
    return 1 / (1 + np.exp(-x))


def add_fix_history(*, session: Session, demo) -> None:
    """Generate each team's fixes for the pulse quarters, then the rollups."""
    rng = np.random.default_rng(13)
    ensure_default_problem_types(session=session)
    kinds = {code: kind for _region, code, _name, kind in SITES}
    for site in demo.sites:
        currency, limit = SITE_SETTINGS[kinds[site.code]]
        session.add(
            FixSettings(
                unit_id=site.id, unit_type=kinds[site.code], currency=currency, goodwill_limit=limit
            )
        )
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
    team_ids = {team.id for team in demo.teams}
    people = defaultdict(list)
    for user_id, unit_id, roles in people_in_batches(User.roles, session=session):
        if unit_id in team_ids and Role.EMPLOYEE in parse_roles(roles):
            people[unit_id].append(user_id)
    labels = problem_labels(session=session)
    choices_by_kind = {
        kind: [code for code, _label in problem_choices(kind, session=session)]
        for kind in SITE_SETTINGS
    }
    now = utcnow()

    def rows():  # no queries in here: the connection is busy with the COPY they feed
        for team in demo.teams:
            site = sites[team.parent_id]
            kind = kinds[site.code]
            choices = choices_by_kind[kind]
            weights = np.linspace(2.0, 0.6, len(choices))
            weights /= weights.sum()
            gamed = site.code == GAMED_SITE
            morale = np.asarray(drivers[team.id])
            within = (morale - morale.mean()) / pooled
            between = (means[team.id] - centre) / spread + rng.normal(0, 0.8)
            ids = np.array(people[team.id], dtype=int)
            for t, period in enumerate(periods):
                lagged = within[t - 1] if t else 0.0
                p_spot = float(_logit(0.1 + BETWEEN * between + WITHIN * (within[t] + lagged)))
                late = team.code == LATE_TEAM and t == len(periods) - 2
                fixes = _quarter_fixes(rng, ids, period, gamed, late, p_spot, choices, weights, now)
                currency = SITE_SETTINGS[kind][0]
                for user_id, at, problem, action, goodwill in fixes:
                    yield (
                        user_id,
                        team.id,
                        period,
                        at,
                        problem,
                        str(labels.get(problem, problem.replace("-", " ").capitalize())),
                        action,
                        goodwill,
                        currency,
                        "",
                    )

    bulk_write(
        Fix,
        (
            "user_id",
            "unit_id",
            "period",
            "logged_at",
            "problem",
            "problem_label",
            "action",
            "goodwill",
            "currency",
            "note",
        ),
        rows(),
        session=session,
    )
    refresh_rollups(session=session, now=now)


def _quarter_fixes(rng, ids, period, gamed, late, p_spot, choices, weights, now):
    """Return (user id, logged at, problem, action, goodwill) for one team's quarter."""
    start, end = quarter_bounds(period)
    days = (min(end, now.date()) - start).days + 1
    if days < 1:
        return []
    logging = rng.random(len(ids)) <= (0.25 if gamed else 0.8)
    counts = rng.poisson(0.4 if gamed else 3.0, len(ids)) * logging
    users = np.repeat(ids, counts)
    total = len(users)
    day = rng.integers(max(0, days - 12) if late else 0, days, total)
    seconds = day * 86400 + rng.integers(8, 18, total) * 3600 + rng.integers(0, 60, total) * 60
    first = datetime.combine(start, time(0), UTC)
    limit = (now - first).total_seconds()
    seconds = np.where(seconds > limit, limit - 60 * rng.integers(1, 600, total), seconds)
    actions = np.where(
        rng.random(total) < p_spot,
        "on_spot",
        rng.choice(["goodwill", "handover", "escalated"], size=total, p=[0.45, 0.35, 0.2]),
    )
    goodwill = np.where(actions == "goodwill", np.round(rng.uniform(10, 90, total)), 0.0)
    problems = rng.choice(choices, size=total, p=weights)
    return zip(
        users.tolist(),
        [first + timedelta(seconds=s) for s in seconds.tolist()],
        problems.tolist(),
        actions.tolist(),
        goodwill.tolist(),
        strict=True,
    )
