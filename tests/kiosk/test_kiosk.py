"""Sign-in cards and kiosk mode: who may print, codes used once and refused clearly, sessions
that end after a survey or 2 minutes idle, and pages no browser keeps."""

import html
import json
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from tests.kiosk.conftest import holder
from tests.pulse.test_pulse_answering import _form
from trainer.audit import AuditEntry
from trainer.auth.models import User
from trainer.kiosk.models import CardStatus, SignInCard
from trainer.kiosk.services import ALPHABET, card_expiry, normalise_code
from trainer.pulse.models import SurveyParticipation
from trainer.util import utcnow


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _cards(session):
    return session.exec(select(SignInCard)).all()


# Printing -------------------------------------------------------------------------------------


def test_hr_prints_a_sheet_of_cards_for_people_without_email(
    client, login_as, session, org, no_email
):
    login_as(org.hr)
    page = _text(client.get(f"/kiosk/cards/{org.s1.id}"))
    assert "3 people without an email" in page
    response = client.post(f"/kiosk/cards/{org.s1.id}", data={})
    sheet = _text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert sheet.count('class="sign-in-card"') == 3  # Workers 1-3 in T1; not T3, not emails
    assert "Worker 1" in sheet and "Worker 4" not in sheet and 'card-name">Person' not in sheet
    assert sheet.count('<svg role="img"') == 3 and "<img" not in sheet  # inline QR codes
    assert "http://localhost/kiosk/" in sheet
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "cards.print")).one()
    assert json.loads(entry.detail) == {"cards": 3}


def test_codes_use_an_unambiguous_alphabet_and_are_stored_only_as_keyed_hashes(
    session, org, no_email, print_cards
):
    codes = print_cards(org.hr, org.t1)
    assert len(codes) == 3
    for code in codes.values():
        assert len(code) == 9 and code[4] == "-"
        assert set(normalise_code(code)) <= set(ALPHABET)
        assert not set(code) & set("0O1IL")
    stored = session.execute(sa.text("SELECT * FROM sign_in_card")).all()
    text = repr(stored)
    assert len(stored) == 3
    for code in codes.values():
        assert code not in text and normalise_code(code) not in text
    assert all(len(card.code_hash) == 64 for card in _cards(session))


def test_the_sheet_can_include_people_with_email(session, org, no_email, print_cards):
    codes = print_cards(org.hr, org.t1, include_email="y")
    assert set(codes) == {"Worker 1", "Worker 2", "Worker 3", org.employee.name}


def test_a_manager_prints_for_units_they_manage_and_nowhere_else(client, login_as, org, no_email):
    login_as(org.manager)  # manages S1, so T1 and T2 too
    assert client.get(f"/kiosk/cards/{org.t1.id}").status_code == 200
    assert client.post(f"/kiosk/cards/{org.t1.id}").status_code == 200
    assert client.get(f"/kiosk/cards/{org.t3.id}").status_code == 403
    assert client.post(f"/kiosk/cards/{org.t3.id}").status_code == 403
    index = _text(client.get("/kiosk/cards"))
    assert org.t1.name in index and f'/kiosk/cards/{org.t3.id}"' not in index


def test_employees_may_not_print_cards(client, login_as, session, org, no_email):
    login_as(org.employee)
    assert client.get("/kiosk/cards").status_code == 403
    assert client.get(f"/kiosk/cards/{org.t1.id}").status_code == 403
    assert client.post(f"/kiosk/cards/{org.t1.id}").status_code == 403
    assert _cards(session) == []


def test_issuing_cards_needs_a_csrf_token(app, client, login_as, session, org, no_email):
    login_as(org.hr)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/kiosk/cards/{org.t1.id}", data={}).status_code == 400
    assert _cards(session) == []


def test_a_new_sheet_replaces_unused_cards(session, org, no_email, print_cards, sign_in_with):
    first = print_cards(org.hr, org.t1)
    second = print_cards(org.hr, org.t1)
    statuses = sorted(card.status for card in _cards(session))
    assert statuses == [CardStatus.REPLACED] * 3 + [CardStatus.UNUSED] * 3
    response = sign_in_with(first["Worker 1"])
    assert response.status_code == 400
    assert "A newer card was printed for you" in _text(response)
    assert sign_in_with(second["Worker 1"]).status_code == 302


# Signing in -----------------------------------------------------------------------------------


def test_a_code_signs_its_holder_in_once(client, session, org, no_email, print_cards, sign_in_with):
    codes = print_cards(org.hr, org.t1)
    response = sign_in_with(codes["Worker 2"].lower().replace("-", " "))  # as people type it
    assert response.status_code == 302 and response.location.endswith("/")
    home = client.get("/")
    assert home.status_code == 200 and "Signed in as Worker 2 on a shared device" in _text(home)
    assert home.headers["Cache-Control"] == "no-store"
    client.post("/kiosk/sign-out", data={})
    again = sign_in_with(codes["Worker 2"])
    assert again.status_code == 400
    assert "This card has already been used" in _text(again)


def test_unknown_and_expired_codes_are_refused_with_a_clear_message(
    session, org, no_email, print_cards, sign_in_with
):
    codes = print_cards(org.hr, org.t1)
    unknown = sign_in_with("ZZZZ-ZZZZ")
    assert unknown.status_code == 400
    assert "We don't know that code" in _text(unknown)
    session.execute(sa.update(SignInCard).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    expired = sign_in_with(codes["Worker 3"])
    assert expired.status_code == 400
    assert "This card has expired" in _text(expired)
    assert sign_in_with("").status_code == 400


def test_wrong_codes_are_throttled_like_passwords(
    app, session, org, no_email, print_cards, sign_in_with
):
    app.config["KIOSK_MAX_FAILURES"] = 3
    codes = print_cards(org.hr, org.t1)
    for _ in range(3):
        assert "We don't know that code" in _text(sign_in_with("ZZZZ-ZZZZ"))
    locked = sign_in_with(codes["Worker 1"])  # even a right code, while locked
    assert locked.status_code == 400
    assert "Too many wrong codes on this device" in _text(locked)
    assert all(card.status == CardStatus.UNUSED for card in _cards(session))


def test_a_card_lasts_until_the_open_survey_closes_or_30_days(
    app, session, org, no_email, start_cycle
):
    now = utcnow()
    with app.app_context():
        assert card_expiry(no_email[0], session=session, now=now) == now + timedelta(days=30)
        cycle = start_cycle(org)
        closes = card_expiry(no_email[0], session=session, now=now)
    assert abs(closes.replace(tzinfo=None) - cycle.closes_at.replace(tzinfo=None)) < timedelta(
        seconds=1
    )
    assert closes < now + timedelta(days=30)


# The kiosk session ----------------------------------------------------------------------------


def test_every_kiosk_page_says_no_store(client, org, no_email, print_cards, sign_in_with):
    assert client.get("/kiosk/").headers["Cache-Control"] == "no-store"
    codes = print_cards(org.hr, org.t1)
    sign_in_with(codes["Worker 1"])
    for url in ("/", "/pulse/", "/learn/", "/scenarios/", "/pulse/privacy"):  # courses too
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    signed_out = client.post("/kiosk/sign-out", data={}, follow_redirects=True)
    assert signed_out.headers["Cache-Control"] == "no-store"
    assert "You are signed out" in _text(signed_out)


def test_a_signed_out_kiosk_sends_every_page_back_to_the_code_page(
    client, session, org, no_email, print_cards, sign_in_with
):
    codes = print_cards(org.hr, org.t1)
    sign_in_with(codes["Worker 1"])
    token = holder(session, "Worker 1").session_token
    client.post("/kiosk/sign-out", data={})
    response = client.get("/pulse/")
    assert response.status_code == 302 and response.location.endswith("/kiosk/")
    session.expire_all()
    assert holder(session, "Worker 1").session_token != token  # every copy of the cookie dies


def test_two_minutes_without_input_end_the_session_on_the_server(
    client, session, org, no_email, print_cards, sign_in_with
):
    codes = print_cards(org.hr, org.t1)
    sign_in_with(codes["Worker 1"])
    assert client.post("/kiosk/alive").status_code == 204
    with client.session_transaction() as state:
        state["kiosk_seen"] = time.time() - 150
    response = client.get("/pulse/", follow_redirects=True)
    assert response.request.path == "/kiosk/"
    assert "signed out after 2 minutes without input" in _text(response)
    assert client.get("/").status_code == 302


def test_a_password_session_is_not_a_kiosk_session(client, login_as, org):
    login_as(org.employee)
    home = client.get("/")
    assert "shared device" not in _text(home)
    page = _text(client.get("/kiosk/"))
    assert "Sign out first" in page and 'name="code"' not in page


def test_a_code_user_answers_the_survey_and_is_signed_out(
    client, session, staffed, no_email, start_cycle, print_cards, sign_in_with
):
    cycle = start_cycle(staffed)
    codes = print_cards(staffed.hr, staffed.t1)
    assert sign_in_with(codes["Worker 1"]).status_code == 302
    mine = _text(client.get("/pulse/"))
    assert f"/pulse/cycles/{cycle.id}/answer" in mine
    sent = client.post(f"/pulse/cycles/{cycle.id}/answer", data=_form(session, cycle))
    assert sent.status_code == 302
    done = client.get(sent.location, follow_redirects=True)
    assert done.request.path == "/kiosk/done"
    assert "Thank you: your answers are in" in _text(done)
    assert done.headers["Cache-Control"] == "no-store"
    worker = holder(session, "Worker 1")
    assert session.get(SurveyParticipation, (cycle.id, worker.id)) is not None
    back = client.get(f"/pulse/cycles/{cycle.id}/answer")
    assert back.status_code == 302 and back.location.endswith("/kiosk/")


def test_people_without_email_cannot_use_the_password_page(client, session, org, no_email):
    response = client.post("/auth/login", data={"email": "", "password": "x" * 12})
    assert response.status_code == 400
    assert session.exec(select(User).where(User.email.is_(None))).all()  # still there, unharmed


def test_cards_are_exported_without_their_hash_and_erased_with_the_person(
    client, login_as, session, org, no_email, print_cards
):
    print_cards(org.hr, org.t1)
    worker = holder(session, "Worker 1")
    login_as(org.hr)
    person_page = _text(client.get(f"/org/people/{worker.id}"))
    assert f"/kiosk/cards/{org.t1.id}" in person_page
    exported = json.loads(client.get(f"/privacy/people/{worker.id}/data.json").data)
    assert [c["status"] for c in exported["sign_in_cards"]] == ["unused"]
    assert "code_hash" not in exported["sign_in_cards"][0]
    erase = client.post(f"/privacy/people/{worker.id}/erase", data={"understood": "y"})
    assert erase.status_code == 302, erase.status_code
    assert session.exec(select(SignInCard).where(SignInCard.user_id == worker.id)).all() == []


def test_who_can_see_what_explains_cards(client, login_as, org):
    login_as(org.employee)
    page = _text(client.get("/pulse/privacy"))
    assert "Signing in with a card" in page
    assert "never the code itself" in page and "never linked to your answers" in page


def test_cards_are_deleted_a_month_after_they_expired(app, session, org, no_email, print_cards):
    from trainer.kiosk.services import remove_old_cards

    print_cards(org.hr, org.t1)
    expires = max(card.expires_at for card in _cards(session))
    with app.app_context():
        assert remove_old_cards(session=session, now=expires + timedelta(days=29)) == 0
        assert remove_old_cards(session=session, now=expires + timedelta(days=31)) == 3
    session.commit()
    assert _cards(session) == []
