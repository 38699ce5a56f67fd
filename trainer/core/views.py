from flask import abort, current_app, render_template, request
from flask_login import current_user

from trainer import mail, system
from trainer.access import allow
from trainer.core import bp
from trainer.core import home as home_page
from trainer.db import db_session
from trainer.util import utcnow


@bp.route("/")
@allow()
def home():
    panels = home_page.panels_for(current_user, utcnow(), session=db_session())
    return render_template(
        "core/home.html", panels=panels, tasks=sum(p.tasks for p in panels), now=utcnow()
    )


@bp.route("/healthz")
@allow(public=True)
def healthz():
    return {"status": "ok"}


@bp.route("/system")
@allow("admin")
def system_status():
    session = db_session()
    status = request.args.get("status")
    if status not in list(mail.OutboxStatus):
        status = None
    return render_template(
        "core/system.html",
        report=system.status_report(session=session),
        outbox=mail.outbox_summary(session=session),
        shown_status=status,
        messages=mail.recent_messages(session=session, status=status),
    )


@bp.route("/dev/mail")
@allow("admin")
def dev_mail():
    if current_app.config["PRODUCTION"]:
        abort(404)
    return render_template(
        "core/dev_mail.html",
        messages=mail.recent_messages(session=db_session()),
        smtp=current_app.config["MAIL_SERVER"],
    )
