"""Staff without email on shared devices: personal sign-in cards and kiosk mode.

HR or a manager prints a sheet of cards for a unit; each card's code signs its holder in once.
A session started with a card is a kiosk session: it ends after each survey answered and after
KIOSK_IDLE_SECONDS without input, and no page of it may be kept by the browser.
"""

import time

from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

# Input on the page pings the server at most this often, so the server's idle check (a little
# more generous than the page's timer) never signs out someone who is reading and scrolling.
IDLE_GRACE_SECONDS = 20


def in_kiosk_session() -> bool:
    return bool(session.get("kiosk")) and current_user.is_authenticated


def _guard_kiosk_session():
    """End a kiosk session that has been idle too long or has just answered a survey; send a
    signed-out kiosk device back to the code page rather than the password page."""
    if request.endpoint in (None, "static"):
        return None
    from trainer.kiosk import views

    if in_kiosk_session():
        idle = time.time() - session.get("kiosk_seen", 0)
        if idle > current_app.config["KIOSK_IDLE_SECONDS"] + IDLE_GRACE_SECONDS:
            return views.end_kiosk_session("idle")
        if request.endpoint == "pulse.thanks":
            return views.end_kiosk_session("answered")
        session["kiosk_seen"] = time.time()
        return None
    access = getattr(current_app.view_functions.get(request.endpoint), "access", None)
    signed_out_kiosk = session.get("kiosk_device") and not current_user.is_authenticated
    if signed_out_kiosk and access and not access.public and not access.api_token:
        return redirect(url_for("kiosk.start"))
    return None


def _no_store_on_kiosk(response):
    """Nothing a kiosk device shows may come back with the browser's Back button."""
    if request.endpoint != "static" and (
        session.get("kiosk") or session.get("kiosk_device") or request.blueprint == "kiosk"
    ):
        response.headers["Cache-Control"] = "no-store"
    return response


def qr_svg(code: str, kiosk_url: str) -> Markup:
    """The card's QR code as inline SVG. The code travels after '#', which browsers never send
    to the server, so it stays out of access logs; the kiosk page's script reads it."""
    import segno
    from flask_babel import gettext as _

    label = _("QR code that signs you in")
    svg = segno.make(f"{kiosk_url}#code={code}", error="m").svg_inline(
        scale=1, border=2, omitsize=True, svgclass="qr", title=label
    )
    # segno writes the SVG (and escapes the title); the label is escaped here.
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(labelled)  # noqa: S704


def init_app(app: Flask) -> None:
    from trainer.kiosk import services, views  # noqa: F401
    from trainer.nav import add_nav
    from trainer.scheduler import register_job

    app.register_blueprint(bp)
    app.before_request(_guard_kiosk_session)
    app.after_request(_no_store_on_kiosk)
    app.context_processor(lambda: {"kiosk_session": in_kiosk_session()})
    app.add_template_filter(qr_svg, "qr_svg")
    add_nav(
        app, _l("Sign-in cards"), "kiosk.cards_index", roles=("manager", "hr", "admin"), order=82
    )
    register_job(
        app,
        "kiosk-old-cards",
        services.remove_old_cards,
        every_minutes=24 * 60,
        label=_l("Delete sign-in cards a month after they expired"),
    )
