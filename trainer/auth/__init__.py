"""Accounts, roles, sign-in and sign-out, invitations and password reset."""

import functools

from flask import Blueprint, Flask, g
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

bp = Blueprint("auth", __name__, url_prefix="/auth")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see that page.")
login_manager.localize_callback = str  # the lazy message, in the reader's language
login_manager.session_protection = "basic"


@functools.cache
def _user_by_token():
    """Build once the query every signed-in request runs (building it costs more than running
    it)."""
    from sqlalchemy import bindparam
    from sqlmodel import select

    from trainer.auth.models import User

    return select(User).where(User.session_token == bindparam("token"), User.active)


@login_manager.user_loader
def _load_user(session_token: str):
    from trainer.db import db_session

    return db_session().exec(_user_by_token(), params={"token": session_token}).first()


def init_app(app: Flask) -> None:
    from trainer.auth import cli, sso, views  # noqa: F401
    from trainer.nav import add_home_panel

    login_manager.init_app(app)
    sso.init_app(app)
    # Flask-Login caches the user on g; drop it so a reused app context never sees a stale user.
    app.teardown_request(lambda _exc: g.pop("_login_user", None))
    app.register_blueprint(bp)
    app.cli.add_command(cli.create_admin)
    add_home_panel(app, "auth/_home.html", roles=("hr", "admin"), order=82, data=lambda **_: {})
