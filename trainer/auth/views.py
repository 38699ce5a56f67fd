from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlmodel import Session

from trainer.access import allow
from trainer.auth import bp
from trainer.auth import services as auth
from trainer.auth.forms import (
    FOLLOW_BROWSER,
    LoginForm,
    RequestResetForm,
    SetPasswordForm,
    SettingsForm,
)
from trainer.auth.models import User
from trainer.db import db_session, get_engine
from trainer.i18n import language_of
from trainer.mail import queue_mail, unique_key
from trainer.util import external_url

SIGN_IN_FAILED = _l("That email and password do not match, or the account is locked for a while.")


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
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@allow(public=True)
def forgot():
    form = RequestResetForm()
    if form.validate_on_submit():
        user = auth.find_user(form.email.data, session=db_session())
        if user is not None and user.active:
            link = external_url("auth.reset", token=auth.make_link_token(user, "reset"))
            with force_locale(language_of(user)):
                queue_mail(
                    session=db_session(),
                    key=unique_key("reset"),
                    to=user.email,
                    subject=_("Reset your trainer password"),
                    body=_(
                        "Hello %(name)s,\n\nUse this link within the hour to choose a new "
                        "password:\n%(link)s\n\nIf you did not ask for it, ignore this message.",
                        name=user.name,
                        link=link,
                    ),
                )
        flash(_("If that email belongs to an account, a reset link is on its way."))
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


def _password_page(token: str, purpose: str, title: str):
    user = auth.user_for_link_token(token, purpose, session=db_session())
    if user is None:
        return render_template("auth/link_invalid.html"), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        auth.set_password(user, form.password.data, session=db_session())
        flash(_("Your password is set. Please sign in."))
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/set_password.html", form=form, title=title, user=user), status


@bp.route("/invite/<token>", methods=["GET", "POST"])
@allow(public=True)
def invite(token):
    return _password_page(token, "invite", _("Welcome: choose your password"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@allow(public=True)
def reset(token):
    return _password_page(token, "reset", _("Choose a new password"))


@bp.route("/settings", methods=["GET", "POST"])
@allow()
def settings():
    languages = current_app.config["LANGUAGES"]
    form = SettingsForm(languages, language=current_user.locale or FOLLOW_BROWSER)
    if form.validate_on_submit():
        auth.set_language(current_user, form.language.data or None, session=db_session())
        refresh()  # this request already chose a language: the message is in the new one
        flash(_("Your settings are saved."))
        return redirect(url_for("auth.settings"))
    status = 400 if form.errors else 200
    return render_template("auth/settings.html", form=form, languages=languages), status
