"""HR's pages for running pulse surveys: question bank, programmes, opening and closing cycles."""

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from trainer import audit
from trainer.access import allow
from trainer.db import db_session
from trainer.forms import ConfirmForm
from trainer.org.models import OrgUnit
from trainer.org.services import ordered_tree
from trainer.pulse import bank as question_bank
from trainer.pulse import bp
from trainer.pulse.bank import add_item, items_by_theme
from trainer.pulse.cycles import end_now, open_now_refusal
from trainer.pulse.cycles import open_now as open_cycle_now
from trainer.pulse.forms import ItemForm, ProgrammeForm, RewordForm, translation_form
from trainer.pulse.models import (
    RECURRENCES,
    THEMES,
    CycleStatus,
    PulseCycle,
    PulseError,
    PulseItem,
    PulseProgramme,
)
from trainer.pulse.programmes import (
    ProgrammeInput,
    audience_size,
    audience_tree,
    programme_item_ids,
    programme_unit_ids,
    save_programme,
)
from trainer.pulse.views import message_page
from trainer.util import utcnow

# HR: question bank ----------------------------------------------------------------------------


@bp.route("/items", methods=["GET", "POST"])
@allow("hr", "admin")
def bank():
    session = db_session()
    form = ItemForm()
    if form.validate_on_submit():
        try:
            item = add_item(
                session=session, theme=form.theme.data, text=form.text.data, kind=form.kind.data
            )
        except PulseError as exc:
            form.text.errors.append(str(exc))
        else:
            flash(_("Item %(code)s added.", code=item.code))
            return redirect(url_for("pulse.bank"))
    return render_template(
        "pulse/bank.html",
        form=form,
        groups=items_by_theme(session=session),
        themes=THEMES,
        confirm=ConfirmForm(),
    ), 400 if form.errors else 200


@bp.route("/items/<int:item_id>/retire", methods=["POST"])
@allow("hr", "admin")
def retire_item(item_id):
    session = db_session()
    item = session.get(PulseItem, item_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        question_bank.retire_item(item, session=session)
        flash(_("Item %(code)s retired. Its past results are kept.", code=item.code))
    return redirect(url_for("pulse.bank"))


@bp.route("/items/<int:item_id>/reword", methods=["GET", "POST"])
@allow("hr", "admin")
def reword_item(item_id):
    session = db_session()
    item = session.get(PulseItem, item_id) or abort(404)
    form = RewordForm(data={"text": item.text} if request.method == "GET" else None)
    if not item.active:
        return message_page(
            _("Item retired"),
            _("A retired item cannot be reworded."),
            400,
            link=url_for("pulse.bank"),
        )
    if form.validate_on_submit():
        try:
            new = question_bank.reword_item(item, form.text.data, session=session)
        except PulseError as exc:
            form.text.errors.append(str(exc))
        else:
            flash(
                _(
                    "Reworded as new item %(new)s; %(old)s is retired so trends stay honest.",
                    new=new.code,
                    old=item.code,
                )
            )
            return redirect(url_for("pulse.bank"))
    return render_template("pulse/reword.html", form=form, item=item), (400 if form.errors else 200)


@bp.route("/items/<int:item_id>/translations", methods=["GET", "POST"])
@allow("hr", "admin")
def translate_item(item_id):
    session = db_session()
    item = session.get(PulseItem, item_id) or abort(404)
    languages = current_app.config["LANGUAGES"]
    current = question_bank.translations_of(item, session=session)
    form = translation_form(languages, data=current if request.method == "GET" else None)
    if form.validate_on_submit():
        texts = {code: form[code].data for code in languages if code != "en"}
        question_bank.save_translations(item, texts, session=session)
        flash(_("Translations of %(code)s saved. It keeps its results and trend.", code=item.code))
        return redirect(url_for("pulse.bank"))
    return render_template("pulse/translate.html", form=form, item=item), (
        400 if form.errors else 200
    )


# HR: programmes and cycles --------------------------------------------------------------------


@bp.route("/programmes")
@allow("hr", "admin")
def programmes():
    session = db_session()
    rows = session.exec(select(PulseProgramme).order_by(PulseProgramme.name)).all()
    return render_template("pulse/programmes.html", programmes=rows, recurrences=RECURRENCES)


def _programme_form(session, programme=None):
    form = ProgrammeForm(obj=programme if request.method == "GET" else None)
    items = session.exec(
        select(PulseItem).where(PulseItem.active).order_by(PulseItem.theme, PulseItem.code)
    ).all()
    form.item_ids.choices = [(i.id, f"{i.code}: {i.text}") for i in items]
    form.unit_ids.choices = [
        (u.id, f"{u.name} ({u.code})") for u, _depth, _ in ordered_tree(session=session) if u.active
    ]
    if request.method == "GET":
        if programme is not None:
            form.item_ids.data = programme_item_ids(programme, session=session)
            form.unit_ids.data = programme_unit_ids(programme, session=session)
        else:
            form.starts_on.data = date.today()
    return form


def _audience(session, form) -> dict:
    """The audience picker's tree, with the people each unit holds and the chosen total."""
    tree = audience_tree(session=session)
    chosen = set(form.unit_ids.data or [])
    return {
        "audience_tree": tree,
        "audience_chosen": chosen,
        "audience_size": audience_size(tree, chosen),
    }


def _save_programme(session, form, programme=None):
    # The form's pattern lets only digits, commas and whitespace through (and whitespace alone).
    days = [int(d) for d in (form.reminder_days.data or "").split(",") if d.strip()]
    data = ProgrammeInput(
        name=form.name.data,
        item_ids=form.item_ids.data,
        unit_ids=form.unit_ids.data,
        recurrence=form.recurrence.data,
        starts_on=form.starts_on.data,
        window_days=form.window_days.data,
        reminder_days=days,
        budget_per_quarter=form.budget_per_quarter.data,
        comment_prompt=form.comment_prompt.data or "",
    )
    try:
        return save_programme(data, programme, session=session)
    except PulseError as exc:
        form.name.errors.append(str(exc))
        return None


def _programme_detail(session, programme) -> dict:
    """The programme's settings as the audit log keeps them (codes and numbers only)."""
    units = {u.id: u.code for u in session.exec(select(OrgUnit)).all()}
    items = {i.id: i.code for i in session.exec(select(PulseItem)).all()}
    return {
        "name": programme.name,
        "recurrence": programme.recurrence,
        "starts_on": programme.starts_on.isoformat(),
        "window_days": programme.window_days,
        "reminder_days": programme.reminder_days,
        "budget_per_quarter": programme.budget_per_quarter,
        "active": programme.active,
        "items": [items.get(i) for i in programme_item_ids(programme, session=session)],
        "units": [units.get(u) for u in programme_unit_ids(programme, session=session)],
    }


@bp.route("/programmes/new", methods=["GET", "POST"])
@allow("hr", "admin")
def new_programme():
    session = db_session()
    form = _programme_form(session)
    if form.validate_on_submit():
        programme = _save_programme(session, form)
        if programme is not None:
            audit.record(
                current_user,
                "programme.create",
                programme,
                _programme_detail(session, programme),
                session=session,
            )
            flash(_("Programme created. The scheduler opens its cycles on time."))
            return redirect(url_for("pulse.programme", programme_id=programme.id))
    return render_template(
        "pulse/programme.html", form=form, programme=None, cycles=[], **_audience(session, form)
    ), 400 if form.errors else 200


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@allow("hr", "admin")
def programme(programme_id):
    session = db_session()
    programme = session.get(PulseProgramme, programme_id) or abort(404)
    form = _programme_form(session, programme)
    if form.validate_on_submit() and _save_programme(session, form, programme) is not None:
        audit.record(
            current_user,
            "programme.update",
            programme,
            _programme_detail(session, programme),
            session=session,
        )
        flash(_("Changes saved. They apply to cycles that open from now on."))
        return redirect(url_for("pulse.programme", programme_id=programme.id))
    cycles = session.exec(
        select(PulseCycle)
        .where(PulseCycle.programme_id == programme.id)
        .order_by(PulseCycle.opens_at.desc())
    ).all()
    return render_template(
        "pulse/programme.html",
        form=form,
        programme=programme,
        cycles=cycles,
        confirm=ConfirmForm(),
        **_audience(session, form),
        open_refusal=open_now_refusal(programme, session=session, now=utcnow()),
    ), (400 if form.errors else 200)


@bp.route("/programmes/<int:programme_id>/open", methods=["POST"])
@allow("hr", "admin")
def open_now(programme_id):
    session = db_session()
    programme = session.get(PulseProgramme, programme_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            cycle = open_cycle_now(programme, session=session, now=utcnow())
        except PulseError as exc:
            flash(str(exc))
        else:
            audit.record(
                current_user,
                "programme.open",
                programme,
                {
                    "cycle": cycle.id,
                    "period": cycle.period,
                    "min_scores": cycle.min_scores,
                    "min_comments": cycle.min_comments,
                },
                session=session,
            )
            flash(
                _(
                    "Cycle %(period)s is open. Invitations go out with the scheduler's next "
                    "run, within 5 minutes.",
                    period=cycle.period,
                )
            )
    return redirect(url_for("pulse.programme", programme_id=programme.id))


@bp.route("/cycles/<int:cycle_id>/close", methods=["POST"])
@allow("hr", "admin")
def close_now(cycle_id):
    session = db_session()
    cycle = session.get(PulseCycle, cycle_id) or abort(404)
    if ConfirmForm().validate_on_submit() and cycle.status == CycleStatus.OPEN:
        end_now(cycle, session=session, now=utcnow())
        flash(
            _(
                "Cycle %(period)s has stopped taking answers. Its results are ready after "
                "the scheduler's next run, within 5 minutes.",
                period=cycle.period,
            )
        )
    return redirect(url_for("pulse.programme", programme_id=cycle.programme_id))
