"""The fix log on a phone: an employee logs a fix from the home page in a few taps, and a
manager reads the team's pattern beside the matching training. axe-core on every page."""

import re
import time

from playwright.sync_api import expect

EMPLOYEE, MANAGER = "employee@example.com", "manager@example.com"


def _fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_an_employee_logs_a_fix_on_a_phone_in_under_30_seconds(page, login, axe_check):
    login(page, EMPLOYEE)
    page.goto("/")
    axe_check(page)
    started = time.monotonic()
    page.get_by_role("link", name="I fixed it").first.click()
    expect(page.get_by_role("heading", level=1, name="I fixed it")).to_be_visible()
    page.get_by_label("Car not ready on time").check()
    page.get_by_label("Fixed it with a goodwill gesture").check()
    page.get_by_label("Goodwill spent, if any").fill("25")
    page.get_by_role("button", name="Log it").click()
    page.wait_for_url(re.compile(r"/fixes/$"))
    expect(page.get_by_text("Your fix is logged")).to_be_visible()
    assert time.monotonic() - started < 30
    expect(page.get_by_text("Only you can see this list.")).to_be_visible()
    expect(page.get_by_text("goodwill 25.00 GBP").first).to_be_visible()
    _fits_the_screen(page)
    axe_check(page)

    page.get_by_role("link", name="I fixed it").first.click()
    expect(page.get_by_text("No customer details").first).to_be_visible()
    page.get_by_role("button", name="Log it").click()  # nothing chosen
    expect(page.get_by_role("alert")).to_contain_text("Choose the problem")
    _fits_the_screen(page)
    axe_check(page)


def test_a_manager_sees_the_team_pattern_beside_training_on_a_phone(page, login, axe_check):
    login(page, MANAGER)
    page.goto("/fixes/team?unit=LEEDS-SVC")
    expect(page.get_by_text("Counts for the team, never for a person.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"fixes logged by \d+ people"))).to_be_visible()
    expect(page.get_by_role("link", name="Owning the problem").first).to_be_visible()
    _fits_the_screen(page)
    axe_check(page)
    page.goto("/fixes/team")
    _fits_the_screen(page)
    axe_check(page)


def test_hr_keeps_the_problem_list_and_reads_the_flags_on_a_phone(page, login, axe_check):
    login(page, "hr@example.com")
    page.goto("/fixes/problems")
    _fits_the_screen(page)
    axe_check(page)
    page.get_by_label("Unit type").fill("dealer")
    page.get_by_label("Code").fill("lost-keys")
    page.get_by_label("Name").fill("Keys lost in the workshop")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("'Keys lost in the workshop' added to the list.")).to_be_visible()
    page.goto("/fixes/flags")
    expect(page.get_by_role("cell", name="Entries bunched before the review")).to_be_visible()
    _fits_the_screen(page)
    axe_check(page)
