from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from trainer import anonymity, audit, csvdownload
from trainer.access import allow
from trainer.db import db_session
from trainer.fixes import bp
from trainer.fixes.exports import export_rows
from trainer.fixes.flags import gaming_flags
from trainer.fixes.forms import LogFixForm, ProblemTypeForm, SettingsForm
from trainer.fixes.log import delete_fix, log_fix, my_fixes, my_summary, own_fix
from trainer.fixes.models import ACTIONS, TEAM_ACTIONS, ProblemType
from trainer.fixes.released import figures, periods, problem_labels, released_cells
from trainer.fixes.settings import (
    FixError,
    add_problem_type,
    all_settings,
    problem_choices,
    problem_types,
    save_settings,
    set_problem_active,
    settings_for,
)
from trainer.fixes.training import training_by_problem
from trainer.forms import ConfirmForm, period_arg
from trainer.i18n import percent
from trainer.insights.scope import default_scope, own_unit_codes
from trainer.org.models import OrgUnit
from trainer.org.scope import scope_unit_ids, unit_choices
from trainer.org.services import ordered_tree


@bp.route("/")
@allow()
def mine():
    session = db_session()
    return render_template(
        "fixes/mine.html",
        fixes=my_fixes(current_user, session=session),
        summary=my_summary(current_user, session=session),
        actions=ACTIONS,
        delete=ConfirmForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@allow()
def new():
    session = db_session()
    unit = session.get(OrgUnit, current_user.unit_id) if current_user.unit_id else None
    settings = settings_for(unit, session=session)
    form = LogFixForm()
    form.problem.choices = problem_choices(settings.unit_type, session=session)
    if form.validate_on_submit():
        try:
            log_fix(
                session=session,
                user=current_user,
                problem=form.problem.data,
                action=form.action.data,
                goodwill=form.goodwill.data,
                note=form.note.data or "",
            )
        except FixError as exc:
            form.problem.errors = [*form.problem.errors, str(exc)]
        else:
            flash(_("Thank you. Your fix is logged; only you can see it in your list."))
            return redirect(url_for("fixes.mine"))
    return render_template(
        "fixes/new.html", form=form, settings=settings, has_unit=unit is not None
    ), 400 if form.errors else 200


@bp.route("/<int:fix_id>/delete", methods=["POST"])
@allow()
def delete(fix_id):
    session = db_session()
    fix = own_fix(current_user, fix_id, session=session) or abort(404)
    if ConfirmForm().validate_on_submit():
        delete_fix(fix, session=session)
        flash(_("The fix is deleted."))
    return redirect(url_for("fixes.mine"))


def _team_unit(session):
    """Return the unit the page is about: ?unit=CODE if the person may see it, else their
    widest unit; 403 outside their scope."""
    code = request.args.get("unit", "").strip()
    if not code:
        return default_scope(session=session, user=current_user)
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first() or abort(404)
    allowed = scope_unit_ids(session=session, user=current_user)
    if allowed is not None and unit.id not in allowed:
        abort(403)
    return unit


def _unit_choices(session) -> list[tuple[OrgUnit, int]]:
    """Return (unit, depth) of every active unit the person may open, in tree order."""
    allowed = scope_unit_ids(session=session, user=current_user)
    units = [
        (unit, depth)
        for unit, depth, _ in ordered_tree(session=session)
        if unit.active and (allowed is None or unit.id in allowed)
    ]
    top = min((depth for _, depth in units), default=0)
    return [(unit, depth - top) for unit, depth in units]


@bp.route("/team")
@allow("manager", "hr", "admin")
def team():
    session = db_session()
    unit = _team_unit(session)
    quarters = periods(session=session)
    period = period_arg(quarters, default=quarters[0] if quarters else None)
    view = None
    if unit is not None and period is not None:
        cells = released_cells(period, session=session)
        row = cells.get(unit.id)
        children = session.exec(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, OrgUnit.active)
            .order_by(OrgUnit.code)
        ).all()
        view = {
            "row": row,
            "figures": row and figures(row, settings_for(unit, session=session)),
            "children": [(child, cells.get(child.id), child.id in cells) for child in children],
            "training": training_by_problem(current_app.config["COURSES_DIR"]),
        }
    return render_template(
        "fixes/team.html",
        unit=unit,
        period=period,
        quarters=quarters,
        view=view,
        labels=problem_labels(session=session),
        actions=TEAM_ACTIONS,
        choices=_unit_choices(session),
        k=anonymity.thresholds().scores,
    )


@bp.route("/flags")
@allow("hr", "admin")
def flags():
    session = db_session()
    hidden = own_unit_codes(session=session, user=current_user)
    found = [f for f in gaming_flags(session=session) if f["unit_code"] not in hidden]
    return render_template("fixes/flags.html", flags=found)


@bp.route("/export.csv")
@allow("hr", "admin")
def export():
    return csvdownload.download("fixes-by-unit.csv", export_rows(session=db_session()))


@bp.route("/settings", methods=["GET", "POST"])
@allow("hr", "admin")
def settings():
    session = db_session()
    form = SettingsForm()
    form.unit_id.choices = unit_choices(session=session)
    if form.validate_on_submit():
        unit = session.get(OrgUnit, form.unit_id.data) or abort(404)
        try:
            save_settings(
                session=session,
                unit=unit,
                unit_type=form.unit_type.data or "",
                currency=form.currency.data,
                goodwill_limit=form.goodwill_limit.data,
            )
        except FixError as exc:
            form.unit_type.errors = [*form.unit_type.errors, str(exc)]
        else:
            audit.record(
                current_user,
                "fixes.settings",
                None,
                {
                    "unit": unit.code,
                    "unit_type": form.unit_type.data or "",
                    "currency": form.currency.data.upper(),
                    "goodwill_limit": form.goodwill_limit.data,
                },
                session=session,
            )
            flash(_("Settings for %(unit)s saved.", unit=unit.name))
            return redirect(url_for("fixes.settings"))
    return render_template(
        "fixes/settings.html", form=form, rows=all_settings(session=session)
    ), 400 if form.errors else 200


@bp.route("/problems", methods=["GET", "POST"])
@allow("hr", "admin")
def problems():
    session = db_session()
    form = ProblemTypeForm()
    if form.validate_on_submit():
        try:
            problem = add_problem_type(
                session=session,
                unit_type=form.unit_type.data or "",
                code=form.code.data,
                label=form.label.data,
            )
        except FixError as exc:
            form.code.errors = [*form.code.errors, str(exc)]
        else:
            flash(f"'{problem.label}' added to the list.")
            return redirect(url_for("fixes.problems"))
    return render_template(
        "fixes/problems.html",
        form=form,
        toggle=ConfirmForm(),
        problems=problem_types(session=session),
        training=training_by_problem(current_app.config["COURSES_DIR"]),
    ), 400 if form.errors else 200


@bp.route("/problems/<int:problem_id>/toggle", methods=["POST"])
@allow("hr", "admin")
def toggle_problem(problem_id):
    session = db_session()
    problem = session.get(ProblemType, problem_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        set_problem_active(problem, not problem.active, session=session)
        if problem.active:
            flash(_("'%(problem)s' is back on the list.", problem=problem.label))
        else:
            flash(_("'%(problem)s' is off the list.", problem=problem.label))
    return redirect(url_for("fixes.problems"))


@bp.app_template_filter("share")
def share(value):
    """A share as a whole percentage in the reader's locale."""
    return percent(value)
