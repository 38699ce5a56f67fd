"""A manager reads the morale-versus-customers dashboard on a phone, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

MANAGER = "manager@example.com"


@pytest.mark.e2e
def test_manager_reads_the_dashboard_on_a_phone(page, login, axe_check):
    login(page, MANAGER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Morale and customers")
    expect(page.get_by_text("Correlation, not causation.").first).to_be_visible()
    sentence = "Teams whose morale rose tended to see Dealer CSI rise the next quarter"
    expect(page.get_by_text(re.compile(sentence)).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"95% CI")).first).to_be_visible()

    # Every chart is drawn from its JSON endpoint, and each has a text alternative.
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every((c) => Chart.getChart(c))")
    canvases = page.locator("canvas")
    assert canvases.count() >= 5
    for i in range(canvases.count()):
        assert canvases.nth(i).get_attribute("role") == "img"
        assert canvases.nth(i).get_attribute("aria-label")

    # Managers never see gaming flags; small teams are hidden, and it says so.
    assert page.get_by_role("heading", name=re.compile("Data-quality flags")).count() == 0
    hidden = page.locator("section", has=page.get_by_role("heading",
                                                          name="Hidden to protect anonymity"))
    assert "LEEDS-PARTS" in hidden.inner_text()

    # The table alternative opens, and the page fits the phone's width.
    page.get_by_text("Table: every team and quarter").click()
    table = page.get_by_role("table", name=re.compile("Morale, training and Dealer CSI"))
    expect(table.get_by_role("rowheader", name="LEEDS-SALES").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Each team's own estimate: the shrunken slope first, listed by code, never ranked.
    page.get_by_text("Each unit's own estimate (exploratory)").click()
    per_unit = page.get_by_role("table", name=re.compile("per unit, within units"))
    expect(per_unit.get_by_role("columnheader", name="Slope, pulled toward all units")
           ).to_be_visible()
    codes = per_unit.get_by_role("rowheader").all_inner_texts()
    assert codes and codes == sorted(codes)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(page)

    # Rate a team's customer focus; the form fits and passes axe too.
    page.get_by_role("link", name="Rate your teams' customer focus").first.click()
    expect(page.get_by_role("heading", name="Your teams' customer focus")).to_be_visible()
    axe_check(page)
    page.get_by_label(re.compile(r"Workshop \(LEEDS-WSHOP\)")).select_option("4")
    page.get_by_role("button", name="Save ratings").click()
    saved = page.get_by_role("status").get_by_text(re.compile("Ratings for .* saved"))
    expect(saved).to_be_visible()
    assert page.get_by_label(re.compile(r"Workshop \(LEEDS-WSHOP\)")).input_value() == "4"
