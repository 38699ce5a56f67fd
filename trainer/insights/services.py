"""Load the dashboard's sources, cache the analysis per scope and metric, store ratings.

The statistics read rollups only: pulse morale comes from `morale_by_unit_period` (released
cells, anonymity rules applied), customer data from the outcomes table, training measures from
the training rollup that a scheduler job refreshes from the learn and scenarios summaries. The
analysis is cached per (data version, level, scope, metric); the data version changes when
outcomes, closed pulse cycles, ratings, the training rollup or the org tree change. Each web
worker keeps its own cache.
"""

import threading
from collections import OrderedDict
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, func, select

from trainer.access import scope_unit_ids, sees_everything, subtree_ids
from trainer.auth.models import User
from trainer.fixes import services as fixes
from trainer.insights import analysis, overview
from trainer.insights.models import CustomerFocusRating, TrainingRollup
from trainer.learn.reports import completion_by_unit_period
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.outcomes import services as outcomes
from trainer.outcomes.models import Outcome
from trainer.pulse import services as pulse
from trainer.scenarios.services import ownership_by_unit_period
from trainer.util import quarter_of, shift_quarter, utcnow

DEFAULT_LEVEL = "team"
SCOPE_KINDS = ("company", "region", "site")
TRAINING_REFRESH_MINUTES = 30
CACHE_ENTRIES = 64
RATING_QUARTERS = 8  # how many quarters back a manager may rate

_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


class InsightsError(ValueError):
    """A request that cannot be answered; the message is for the user."""


# Data version and cache ----------------------------------------------------------------------


def data_version(session: Session) -> dict:
    """Return cheap fingerprints of everything the analysis reads, per source (computed once
    per transaction)."""
    memo = session.info.get("insights_version")
    if memo is not None and memo[0] is session.get_transaction():
        return memo[1]
    outcome_state = session.exec(select(func.count(), func.max(Outcome.id),
                                        func.max(Outcome.updated_at))).one()
    rating_state = session.exec(select(func.count(), func.max(CustomerFocusRating.updated_at))
                                .select_from(CustomerFocusRating)).one()
    org_state = session.exec(select(func.count(), func.max(OrgUnit.id))
                             .select_from(OrgUnit)).one()
    training_state = session.exec(select(func.count(), func.max(TrainingRollup.refreshed_at),
                                         func.sum(TrainingRollup.size),
                                         func.sum(TrainingRollup.rate))
                                  .select_from(TrainingRollup)).one()
    version = {
        "database": str(session.get_bind().url),
        "org": tuple(org_state),
        "pulse": tuple(c.id for c in pulse.closed_cycles(session) if c.rollups_done),
        "outcomes": tuple(map(str, outcome_state)),
        "metrics": tuple(metric_codes(session)),
        "fixes": fixes.rollup_version(session),
        "ratings": tuple(map(str, rating_state)),
        "training": tuple(map(str, training_state)),
    }
    session.info["insights_version"] = (session.get_transaction(), version)
    return version


def _cached(key, compute):
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# Sources -------------------------------------------------------------------------------------


def refresh_training_rollups(*, session: Session, now: datetime) -> int:
    """Replace the training rollup with fresh completion and ownership summaries (a job).

    These summaries read per-person enrolments and plays, so they are computed here, in the
    scheduler, and the dashboard only reads the small result. An unchanged summary is left as
    it is, so the dashboard's cached analyses stay valid. Returns the number of rows written.
    """
    sizes = {"completion": "assigned", "ownership": "players"}
    fresh = {(measure, r["unit_id"], r["period"], r[sizes[measure]], r[f"{measure}_rate"])
             for measure, summary in (("completion", completion_by_unit_period),
                                      ("ownership", ownership_by_unit_period))
             for r in summary(session=session)}
    stored = set(session.execute(sa.select(
        TrainingRollup.measure, TrainingRollup.unit_id, TrainingRollup.period,
        TrainingRollup.size, TrainingRollup.rate)).tuples())
    if fresh == stored:
        return 0
    session.execute(sa.delete(TrainingRollup))
    if fresh:
        columns = ("measure", "unit_id", "period", "size", "rate")
        session.execute(sa.insert(TrainingRollup),
                        [{**dict(zip(columns, row, strict=True)), "refreshed_at": now}
                         for row in fresh])
    return len(fresh)


def training_rows(session: Session) -> tuple[list[dict], list[dict]]:
    """Return (completion rows, ownership rows) from the training rollup."""
    completion, ownership = [], []
    for row in session.exec(select(TrainingRollup)).all():
        if row.measure == "completion":
            completion.append({"unit_id": row.unit_id, "period": row.period,
                               "assigned": row.size, "completion_rate": row.rate})
        else:
            ownership.append({"unit_id": row.unit_id, "period": row.period,
                              "players": row.size, "ownership_rate": row.rate})
    return completion, ownership


def load_sources(session: Session, version: dict) -> analysis.Sources:
    """Read every source the analysis needs, for all units (rollups, never raw answers).

    Pulse rows are cached on their own version, so that an outcomes import or a new rating
    does not read them again.
    """
    morale, suppressed = _cached(
        ("pulse", version["database"], version["org"], version["pulse"]),
        lambda: (pulse.morale_by_unit_period(session=session),
                 pulse.suppressed_units(session=session)))
    completion, ownership = training_rows(session)
    units = [analysis.Unit(u.id, u.code, u.name, u.kind, u.parent_id, u.path)
             for u in session.exec(select(OrgUnit).where(OrgUnit.active)).all()]
    metrics = [analysis.Metric(m.code, m.label, m.higher_is_better, m.min_value, m.max_value)
               for m in outcomes.metrics(session=session)]
    metrics += [analysis.Metric(code, label, better, low, high)
                for code, (label, better, low, high) in fixes.INSIGHT_MEASURES.items()]
    ratings = session.exec(
        select(CustomerFocusRating.unit_id, CustomerFocusRating.period,
               func.avg(CustomerFocusRating.rating), func.count())
        .group_by(CustomerFocusRating.unit_id, CustomerFocusRating.period)).all()
    return analysis.Sources(
        units=units,
        metrics=metrics,
        morale=morale,
        suppressed=suppressed,
        outcomes={**{m.code: outcomes.outcomes_by_unit_period(session=session, metric=m.code)
                     for m in metrics if m.code not in fixes.INSIGHT_MEASURES},
                  **fixes.insight_rows(session)},
        completion=completion,
        ownership=ownership,
        ratings=[{"unit_id": u, "period": p, "rating": float(r), "raters": n}
                 for u, p, r, n in ratings],
    )


def metric_codes(session: Session) -> list[str]:
    """Return the customer metrics, then the fix log's measures (fixed on own authority)."""
    return [m.code for m in outcomes.metrics(session=session)] + list(fixes.INSIGHT_MEASURES)


def default_metric(session: Session) -> str | None:
    """Return the customer measure shown when none is chosen: CSI if defined, else the first."""
    codes = metric_codes(session)
    return "csi" if "csi" in codes else (codes[0] if codes else None)


def visible_flags(session: Session, user: User, *, metric: str, level: str = DEFAULT_LEVEL,
                  cached_only: bool = False) -> list[dict] | None:
    """Return the company's gaming flags for HR and admin, without those on the person's own
    units (a unit's own staff never see its flags); [] for anyone else.

    With `cached_only`, return None instead of running an analysis that is not cached yet.
    """
    if not sees_everything(user):
        return []
    root = company_root(session)
    if root is None:
        return []
    if cached_only:
        result = analysis_if_cached(session, metric=metric, unit=root, level=level)
        if result is None:
            return None
    else:
        result = analysis_for(session, metric=metric, unit=root, level=level)
    own = own_unit_codes(session, user)
    return [f for f in result["flags"] if f["unit_code"] not in own]


def analysis_for(session: Session, *, metric: str, unit: OrgUnit,
                 level: str = DEFAULT_LEVEL, perception_period: str | None = None) -> dict:
    """Return the (cached) analysis of `metric` for the units at `level` under `unit`.

    Raises InsightsError for an unknown metric.
    """
    parts = data_version(session)
    if metric not in parts["metrics"]:
        raise InsightsError(f"Unknown metric '{metric}'. Choose one of: "
                            + ", ".join(parts["metrics"]) + ".")
    version = tuple(parts.values())
    prepared = _prepared(session, parts, level)
    unit_ids = frozenset(subtree_ids(session, [unit]))
    key = ("analysis", version, level, unit_ids, metric, perception_period)
    return _cached(key, lambda: {
        **analysis.analyse(prepared, metric=metric, unit_ids=set(unit_ids),
                           perception_period=perception_period),
        "key": key})


def analysis_if_cached(session: Session, *, metric: str, unit: OrgUnit,
                       level: str = DEFAULT_LEVEL) -> dict | None:
    """Return the analysis `analysis_for` would return if it is cached already, else None
    (for pages that must stay fast, such as the home page)."""
    parts = data_version(session)
    if metric not in parts["metrics"]:
        return None
    unit_ids = frozenset(subtree_ids(session, [unit]))
    key = ("analysis", tuple(parts.values()), level, unit_ids, metric, None)
    with _cache_lock:
        return _cache.get(key)


def unit_figures(session: Session, *, metric: str, unit: OrgUnit) -> dict:
    """Return the unit's morale, eNPS, `metric` and training now, each with its n and its
    change since the quarter before, like the overview but without running the analysis
    (cheap enough for the home page). Raises InsightsError for an unknown metric."""
    parts = data_version(session)
    if metric not in parts["metrics"]:
        raise InsightsError(f"Unknown metric '{metric}'.")
    figures = _cached(("unit figures", tuple(parts.values())),
                      lambda: overview.Figures(load_sources(session, parts)))
    periods = figures.periods()[-overview.QUARTERS_SHOWN:]
    label = next(m.label for m in figures.metrics if m.code == metric)
    out = {code: overview.now_and_change(figures.series(unit.id, code, periods), periods)
           for code in (overview.MORALE, overview.ENPS, overview.COMPLETION,
                        overview.OWNERSHIP)}
    return {**out, "measure": overview.now_and_change(figures.series(unit.id, metric, periods),
                                                      periods), "metric_label": label}


def _prepared(session: Session, parts: dict, level: str) -> analysis.Prepared:
    return _cached(("prepared", tuple(parts.values()), level),
                   lambda: analysis.prepare(load_sources(session, parts), level))


def overview_for(session: Session, *, metric: str, unit: OrgUnit, level: str = DEFAULT_LEVEL,
                 rows: str | None = None) -> dict:
    """Return the overview of `unit`: its morale and `metric` now, with their trend, the
    headline link in words, and the heatmap of the units below it (cached like the analysis).

    `rows="team"` lists every team in the heatmap instead of the sites.
    """
    result = analysis_for(session, metric=metric, unit=unit, level=level)
    parts = data_version(session)
    version = tuple(parts.values())
    figures = _cached(("figures", version, level),
                      lambda: overview.Figures(_prepared(session, parts, level).sources))
    root = company_root(session)
    reference = None
    if result["headline"]["status"] != "ok" and root is not None and root.id != unit.id:
        reference = analysis_for(session, metric=metric, unit=root, level=level)
    key = ("overview", result["key"], reference["key"] if reference else None, unit.id, rows)
    return _cached(key, lambda: {**overview.summary(figures, result, unit_id=unit.id,
                                                    root_id=root.id if root else None,
                                                    row_kind=rows, reference=reference),
                                 "key": key})


def cached_fragment(key: tuple, render) -> str:
    """Return HTML rendered from analyses, cached with them (`key` must name everything the
    fragment depends on, including the analyses' own keys)."""
    return _cached(("fragment", *key), render)


# Scope ---------------------------------------------------------------------------------------


def company_root(session: Session) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.parent_id.is_(None))
                        .order_by(OrgUnit.id)).first()


def unit_by_code(session: Session, code: str) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def scope_choices(session: Session, user: User) -> list[OrgUnit]:
    """Return the units a person may pick as the dashboard's scope: the company, regions and
    sites they may see, and the units they manage directly."""
    allowed = scope_unit_ids(session, user)
    managed = set(session.exec(select(ManagedUnit.unit_id)
                               .where(ManagedUnit.user_id == user.id)).all())
    units = session.exec(select(OrgUnit).where(OrgUnit.active)
                         .order_by(OrgUnit.path, OrgUnit.code)).all()
    return [u for u in units if (allowed is None or u.id in allowed)
            and (u.kind in SCOPE_KINDS or u.id in managed)]


def default_scope(session: Session, user: User) -> OrgUnit | None:
    """Return the widest unit the person may see: the company for HR, else a managed unit."""
    if sees_everything(user):
        return company_root(session)
    choices = scope_choices(session, user)
    return min(choices, key=lambda u: (u.path.count("/"), u.code)) if choices else None


def ancestors_in_scope(session: Session, user: User, unit: OrgUnit) -> list[OrgUnit]:
    """Return the units above `unit` that the person may open, top first (the breadcrumb)."""
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    if not ids:
        return []
    allowed = scope_unit_ids(session, user)
    units = {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids))).all()}
    return [units[i] for i in ids if i in units and (allowed is None or i in allowed)]


def in_scope(session: Session, user: User, unit: OrgUnit) -> bool:
    allowed = scope_unit_ids(session, user)
    return allowed is None or unit.id in allowed


def own_unit_codes(session: Session, user: User) -> set[str]:
    """Return the codes of the person's own unit and every unit above it: flags on these are
    never shown to them (a unit's own staff never see its gaming flags)."""
    if user.unit_id is None:
        return set()
    unit = session.get(OrgUnit, user.unit_id)
    if unit is None:
        return set()
    ids = [int(i) for i in unit.path.strip("/").split("/") if i] + [unit.id]
    return set(session.exec(select(OrgUnit.code).where(OrgUnit.id.in_(ids))).all())


def scope_summary(unit: OrgUnit) -> dict:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind}


# The report ----------------------------------------------------------------------------------


def report(session: Session, *, metric: str, unit: OrgUnit, with_flags: bool,
           hide_flags_for: set[str] = frozenset(), level: str = DEFAULT_LEVEL) -> dict:
    """Return the documented JSON report for `unit`'s subtree (see README).

    With `with_flags` the gaming flags are included, except those on `hide_flags_for`.
    When the scope is not the whole company, `reference` carries the company-wide headline.
    """
    result = analysis_for(session, metric=metric, unit=unit, level=level)
    root = company_root(session)
    reference = None
    if root is not None and root.id != unit.id:
        company = analysis_for(session, metric=metric, unit=root, level=level)
        reference = {"scope": scope_summary(root), "headline": company["headline"],
                     "lags": company["lags"]}
    doc = analysis.report_document(result, scope=scope_summary(unit), with_flags=with_flags,
                                   reference=reference)
    if with_flags:
        doc["flags"] = [f for f in doc["flags"] if f["unit_code"] not in hide_flags_for]
    return doc


# Managers' customer-focus ratings --------------------------------------------------------------


def rating_periods(today=None) -> list[str]:
    """Return the quarters a manager may rate, newest first (this one and the last few)."""
    current = quarter_of(today or utcnow().date())
    return [shift_quarter(current, -n) for n in range(RATING_QUARTERS)]


def rateable_teams(session: Session, user: User, level: str = DEFAULT_LEVEL) -> list[OrgUnit]:
    """Return the units at the reporting level that the person manages (with subtrees)."""
    from trainer.access import managed_scope

    ids = managed_scope(session, user)
    if not ids:
        return []
    return list(session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids), OrgUnit.kind == level,
                                                   OrgUnit.active)
                             .order_by(OrgUnit.path, OrgUnit.code)).all())


def my_ratings(session: Session, user: User, period: str) -> dict[int, int]:
    return dict(session.exec(select(CustomerFocusRating.unit_id, CustomerFocusRating.rating)
                             .where(CustomerFocusRating.rater_id == user.id,
                                    CustomerFocusRating.period == period)).all())


def save_ratings(session: Session, *, user: User, period: str,
                 ratings: dict[int, int | None]) -> int:
    """Store the person's ratings (1-5) of teams they manage for one quarter; None clears one.

    Returns how many ratings changed. Raises InsightsError for a team they do not manage, a
    rating outside 1-5 or a quarter they may not rate.
    """
    if period not in rating_periods():
        raise InsightsError(f"{period} cannot be rated; choose one of the last "
                            f"{RATING_QUARTERS} quarters.")
    allowed = {u.id for u in rateable_teams(session, user)}
    for unit_id, rating in ratings.items():
        if unit_id not in allowed:
            raise InsightsError("You can only rate teams you manage.")
        if rating is not None and rating not in range(1, 6):
            raise InsightsError("Ratings go from 1 to 5.")
    stored = {r.unit_id: r for r in session.exec(
        select(CustomerFocusRating).where(CustomerFocusRating.rater_id == user.id,
                                          CustomerFocusRating.period == period)).all()}
    changed = 0
    now = utcnow()
    for unit_id, rating in ratings.items():
        old = stored.get(unit_id)
        if rating is None and old is not None:
            session.delete(old)
            changed += 1
        elif rating is not None and old is None:
            session.add(CustomerFocusRating(unit_id=unit_id, period=period, rater_id=user.id,
                                            rating=rating, updated_at=now))
            changed += 1
        elif rating is not None and old.rating != rating:
            old.rating, old.updated_at = rating, now
            session.add(old)
            changed += 1
    session.flush()
    return changed

