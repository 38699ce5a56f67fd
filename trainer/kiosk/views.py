import time

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlmodel import Session

from trainer.access import allow
from trainer.auth import services as auth
from trainer.auth.models import User
from trainer.db import db_session, get_engine
from trainer.forms import ConfirmForm
from trainer.kiosk import bp, in_kiosk_session
from trainer.kiosk import services as cards
from trainer.kiosk.forms import CodeForm, PrintCardsForm
from trainer.org.models import OrgUnit
from trainer.org.scope import require_unit_in_scope, scope_unit_ids
from trainer.org.services import ordered_tree
from trainer.pulse.cycles import cycle_limits
from trainer.pulse.models import PulseProgramme
from trainer.util import external_url, utcnow


def _refusal_text(refusal: cards.Refusal) -> str:
    return {
        cards.Refusal.UNKNOWN: _(
            "We don't know that code. Check it against your card and try again."
        ),
        cards.Refusal.USED: _(
            "This card has already been used. Each card works once: ask your manager or HR "
            "for a new one."
        ),
        cards.Refusal.EXPIRED: _("This card has expired. Ask your manager or HR for a new one."),
        cards.Refusal.REPLACED: _(
            "A newer card was printed for you, so this one no longer works. Use your newest card."
        ),
        cards.Refusal.TOO_MANY: _(
            "Too many wrong codes on this device. Wait %(minutes)s minutes, then try again.",
            minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        ),
    }[refusal]


def _throttle_key() -> str:
    return f"sign-in-card@{request.remote_addr or 'unknown'}"


def _use_code(code: str) -> User | cards.Refusal:
    """Count the attempt against this address (committed on its own, as for passwords), then
    use the card."""
    key = _throttle_key()
    with Session(get_engine(), expire_on_commit=False) as throttle:
        attempt = auth.count_attempt(
            key, session=throttle, limit=current_app.config["KIOSK_MAX_FAILURES"]
        )
        throttle.commit()
        if attempt > current_app.config["KIOSK_MAX_FAILURES"]:
            return cards.Refusal.TOO_MANY
    result = cards.redeem(code, session=db_session(), now=utcnow())
    if isinstance(result, User):  # committed with the sign-in
        auth.clear_failures(key, session=db_session())
    return result


def _start_kiosk_session(user: User) -> None:
    session.clear()
    login_user(user, remember=False)
    session["kiosk"] = True
    session["kiosk_device"] = True
    session["kiosk_seen"] = time.time()


def end_kiosk_session(reason: str):
    """Sign the kiosk user out everywhere and show the code page (or the thank-you page)."""
    if current_user.is_authenticated:
        auth.rotate_session_token(current_user, session=db_session())
        logout_user()
    session.clear()
    session["kiosk_device"] = True
    if reason == "answered":
        return redirect(url_for("kiosk.done"))
    if reason == "idle":
        flash(_("You were signed out after 2 minutes without input."))
    else:
        flash(_("You are signed out."))
    return redirect(url_for("kiosk.start"))


@bp.route("/", methods=["GET", "POST"])
@allow(public=True)
def start():
    if in_kiosk_session():
        return redirect(url_for("core.home"))
    form = CodeForm()
    if current_user.is_authenticated:  # signed in with a password on this browser
        return render_template("kiosk/start.html", form=form, signed_in=True)
    if form.validate_on_submit():
        result = _use_code(form.code.data)
        if isinstance(result, User):
            _start_kiosk_session(result)
            return redirect(url_for("core.home"))
        form.code.errors.append(_refusal_text(result))
    return render_template("kiosk/start.html", form=form), 400 if form.errors else 200


@bp.route("/done")
@allow(public=True)
def done():
    return render_template("kiosk/done.html")


@bp.route("/sign-out", methods=["POST"])
@allow(public=True)
def sign_out():
    ConfirmForm().validate_on_submit() or abort(400)
    return end_kiosk_session("idle" if request.form.get("reason") == "idle" else "button")


@bp.route("/alive", methods=["POST"])
@allow()
def alive():
    """The page saw input: the server's idle clock starts again (the guard did it). The token
    comes in the X-CSRFToken header, checked by CSRFProtect before this runs."""
    return "", 204


# Cards: HR for every unit, a manager for the units they manage ------------------------------


@bp.route("/cards")
@allow("manager", "hr", "admin")
def cards_index():
    s = db_session()
    scope = scope_unit_ids(session=s, user=current_user)
    without_email = cards.without_email_per_unit(session=s)
    rows = [
        (unit, depth, without_email.get(unit.id, 0))
        for unit, depth, _ in ordered_tree(session=s)
        if scope is None or unit.id in scope
    ]
    return render_template("kiosk/cards_index.html", rows=rows)


@bp.route("/cards/<int:unit_id>", methods=["GET", "POST"])
@allow("manager", "hr", "admin")
def cards_sheet(unit_id):
    s = db_session()
    unit = s.get(OrgUnit, unit_id) or abort(404)
    require_unit_in_scope(session=s, user=current_user, unit_id=unit.id)
    form = PrintCardsForm()
    if form.validate_on_submit():
        printed = cards.issue_cards(
            unit, session=s, by=current_user, include_email=form.include_email.data, now=utcnow()
        )
        return render_template(
            "kiosk/sheet.html",
            unit=unit,
            cards=printed,
            kiosk_url=external_url("kiosk.start"),
        )
    holders = cards.card_holders(unit, session=s, include_email=False)
    everyone = cards.card_holders(unit, session=s, include_email=True)
    return render_template(
        "kiosk/print.html", unit=unit, form=form, holders=holders, everyone=everyone
    ), 400 if form.errors else 200


@bp.route("/cards/still-to-use")
@allow("manager", "hr", "admin")
def still_to_use():
    s = db_session()
    cycle = cards.open_cycle(session=s, now=utcnow())
    rows = []
    if cycle is not None:
        scope = scope_unit_ids(session=s, user=current_user)
        rows = cards.still_to_answer(cycle, scope, session=s)
    return render_template(
        "kiosk/still_to_use.html",
        cycle=cycle,
        programme=cycle and s.get(PulseProgramme, cycle.programme_id),
        rows=rows,
        limits=cycle and cycle_limits(cycle),
    )
