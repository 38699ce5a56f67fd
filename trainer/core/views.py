from flask import render_template
from flask_login import current_user

from trainer.access import allow
from trainer.core import bp, home_panels


@bp.route("/")
@allow()
def home():
    return render_template("core/home.html", panels=home_panels(current_user))


@bp.route("/healthz")
@allow(public=True)
def healthz():
    return {"status": "ok"}
