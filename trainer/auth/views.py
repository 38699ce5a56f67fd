from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlmodel import Session

from trainer.access import allow
from trainer.auth import bp
from trainer.auth import services as auth
from trainer.auth.forms import LoginForm, RequestResetForm, SetPasswordForm
from trainer.auth.models import User
from trainer.db import db_session, get_engine
from trainer.mail import queue_mail, unique_key
from trainer.util import external_url

SIGN_IN_FAILED = "That email and password do not match, or the account is locked for a while."


def safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the home page."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("core.home")


@bp.route("/login", methods=["GET", "POST"])
@allow(public=True)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        # The one request with a second session, on purpose: the throttle is written and
        # committed in its own transaction, because a failed sign-in answers 400, which rolls
        # the request's transaction back, and the failure must still count.
        with Session(get_engine(), expire_on_commit=False) as throttle_session:
            user = auth.authenticate(form.email.data, form.password.data, session=throttle_session)
            throttle_session.commit()
        if user is not None:
            session.clear()
            login_user(db_session().get(User, user.id))
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append(SIGN_IN_FAILED)
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@allow()
def logout():
    auth.rotate_session_token(current_user, session=db_session())
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@allow(public=True)
def forgot():
    form = RequestResetForm()
    if form.validate_on_submit():
        user = auth.find_user(form.email.data, session=db_session())
        if user is not None and user.active:
            link = external_url("auth.reset", token=auth.make_link_token(user, "reset"))
            queue_mail(
                session=db_session(),
                key=unique_key("reset"),
                to=user.email,
                subject="Reset your trainer password",
                body=f"Hello {user.name},\n\nUse this link within the hour to choose a "
                f"new password:\n{link}\n\nIf you did not ask for it, ignore this "
                "message.",
            )
        flash("If that email belongs to an account, a reset link is on its way.")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


def _password_page(token: str, purpose: str, title: str):
    user = auth.user_for_link_token(token, purpose, session=db_session())
    if user is None:
        return render_template("auth/link_invalid.html"), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        auth.set_password(user, form.password.data, session=db_session())
        flash("Your password is set. Please sign in.")
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/set_password.html", form=form, title=title, user=user), status


@bp.route("/invite/<token>", methods=["GET", "POST"])
@allow(public=True)
def invite(token):
    return _password_page(token, "invite", "Welcome: choose your password")


@bp.route("/reset/<token>", methods=["GET", "POST"])
@allow(public=True)
def reset(token):
    return _password_page(token, "reset", "Choose a new password")
