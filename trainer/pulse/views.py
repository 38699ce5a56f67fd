"""Pulse pages for everyone: answering, results, heatmaps, live progress and follow-through."""

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlmodel import select

from trainer import audit, csvdownload
from trainer.access import allow
from trainer.db import db_session
from trainer.forms import int_arg
from trainer.i18n import number
from trainer.org.models import OrgUnit
from trainer.org.scope import scope_unit_ids, sees_everything
from trainer.pulse import bp, heatmap, plans
from trainer.pulse.analyses import ThemeStatus, stored_themes
from trainer.pulse.cycles import configured_limits, cycle_limits, taking_answers
from trainer.pulse.driver_results import released_drivers
from trainer.pulse.exports import results_document, results_table
from trainer.pulse.forms import AnswerForm
from trainer.pulse.ledger import commitments_for, commitments_for_employee, released_tallies
from trainer.pulse.models import (
    ACTION_STATUSES,
    LIKERT_LABELS,
    MARK_CHOICES,
    THEMES,
    ActionStatus,
    CycleStatus,
    PulseCycle,
    PulseInvitation,
    PulseProgramme,
)
from trainer.pulse.pool import read_first
from trainer.pulse.programmes import cycle_item_refs, cycle_items
from trainer.pulse.progress import alerts_due, halfway, live_progress
from trainer.pulse.results import (
    closed_cycles,
    cycles_up_to,
    latest_closed_cycle,
    released_results,
    reporting_group,
    rollup_rows,
    trend,
    viewable_units,
)
from trainer.pulse.submit import invitation_for, parse_answers, submit_response
from trainer.pulse.tree import ancestor_ids, short_name, tree_key
from trainer.util import utcnow


def message_page(title: str, text: str, status: int = 200, link=None):
    return render_template("pulse/message.html", title=title, text=text, link=link), status


# Employees: my surveys, who can see what, answering ------------------------------------------


@bp.route("/")
@allow()
def mine():
    session = db_session()
    rows = session.exec(
        select(PulseCycle, PulseProgramme)
        .join(PulseInvitation, PulseInvitation.cycle_id == PulseCycle.id)
        .join(PulseProgramme, PulseProgramme.id == PulseCycle.programme_id)
        .where(
            PulseInvitation.employee_id == current_user.id, PulseCycle.status == CycleStatus.OPEN
        )
        .order_by(PulseCycle.closes_at)
    ).all()
    surveys = [
        (cycle, programme, invitation_for(cycle, current_user, session=session))
        for cycle, programme in rows
    ]
    return render_template(
        "pulse/mine.html",
        surveys=surveys,
        commitments=commitments_for_employee(current_user, session=session),
    )


@bp.route("/privacy")
@allow()
def privacy():
    session = db_session()
    cycle_id = int_arg("cycle")
    cycle = session.get(PulseCycle, cycle_id) if cycle_id else None
    if cycle is not None and invitation_for(cycle, current_user, session=session) is None:
        cycle = None  # offer "start the survey" only for a survey sent to this person
    return render_template("pulse/privacy.html", limits=configured_limits(), cycle=cycle)


@bp.route("/cycles/<int:cycle_id>/answer", methods=["GET", "POST"])
@read_first
@allow()
def answer(cycle_id):
    session = db_session()
    cycle = session.get(PulseCycle, cycle_id) or abort(404)
    invitation = invitation_for(cycle, current_user, session=session)
    if invitation is None:
        return message_page(_("Survey not found"), _("This survey was not sent to you."), 404)
    if invitation.answered:
        return _already_answered(cycle)
    if not taking_answers(cycle, now=utcnow()):
        return message_page(
            _("This survey is closed"), _("It is no longer taking answers. Thank you.")
        )
    if request.method == "GET" and not request.args.get("ready"):
        return render_template(
            "pulse/before_you_start.html", limits=cycle_limits(cycle), cycle=cycle
        )
    form = AnswerForm()
    answers, errors = {}, {}
    if form.validate_on_submit():
        answers, errors = parse_answers(cycle_item_refs(cycle, session=session), request.form)
        if not errors:
            stored = submit_response(
                session=session,
                invitation=invitation,
                employee_id=current_user.id,
                answers=answers,
                comment=form.comment.data,
            )
            if not stored:
                return _already_answered(cycle)
            return redirect(url_for("pulse.thanks", cycle_id=cycle.id))
    programme = session.get(PulseProgramme, cycle.programme_id)
    items = cycle_items(cycle, session=session)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "pulse/answer.html",
        cycle=cycle,
        programme=programme,
        items=items,
        form=form,
        answers=answers,
        errors=errors,
        likert=LIKERT_LABELS,
        themes=THEMES,
    ), status


def _already_answered(cycle):
    return render_template(
        "pulse/answered.html",
        cycle=cycle,
        already=True,
        last_closed=latest_closed_cycle(session=db_session()),
    )


@bp.route("/cycles/<int:cycle_id>/thanks")
@allow()
def thanks(cycle_id):
    session = db_session()
    cycle = session.get(PulseCycle, cycle_id) or abort(404)
    return render_template(
        "pulse/answered.html",
        cycle=cycle,
        already=False,
        last_closed=latest_closed_cycle(session=session),
    )


# Results --------------------------------------------------------------------------------------


def _chosen_cycle(session, programme_id=None):
    cycle_id = int_arg("cycle")
    if cycle_id:
        cycle = session.get(PulseCycle, cycle_id)
        if cycle is None or cycle.status != CycleStatus.CLOSED:
            abort(404)
        return cycle
    if programme_id:
        closed = closed_cycles(programme_id, session=session)
        return closed[-1] if closed else None
    return latest_closed_cycle(session=session)


def _record_view(cycle, unit, shown_as: str, units: int | None = None) -> None:
    """Note in the audit log who looked at which results (never the results themselves)."""
    detail = {"cycle": cycle.id, "period": cycle.period, "shown_as": shown_as}
    if units is not None:
        detail["units"] = units
    target = unit if unit is not None else ("units", None, "every unit they may see")
    audit.record_now(current_user, "results.view", target, detail)


def _may_view(session, unit_id, cycle):
    allowed = viewable_units(current_user, cycle, session=session)
    return allowed is None or unit_id in allowed


@bp.route("/results")
@allow()
def results_index():
    session = db_session()
    cycle = _chosen_cycle(session, int_arg("programme"))
    rows, cycles, programme = [], [], None
    if cycle is not None:
        programme = session.get(PulseProgramme, cycle.programme_id)
        cycles = closed_cycles(cycle.programme_id, session=session)
        allowed = viewable_units(current_user, cycle, session=session)
        released = released_results(
            session=session, cycle=cycle, unit_ids=allowed, items=False, comments=False
        )
        units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
        rows = sorted(
            ((units[k], r) for k, r in released.items()), key=lambda pair: tree_key(pair[0], units)
        )
        _record_view(cycle, None, "overview", units=len(rows))
    shown = {unit.id for unit, _ in rows}
    depths = {unit.id: sum(1 for a in ancestor_ids(unit) if a in shown) for unit, _ in rows}
    units = {unit.id: unit for unit, _ in rows}
    labels = {unit.id: short_name(unit, units) for unit, _ in rows}
    return render_template(
        "pulse/results_index.html",
        cycle=cycle,
        cycles=cycles,
        programme=programme,
        rows=rows,
        depths=depths,
        labels=labels,
        may_see_heatmap=current_user.has_role("manager", "hr", "admin"),
        programmes=session.exec(select(PulseProgramme)).all(),
        open_cycles=_open_cycles_to_follow(session),
    )


def _open_cycles_to_follow(session) -> list[tuple[PulseCycle, str]]:
    """The open cycles, with their programme's name, whose response rate the reader may
    follow (managers, HR, admin)."""
    if not current_user.has_role("manager", "hr", "admin"):
        return []
    return list(
        session.exec(
            select(PulseCycle, PulseProgramme.name)
            .join(PulseProgramme, PulseProgramme.id == PulseCycle.programme_id)
            .where(PulseCycle.status == CycleStatus.OPEN)
            .order_by(PulseCycle.closes_at)
        ).all()
    )


def _chart_summaries(points) -> tuple[dict[str, str], int]:
    """Return each trend chart's spoken summary (its aria-label), and how many cycles are gaps.

    A series with no number to show gets no chart; the table below the charts has everything.
    """
    shown = [p for p in points if p.result is not None and not p.result.suppressed]
    gaps = len(points) - len(shown)
    gap_text = (
        ngettext(
            "; %(num)d of them has no results to show",
            "; %(num)d of them have no results to show",
            gaps,
        )
        if gaps
        else ""
    )
    summaries = {}
    for key, name, fmt in (
        ("engagement", _("the engagement index, 1 to 5"), lambda v: number(v, 2)),
        (
            "enps",
            _("eNPS, -100 to +100, with bars for its 95% margin of error"),
            lambda v: f"{v:+.0f}",
        ),
    ):
        known = [p for p in shown if getattr(p.result.scores, key) is not None]
        if not known:
            continue
        ends = known[:1] if len(known) == 1 else [known[0], known[-1]]
        parts = [
            _(
                "%(value)s in %(period)s",
                value=fmt(getattr(p.result.scores, key)),
                period=p.cycle.period,
            )
            for p in ends
        ]
        span = (
            parts[0]
            if len(parts) == 1
            else _("%(first)s to %(last)s", first=parts[0], last=parts[1])
        )
        summaries[key] = _(
            "Line chart of %(name)s, over %(num)d cycles: %(span)s%(gaps)s. "
            "The numbers are in the table below.",
            name=name,
            num=len(points),
            span=span,
            gaps=gap_text,
        )
    return summaries, gaps


SEARCH_MAX = 100


def _comment_search() -> str:
    """Return the comment search words, or answer 400 when they are too long."""
    search = " ".join(request.args.get("q", "").split())
    if len(search) > SEARCH_MAX:
        abort(400, _("Search for at most %(n)s characters.", n=SEARCH_MAX))
    return search


@bp.route("/results/<int:unit_id>")
@allow()
def results(unit_id):
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    cycle = _chosen_cycle(session, int_arg("programme"))
    if not _may_view(session, unit.id, cycle):
        abort(403)
    if cycle is None:
        return render_template("pulse/results.html", unit=unit, cycle=None)
    _record_view(cycle, unit, "page")
    cycles = closed_cycles(cycle.programme_id, session=session)
    until_now = cycles_up_to(cycles, cycle)
    rows = rollup_rows([c.id for c in until_now], session=session)
    result = released_results(
        session=session, cycle=cycle, unit_ids={unit.id}, rows=rows[cycle.id]
    ).get(unit.id)
    merged_into = None
    if result is None:
        merged_into = reporting_group(cycle, unit.id, session=session)
    drivers = released_drivers(
        session=session, cycle=cycle, unit_id=unit.id, released=result, rows=rows[cycle.id]
    )
    themes = stored_themes(cycle, result, session=session, rows=rows[cycle.id])
    search = _comment_search()
    found = None
    if search and result is not None and result.comments is not None:
        found = (
            released_results(
                session=session,
                cycle=cycle,
                unit_ids={unit.id},
                items=False,
                rows=rows[cycle.id],
                comment_search=search,
            )[unit.id].comments
            or []
        )  # visible: `result` has its comments
    points = trend(
        session=session,
        unit_id=unit.id,
        programme_id=cycle.programme_id,
        cycles=until_now,
        rows=rows,
    )
    commitments = commitments_for({unit.id}, session=session)
    charts, gaps = _chart_summaries(points)
    scope = scope_unit_ids(session=session, user=current_user)
    may_plan = current_user.has_role("manager", "hr", "admin") and (
        scope is None or unit.id in scope
    )
    today = utcnow().date()
    return render_template(
        "pulse/results.html",
        unit=unit,
        cycle=cycle,
        result=result,
        merged_into=merged_into,
        drivers=drivers,
        themes=themes,
        theme_status=ThemeStatus,
        bank_themes=THEMES,
        search=search,
        found=found,
        points=points,
        charts=charts,
        gaps=gaps,
        commitments=commitments,
        tallies=released_tallies([c.id for c in commitments], session=session),
        cycles=cycles,
        programme=session.get(PulseProgramme, cycle.programme_id),
        likert=LIKERT_LABELS,
        show_alpha=sees_everything(current_user),
        bars=heatmap.diverging_bars(result.scores.items)
        if result and not result.suppressed
        else None,
        may_see_heatmap=current_user.has_role("manager", "hr", "admin"),
        marks=MARK_CHOICES,
        suppressed_text=_("Not enough responses to protect anonymity"),
        may_plan=may_plan,
        today=today,
        statuses=ACTION_STATUSES,
        names=plans.names({c.owner_id for c in commitments}, session=session),
        plan_count=sum(
            1 for c in commitments if c.cycle_id == cycle.id and c.status != ActionStatus.DROPPED
        ),
        overdue_count=sum(1 for c in commitments if plans.is_overdue(c, today)),
    )


@bp.route("/cycles/<int:cycle_id>/heatmap")
@allow("manager", "hr", "admin")
def heatmap_view(cycle_id):
    session = db_session()
    cycle = session.get(PulseCycle, cycle_id) or abort(404)
    if cycle.status != CycleStatus.CLOSED:
        return message_page(
            _("No results yet"),
            _("The heatmap appears once this survey has closed."),
            404,
            link=url_for("pulse.progress", cycle_id=cycle.id),
        )
    grid = heatmap.build(
        session=session, cycle=cycle, unit_ids=scope_unit_ids(session=session, user=current_user)
    )
    _record_view(cycle, None, "heatmap", units=len(grid.rows))
    return render_template(
        "pulse/heatmap.html",
        grid=grid,
        cycle=cycle,
        cycles=closed_cycles(cycle.programme_id, session=session),
        programme=session.get(PulseProgramme, cycle.programme_id),
        mean_bands=heatmap.legend("mean"),
        enps_bands=heatmap.legend(heatmap.ENPS),
        fmt=heatmap,
    )


@bp.route("/results/<int:unit_id>.json")
@allow()
def results_json(unit_id):
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    cycle = _chosen_cycle(session, int_arg("programme"))
    if not _may_view(session, unit.id, cycle):
        abort(403)
    if cycle is not None:
        _record_view(cycle, unit, "json")
    return results_document(
        session=session, unit=unit, cycle=cycle, alpha=sees_everything(current_user)
    )


@bp.route("/cycles/<int:cycle_id>/results.csv")
@allow()
def results_csv(cycle_id):
    session = db_session()
    cycle = session.get(PulseCycle, cycle_id) or abort(404)
    if cycle.status != CycleStatus.CLOSED:
        abort(404)
    allowed = viewable_units(current_user, cycle, session=session)
    table = results_table(session=session, cycle=cycle, unit_ids=allowed)
    _record_view(cycle, None, "csv", units=max(len(table) - 1, 0))
    return csvdownload.download(f"pulse-{cycle.period}-results.csv", table)


@bp.route("/cycles/<int:cycle_id>/progress")
@allow("manager", "hr", "admin")
def progress(cycle_id):
    session = db_session()
    cycle = session.get(PulseCycle, cycle_id) or abort(404)
    if cycle.status == CycleStatus.CLOSED:
        return redirect(url_for("pulse.results_index", cycle=cycle.id))
    now = utcnow()
    scope = scope_unit_ids(session=session, user=current_user)
    rows = (
        live_progress(cycle, scope, session=session, now=now)
        if cycle.status == CycleStatus.OPEN
        else []
    )
    units = {row.unit.id: row.unit for row in rows}
    return render_template(
        "pulse/progress.html",
        cycle=cycle,
        rows=rows,
        halfway=halfway(cycle),
        labels={u: short_name(unit, units) for u, unit in units.items()},
        alerts_on=alerts_due(cycle, now=now),
        programme=session.get(PulseProgramme, cycle.programme_id),
        limits=cycle_limits(cycle),
    )


@bp.route("/follow-through")
@allow("hr", "admin")
def follow_through():
    session = db_session()
    cycle = _chosen_cycle(session, int_arg("programme"))
    rows = (
        plans.follow_through(session=session, cycle=cycle, today=utcnow().date()) if cycle else []
    )
    return render_template(
        "pulse/follow_through.html",
        rows=rows,
        cycle=cycle,
        cycles=closed_cycles(cycle.programme_id, session=session) if cycle else [],
        statuses=ACTION_STATUSES,
        limits=configured_limits(),
        only_missing=request.args.get("show") == "no-plan",
    )
