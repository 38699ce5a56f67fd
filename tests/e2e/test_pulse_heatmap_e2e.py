"""HR's heatmap and a results page on a 390 x 844 phone: nothing overflows, axe passes."""

import re

from playwright.sync_api import expect

HR = "hr@example.com"
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_hr_reads_the_heatmap_and_a_results_page_on_a_phone(page, login, axe_check):
    login(page, HR)
    page.goto("/pulse/results")
    page.get_by_role("link", name=re.compile("Heatmap: every question by unit")).click()
    expect(page.get_by_role("heading", level=1, name=re.compile("Heatmap"))).to_be_visible()
    grid = page.get_by_role("region", name=re.compile("Heatmap of average answers"))
    expect(grid).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The grid is wider than the phone: it scrolls inside its own region, not the page.
    assert grid.evaluate("e => e.scrollWidth > e.clientWidth")
    grid.evaluate("e => { e.scrollLeft = 400; }")
    unit_cell = grid.get_by_role("rowheader").first
    box = unit_cell.bounding_box()
    assert box is not None and box["x"] < 30  # the unit names stay put (sticky column)
    assert page.evaluate(FITS)
    axe_check(page)
    grid.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Questions")).to_be_visible()
    expect(page.locator("svg.dbar").first).to_be_visible()
    expect(page.get_by_text("How consistently the questions measure one thing")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_text("Show the answers as a table").click()
    expect(page.get_by_role("region", name="Number of answers per question")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page)
