from urllib.parse import urlsplit

from authlib.integrations.base_client import OAuthError
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from joserfc.errors import JoseError
from requests import RequestException
from sqlmodel import Session

from trainer.access import allow
from trainer.auth import bp, sso
from trainer.auth import services as auth
from trainer.auth.forms import (
    FOLLOW_BROWSER,
    LoginForm,
    RequestResetForm,
    SetPasswordForm,
    SettingsForm,
    SsoSettingsForm,
)
from trainer.auth.models import User
from trainer.db import db_session, get_engine, write_intent
from trainer.i18n import language_of
from trainer.mail import queue_mail, unique_key
from trainer.org.models import OrgUnit
from trainer.org.scope import unit_choices
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
        if user is not None and not sso.password_allowed(user.email):
            form.password.errors.append(_passwords_off())
        elif user is not None:
            session.clear()
            login_user(db_session().get(User, user.id))
            return redirect(safe_next(request.args.get("next")))
        else:
            form.password.errors.append(SIGN_IN_FAILED)
    return _login_page(form, 400 if form.errors else 200)


def _login_page(form: LoginForm, status: int, sso_error: str | None = None):
    return render_template(
        "auth/login.html",
        form=form,
        sso_name=sso.provider_name() if sso.provider() else None,
        passwords_on=not current_app.config["SSO_ONLY"],
        sso_error=sso_error,
    ), status


def _passwords_off() -> str:
    return _(
        "Sign-in with a password is turned off here: use “Sign in with %(provider)s”.",
        provider=sso.provider_name(),
    )


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
        if user is not None and user.active and sso.password_allowed(user.email):
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
    if not sso.password_allowed(user.email):
        flash(_passwords_off())
        return redirect(url_for("auth.login"))
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


@bp.route("/sso/start")
@allow(public=True)
def sso_start():
    """Send the person to the single sign-on provider (Authlib adds state, nonce and PKCE).

    A link, not a form: the page's CSP (form-action 'self') would stop a form's redirect to the
    provider, and starting a sign-in changes nothing; the state check guards the way back.
    """
    provider = sso.provider() or abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    session["sso_next"] = safe_next(request.args.get("next"))
    try:
        return provider.authorize_redirect(external_url("auth.sso_callback"))
    except RequestException as error:
        current_app.logger.warning("Single sign-on provider unreachable: %s", error)
        return _sso_failed(503, _sso_unreachable())


@bp.route("/sso/callback")
@allow(public=True)
def sso_callback():
    """Take the provider's answer: Authlib checks it, then find whose account it is."""
    provider = sso.provider() or abort(404)
    write_intent.set(True)  # a GET by protocol that may link or create an account
    try:
        token = provider.authorize_access_token()
    except OAuthError as error:
        current_app.logger.warning("Single sign-on refused: %s", error)
        return _sso_failed(
            400,
            _(
                "The sign-in did not complete: it may have expired or been used already. "
                "Please try again."
            ),
        )
    except JoseError as error:
        current_app.logger.warning("Single sign-on ID token refused: %r", error)
        return _sso_failed(
            400,
            _(
                "The answer from the sign-in service could not be verified, so you are not "
                "signed in. Please try again; if it happens again, tell IT."
            ),
        )
    except RequestException as error:
        current_app.logger.warning("Single sign-on provider unreachable: %s", error)
        return _sso_failed(503, _sso_unreachable())
    next_url = safe_next(session.get("sso_next"))
    try:
        user = sso.person_for_identity(dict(token.get("userinfo") or {}), session=db_session())
    except sso.SignInRefused as refusal:
        return _sso_failed(403, str(refusal))
    session.clear()
    login_user(user)
    return redirect(next_url)


def _sso_failed(status: int, message: str):
    """Show the sign-in page again, with why single sign-on did not sign the person in."""
    return _login_page(LoginForm(formdata=None), status, message)


def _sso_unreachable() -> str:
    return _("The sign-in service cannot be reached just now. Please try again in a minute.")


@bp.route("/sso/settings", methods=["GET", "POST"])
@allow("hr", "admin")
def sso_settings():
    """Show how people sign in, and choose where single sign-on creates new people."""
    db = db_session()
    form = SsoSettingsForm()
    form.jit_unit_id.choices = unit_choices(session=db, blank=_("No one: refuse them"))
    if request.method == "GET":
        unit = sso.jit_unit(session=db)
        form.jit_unit_id.data = unit.id if unit else 0
    if form.validate_on_submit():
        unit = db.get(OrgUnit, form.jit_unit_id.data) if form.jit_unit_id.data else None
        sso.set_jit_unit(unit, session=db, by=current_user)
        flash(_("Saved."))
        return redirect(url_for("auth.sso_settings"))
    linked, active = sso.linked_count(session=db)
    return render_template(
        "auth/sso_settings.html",
        form=form,
        provider=sso.provider_name() if sso.provider() else None,
        sso_only=current_app.config["SSO_ONLY"],
        break_glass=len(sso.break_glass_emails()),
        linked=linked,
        active=active,
    ), 400 if form.errors else 200


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
