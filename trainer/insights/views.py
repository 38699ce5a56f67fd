from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from trainer import csvdownload
from trainer.access import allow
from trainer.db import db_session
from trainer.forms import int_arg, period_arg
from trainer.insights import bp, overview, reports, scope, store, words
from trainer.insights.forms import field_name, ratings_form, submitted_ratings
from trainer.insights.ratings import my_ratings, rateable_teams, rating_periods, save_ratings
from trainer.org.models import OrgUnit
from trainer.org.scope import require_unit_in_scope, sees_everything
from trainer.outcomes.validation import metric_name

VIEWERS = ("manager", "hr", "admin")
TABLES = (
    "panel",
    "lags",
    "between",
    "per_unit",
    "scatter",
    "funnel",
    "perception",
    "suppressed",
    "flags",
)


def _level() -> str:
    return current_app.config["INSIGHTS_LEVEL"]


def _scope(unit_id: int):
    """Load the scope unit or 404, and 403 unless it lies in the person's scope."""
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    require_unit_in_scope(session=session, user=current_user, unit_id=unit.id)
    return session, unit


def _metric(session) -> str:
    codes = store.metric_codes(session=session)
    metric = request.args.get("metric", "").strip().lower()
    if not metric:
        return "csi" if "csi" in codes else codes[0]
    if metric not in codes:
        abort(400)
    return metric


def _sees_flags() -> bool:
    return sees_everything(current_user)


def _analysis(session, unit, metric, allow_stale=False):
    """Return the analysis, with the perception gap for the requested quarter if it has one."""
    result = store.analysis_for(
        session=session, metric=metric, unit=unit, level=_level(), allow_stale=allow_stale
    )
    period = period_arg(result["perception"]["periods"])
    if period and period != result["perception"]["period"]:
        result = store.analysis_for(
            session=session,
            metric=metric,
            unit=unit,
            level=_level(),
            perception_period=period,
            allow_stale=allow_stale,
        )
    return result


def _visible_flags(session, result) -> list[dict]:
    """Gaming flags for HR, without those on the viewer's own units."""
    if not _sees_flags():
        return []
    own = scope.own_unit_codes(session=session, user=current_user)
    return [f for f in result["flags"] if f["unit_code"] not in own]


@bp.route("/")
@allow(*VIEWERS)
def index():
    session = db_session()
    unit_id = int_arg("unit")
    if unit_id:
        unit = session.get(OrgUnit, unit_id) or abort(404)
    else:
        unit = scope.default_scope(session=session, user=current_user)
    if unit is None:
        return render_template("insights/no_scope.html")
    require_unit_in_scope(session=session, user=current_user, unit_id=unit.id)
    args = {k: v for k, v in request.args.items() if k in ("metric",) and v}
    return redirect(url_for("insights.dashboard", unit_id=unit.id, **args))


@bp.route("/units/<int:unit_id>")
@allow(*VIEWERS)
def dashboard(unit_id):
    """The overview: how this unit is doing, in plain words first, with the units below it."""
    session, unit = _scope(unit_id)
    metric = _metric(session)
    rows = "team" if request.args.get("rows") == "team" and unit.kind != "site" else None
    view = store.overview_for(
        session=session, metric=metric, unit=unit, level=_level(), rows=rows, allow_stale=True
    )
    result = store.analysis_for(
        session=session, metric=metric, unit=unit, level=_level(), allow_stale=True
    )
    own = next((row for row in result["per_unit"] if row["unit_code"] == unit.code), None)
    position = next(
        (u for u in result["funnel"].get("units", ()) if u["unit_code"] == unit.code), None
    )
    flags = _visible_flags(session, result)
    link = view["link"]
    # The body depends only on the analyses, on what this person may see and on their language:
    # render it once.
    body = store.cached_fragment(
        (view["key"], _sees_flags(), len(flags), str(get_locale())),
        lambda: render_template(
            "insights/_overview_body.html",
            unit=unit,
            metric=metric,
            result=result,
            view={
                **view,
                "link": {
                    **link,
                    "sentence": overview.link_sentence(
                        link["headline"], metric_name(result["metric_label"]), link["where"]
                    ),
                    "power": link["power"]
                    and {**link["power"], "text": overview.power_text(link["power"])},
                },
            },
            rows=rows,
            own=own,
            position=position,
            flags=flags,
            sees_flags=_sees_flags(),
        ),
    )
    return render_template(
        "insights/overview.html",
        unit=unit,
        metric=metric,
        result=result,
        body=Markup(body),  # noqa: S704 (our own autoescaped template)
        crumbs=scope.ancestors_in_scope(session=session, user=current_user, unit=unit),
        scopes=scope.scope_choices(session=session, user=current_user),
        can_rate=bool(rateable_teams(session=session, user=current_user, level=_level())),
    )


@bp.route("/methods")
@allow(*VIEWERS)
def methods():
    return render_template("insights/methods.html")


@bp.route("/units/<int:unit_id>/detail")
@allow(*VIEWERS)
def detail(unit_id):
    """Every statistic behind the overview, with its tables and downloads."""
    session, unit = _scope(unit_id)
    metric = _metric(session)
    result = _analysis(session, unit, metric, allow_stale=True)
    root = scope.company_root(session=session)
    reference = None
    if root is not None and root.id != unit.id:
        reference = store.analysis_for(
            session=session, metric=metric, unit=root, level=_level(), allow_stale=True
        )
    flags = _visible_flags(session, result)
    can_rate = bool(rateable_teams(session=session, user=current_user, level=_level()))
    # The body depends only on the analyses and on what this person may see: render it once.
    key = (
        result["key"],
        reference["key"] if reference else None,
        unit.id,
        _sees_flags(),
        tuple((f["unit_code"], f["period"], f["signal"]) for f in flags),
        can_rate,
        str(get_locale()),
    )
    body = store.cached_fragment(
        key,
        lambda: render_template(
            "insights/_dashboard_body.html",
            unit=unit,
            metric=metric,
            result=words.localized(result),
            root=root,
            reference=words.localized(reference, metric_name(result["metric_label"]))
            if reference
            else None,
            flags=flags,
            sees_flags=_sees_flags(),
            can_rate=can_rate,
            excluded_count=len(result["excluded"]),
            sensitivity=reports.visible_sensitivity(
                result,
                with_flags=_sees_flags(),
                hidden=scope.own_unit_codes(session=session, user=current_user),
            ),
            tables=TABLES,
        ),
    )
    return render_template(
        "insights/detail.html",
        unit=unit,
        metric=metric,
        result=result,
        scopes=scope.scope_choices(session=session, user=current_user),
        body=Markup(body),  # noqa: S704 (our own autoescaped template)
    )


@bp.route("/api/units/<int:unit_id>/report.json")
@allow(*VIEWERS)
def api_report(unit_id):
    session, unit = _scope(unit_id)
    hidden = scope.own_unit_codes(session=session, user=current_user) if _sees_flags() else set()
    return reports.report(
        session=session,
        metric=_metric(session),
        unit=unit,
        with_flags=_sees_flags(),
        hide_flags_for=hidden,
        level=_level(),
    )


@bp.route("/api/units/<int:unit_id>/trends.json")
@allow(*VIEWERS)
def api_trends(unit_id):
    session, unit = _scope(unit_id)
    result = _analysis(session, unit, _metric(session))
    return {
        "metric": result["metric"],
        "metric_label": metric_name(result["metric_label"]),
        "periods": result["periods"],
        "units": result["trends"],
    }


def _chart_data(unit_id, part):
    session, unit = _scope(unit_id)
    result = _analysis(session, unit, _metric(session))
    return {
        "metric": result["metric"],
        "metric_label": metric_name(result["metric_label"]),
        **result[part],
    }


@bp.route("/api/units/<int:unit_id>/scatter.json")
@allow(*VIEWERS)
def api_scatter(unit_id):
    return _chart_data(unit_id, "scatter")


@bp.route("/api/units/<int:unit_id>/funnel.json")
@allow(*VIEWERS)
def api_funnel(unit_id):
    return _chart_data(unit_id, "funnel")


@bp.route("/api/units/<int:unit_id>/perception.json")
@allow(*VIEWERS)
def api_perception(unit_id):
    return _chart_data(unit_id, "perception")


@bp.route("/api/units/<int:unit_id>/flags.json")
@allow("hr", "admin")
def api_flags(unit_id):
    session, unit = _scope(unit_id)
    result = _analysis(session, unit, _metric(session))
    return {"metric": result["metric"], "flags": _visible_flags(session, result)}


@bp.route("/units/<int:unit_id>/export.csv")
@allow(*VIEWERS)
def export(unit_id):
    session, unit = _scope(unit_id)
    name = request.args.get("table", "panel")
    if name not in TABLES:
        abort(404)
    if name == "flags" and not _sees_flags():
        abort(403)
    result = _analysis(session, unit, _metric(session))
    if name == "flags":
        result = {**result, "flags": _visible_flags(session, result)}
    head, rows = reports.table(result, name)
    return csvdownload.download(
        f"insights-{unit.code}-{result['metric']}-{name}.csv", [head, *rows]
    )


@bp.route("/ratings", methods=["GET", "POST"])
@allow("manager")
def ratings():
    session = db_session()
    periods = rating_periods()
    period = request.values.get("period", periods[0])
    if period not in periods:
        period = periods[0]
    teams = rateable_teams(session=session, user=current_user, level=_level())
    mine = my_ratings(session=session, user=current_user, period=period)
    form = ratings_form(teams, periods, period, mine)
    if form.validate_on_submit():
        changed = save_ratings(
            session=session,
            user=current_user,
            period=form.period.data,
            ratings=submitted_ratings(form, teams),
        )
        flash(
            _(
                "Ratings for %(period)s saved (%(num)d changed).",
                period=form.period.data,
                num=changed,
            )
        )
        return redirect(url_for("insights.ratings", period=form.period.data))
    status = 400 if form.errors else 200
    rows = [(team, form[field_name(team.id)]) for team in teams]
    return render_template(
        "insights/ratings.html", form=form, rows=rows, periods=periods, period=period
    ), status
