"""A German-speaking employee's browser: the pulse survey and a course lesson in German."""

import os
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE

DESKTOP = {"width": 1280, "height": 900}
SHOTS = os.environ.get("TRAINER_SCREENSHOTS")  # a folder to keep the screenshots in, if set


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def german_page(request, browser, live_url):
    """A page whose browser asks for German (Accept-Language), as a German tablet would."""
    context = browser.new_context(viewport=request.param, locale="de-DE", base_url=live_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _open_cycle(live_env) -> int:
    path = live_env["TRAINER_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id FROM pulse_cycle WHERE status = 'open'").fetchone()[0]


def _shot(page, name):
    if SHOTS:
        size = page.viewport_size["width"]
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{size}.png"))  # the first screen
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{size}-full.png"), full_page=True)


def test_the_survey_is_in_german(german_page, live_env, login, axe_check, unanswered_employee):
    page = german_page
    login(page, unanswered_employee)
    page.goto(f"/pulse/cycles/{_open_cycle(live_env)}/answer?ready=1")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(
        page.get_by_text("Meine Arbeitsmenge ist in den meisten Wochen gut zu schaffen.")
    ).to_be_visible()
    expect(page.get_by_text("My workload is manageable in most weeks.")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    axe_check(page)
    page.get_by_text("Wie wahrscheinlich ist es").scroll_into_view_if_needed()
    _shot(page, "survey-de")


def test_a_lesson_is_in_german(german_page, login, axe_check):
    page = german_page
    login(page, "employee@example.com")
    page.goto("/learn/courses/focus-on-what-they-need/lessons/1")
    expect(page.get_by_role("heading", level=1, name="Bevor Sie handeln")).to_be_visible()
    expect(page.get_by_text("Zuerst Ihre Aufmerksamkeit")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    axe_check(page)
    _shot(page, "lesson-de")


def test_hr_translates_an_item_by_keyboard(german_page, login, axe_check):
    page = german_page
    shipped, edited = "Gute Arbeit in unserem Team wird gesehen.", "Gute Arbeit fällt bei uns auf."
    login(page, "hr@example.com")
    page.goto("/pulse/items")
    expect(page.get_by_text(shipped)).to_be_visible()
    for old, new in ((shipped, edited), (edited, shipped)):  # and back, for the other viewport
        page.get_by_role("link", name="Übersetzen REC-1").click()
        axe_check(page)
        field = page.get_by_label("Deutsch")
        expect(field).to_have_value(old)
        field.fill(new)
        if new == edited:
            _shot(page, "translate-item")
        field.press("Enter")
        expect(page.get_by_text(new)).to_be_visible()
        if new == edited:
            axe_check(page)
            _shot(page, "bank-de")
