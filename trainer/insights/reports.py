"""What pages read from the analyses besides the dashboard: the documented JSON report of a
scope, its CSV tables, the gaming flags a person sees and a unit's figures for the home page."""

from sqlmodel import Session

from trainer.auth.models import User
from trainer.insights import overview
from trainer.insights.scope import company_root, own_unit_codes, scope_summary
from trainer.insights.sources import DEFAULT_LEVEL, InsightsError, Level
from trainer.insights.store import _figures, analysis_for, analysis_if_cached, data_version
from trainer.org.models import OrgUnit
from trainer.org.scope import sees_everything


def report(
    *,
    session: Session,
    metric: str,
    unit: OrgUnit,
    with_flags: bool,
    hide_flags_for: set[str] = frozenset(),
    level: Level = DEFAULT_LEVEL,
) -> dict:
    """Return the documented JSON report for `unit`'s subtree (see README).

    With `with_flags` the gaming flags are included, except those on `hide_flags_for`.
    When the scope is not the whole company, `reference` carries the company-wide headline.
    """
    from trainer.insights.documents import report_document

    result = analysis_for(session=session, metric=metric, unit=unit, level=level)
    root = company_root(session=session)
    reference = None
    if root is not None and root.id != unit.id:
        company = analysis_for(session=session, metric=metric, unit=root, level=level)
        reference = {
            "scope": scope_summary(root),
            "headline": company["headline"],
            "lags": company["lags"],
        }
    doc = report_document(
        result, scope=scope_summary(unit), with_flags=with_flags, reference=reference
    )
    if with_flags:
        doc["flags"] = [f for f in doc["flags"] if f["unit_code"] not in hide_flags_for]
    doc["sensitivity"] = visible_sensitivity(result, with_flags=with_flags, hidden=hide_flags_for)
    return doc


def visible_sensitivity(result: dict, *, with_flags: bool, hidden: set[str]) -> dict | None:
    """Return the headline refitted with the flagged quarters kept in, for a reader who may see
    every flag it rests on: HR and admin, when none of them is on their own units (a unit's own
    staff never learn of its flags). None for anyone else, or when nothing was left out."""
    sensitivity = result.get("sensitivity")
    if not with_flags or sensitivity is None:
        return None
    if any(cell["unit_code"] in hidden for cell in result["excluded"]):
        return None
    return sensitivity


def table(result: dict, name: str) -> tuple[list[str], list[list[str]]]:
    """Return (header, rows) of one CSV table of an analysis (see `documents.table`)."""
    from trainer.insights import documents

    return documents.table(result, name)


def visible_flags(
    *,
    session: Session,
    user: User,
    metric: str,
    level: Level = DEFAULT_LEVEL,
    cached_only: bool = False,
) -> list[dict] | None:
    """Return the company's gaming flags for HR and admin, without those on the person's own
    units (a unit's own staff never see its flags); [] for anyone else.

    With `cached_only`, return None instead of running an analysis that is not cached yet.
    """
    if not sees_everything(user):
        return []
    root = company_root(session=session)
    if root is None:
        return []
    if cached_only:
        result = analysis_if_cached(session=session, metric=metric, unit=root, level=level)
        if result is None:
            return None
    else:
        result = analysis_for(session=session, metric=metric, unit=root, level=level)
    own = own_unit_codes(session=session, user=user)
    return [f for f in result["flags"] if f["unit_code"] not in own]


def unit_figures(*, session: Session, metric: str, unit: OrgUnit) -> dict:
    """Return the unit's morale, eNPS, `metric` and training now, each with its n and its
    change since the quarter before, like the overview but without running the analysis
    (cheap enough for the home page). Raises InsightsError for an unknown metric."""
    parts = data_version(session=session)
    if metric not in parts["metrics"]:
        raise InsightsError(f"Unknown metric '{metric}'.")
    figures = _figures(session, parts)
    periods = figures.periods()[-overview.QUARTERS_SHOWN :]
    label = next(m.label for m in figures.metrics if m.code == metric)
    out = {
        code: overview.now_and_change(figures.series(unit.id, code, periods), periods)
        for code in (overview.MORALE, overview.ENPS, overview.COMPLETION, overview.OWNERSHIP)
    }
    return {
        **out,
        "measure": overview.now_and_change(figures.series(unit.id, metric, periods), periods),
        "metric_label": label,
    }
