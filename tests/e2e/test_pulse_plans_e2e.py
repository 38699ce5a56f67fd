"""Action plans in a real browser on a phone: from the results page to a new action."""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import main_nav

MANAGER = "manager@example.com"
SITE = "Leeds Motors"  # the demo manager's site


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide on a 390px phone"


def test_manager_adds_an_action_from_the_results_page(page, login, axe_check):
    login(page, MANAGER)
    main_nav(page).get_by_role("link", name="Results").click()
    page.get_by_role("table").get_by_role("link", name=SITE, exact=True).click()
    callout = page.get_by_role("link", name=re.compile("(Open the action plan|Plan an action)"))
    expect(callout).to_be_visible()
    axe_check(page)
    _fits_the_phone(page)

    callout.click()  # one click from the results
    expect(page.get_by_role("heading", name=f"Action plan: {SITE}")).to_be_visible()
    axe_check(page)
    _fits_the_phone(page)

    title = "Thank the Saturday desk team in the monthly meeting"
    page.get_by_label("What will you do?").fill(title)
    page.get_by_label("Which result does it answer?").select_option(label="Theme: Recognition")
    page.get_by_label("Due date").fill(str(date.today() + timedelta(days=21)))
    page.get_by_label("Details (optional)").fill("Start with the names customers mentioned.")
    page.get_by_role("button", name="Add the action").click()
    expect(page.get_by_role("status").get_by_text("Action added")).to_be_visible()
    action = page.get_by_role("article").filter(has=page.get_by_role("heading", name=title))
    expect(action.locator(".action-meta")).to_contain_text("Planned")
    expect(action.get_by_text("Answers: Recognition")).to_be_visible()
    axe_check(page)
    _fits_the_phone(page)

    action.get_by_text("Update the status").click()
    action.get_by_label("New status").select_option(label="In progress")
    action.get_by_label("Note").fill("Booked for the next meeting.")
    action.get_by_role("button", name="Save the update").click()
    expect(page.get_by_role("status").get_by_text("Status updated: In progress")).to_be_visible()
    action = page.get_by_role("article").filter(has=page.get_by_role("heading", name=title))
    action.get_by_text(re.compile(r"History \(2 updates\)")).click()
    expect(action.get_by_text("Booked for the next meeting.")).to_be_visible()
    axe_check(page)
