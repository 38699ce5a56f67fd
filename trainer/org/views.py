from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, or_, select

from trainer.access import allow
from trainer.auth.models import User
from trainer.auth.services import make_link_token
from trainer.db import db_session
from trainer.forms import ConfirmForm, int_arg
from trainer.mail import send_mail
from trainer.org import bp
from trainer.org import services as org
from trainer.org.forms import ImportPeopleForm, PersonForm, RenameUnitForm, UnitForm
from trainer.org.models import OrgUnit

PAGE_SIZE = 50


def _unit_choices(session, blank: str | None = None):
    choices = [(unit.id, "\u2003" * depth + f"{unit.name} ({unit.code})")
               for unit, depth, _ in org.ordered_tree(session)]
    return ([(0, blank)] if blank else []) + choices


@bp.route("/", methods=["GET", "POST"])
@allow("hr", "admin")
def tree():
    session = db_session()
    form = UnitForm()
    form.parent_id.choices = _unit_choices(session, blank="(none: this is the company)")
    if form.validate_on_submit():
        parent = session.get(OrgUnit, form.parent_id.data) if form.parent_id.data else None
        try:
            unit = org.create_unit(session, code=form.code.data, name=form.name.data,
                                   kind=form.kind.data, parent=parent)
        except org.OrgError as exc:
            form.code.errors.append(str(exc))
        else:
            flash(f"{unit.name} added.")
            return redirect(url_for("org.tree"))
    status = 400 if form.errors else 200
    return render_template("org/tree.html", rows=org.ordered_tree(session), form=form), status


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@allow("hr", "admin")
def unit(unit_id):
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    form = RenameUnitForm(obj=unit)
    if form.validate_on_submit():
        unit.name = form.name.data.strip()
        session.add(unit)
        flash("Unit renamed.")
        return redirect(url_for("org.unit", unit_id=unit.id))
    people = session.exec(select(User).where(User.unit_id == unit.id).order_by(User.name)).all()
    return render_template("org/unit.html", unit=unit, form=form, people=people,
                           ancestors=org.ancestors(session, unit)), 400 if form.errors else 200


@bp.route("/people")
@allow("hr", "admin")
def people():
    session = db_session()
    q = request.args.get("q", "").strip()
    page = int_arg("page", 1)
    query = select(User)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(User.name).offset((page - 1) * PAGE_SIZE)
                        .limit(PAGE_SIZE)).all()
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    return render_template("org/people.html", people=rows, units=units, q=q, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), total=total)


def _person_form(session, user=None):
    form = PersonForm(obj=user)
    form.unit_id.choices = _unit_choices(session)
    form.manager_of.choices = _unit_choices(session)
    if user is not None and request.method == "GET":
        form.roles.data = sorted(user.role_set)
        codes = set(org.managed_codes(session, user))
        form.manager_of.data = [u.id for u in session.exec(select(OrgUnit)).all()
                                if u.code in codes]
    return form


def _save_person(session, form, user):
    user.email = form.email.data.strip().lower()
    user.name = form.name.data.strip()
    user.unit_id = form.unit_id.data
    user.roles = ",".join(form.roles.data)
    user.active = form.active.data
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        form.email.errors.append("Another person already has this email.")
        return False
    managed = [session.get(OrgUnit, i) for i in form.manager_of.data or []]
    if managed and "manager" not in form.roles.data:
        form.manager_of.errors.append("Give the Manager role to someone who manages units.")
        return False
    org.set_managed_units(session, user, managed)
    return True


@bp.route("/people/new", methods=["GET", "POST"])
@allow("hr", "admin")
def new_person():
    session = db_session()
    form = _person_form(session)
    if form.validate_on_submit() and _save_person(session, form, User(email="", name="")):
        flash("Person added. Send them an invitation to set a password.")
        return redirect(url_for("org.people", q=form.email.data))
    return render_template("org/person.html", form=form, person=None), (
        400 if form.errors else 200)


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@allow("hr", "admin")
def person(user_id):
    session = db_session()
    user = session.get(User, user_id) or abort(404)
    form = _person_form(session, user)
    if form.validate_on_submit() and _save_person(session, form, user):
        flash("Changes saved.")
        return redirect(url_for("org.person", user_id=user.id))
    return render_template("org/person.html", form=form, person=user, invite=ConfirmForm()), (
        400 if form.errors else 200)


@bp.route("/people/<int:user_id>/invite", methods=["POST"])
@allow("hr", "admin")
def invite(user_id):
    session = db_session()
    user = session.get(User, user_id) or abort(404)
    if ConfirmForm().validate_on_submit() and user.active:
        link = url_for("auth.invite", token=make_link_token(user, "invite"), _external=True)
        send_mail(user.email, "You're invited to trainer",
                  f"Hello {user.name},\n\nYour trainer account is ready. Choose a password here "
                  f"(the link works once, for 3 days):\n{link}\n")
        flash(f"Invitation sent to {user.email}.")
    return redirect(url_for("org.person", user_id=user.id))


@bp.route("/import", methods=["GET", "POST"])
@allow("hr", "admin")
def import_people():
    form = ImportPeopleForm()
    report = None
    if form.validate_on_submit():
        session = db_session()
        report = org.import_people(session, form.file.data.read(),
                                   deactivate_missing=form.deactivate_missing.data,
                                   force=form.force.data)
        if report.ok:
            flash(f"Import done: {report.created} created, {report.updated} updated, "
                  f"{report.unchanged} unchanged, {report.reactivated} reactivated, "
                  f"{report.deactivated} deactivated.")
            return redirect(url_for("org.people"))
        session.rollback()
    status = 400 if form.errors or (report and not report.ok) else 200
    return render_template("org/import.html", form=form, report=report), status
