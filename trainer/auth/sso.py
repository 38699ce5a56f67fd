"""Single sign-on with OpenID Connect: the provider, set up through Authlib from the config, and
who a sign-in there is in trainer.

The `state`, `nonce` and PKCE checks, and the ID token's signature and claims, are Authlib's own.
This module only decides which account a verified identity belongs to.
"""

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlmodel import Session, col, func, select

from trainer import audit
from trainer.access import Role
from trainer.auth.models import SignInSettings, User
from trainer.auth.services import find_user
from trainer.org.models import OrgUnit

PROVIDER = "trainer.oidc"


class SignInRefused(Exception):
    """A verified identity that may not sign in; the message is for the person."""


def init_app(app: Flask) -> None:
    """Register the provider with Authlib when OIDC_ISSUER is set (discovery does the rest)."""
    cfg = app.config
    if cfg["SSO_ONLY"] and not cfg["OIDC_ISSUER"]:
        raise RuntimeError(
            "SSO_ONLY turns passwords off, but no single sign-on provider is set: "
            "set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, or SSO_ONLY=false."
        )
    if not cfg["OIDC_ISSUER"]:
        return
    if not cfg["OIDC_CLIENT_ID"] or not cfg["OIDC_CLIENT_SECRET"]:
        raise RuntimeError("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    app.extensions[PROVIDER] = oauth.register(
        "oidc",
        client_id=cfg["OIDC_CLIENT_ID"],
        client_secret=cfg["OIDC_CLIENT_SECRET"],
        server_metadata_url=cfg["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": cfg["OIDC_SCOPE"], "code_challenge_method": "S256"},
    )


def provider():
    """Return the Authlib client of the configured provider, or None when SSO is off."""
    return current_app.extensions.get(PROVIDER)


def provider_name() -> str:
    """The provider as the sign-in button names it: OIDC_NAME, e.g. "Northwind ID"."""
    return current_app.config["OIDC_NAME"] or _("your company account")


def break_glass_emails() -> set[str]:
    emails = current_app.config["BREAK_GLASS_EMAILS"] or ()
    if isinstance(emails, str):
        emails = emails.split(",")
    return {email.strip().lower() for email in emails if email.strip()}


def password_allowed(email: str | None) -> bool:
    """Return whether this account may use a password (always, unless SSO_ONLY is on)."""
    if not current_app.config["SSO_ONLY"]:
        return True
    return (email or "").strip().lower() in break_glass_emails()


def person_for_identity(claims: dict, *, session: Session) -> User:
    """Return the active account a verified identity belongs to, linking or creating it.

    Match by the provider's `sub` once linked; else by an email the provider says it verified
    (then link the `sub`); else create the person in the unit HR chose for new people, if any.
    Raise SignInRefused otherwise, and for deactivated people.
    """
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SignInRefused(_("The sign-in service did not say who you are. Please try again."))
    user = session.exec(select(User).where(User.oidc_subject == subject)).first()
    if user is None:
        user = _link_by_email(claims, subject, session=session)
    if user is None:
        user = _create_just_in_time(claims, subject, session=session)
    if not user.active:
        raise SignInRefused(
            _("Your trainer account is switched off. Ask HR if you think this is a mistake.")
        )
    return user


def _verified_email(claims: dict) -> str | None:
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        return None
    if claims.get("email_verified") is not True:
        raise SignInRefused(
            _(
                "Your email address is not confirmed at your sign-in service, so trainer cannot "
                "tell which account is yours. Ask IT to confirm it, then try again."
            )
        )
    return email


def _link_by_email(claims: dict, subject: str, *, session: Session) -> User | None:
    email = _verified_email(claims)
    user = find_user(email, session=session) if email else None
    if user is None:
        return None
    if user.oidc_subject is not None:
        raise SignInRefused(
            _(
                "Your trainer account is already linked to another sign-in. "
                "Ask HR to check your account."
            )
        )
    if user.active:
        user.oidc_subject = subject
        session.add(user)
        audit.record(
            "single sign-on", "person.sso_link", user, {"provider": _issuer()}, session=session
        )
    return user


def _create_just_in_time(claims: dict, subject: str, *, session: Session) -> User:
    unit = jit_unit(session=session)
    email = _verified_email(claims)
    if unit is None or not unit.active or not email:
        raise SignInRefused(
            _("There is no trainer account for you yet. Ask HR to add you, then sign in again.")
        )
    name = str(claims.get("name") or "").strip() or email.split("@", 1)[0]
    user = User(
        email=email,
        name=name[:200],
        roles=Role.EMPLOYEE.value,
        unit_id=unit.id,
        oidc_subject=subject,
    )
    session.add(user)
    session.flush()
    audit.record(
        "single sign-on",
        "person.create",
        user,
        {"unit": unit.code, "roles": [Role.EMPLOYEE.value], "provider": _issuer()},
        session=session,
    )
    return user


# HR's settings


def jit_unit(*, session: Session) -> OrgUnit | None:
    """Return the unit single sign-on creates unknown people in, or None (refuse them)."""
    settings = session.get(SignInSettings, 1)
    return session.get(OrgUnit, settings.jit_unit_id) if settings and settings.jit_unit_id else None


def set_jit_unit(unit: OrgUnit | None, *, session: Session, by) -> None:
    """Create unknown people in `unit` from now on (None: refuse them), and log the change."""
    settings = session.get(SignInSettings, 1) or SignInSettings(id=1)
    before = jit_unit(session=session)
    settings.jit_unit_id = unit.id if unit else None
    session.add(settings)
    session.flush()
    if (before and before.id) != (unit and unit.id):
        audit.record(
            by,
            "sso.settings",
            detail={
                "new_people_unit": unit.code if unit else None,
                "before": before.code if before else None,
            },
            session=session,
        )


def linked_count(*, session: Session) -> tuple[int, int]:
    """Return (active people linked to the provider, active people)."""
    active = select(func.count()).select_from(User).where(User.active)
    linked = active.where(col(User.oidc_subject).is_not(None))
    return session.exec(linked).one(), session.exec(active).one()


def _issuer() -> str:
    return current_app.config["OIDC_ISSUER"][:200]
