"""The audit log, the erase page and "My data", on a phone, in a real browser."""

import json
import re

from playwright.sync_api import expect

from tests.e2e.conftest import main_nav


def test_hr_sees_who_viewed_results_in_the_audit_log(page, login, axe_check):
    login(page, "hr@example.com")
    page.goto("/pulse/results")
    main_nav(page).get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    page.get_by_label("Action").select_option(label="Survey results viewed")
    page.get_by_role("button", name="Show").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("cell", name="hr@example.com").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these as CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert text.startswith("when_utc,who,action") and "results.view" in text


def test_hr_opens_the_erase_page_from_a_person(page, login, axe_check):
    login(page, "hr@example.com")
    page.goto("/org/people?q=manager%40example.com")
    page.locator("table a").first.click()
    page.get_by_role("link", name="Erase this person…").click()
    expect(page.get_by_role("heading", name="What is removed")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Erase")).click()
    expect(page.get_by_text("Tick the box to confirm.").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page)


def test_an_employee_downloads_their_data(page, login, axe_check):
    login(page, "employee@example.com")
    main_nav(page).get_by_role("link", name="My data").click()
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["account"]["email"] == "employee@example.com"
    assert "Article 11(2)" in data["pulse_answers"]
