"""Home pages on a phone: open tasks first, then figures with their n, short, accessible."""

import os
import re
import tempfile
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE

SCREENSHOTS = Path(os.environ.get("TRAINER_SCREENSHOTS", tempfile.gettempdir()))
MAX_SCREENS = 3


def _fits_a_phone(page, name):
    width = page.evaluate("document.documentElement.scrollWidth")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=str(SCREENSHOTS / f"home-{name}-phone.png"), full_page=True)
    assert width <= PHONE["width"], f"{name}'s home overflows sideways: {width}px"
    assert height <= MAX_SCREENS * PHONE["height"], (
        f"{name}'s home is {height / PHONE['height']:.1f} phone screens long"
    )


def test_the_employee_home_puts_the_survey_first(page, login, axe_check, unanswered_employee):
    login(page, unanswered_employee)
    todo = page.get_by_role("region", name=re.compile("To do"))
    expect(todo).to_be_visible()
    answer = todo.get_by_role("link", name=re.compile("Answer the survey"))
    expect(answer.first).to_be_visible()
    # The closing date in the reader's locale (English: "December 18, 2026").
    expect(todo.get_by_text(re.compile(r"open until \w+ \d{1,2}, \d{4}")).first).to_be_visible()
    figures = page.get_by_role("region", name="How things stand")
    expect(figures).to_be_visible()
    assert page.evaluate(
        "document.getElementById('home-todo').getBoundingClientRect().top"
    ) < page.evaluate("document.getElementById('home-figures').getBoundingClientRect().top")
    axe_check(page)
    _fits_a_phone(page, "employee")
    answer.first.click()
    expect(page.get_by_role("heading", name="Who can see what")).to_be_visible()


def test_the_manager_home_shows_their_teams_figures_with_n(page, login, axe_check):
    login(page, "manager@example.com")
    figures = page.get_by_role("region", name="How things stand")
    expect(figures.get_by_text("Morale (1–5)").first).to_be_visible()
    expect(figures.get_by_text(re.compile(r"n = \d+")).first).to_be_visible()
    details = figures.get_by_role("link", name=re.compile(r"^How .+ is doing$"))
    expect(details.first).to_be_visible()
    axe_check(page)
    _fits_a_phone(page, "manager")
    details.first.click()
    page.wait_for_url(re.compile(r"/insights/units/\d+"))
