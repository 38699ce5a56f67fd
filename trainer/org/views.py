from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import func, or_, select

from trainer import audit
from trainer.access import Role, allow
from trainer.auth.models import User
from trainer.auth.services import make_link_token
from trainer.db import db_session
from trainer.forms import ConfirmForm, int_arg
from trainer.i18n import language_of
from trainer.mail import queue_mail, unique_key
from trainer.org import bp
from trainer.org import services as org
from trainer.org.forms import ImportPeopleForm, PersonForm, RenameUnitForm, UnitForm
from trainer.org.models import OrgUnit, PeopleImport
from trainer.org.scope import unit_choices
from trainer.util import external_url

PAGE_SIZE = 50
SEARCH_MAX = 254  # the longest email address: a longer search cannot match anything


@bp.route("/", methods=["GET", "POST"])
@allow("hr", "admin")
def tree():
    session = db_session()
    form = UnitForm()
    form.parent_id.choices = unit_choices(session=session, blank=_("(none: this is the company)"))
    if form.validate_on_submit():
        parent = session.get(OrgUnit, form.parent_id.data) if form.parent_id.data else None
        try:
            unit = org.create_unit(
                session=session,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                parent=parent,
            )
        except org.OrgError as exc:
            form.code.errors.append(str(exc))
        else:
            flash(_("%(unit)s added.", unit=unit.name))
            return redirect(url_for("org.tree"))
    status = 400 if form.errors else 200
    return render_template(
        "org/tree.html", rows=org.ordered_tree(session=session), form=form
    ), status


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@allow("hr", "admin")
def unit(unit_id):
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    form = RenameUnitForm(obj=unit)
    if form.validate_on_submit():
        unit.name = form.name.data.strip()
        session.add(unit)
        flash(_("Unit renamed."))
        return redirect(url_for("org.unit", unit_id=unit.id))
    people = session.exec(select(User).where(User.unit_id == unit.id).order_by(User.name)).all()
    return render_template(
        "org/unit.html",
        unit=unit,
        form=form,
        people=people,
        ancestors=org.ancestors(unit, session=session),
    ), 400 if form.errors else 200


@bp.route("/people")
@allow("hr", "admin")
def people():
    session = db_session()
    # (SQLite refuses a LIKE pattern of 50,000 bytes or more.)
    q = request.args.get("q", "").strip()[:SEARCH_MAX]
    page = int_arg("page", 1)
    query = select(User)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(User.name).like(like),
                User.email.like(like),
                func.lower(User.employee_number).like(like),
            )
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(User.name).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    return render_template(
        "org/people.html",
        people=rows,
        units=units,
        q=q,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        total=total,
    )


def _person_form(session, user=None):
    form = PersonForm(obj=user)
    form.unit_id.choices = unit_choices(session=session)
    form.manager_of.choices = unit_choices(session=session)
    if user is not None and request.method == "GET":
        form.roles.data = sorted(user.role_set)
        codes = set(org.managed_codes(user, session=session))
        form.manager_of.data = [
            u.id for u in session.exec(select(OrgUnit)).all() if u.code in codes
        ]
    return form


def _save_person(session, form, user) -> bool:
    """Save the form onto `user`; on a refusal, show it on the field concerned."""
    try:
        org.save_person(
            session=session,
            user=user,
            by=current_user,
            email=form.email.data,
            employee_number=form.employee_number.data,
            name=form.name.data,
            unit_id=form.unit_id.data,
            roles=form.roles.data,
            active=form.active.data,
            managed_unit_ids=form.manager_of.data or [],
        )
    except org.PersonError as error:
        getattr(form, error.field).errors.append(str(error))
        return False
    return True


@bp.route("/people/new", methods=["GET", "POST"])
@allow("hr", "admin")
def new_person():
    session = db_session()
    form = _person_form(session)
    if form.validate_on_submit() and _save_person(session, form, User(name="")):
        if form.email.data:
            flash(_("Person added. Send them an invitation to set a password."))
        else:
            flash(_("Person added. Print them a sign-in card: they have no email."))
        return redirect(url_for("org.people", q=form.email.data or form.employee_number.data))
    return render_template("org/person.html", form=form, person=None), (400 if form.errors else 200)


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@allow("hr", "admin")
def person(user_id):
    session = db_session()
    user = session.get(User, user_id) or abort(404)
    form = _person_form(session, user)
    if form.validate_on_submit() and _save_person(session, form, user):
        flash(_("Changes saved."))
        return redirect(url_for("org.person", user_id=user.id))
    return render_template("org/person.html", form=form, person=user, invite=ConfirmForm()), (
        400 if form.errors else 200
    )


@bp.route("/people/<int:user_id>/invite", methods=["POST"])
@allow("hr", "admin")
def invite(user_id):
    session = db_session()
    user = session.get(User, user_id) or abort(404)
    if not user.email:
        flash(_("%(name)s has no email: print them a sign-in card instead.", name=user.name))
    elif ConfirmForm().validate_on_submit() and user.active:
        link = external_url("auth.invite", token=make_link_token(user, "invite"))
        with force_locale(language_of(user)):
            queue_mail(
                session=session,
                key=unique_key("invite"),
                to=user.email,
                subject=_("You're invited to trainer"),
                body=_(
                    "Hello %(name)s,\n\nYour trainer account is ready. Choose a password here "
                    "(the link works once, for 3 days):\n%(link)s\n",
                    name=user.name,
                    link=link,
                ),
            )
        audit.record(current_user, "person.invite", user, session=session)
        flash(_("Invitation to %(email)s is on its way.", email=user.email))
    return redirect(url_for("org.person", user_id=user.id))


@bp.route("/import", methods=["GET", "POST"])
@allow("hr", "admin")
def import_people():
    session = db_session()
    form = ImportPeopleForm()
    report = None
    if form.validate_on_submit():
        result = org.upload_people(
            form.file.data.read(),
            session=session,
            user=current_user,
            filename=form.file.data.filename,
            deactivate_missing=form.deactivate_missing.data,
            force=form.force.data,
            config=current_app.config,
        )
        if isinstance(result, PeopleImport):
            return redirect(url_for("org.import_progress", import_id=result.id))
        report = result
        if report.ok:
            audit.record(current_user, "people.import", None, report.counts(), session=session)
            flash(
                _(
                    "Import done: %(created)s created, %(updated)s updated, %(unchanged)s "
                    "unchanged, %(reactivated)s reactivated, %(deactivated)s deactivated.",
                    **report.counts(),
                )
            )
            return redirect(url_for("org.people"))
        session.rollback()
    status = 400 if form.errors or (report and not report.ok) else 200
    return render_template(
        "org/import.html",
        form=form,
        report=report,
        recent=org.recent_imports(current_user, session=session),
        max_rows=current_app.config["PEOPLE_IMPORT_MAX_ROWS"],
    ), status


@bp.route("/import/<int:import_id>")
@allow("hr", "admin")
def import_progress(import_id):
    session = db_session()
    job = org.people_import(import_id, session=session) or abort(404)
    if job.created_by != current_user.id and not current_user.has_role(Role.ADMIN):
        abort(403)
    return render_template("org/import_progress.html", job=job)
