"""A manager reads the morale-versus-customers dashboard on a phone, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

MANAGER = "manager@example.com"


def _in_first_screen(page, locator):
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= page.viewport_size["height"]


@pytest.mark.e2e
def test_manager_reads_the_dashboard_on_a_phone(page, login, axe_check):
    login(page, MANAGER)
    page.goto("/insights/")
    assert page.get_by_role("heading", level=1).inner_text() == "How Leeds Motors is doing"
    # The first screen answers "how is my team doing": morale, the customer measure, the link.
    morale = page.locator("#card-morale").locator("..")
    assert re.search(r"\d\.\d\d out of 5", morale.inner_text())
    assert re.search(r"\d+ people answered in \d{4}Q\d", morale.inner_text())
    assert _in_first_screen(page, morale)
    measure = page.locator("#card-measure").locator("..")
    assert re.search(r"(Up|Down) [\d.]+ since|No change since", measure.inner_text())
    assert _in_first_screen(page, measure)
    sentence = page.get_by_text(re.compile(r"^When morale rose .*, Dealer CSI tended to rise"))
    assert _in_first_screen(page, sentence)
    expect(page.get_by_text(re.compile("correlation, not causation")).first).to_be_visible()
    assert page.get_by_text(re.compile("jackknife|Benjamini|q-value")).count() == 0
    page.wait_for_function("() => Chart.getChart(document.getElementById('overview-chart'))")
    assert page.evaluate("document.documentElement.scrollHeight") <= 3 * 844
    # The heatmap of the site's teams, with hidden cells marked, scrolls in its own region.
    heatmap = page.get_by_role("table", name=re.compile("each team's figures"))
    expect(heatmap.get_by_role("rowheader", name="Leeds Motors: Sales")).to_be_visible()
    assert "hidden" in heatmap.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(page)

    # Drill into a team, then to all the statistics.
    heatmap.get_by_role("link", name="Leeds Motors: Sales").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How Leeds Motors: Sales is doing")
    axe_check(page)
    page.get_by_role("link", name="Leeds Motors").first.click()
    page.get_by_text("How we worked this out").click()
    page.get_by_role("link", name="All the statistics for Leeds Motors").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("All the statistics")
    expect(page.get_by_text(re.compile(r"95% CI")).first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every((c) => Chart.getChart(c))"
    )
    canvases = page.locator("canvas")
    assert canvases.count() >= 3
    for i in range(canvases.count()):
        assert canvases.nth(i).get_attribute("role") == "img"
        assert canvases.nth(i).get_attribute("aria-label")

    # Managers never see gaming flags; small teams are hidden, and it says so.
    assert page.get_by_role("heading", name=re.compile("Data-quality flags")).count() == 0
    # Each section opens from its heading; small teams are hidden, and it says so.
    page.get_by_role("heading", name="Hidden to protect anonymity").click()
    hidden = page.locator(
        "details", has=page.get_by_role("heading", name="Hidden to protect anonymity")
    )
    assert "LEEDS-PARTS" in hidden.inner_text()

    # The table alternative opens, and the page fits the phone's width.
    page.get_by_role("heading", name="Quarter by quarter").click()
    page.get_by_text("Table: every team and quarter").click()
    table = page.get_by_role("table", name=re.compile("Morale, training and Dealer CSI"))
    expect(table.get_by_role("rowheader", name="LEEDS-SALES").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Each team's own estimate: the shrunken slope first, listed by code, never ranked.
    page.get_by_text("Each unit's own estimate (exploratory)").click()
    per_unit = page.get_by_role("table", name=re.compile("per unit, within units"))
    expect(
        per_unit.get_by_role("columnheader", name="Slope, pulled toward all units")
    ).to_be_visible()
    codes = per_unit.get_by_role("rowheader").all_inner_texts()
    assert codes and codes == sorted(codes)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(page)

    # Rate a team's customer focus from the overview; the form fits and passes axe too.
    page.goto("/insights/")
    page.get_by_role("link", name="Rate your teams' customer focus").first.click()
    expect(page.get_by_role("heading", name="Your teams' customer focus")).to_be_visible()
    axe_check(page)
    page.get_by_label(re.compile(r"Workshop \(LEEDS-WSHOP\)")).select_option("4")
    page.get_by_role("button", name="Save ratings").click()
    saved = page.get_by_role("status").get_by_text(re.compile("Ratings for .* saved"))
    expect(saved).to_be_visible()
    assert page.get_by_label(re.compile(r"Workshop \(LEEDS-WSHOP\)")).input_value() == "4"


@pytest.mark.e2e
def test_hr_sees_the_company_heatmap_on_one_desktop_screen(browser, live_url, login):
    """Issue 10: HR sees a heatmap of the company on one screen (1280 × 900): the whole table
    fits the screen's height and width, with no sideways scrolling."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_url)
    page = context.new_page()
    try:
        login(page, "hr@example.com")
        page.goto("/insights/")
        heatmap = page.get_by_role("table", name=re.compile("each site's figures"))
        expect(heatmap).to_be_visible()
        heatmap.scroll_into_view_if_needed()
        box = heatmap.bounding_box()
        assert 300 < box["height"] <= 900 and box["width"] <= 1280  # every site's row, at once
        region = heatmap.locator("xpath=ancestor::*[@role='region'][1]")
        assert region.evaluate("r => r.scrollWidth <= r.clientWidth")
    finally:
        context.close()


@pytest.mark.e2e
def test_hr_reads_what_moves_customers_on_a_phone(page, login, axe_check):
    login(page, "hr@example.com")
    page.goto("/insights/")
    section = page.get_by_role("region", name="What moves customers here")
    expect(section).to_be_visible()
    section.get_by_text("Show every question").click()
    table = section.get_by_role("table", name=re.compile("Each question's average and"))
    expect(table).to_be_visible()
    assert table.get_by_role("row").count() >= 2
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(page)
