"""HR's outcome pages in a real browser on a phone-sized screen, checked with axe-core."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import main_nav

HR = "hr@example.com"


def test_hr_imports_outcomes_and_sees_bad_rows_named(page, login, axe_check, tmp_path):
    login(page, HR)
    main_nav(page).get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", level=1, name="Customer outcomes")).to_be_visible()
    axe_check(page)
    page.get_by_role("navigation", name="Outcomes pages").get_by_role("link", name="Import").click()
    axe_check(page)
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,period,metric,value,n\nLEEDS,2026Q1,csat,eighty,10\n")
    page.get_by_label("CSV file").set_input_files(bad)
    page.get_by_role("button", name="Import").click()
    alert = page.get_by_role("alert")
    assert "line 2, column value: 'eighty' is not a number." in alert.inner_text()
    axe_check(page)
    good = tmp_path / "good.csv"
    good.write_text("unit_code;period;metric;value;n\nLEEDS-SVC;2026-02-10;csat;88,5;140\n")
    page.get_by_label("CSV file").set_input_files(good)
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/outcomes/$"))
    expect(page.get_by_text("Import done.")).to_be_visible()
    page.get_by_label("Unit (and the units below it)").select_option("LEEDS-SVC")
    page.get_by_label("Quarter").select_option("2026Q1")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="88.5")).to_be_visible()
    axe_check(page)


def test_hr_defines_a_metric_and_creates_and_revokes_a_token(page, login, axe_check):
    login(page, HR)
    page.goto("/outcomes/metrics")
    axe_check(page)
    page.get_by_label("Code").fill("first_fix")
    page.get_by_label("Label").fill("First-time fix rate")
    page.get_by_label("Highest possible value").fill("100")
    page.get_by_role("button", name="Add the metric").click()
    expect(page.get_by_role("link", name=re.compile("first_fix"))).to_be_visible()
    page.goto("/outcomes/tokens")
    axe_check(page)
    page.get_by_label("Name").fill("Survey vendor")
    page.get_by_label(re.compile("^Send outcomes")).check()
    page.get_by_role("button", name="Create the token").click()
    secret = page.get_by_label("Token").input_value()
    assert secret.startswith("trn_")
    axe_check(page)
    page.get_by_role("link", name="Done").click()
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke Survey vendor").click()
    expect(page.get_by_text("Token Survey vendor revoked.")).to_be_visible()
    axe_check(page)
