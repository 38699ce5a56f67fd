from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from trainer import anonymity, csvdownload
from trainer.access import allow
from trainer.db import db_session
from trainer.forms import period_arg
from trainer.org.models import OrgUnit
from trainer.org.scope import require_unit_in_scope, scope_unit_ids
from trainer.scenarios import bp, engine, plays, practice, reports, results, sync
from trainer.scenarios.forms import ChooseForm, ReserveForm, StartForm
from trainer.scenarios.models import Play, PlayMode, ReserveItem, Scenario, ScenarioVersion
from trainer.util import quarter_of, shift_quarter, utcnow

REPORT_ROLES = ("manager", "hr", "admin")
REPORT_QUARTERS = 8
STALE_MESSAGE = _l(
    "That decision was already made, so it was not recorded twice. Here is where you are now."
)


def _see_other(endpoint, **values):
    return redirect(url_for(endpoint, **values), code=303)


def _own_play(session, play_id, *, for_update=False) -> Play:
    """Load one of the signed-in person's plays, or 404 (never reveal another person's)."""
    play = (
        plays.load_play_for_update(session=session, play_id=play_id)
        if for_update
        else session.get(Play, play_id)
    )
    if play is None or play.user_id != current_user.id:
        abort(404)
    return play


def _play_context(session, play):
    scenario = session.get(Scenario, play.scenario_id)
    version = session.get(ScenarioVersion, play.version_id)
    graph = sync.graph_of(version, _language())
    return _Titled(scenario, graph), version, graph


def _language() -> str:
    """The reader's language: scenarios with a translation in it are shown in it."""
    return str(get_locale())


class _Titled:
    """A scenario titled as its graph in the reader's language; the rest is the scenario's."""

    def __init__(self, scenario: Scenario, graph):
        self._scenario, self.title = scenario, graph.title

    def __getattr__(self, name: str):
        return getattr(self._scenario, name)


def _where_now(play) -> str:
    if play.mode == PlayMode.RESERVE:
        return url_for(".step", play_id=play.id, step=1)
    if play.finished:
        return url_for(".ending", play_id=play.id)
    return url_for(".play", play_id=play.id)


# --- Playing ------------------------------------------------------------------------------


@bp.route("/")
@allow()
def library():
    session = db_session()
    due = []
    for item in practice.due_items(session=session, user=current_user):
        scenario, graph, node = practice.reserve_node(
            session=session, item=item, language=_language()
        )
        due.append((item, (_Titled(scenario, graph), graph, node)))
    graphs = [
        (
            scenario,
            sync.graph_of(sync.current_version(session=session, scenario=scenario), _language()),
        )
        for scenario in sync.active_scenarios(session=session)
    ]
    cards = [(_Titled(scenario, graph), graph) for scenario, graph in graphs]
    return render_template(
        "scenarios/library.html",
        cards=cards,
        results=results.results_by_scenario(session=session, user=current_user),
        due=due,
        endings=ENDING_TEXT,
    )


@bp.route("/<scenario_slug>")
@allow()
def intro(scenario_slug):
    session = db_session()
    scenario = sync.scenario_by_slug(session=session, slug=scenario_slug)
    if scenario is None or scenario.retired_at is not None:
        abort(404)
    graph = sync.graph_of(sync.current_version(session=session, scenario=scenario), _language())
    scenario = _Titled(scenario, graph)
    result = results.results_by_scenario(session=session, user=current_user).get(scenario.id)
    return render_template(
        "scenarios/intro.html",
        scenario=scenario,
        graph=graph,
        result=result,
        form=StartForm(),
        meters=plays.METER_LABELS,
        endings=ENDING_TEXT,
    )


@bp.route("/<scenario_slug>/start", methods=["POST"])
@allow()
def start(scenario_slug):
    session = db_session()
    scenario = sync.scenario_by_slug(session=session, slug=scenario_slug) or abort(404)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    if scenario.retired_at is not None:
        flash(_("That scenario has been retired. Your earlier results are kept."))
        return _see_other(".library")
    play = plays.start_play(
        session=session, user=current_user, scenario=scenario, mode=form.mode.data
    )
    return _see_other(".play", play_id=play.id)


@bp.route("/plays/<int:play_id>")
@allow()
def play(play_id):
    session = db_session()
    play = _own_play(session, play_id)
    if play.mode == PlayMode.RESERVE or play.finished:
        return redirect(_where_now(play))
    scenario, _version, graph = _play_context(session, play)
    node = graph.nodes[play.node_id]
    form = ChooseForm(node=play.node_id, step=len(play.path))
    return render_template(
        "scenarios/decision.html",
        scenario=scenario,
        play=play,
        node=node,
        choices=engine.shown_choices(node, play.choice_seed),
        number=len(play.path) + 1,
        form=form,
        action=url_for(".choose", play_id=play.id),
    )


@bp.route("/plays/<int:play_id>/choose", methods=["POST"])
@allow()
def choose(play_id):
    session = db_session()
    play = _own_play(session, play_id, for_update=True)
    form = ChooseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if play.mode == PlayMode.RESERVE or play.finished or form.node.data != play.node_id:
            raise plays.StaleChoice()
        _scenario, _version, graph = _play_context(session, play)
        index = engine.choice_index(graph.nodes[play.node_id], form.choice.data)
        record = plays.choose(
            session=session,
            play=play,
            node_id=form.node.data,
            step=form.step.data,
            choice_index=index,
            base_iri=current_app.config["BASE_URL"],
        )
    except plays.StaleChoice:
        flash(str(STALE_MESSAGE))
        return redirect(_where_now(play), code=303)
    except engine.PlayError:
        abort(400)
    return _see_other(".step", play_id=play.id, step=record.step)


@bp.route("/plays/<int:play_id>/steps/<int:step>")
@allow()
def step(play_id, step):
    session = db_session()
    play = _own_play(session, play_id)
    scenario, _version, graph = _play_context(session, play)
    records = plays.choice_records(session=session, play=play)
    shown = plays.play_step(graph, records, step, play.choice_seed) or abort(404)
    if step < len(records):
        next_url = url_for(".step", play_id=play.id, step=step + 1)
    else:
        next_url = _where_now(play) if play.mode != PlayMode.RESERVE else url_for(".library")
    reserve = None
    if play.mode == PlayMode.RESERVE:
        outlook = engine.choice_outlook(graph)[(shown.node.id, shown.choice.id)]
        best = engine.best_reachable_endings(graph)[shown.node.id]
        reserve = {
            "outlook": outlook,
            "best": best,
            "item": practice.reserve_item_for_play(session=session, play=play),
        }
    return render_template(
        "scenarios/reaction.html",
        scenario=scenario,
        play=play,
        step=shown,
        last=step == len(records),
        next_url=next_url,
        reserve=reserve,
        endings=ENDING_TEXT,
    )


@bp.route("/plays/<int:play_id>/ending")
@allow()
def ending(play_id):
    session = db_session()
    play = _own_play(session, play_id)
    if play.mode == PlayMode.RESERVE or not play.finished:
        return redirect(_where_now(play))
    scenario, version, graph = _play_context(session, play)
    best = results.best_path(graph, version.content_hash)
    totals = [
        (plays.METER_LABELS[m], plays.METER_UNITS.get(m, ""), play.meters[m], best.meters[m])
        for m in engine.METERS
    ]
    weak = engine.weak_choices(graph, plays.state_of(play).path)
    return render_template(
        "scenarios/ending.html",
        scenario=scenario,
        play=play,
        node=graph.nodes[play.node_id],
        best=best,
        totals=totals,
        path=results.path_choices(graph, play.path),
        best_path=results.path_choices(graph, best.path),
        weak=weak,
        form=StartForm(),
        endings=ENDING_TEXT,
        active=scenario.retired_at is None,
    )


@bp.route("/due/<int:reserve_id>", methods=["GET", "POST"])
@allow()
def reserve(reserve_id):
    session = db_session()
    item = session.get(ReserveItem, reserve_id)
    if item is None or item.user_id != current_user.id:
        abort(404)
    found = practice.reserve_node(session=session, item=item, language=_language()) or abort(404)
    scenario, graph, node = found
    scenario = _Titled(scenario, graph)
    form = ReserveForm(node=node.id)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            if form.node.data != node.id:
                raise plays.StaleChoice()
            play = practice.answer_reserve(
                session=session,
                item=item,
                user=current_user,
                choice_index=engine.choice_index(node, form.choice.data),
                base_iri=current_app.config["BASE_URL"],
            )
        except plays.StaleChoice:
            flash(_("You have already practised that decision. It comes back when it is due."))
            return _see_other(".library")
        except engine.PlayError:
            abort(400)
        return _see_other(".step", play_id=play.id, step=1)
    if not practice.is_due(item):
        flash(_("That decision is not due for practice yet."))
        return redirect(url_for(".library"))
    seed = plays.reserve_seed(item)
    return render_template(
        "scenarios/reserve.html",
        scenario=scenario,
        node=node,
        form=form,
        choices=engine.shown_choices(node, seed),
        action=url_for(".reserve", reserve_id=item.id),
    )


ENDING_TEXT = {
    "good": _l("Good ending"),
    "acceptable": _l("Acceptable ending"),
    "poor": _l("Poor ending"),
}


# --- Reports ------------------------------------------------------------------------------


def _min_players() -> int:
    return anonymity.configured_thresholds(current_app.config).scores


def _period(session, scenario_id=None) -> tuple[str, list[str]]:
    """Return the requested quarter and the quarters on offer.

    By default: for one scenario, the quarter most people played it in; across scenarios, the
    latest quarter with enough players to show something.
    """
    current = quarter_of(utcnow().date())
    periods = [shift_quarter(current, -n) for n in range(REPORT_QUARTERS)]
    if requested := period_arg(periods):
        return requested, periods
    counts = reports.players_by_period(session=session, scenario_id=scenario_id)
    if scenario_id is not None:
        return max(periods, key=lambda p: (counts.get(p, 0), p)), periods
    enough = [p for p in periods if counts.get(p, 0) >= _min_players()]
    return (enough or [p for p in periods if p in counts] or [current])[0], periods


@bp.route("/reports")
@allow(*REPORT_ROLES)
def reports_index():
    session = db_session()
    scope = scope_unit_ids(session=session, user=current_user)
    period, periods = _period(session)
    tree = reports.load_tree(session=session)
    cells = {
        row["unit_id"]: row
        for row in reports.ownership_cells(
            session=session, unit_ids=scope, periods={period}, min_players=_min_players()
        )
    }
    scenarios = sync.all_scenarios(session=session)
    return render_template(
        "scenarios/reports_index.html",
        period=period,
        periods=periods,
        tree=tree,
        rows=reports.scoped_rows(tree, scope),
        cells=cells,
        scenarios=scenarios,
    )


def _scenario_report(session, scenario_id):
    scenario = session.get(Scenario, scenario_id) or abort(404)
    period, periods = _period(session, scenario.id)
    tree = reports.load_tree(session=session)
    report = reports.scenario_report(
        session=session,
        tree=tree,
        scenario_id=scenario.id,
        period=period,
        min_players=_min_players(),
    )
    graph = sync.graph_of(sync.current_version(session=session, scenario=scenario))
    return scenario, period, periods, tree, report, graph


@bp.route("/reports/<int:scenario_id>")
@allow(*REPORT_ROLES)
def scenario_report(scenario_id):
    session = db_session()
    scenario, period, periods, tree, report, graph = _scenario_report(session, scenario_id)
    scope = scope_unit_ids(session=session, user=current_user)
    rows = [(report.cells[unit.id], depth) for unit, depth in reports.scoped_rows(tree, scope)]
    return render_template(
        "scenarios/reports_scenario.html",
        scenario=scenario,
        graph=graph,
        period=period,
        periods=periods,
        rows=rows,
        tree=tree,
    )


@bp.route("/reports/<int:scenario_id>/units/<int:unit_id>")
@allow(*REPORT_ROLES)
def unit_report(scenario_id, unit_id):
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    require_unit_in_scope(session=session, user=current_user, unit_id=unit.id)
    scenario, period, periods, tree, report, graph = _scenario_report(session, scenario_id)
    return render_template(
        "scenarios/reports_unit.html",
        scenario=scenario,
        unit=unit,
        period=period,
        periods=periods,
        cell=report.cells[unit.id],
        decisions=reports.decision_rows(graph, report.decisions[unit.id]),
        kinds=reports.KIND_LABELS,
        endings=ENDING_TEXT,
    )


@bp.route("/reports/<int:scenario_id>/export.csv")
@allow(*REPORT_ROLES)
def export_csv(scenario_id):
    session = db_session()
    scenario, period, _scope, tree, report, graph = _scenario_report(session, scenario_id)
    scope = scope_unit_ids(session=session, user=current_user)
    return csvdownload.download(
        f"scenario-{scenario.slug}-{period}.csv",
        reports.csv_rows(report, tree, graph, scope=scope, period=period),
    )
