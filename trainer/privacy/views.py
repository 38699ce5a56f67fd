import json
from datetime import UTC, datetime, time, timedelta

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, func, select

from trainer import audit, csvdownload
from trainer.access import allow
from trainer.audit import AuditEntry
from trainer.auth.models import User
from trainer.db import db_session
from trainer.privacy import bp, services
from trainer.privacy.forms import AuditFilterForm, EraseForm

PAGE_SIZE = 50


def _json_download(person: User) -> Response:
    body = services.export_json(person, session=db_session())
    audit.record_now(current_user, "person.export", person)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="trainer-data-{person.id}.json"'},
    )


@bp.route("/me")
@allow()
def mine():
    return render_template("privacy/mine.html", explanation=services.PULSE_ANSWERS_NOT_INCLUDED)


@bp.route("/me/data.json")
@allow()
def my_export():
    return _json_download(current_user)


@bp.route("/people/<int:user_id>/data.json")
@allow("hr", "admin")
def export(user_id):
    person = db_session().get(User, user_id) or abort(404)
    return _json_download(person)


@bp.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
@allow("hr", "admin")
def erase(user_id):
    session = db_session()
    person = session.get(User, user_id) or abort(404)
    form = EraseForm()
    try:
        services.check_erasable(person, session=session, by=current_user)
    except services.PrivacyError as exc:
        return render_template(
            "privacy/erase.html", person=person, form=None, refused=str(exc)
        ), 409 if request.method == "POST" else 200
    if form.validate_on_submit():
        erasure = services.erase_person(person, session=session, by=current_user)
        flash(
            _(
                "The person was erased. %(count)s records were removed or unlinked; the audit "
                "log lists them.",
                count=sum(erasure.removed.values()),
            )
        )
        return redirect(url_for("privacy.audit_log", action="person.erase"))
    return render_template(
        "privacy/erase.html",
        person=person,
        form=form,
        refused=None,
        keep_certificates=current_app.config.get("ERASE_KEEP_CERTIFICATES"),
    ), 400 if form.errors else 200


def _filtered_query(form: AuditFilterForm):
    query = select(AuditEntry)
    if form.action.data:
        query = query.where(AuditEntry.action == form.action.data)
    if form.actor.data:
        query = query.where(
            func.lower(AuditEntry.actor_label).contains(form.actor.data.strip().lower())
        )
    if form.since.data:
        query = query.where(AuditEntry.at >= datetime.combine(form.since.data, time(), UTC))
    if form.until.data:
        query = query.where(
            AuditEntry.at < datetime.combine(form.until.data + timedelta(days=1), time(), UTC)
        )
    return query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())


@bp.route("/audit")
@allow("hr", "admin")
def audit_log():
    session = db_session()
    form = AuditFilterForm(request.args)
    if request.args and not form.validate():
        return render_template(
            "privacy/audit.html",
            form=form,
            entries=[],
            page=1,
            pages=1,
            total=0,
            actions=audit.ACTIONS,
        ), 400
    query = _filtered_query(form)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    entries = session.exec(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return render_template(
        "privacy/audit.html",
        form=form,
        page=page,
        pages=pages,
        total=total,
        actions=audit.ACTIONS,
        entries=[(e, json.loads(e.detail)) for e in entries],
    )


@bp.route("/audit.csv")
@allow("hr", "admin")
def audit_csv():
    form = AuditFilterForm(request.args)
    if request.args and not form.validate():
        abort(400)
    entries = db_session().exec(_filtered_query(form)).all()
    return csvdownload.download(
        "audit-log.csv",
        [
            ["when_utc", "who", "action", "target_type", "target_id", "target", "detail"],
            *(
                [
                    e.at.isoformat(timespec="seconds"),
                    e.actor_label,
                    e.action,
                    e.target_type,
                    e.target_id,
                    e.target_label,
                    e.detail,
                ]
                for e in entries
            ),
        ],
    )
