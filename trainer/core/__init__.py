"""The home page, navigation, error pages and response headers shared by every feature."""

from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, render_template, request
from flask_login import current_user

bp = Blueprint("core", __name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]  # empty: everyone signed in
    order: int = 50


def add_nav(app: Flask, label: str, endpoint: str, roles=(), order: int = 50) -> None:
    """Add a link to the main navigation for the given roles."""
    app.extensions.setdefault("trainer.nav", []).append(
        NavItem(label, endpoint, frozenset(roles), order)
    )


def add_home_panel(app: Flask, template: str, roles=(), order: int = 50) -> None:
    """Show a partial template on the home page for the given roles."""
    app.extensions.setdefault("trainer.home", []).append(
        NavItem(template, template, frozenset(roles), order)
    )


def _visible(items, user) -> list[NavItem]:
    return sorted((i for i in items if not i.roles or user.has_role(*i.roles)),
                  key=lambda i: i.order)


def home_panels(user) -> list[str]:
    return [i.endpoint for i in _visible(current_app.extensions.get("trainer.home", []), user)]


def nav_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return _visible(current_app.extensions.get("trainer.nav", []), user)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if current_app.config["PRODUCTION"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if current_user and getattr(current_user, "is_authenticated", False):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    if request.path.startswith("/api/"):
        return {"error": {"status": code, "message": _ERROR_TEXT.get(code, "Error")}}, code
    return render_template("errors/error.html", code=code,
                           message=_ERROR_TEXT.get(code, "Something went wrong.")), code


_ERROR_TEXT = {
    400: "The request could not be understood. If you sent a form, go back and try again.",
    403: "You don't have access to this page.",
    404: "We couldn't find that page.",
    405: "That action isn't allowed here.",
    413: "That file is too large.",
    500: "Something went wrong on our side. Nothing you sent was half-saved; please try again.",
}


def init_app(app: Flask) -> None:
    from trainer.core import views  # noqa: F401

    app.register_blueprint(bp)
    add_nav(app, "System", "core.system_status", roles=("admin",), order=90)
    app.after_request(_security_headers)
    for code in _ERROR_TEXT:
        app.register_error_handler(code, _error_page)
    app.context_processor(lambda: {"nav_items": nav_for(current_user)})
