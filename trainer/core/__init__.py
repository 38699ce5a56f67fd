"""The home page, error pages and response headers shared by every feature."""

from flask import Blueprint, Flask, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from trainer.access import Role
from trainer.anonymity import FigureStatus
from trainer.nav import add_home_panel, add_nav, nav_for
from trainer.util import DB_INT_MAX, shown_name

bp = Blueprint("core", __name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


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
    message = _ERROR_TEXT.get(code, _l("Something went wrong."))
    # abort(400, "reason") carries a reason written for the person (which field, and why).
    detail = None
    if type(error) is BadRequest and error.description != BadRequest.description:
        detail = error.description
        message = _("That request could not be used.")
    if request.path.startswith("/api/"):
        return {"error": {"status": code, "message": detail or message}}, code
    if request.path.startswith("/scim/"):
        from trainer.scim.views import scim_error

        return scim_error(code, detail or message)
    return render_template("errors/error.html", code=code, message=message, detail=detail), code


def _refuse_nul_characters():
    """Answer 400, naming the field, when the address, a query parameter, a form field or an
    upload's file name holds a NUL character: no text column can store one (PostgreSQL
    refuses it), and no person types one. JSON bodies are checked where they are parsed."""
    if "\x00" in request.path:
        abort(400, _("The address contains a NUL character (\\0). Remove it and try again."))
    in_parameter = _l(
        "The parameter '%(name)s' contains a NUL character (\\0), which cannot be stored. "
        "Remove it and try again."
    )
    in_field = _l(
        "The field '%(name)s' contains a NUL character (\\0), which cannot be stored. "
        "Remove it and try again."
    )
    checks = [(in_parameter, request.args.items(multi=True))]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        checks.append((in_field, request.form.items(multi=True)))
        checks.append(
            (
                in_field,
                ((key, file.filename or "") for key, file in request.files.items(multi=True)),
            )
        )
    for message, pairs in checks:
        for key, value in pairs:
            if "\x00" in key or "\x00" in value:
                abort(400, str(message) % {"name": shown_name(key)})


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in URLs, matching only numbers a database id can hold (else 404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


_ERROR_TEXT = {
    400: _l("The request could not be understood. If you sent a form, go back and try again."),
    403: _l("You don't have access to this page."),
    404: _l("We couldn't find that page."),
    405: _l("That action isn't allowed here."),
    413: _l("That file is too large."),
    500: _l("Something went wrong on our side. Nothing you sent was half-saved; please try again."),
}


def role_names(roles) -> str:
    """Return role codes as people read them: "Employee, HR"."""
    return ", ".join(Role(role).label for role in sorted(roles))


def init_app(app: Flask) -> None:
    from trainer.core import home, views  # noqa: F401

    app.url_map.converters["int"] = BoundedIntegerConverter
    app.register_blueprint(bp)
    app.add_template_global(FigureStatus, "FigureStatus")
    add_nav(app, _l("System"), "core.system_status", roles=("admin",), order=90)
    add_home_panel(
        app, "core/_home.html", roles=("manager", "admin"), order=25, data=home.core_panel
    )
    app.add_template_filter(role_names, "role_names")
    app.before_request(_refuse_nul_characters)
    app.after_request(_security_headers)
    for code in _ERROR_TEXT:
        app.register_error_handler(code, _error_page)
    app.context_processor(lambda: {"nav_items": nav_for(current_user)})
