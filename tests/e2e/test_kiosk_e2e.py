"""A workshop tablet: HR prints a card, a technician without email signs in with its code,
answers the pulse, is signed out, and Back shows the next person nothing."""

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.test_scenarios_e2e import SHIPPED, START

TABLET = {"width": 820, "height": 1180}
HR = "hr@example.com"


@pytest.fixture(scope="module")
def technician(live_env):
    """A demo employee invited to the open survey, not answered, made into someone without
    email (known by an employee number). The highest id, so the shared `unanswered_employee`
    of other tests (the lowest) is never this person."""
    path = live_env["TRAINER_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        user_id, name, unit_id = db.execute(
            "SELECT u.id, u.name, u.unit_id FROM pulse_invitation i "
            "JOIN pulse_cycle c ON c.id = i.cycle_id JOIN user_account u ON u.id = i.employee_id "
            "WHERE c.status = 'open' AND u.active AND u.roles = 'employee' AND NOT EXISTS "
            "(SELECT 1 FROM survey_participation p WHERE p.survey_id = i.cycle_id "
            "AND p.employee_id = u.id) "
            # Other browser tests sign in as the demo's named people (the last ids).
            "AND u.email NOT IN ('employee@example.com', 'manager@example.com') "
            "ORDER BY u.id DESC LIMIT 1"
        ).fetchone()
        db.execute(
            "UPDATE user_account SET email = NULL, employee_number = 'WS-0042' WHERE id = ?",
            (user_id,),
        )
    return {"id": user_id, "name": name, "unit_id": unit_id}


def _context(browser, live_url, viewport, locale="en-GB"):
    context = browser.new_context(
        viewport=viewport, is_mobile=True, has_touch=True, base_url=live_url, locale=locale
    )
    errors = []
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(10_000)
    return context, page, errors


@pytest.fixture(scope="module")
def german_technician(live_env, technician):
    """Another such person (the next highest id), whose tablet speaks German."""
    path = live_env["TRAINER_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        user_id, name, unit_id = db.execute(
            "SELECT u.id, u.name, u.unit_id FROM pulse_invitation i "
            "JOIN pulse_cycle c ON c.id = i.cycle_id JOIN user_account u ON u.id = i.employee_id "
            "WHERE c.status = 'open' AND u.active AND u.roles = 'employee' AND u.id < ? AND "
            "NOT EXISTS (SELECT 1 FROM survey_participation p WHERE p.survey_id = i.cycle_id "
            "AND p.employee_id = u.id) "
            # Other browser tests sign in as the demo's named people (the last ids).
            "AND u.email NOT IN ('employee@example.com', 'manager@example.com') "
            "ORDER BY u.id DESC LIMIT 1",
            (technician["id"],),
        ).fetchone()
        db.execute(
            "UPDATE user_account SET email = NULL, employee_number = 'WS-0043' WHERE id = ?",
            (user_id,),
        )
    return {"id": user_id, "name": name, "unit_id": unit_id}


def _print_card(browser, live_url, login, axe_check, technician) -> str:
    """HR prints the technician's unit's sheet on a tablet; return the code on their card."""
    context, page, errors = _context(browser, live_url, TABLET)
    login(page, HR)
    page.goto("/kiosk/cards")
    expect(page.get_by_role("heading", name="Sign-in cards")).to_be_visible()
    axe_check(page)
    page.goto(f"/kiosk/cards/{technician['unit_id']}")
    expect(page.get_by_text("1 person without an email")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Make the cards and open the sheet").click()
    card = page.locator(".sign-in-card", has_text=technician["name"])
    expect(card.get_by_role("img", name="QR code that signs you in")).to_be_visible()
    axe_check(page)
    code = card.locator(".card-code").inner_text()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code), code
    context.close()
    assert not errors, errors
    return code


def test_a_technician_signs_in_with_a_card_answers_and_is_signed_out(
    browser, live_url, login, axe_check, technician
):
    code = _print_card(browser, live_url, login, axe_check, technician)
    context, page, errors = _context(browser, live_url, TABLET)
    page.goto("/kiosk/")
    expect(page.get_by_role("heading", name="Sign in with your code")).to_be_visible()
    axe_check(page)
    page.get_by_label("Your code").fill(code.lower())
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_text(f"Signed in as {technician['name']} on a shared device")
    ).to_be_visible()
    axe_check(page)

    page.goto("/pulse/")
    page.get_by_role("link", name=re.compile("Answer the survey")).first.click()
    page.get_by_role("link", name=re.compile("start the survey")).click()
    groups = page.locator("fieldset.question")
    for n in range(groups.count()):
        groups.nth(n).get_by_role("radio").nth(3).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you: your answers are in")).to_be_visible()
    axe_check(page)

    # The next person presses Back: nothing of the technician's survey or name comes back.
    page.go_back()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Sign in with your code")).to_be_visible()
    body = page.locator("body").inner_text()
    assert technician["name"] not in body and "Send my answers" not in body
    page.go_back()
    page.wait_for_load_state()
    assert technician["name"] not in page.locator("body").inner_text()

    # The card worked once.
    page.goto("/kiosk/")
    page.get_by_label("Your code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This card has already been used")).to_be_visible()
    axe_check(page)
    context.close()
    assert not errors, errors


def test_the_qr_link_signs_in_and_two_idle_minutes_sign_out(
    browser, live_url, login, axe_check, technician
):
    code = _print_card(browser, live_url, login, axe_check, technician)
    context, page, errors = _context(browser, live_url, TABLET)
    page.clock.install()
    page.goto(f"/kiosk/#code={code}")  # what the card's QR code opens
    expect(
        page.get_by_text(f"Signed in as {technician['name']} on a shared device")
    ).to_be_visible()
    assert "code=" not in page.url

    # Courses and scenarios work in a kiosk session too.
    page.goto("/learn/")
    page.locator("li.course-card").first.get_by_role("link").first.click()
    page.get_by_role("button", name=re.compile("^(Start the course|Continue)")).first.click()
    expect(page.locator("progress")).to_be_visible()
    page.goto(f"/scenarios/{SHIPPED[0].id}")
    page.get_by_role("button", name=START).click()
    page.locator("button.choice").first.click()
    expect(
        page.get_by_text(f"Signed in as {technician['name']} on a shared device")
    ).to_be_visible()

    page.clock.fast_forward("01:50")
    expect(page.get_by_text("signing out in")).to_be_visible()
    page.clock.fast_forward("00:15")
    expect(page.get_by_text("You were signed out after 2 minutes without input.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in with your code")).to_be_visible()
    context.close()
    assert not errors, errors


def test_the_kiosk_page_fits_a_phone(page, axe_check):
    page.goto("/kiosk/")
    box = page.get_by_label("Your code")
    expect(box).to_be_in_viewport()
    expect(page.get_by_role("button", name="Sign in")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    axe_check(page)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Type the code printed on your card.")).to_be_visible()
    axe_check(page)


def test_a_german_technician_without_email_does_the_survey_and_a_course_in_german(
    browser, live_url, login, axe_check, german_technician
):
    """Issue 14's done-when: card, survey and course in German on the tablet, signed out."""
    person = german_technician
    code = _print_card(browser, live_url, login, axe_check, person)
    context, page, errors = _context(browser, live_url, TABLET, locale="de-DE")
    page.goto("/kiosk/")
    expect(page.get_by_role("heading", name="Mit Ihrem Code anmelden")).to_be_visible()
    page.get_by_label("Ihr Code").fill(code)
    page.get_by_role("button", name="Anmelden").click()
    signed_in = page.get_by_text(f"Angemeldet als {person['name']} auf einem gemeinsam")
    expect(signed_in).to_be_visible()

    # A course in German: the German variant of "Focus on what they need".
    page.goto("/learn/")
    page.get_by_role("link", name=re.compile("Sehen, was Kunden brauchen")).first.click()
    page.get_by_role("button", name=re.compile("^(Kurs beginnen|Weiter)")).first.click()
    expect(page.locator("main")).to_contain_text("Kunde")
    axe_check(page)

    # The pulse survey in German, then signed out.
    page.goto("/pulse/")
    page.get_by_role("link", name=re.compile("Umfrage beantworten")).first.click()
    page.get_by_role("link", name=re.compile("Umfrage starten")).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("main")).to_contain_text("Gute Arbeit in unserem Team wird gesehen.")
    groups = page.locator("fieldset.question")
    for n in range(groups.count()):
        groups.nth(n).get_by_role("radio").nth(3).check()
    axe_check(page)
    page.get_by_role("button", name="Meine Antworten senden").click()
    expect(
        page.get_by_role("heading", name="Vielen Dank: Ihre Antworten sind angekommen")
    ).to_be_visible()
    page.goto("/pulse/")
    expect(page.get_by_role("heading", name="Mit Ihrem Code anmelden")).to_be_visible()
    assert person["name"] not in page.locator("body").inner_text()
    context.close()
    assert not errors, errors
