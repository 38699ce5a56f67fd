"""Pulse pages for the "you said, we did" ledger and teams' action plans.

Employees see and mark their team's commitments; managers, HR and admins plan actions and
update their status. Same blueprint as `views.py`, so the endpoints stay `pulse.<name>`.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from trainer.access import allow
from trainer.db import db_session
from trainer.org.models import OrgUnit
from trainer.org.scope import require_unit_in_scope
from trainer.pulse import bp, plans
from trainer.pulse.forms import ActionForm, ActionStatusForm, MarkForm
from trainer.pulse.ledger import (
    MAX_COMMITMENTS,
    commitments_for,
    commitments_for_employee,
    mark_commitment,
    marked_ids,
    may_mark,
    released_tallies,
)
from trainer.pulse.models import (
    ACTION_STATUSES,
    MARK_CHOICES,
    ActionStatus,
    Commitment,
    PulseCycle,
    PulseError,
    PulseItem,
)
from trainer.pulse.pool import read_first
from trainer.pulse.results import latest_closed_cycle
from trainer.pulse.views import message_page
from trainer.util import utcnow

# The "you said, we did" ledger ----------------------------------------------------------------


@bp.route("/ledger")
@allow()
def ledger():
    session = db_session()
    commitments = commitments_for_employee(current_user, session=session)
    ids = [c.id for c in commitments]
    return render_template(
        "pulse/ledger.html",
        commitments=commitments,
        units={u.id: u for u in session.exec(select(OrgUnit)).all()},
        marked=marked_ids(current_user, ids, session=session),
        tallies=released_tallies(ids, session=session),
        form=MarkForm(),
        marks=MARK_CHOICES,
        statuses=ACTION_STATUSES,
        today=utcnow().date(),
        names=plans.names({c.owner_id for c in commitments}, session=session),
    )


@bp.route("/commitments/<int:commitment_id>/mark", methods=["POST"])
@read_first
@allow()
def mark(commitment_id):
    session = db_session()
    commitment = session.get(Commitment, commitment_id) or abort(404)
    if not may_mark(current_user, commitment, session=session):
        return message_page(
            _("Not your team's commitment"),
            _("You can mark only commitments made for your own team."),
            404,
            link=url_for("pulse.ledger"),
        )
    form = MarkForm()
    if not form.validate_on_submit():
        flash(_("Choose whether it happened, then send."))
        return redirect(url_for("pulse.ledger"))
    if mark_commitment(
        session=session, commitment=commitment, employee_id=current_user.id, answer=form.answer.data
    ):
        flash(_("Thank you. Your mark is stored without your name."))
    else:
        flash(_("You have already marked this commitment."))
    return redirect(url_for("pulse.ledger"))


@bp.route("/ledger/<int:unit_id>")
@allow("manager", "hr", "admin")
def team_ledger(unit_id):
    """The old one-line ledger: the action plan replaced it."""
    unit = db_session().get(OrgUnit, unit_id) or abort(404)
    require_unit_in_scope(session=db_session(), user=current_user, unit_id=unit.id)
    return redirect(url_for("pulse.action_plan", unit_id=unit.id), 301)


# Action plans ---------------------------------------------------------------------------------


def _action_form(session, unit, cycle, *, blank=False):
    """The add-an-action form, read from the request unless `blank`."""
    form = ActionForm(formdata=None) if blank else ActionForm()
    form.owner_id.choices = [
        (u.id, _("%(name)s (you)", name=u.name) if u.id == current_user.id else u.name)
        for u in plans.owner_choices(unit, current_user, session=session)
    ]
    if form.owner_id.data is None:
        form.owner_id.data = current_user.id
    form.answers.choices = [
        ("", _("Choose a theme or question")),
        *(plans.answer_choices(cycle, session=session) if cycle else []),
    ]
    return form


def _plan_page(session, unit, *, form=None, status_forms=None, status=200):
    cycle = latest_closed_cycle(session=session)
    actions = commitments_for({unit.id}, session=session)
    forms = {
        a.id: ActionStatusForm(formdata=None, prefix=f"a{a.id}", data={"status": a.status})
        for a in actions
    }
    forms.update(status_forms or {})
    today = utcnow().date()
    updates = plans.history([a.id for a in actions], session=session)
    people = (
        {a.owner_id for a in actions}
        | {a.created_by for a in actions}
        | {u.by_id for rows in updates.values() for u in rows}
    )
    open_count = sum(
        1 for a in actions if cycle and a.cycle_id == cycle.id and a.status != ActionStatus.DROPPED
    )
    return render_template(
        "pulse/action_plan.html",
        unit=unit,
        cycle=cycle,
        actions=actions,
        today=today,
        form=form or _action_form(session, unit, cycle, blank=True),
        status_forms=forms,
        open_slots=MAX_COMMITMENTS - open_count,
        history=updates,
        names=plans.names(people, session=session),
        items={i.id: i for i in session.exec(select(PulseItem)).all()},
        periods={c.id: c.period for c in session.exec(select(PulseCycle)).all()},
        tallies=released_tallies([a.id for a in actions], session=session),
        statuses=ACTION_STATUSES,
        marks=MARK_CHOICES,
        answers_label=plans.answers_label,
        days_since_release=plans.days_since_release(cycle, today) if cycle else None,
    ), status


@bp.route("/plans/<int:unit_id>", methods=["GET", "POST"])
@allow("manager", "hr", "admin")
def action_plan(unit_id):
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    require_unit_in_scope(session=session, user=current_user, unit_id=unit.id)
    cycle = latest_closed_cycle(session=session)
    if request.method == "GET":
        return _plan_page(session, unit)
    form = _action_form(session, unit, cycle)
    if form.validate_on_submit():
        try:
            if cycle is None:
                raise PulseError(_("Actions are planned after a survey closes."))
            action = plans.add_action(
                session=session,
                cycle=cycle,
                unit=unit,
                title=form.text.data,
                details=form.details.data,
                owner_id=form.owner_id.data,
                due_on=form.due_on.data,
                answers=form.answers.data,
                user=current_user,
                today=utcnow().date(),
            )
        except PulseError as exc:
            form[getattr(exc, "field", "text")].errors.append(str(exc))
        else:
            flash(_("Action added. Your team can see it and say whether it happened."))
            return redirect(url_for("pulse.action_plan", unit_id=unit.id) + f"#action-{action.id}")
    return _plan_page(session, unit, form=form, status=400)


@bp.route("/actions/<int:commitment_id>/status", methods=["POST"])
@allow("manager", "hr", "admin")
def action_status(commitment_id):
    session = db_session()
    action = session.get(Commitment, commitment_id) or abort(404)
    require_unit_in_scope(session=session, user=current_user, unit_id=action.unit_id)
    unit = session.get(OrgUnit, action.unit_id)
    form = ActionStatusForm(prefix=f"a{action.id}")
    if form.validate_on_submit():
        try:
            plans.update_status(
                session=session,
                action=action,
                status=form.status.data,
                note=form.note.data,
                user=current_user,
            )
        except PulseError as exc:
            form[getattr(exc, "field", "note")].errors.append(str(exc))
        else:
            flash(_("Status updated: %(status)s.", status=ACTION_STATUSES[action.status]))
            return redirect(url_for("pulse.action_plan", unit_id=unit.id) + f"#action-{action.id}")
    return _plan_page(session, unit, status_forms={action.id: form}, status=400)
