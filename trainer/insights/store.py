"""Store the dashboard's analyses per scope and metric, and keep what this process read.

The statistics read rollups only: pulse morale comes from `morale_by_unit_period` (released
cells, anonymity rules applied), customer data from the outcomes table, training measures from
the training rollup that a scheduler job refreshes from the learn and scenarios summaries.

An analysis is stored per (data version, level, scope, metric) in the `insights_analysis`
table, where every process finds it; the data version changes when outcomes, closed pulse
cycles, ratings, the training rollup or the org tree change. A scheduler job works out the
analyses of new data for every scope asked for before, so web workers mostly read them. The
statistics stack (numpy, pandas, scipy, statsmodels) is imported only where an analysis is
computed: in the job, or, on the first view of a scope that nothing has stored yet, in a
short-lived process the web worker starts (`trainer.insights_worker`; with INSIGHTS_COMPUTE
"inline", in the web worker itself). Each process also keeps what it read in a small cache of
its own.
"""

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import force_locale
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, func, select

from trainer.db import write_intent
from trainer.fixes import exports as fix_exports
from trainer.fixes import rollups as fix_rollups
from trainer.insights import overview
from trainer.insights.models import CustomerFocusRating, StoredAnalysis, TrainingRollup
from trainer.insights.scope import company_root
from trainer.insights.sources import (
    DEFAULT_LEVEL,
    InsightsError,
    Level,
    Metric,
    Sources,
    Status,
    Unit,
)
from trainer.insights.training_rollup import training_rows
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.org.scope import subtree_ids
from trainer.outcomes.metrics import metrics as outcome_metrics
from trainer.outcomes.models import Outcome
from trainer.outcomes.queries import outcomes_by_unit_period
from trainer.pulse.morale import (
    item_means_by_unit_period,
    morale_by_unit_period,
    suppressed_units,
)
from trainer.pulse.results import closed_cycles
from trainer.util import utcnow

if TYPE_CHECKING:
    from trainer.insights.analysis import Prepared

ANALYSIS_REFRESH_MINUTES = 1
ANALYSES_PER_RUN = 4
CACHE_ENTRIES = 64
COMPUTE_TIMEOUT_SECONDS = 120

logger = logging.getLogger(__name__)

_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


# Data version and cache ----------------------------------------------------------------------


def data_version(*, session: Session) -> dict:
    """Return cheap fingerprints of everything the analysis reads, per source (computed once
    per transaction)."""
    memo = session.info.get("insights_version")
    if memo is not None and memo[0] is session.get_transaction():
        return memo[1]
    outcome_state = session.exec(
        select(func.count(), func.max(Outcome.id), func.max(Outcome.updated_at))
    ).one()
    rating_state = session.exec(
        select(func.count(), func.max(CustomerFocusRating.updated_at)).select_from(
            CustomerFocusRating
        )
    ).one()
    org_state = session.exec(select(func.count(), func.max(OrgUnit.id)).select_from(OrgUnit)).one()
    training_state = session.exec(
        select(
            func.count(),
            func.max(TrainingRollup.refreshed_at),
            func.sum(TrainingRollup.size),
            func.sum(TrainingRollup.rate),
        ).select_from(TrainingRollup)
    ).one()
    version = {
        "database": str(session.get_bind().url),
        "org": tuple(org_state),
        "pulse": tuple(c.id for c in closed_cycles(session=session) if c.rollups_done),
        "outcomes": tuple(map(str, outcome_state)),
        "metrics": tuple(metric_codes(session=session)),
        "fixes": fix_rollups.rollup_version(session=session),
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
    return _remember(key, compute())


def _remember(key, value):
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# Sources -------------------------------------------------------------------------------------


def load_sources(*, session: Session, version: dict) -> Sources:
    """Read every source the analysis needs, for all units (rollups, never raw answers).

    Pulse rows are cached on their own version, so that an outcomes import or a new rating
    does not read them again.
    """
    morale, suppressed, item_means = _cached(
        ("pulse", version["database"], version["org"], version["pulse"]),
        lambda: (
            morale_by_unit_period(session=session),
            suppressed_units(session=session),
            item_means_by_unit_period(session=session),
        ),
    )
    completion, ownership = training_rows(session=session)
    units = [
        Unit(u.id, u.code, u.name, u.kind, u.parent_id, u.path)
        for u in session.exec(select(OrgUnit).where(OrgUnit.active)).all()
    ]
    metrics = [
        Metric(m.code, m.label, m.higher_is_better, m.min_value, m.max_value)
        for m in outcome_metrics(session=session)
    ]
    metrics += [
        Metric(code, label, better, low, high)
        for code, (label, better, low, high) in fix_exports.INSIGHT_MEASURES.items()
    ]
    ratings = session.exec(
        select(
            CustomerFocusRating.unit_id,
            CustomerFocusRating.period,
            func.avg(CustomerFocusRating.rating),
            func.count(),
        ).group_by(CustomerFocusRating.unit_id, CustomerFocusRating.period)
    ).all()
    return Sources(
        units=units,
        metrics=metrics,
        morale=morale,
        suppressed=suppressed,
        outcomes={
            **{
                m.code: outcomes_by_unit_period(session=session, metric=m.code)
                for m in metrics
                if m.code not in fix_exports.INSIGHT_MEASURES
            },
            **fix_exports.insight_rows(session=session),
        },
        completion=completion,
        ownership=ownership,
        ratings=[
            {"unit_id": u, "period": p, "rating": float(r), "raters": n} for u, p, r, n in ratings
        ],
        item_means=item_means,
    )


def metric_codes(*, session: Session) -> list[str]:
    """Return the customer metrics, then the fix log's measures (fixed on own authority)."""
    return [m.code for m in outcome_metrics(session=session)] + list(fix_exports.INSIGHT_MEASURES)


def default_metric(*, session: Session) -> str | None:
    """Return the customer measure shown when none is chosen: CSI if defined, else the first."""
    codes = metric_codes(session=session)
    return "csi" if "csi" in codes else (codes[0] if codes else None)


# Stored analyses -----------------------------------------------------------------------------


def analysis_for(
    *,
    session: Session,
    metric: str,
    unit: OrgUnit,
    level: Level = DEFAULT_LEVEL,
    perception_period: str | None = None,
    allow_stale: bool = False,
) -> dict:
    """Return the analysis of `metric` for the units at `level` under `unit`: from this
    process's cache, else from the store, else computed here (and stored for every process).

    With `allow_stale`, when the data changed since the scope's last analysis, return that one,
    marked `stale`, instead of computing: the scheduler's job works out the new one. Raises
    InsightsError for an unknown metric.
    """
    parts = data_version(session=session)
    if metric not in parts["metrics"]:
        raise InsightsError(
            f"Unknown metric '{metric}'. Choose one of: " + ", ".join(parts["metrics"]) + "."
        )
    scope = _scope(session, unit, level, metric, perception_period)
    found = _stored(session, _analysis_key(parts, scope))
    if found is None and allow_stale:
        found = _newest(session, parts, scope)
    return found if found is not None else _compute(session, parts, scope)


def analysis_if_cached(
    *, session: Session, metric: str, unit: OrgUnit, level: Level = DEFAULT_LEVEL
) -> dict | None:
    """Return the analysis `analysis_for` would return if it is computed already, else None
    (for pages that must stay fast, such as the home page)."""
    parts = data_version(session=session)
    if metric not in parts["metrics"]:
        return None
    scope = _scope(session, unit, level, metric, None)
    return _stored(session, _analysis_key(parts, scope))


def refresh_analyses(
    *,
    session: Session,
    now: datetime,
    level: Level = DEFAULT_LEVEL,
    limit: int | None = ANALYSES_PER_RUN,
) -> int:
    """Work out the current analysis of the scopes people land on (the whole company for each
    metric, each managed unit for the default one) and of every scope stored before, at most
    `limit` of them (a job: each run stays well inside the scheduler's lease), and drop the
    older analyses of the scopes that are up to date. Returns how many it computed."""
    parts = data_version(session=session)
    specs = _landing_specs(session, parts, level)
    stored = session.exec(
        select(StoredAnalysis.scope_spec).distinct().order_by(StoredAnalysis.scope_spec)
    ).all()
    specs += [spec for spec in stored if spec not in specs]
    current, pending, computed = set(), set(), 0
    for spec in specs:
        scope = json.loads(spec)
        if scope["metric"] not in parts["metrics"]:
            continue  # a metric that is gone: its analyses are dropped below
        key = _analysis_key(parts, scope)
        if session.get(StoredAnalysis, key) is None:
            if computed == limit:
                pending.add(_scope_key(parts, scope))  # keep its last analysis until then
                continue
            _compute(session, parts, scope)
            computed += 1
        current.add(key)
    session.execute(
        sa.delete(StoredAnalysis).where(
            StoredAnalysis.key.not_in(current), StoredAnalysis.scope.not_in(pending)
        )
    )
    return computed


def _landing_specs(session: Session, parts: dict, level: Level) -> list[str]:
    """The scopes people open first: the company for every metric, then each managed unit's
    subtree for the default metric (a manager's dashboard)."""
    root = company_root(session=session)
    if root is None:
        return []
    units = [root] * len(parts["metrics"])
    metrics = list(parts["metrics"])
    default = default_metric(session=session)
    managed = session.exec(
        select(OrgUnit).join(ManagedUnit, ManagedUnit.unit_id == OrgUnit.id).distinct()
    ).all()
    if default is not None:
        units += sorted(managed, key=lambda unit: unit.id)
        metrics += [default] * len(managed)
    specs = [
        _spec(_scope(session, unit, level, metric, None))
        for unit, metric in zip(units, metrics, strict=True)
    ]
    return list(dict.fromkeys(specs))


def _scope(
    session: Session, unit: OrgUnit, level: Level, metric: str, perception_period: str | None
) -> dict:
    """What an analysis covers: the units at `level` under `unit`, one metric, one period."""
    return {
        "level": str(level),
        "unit_ids": sorted(subtree_ids(session=session, roots=[unit])),
        "metric": metric,
        "perception_period": perception_period,
    }


def _spec(scope: dict) -> str:
    return json.dumps(scope, sort_keys=True)


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _analysis_key(parts: dict, scope: dict) -> str:
    return _digest(parts, scope)


def _scope_key(parts: dict, scope: dict) -> str:
    return _digest(parts["database"], scope)


def _stored(session: Session, key: str) -> dict | None:
    """Return the analysis stored under `key` (remembered in this process), or None."""
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    row = session.get(StoredAnalysis, key)
    return None if row is None else _remember(key, _loaded(row.payload))


def _newest(session: Session, parts: dict, scope: dict) -> dict | None:
    """Return the newest stored analysis of `scope`, of any data version, marked stale."""
    row = session.exec(
        select(StoredAnalysis.key)
        .where(StoredAnalysis.scope == _scope_key(parts, scope))
        .order_by(StoredAnalysis.computed_at.desc())
    ).first()
    found = row and _stored(session, row)
    return {**found, "stale": True} if found else None


def _compute(session: Session, parts: dict, scope: dict) -> dict:
    """Compute the analysis of `scope` and store it: in a process of its own when a web request
    asks (INSIGHTS_COMPUTE "process"), so the web worker stays small, else here.

    The other process also works out the company-wide analysis of the same measure, which
    pages show beside a smaller scope, so one page view starts one process at most."""
    if has_request_context() and current_app.config["INSIGHTS_COMPUTE"] == "process":
        root = company_root(session=session)
        scopes = [scope]
        if root is not None:
            company = _scope(session, root, Level(scope["level"]), scope["metric"], None)
            if company != scope and _stored(session, _analysis_key(parts, company)) is None:
                scopes.append(company)
        payloads = compute_elsewhere(current_app.config["DATABASE_URL"], scopes)
        if payloads is not None:
            results = [_loaded(payload) for payload in payloads]
            for result in results:
                _remember(result["key"], result)
            return results[0]
    return compute_here(session, parts, scope)


def compute_elsewhere(database_url: str, scopes: list[dict]) -> list[str] | None:
    """Run `python -m trainer.insights_worker` on `scopes`, which stores their analyses and
    prints them; return them, or None (logged) if it failed, so the caller computes here."""
    env = {**os.environ, "TRAINER_DATABASE_URL": database_url}
    try:
        done = subprocess.run(  # noqa: S603 (our own module, the scopes as JSON on stdin)
            [sys.executable, "-m", "trainer.insights_worker"],
            input=json.dumps(scopes),
            capture_output=True,
            text=True,
            env=env,
            timeout=COMPUTE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning("The insights compute process took over %s s", COMPUTE_TIMEOUT_SECONDS)
        return None
    if done.returncode != 0:
        logger.warning("The insights compute process failed: %s", done.stderr[-2000:])
        return None
    return json.loads(done.stdout)


def compute_here(session: Session, parts: dict, scope: dict) -> dict:
    """Compute the analysis of `scope` in this process (this imports the statistics stack) and
    store it."""
    from trainer.insights.analysis import analyse

    key = _analysis_key(parts, scope)
    prepared = _prepared(session=session, parts=parts, level=Level(scope["level"]))
    with force_locale("en"):  # stored in English: the pages word it again for their reader
        result = analyse(
            prepared,
            metric=scope["metric"],
            unit_ids=set(scope["unit_ids"]),
            perception_period=scope["perception_period"],
        )
    payload = json.dumps({**result, "key": key, "computed_at": utcnow().isoformat()})
    _store(
        session,
        key=key,
        scope=_scope_key(parts, scope),
        scope_spec=_spec(scope),
        computed_at=utcnow(),
        payload=payload,
    )
    return _remember(key, _loaded(payload))


def _store(session: Session, **values) -> None:
    """Store an analysis. A request that only reads (a GET) stores it in a short write
    transaction of its own: its read transaction may not write (on SQLite, a read transaction
    whose snapshot is older than another writer's commit fails with "database is locked").
    Anywhere else, such as the scheduler's job, it goes in the caller's transaction (a second
    connection would wait on that transaction's own write lock)."""
    bind = session.get_bind()
    insert = sqlite_insert if bind.dialect.name == "sqlite" else pg_insert
    statement = (
        insert(StoredAnalysis).values(**values).on_conflict_do_nothing(index_elements=["key"])
    )
    if write_intent.get():
        session.execute(statement)
        return
    token = write_intent.set(True)
    try:
        with Session(bind) as own, own.begin():
            own.execute(statement)
    finally:
        write_intent.reset(token)


def _loaded(payload: str) -> dict:
    result = json.loads(payload)
    return {**result, "computed_at": datetime.fromisoformat(result["computed_at"]), "stale": False}


def _sources(session: Session, parts: dict) -> Sources:
    return _cached(
        ("sources", tuple(parts.values())), lambda: load_sources(session=session, version=parts)
    )


def _figures(session: Session, parts: dict) -> overview.Figures:
    return _cached(
        ("figures", tuple(parts.values())), lambda: overview.Figures(_sources(session, parts))
    )


def _prepared(*, session: Session, parts: dict, level: Level) -> "Prepared":
    from trainer.insights.analysis import prepare

    return _cached(
        ("prepared", tuple(parts.values()), level), lambda: prepare(_sources(session, parts), level)
    )


def overview_for(
    *,
    session: Session,
    metric: str,
    unit: OrgUnit,
    level: Level = DEFAULT_LEVEL,
    rows: str | None = None,
    allow_stale: bool = False,
) -> dict:
    """Return the overview of `unit`: its morale and `metric` now, with their trend, the
    headline link in words, and the heatmap of the units below it (cached like the analysis;
    `allow_stale` as for `analysis_for`).

    `rows="team"` lists every team in the heatmap instead of the sites.
    """
    result = analysis_for(
        session=session, metric=metric, unit=unit, level=level, allow_stale=allow_stale
    )
    root = company_root(session=session)
    reference = None
    if result["headline"]["status"] != Status.OK and root is not None and root.id != unit.id:
        reference = analysis_for(
            session=session, metric=metric, unit=root, level=level, allow_stale=allow_stale
        )
    key = ("overview", result["key"], reference["key"] if reference else None, unit.id, rows)
    return _cached(
        key,
        lambda: {
            **overview.summary(
                _figures(session, data_version(session=session)),
                result,
                unit_id=unit.id,
                root_id=root.id if root else None,
                row_kind=rows,
                reference=reference,
            ),
            "key": key,
        },
    )


def cached_fragment(key: tuple, render) -> str:
    """Return HTML rendered from analyses, cached with them (`key` must name everything the
    fragment depends on, including the analyses' own keys)."""
    return _cached(("fragment", *key), render)
