"""A German manager on a phone: the pulse results and the insights overview in German fit the
screen (German runs about 30% longer than English) and pass axe."""

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from trainer.demo import DEMO_PASSWORD

OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('main *')]
    .filter((el) => !el.closest('.table-wrap') && el.getBoundingClientRect().right > width + 1)
    .map((el) => el.tagName + ': ' + (el.textContent || '').trim().slice(0, 60));
}"""


def test_a_german_manager_reads_results_and_insights_on_a_phone(browser, live_url, axe_check):
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        base_url=live_url,
        locale="de-DE",
        extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/auth/login")
    page.fill("input[name=email]", "manager@example.com")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)

    page.goto("/pulse/results")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pulse-Ergebnisse")
    page.locator("table.tree a").first.click()
    expect(page.get_by_role("heading", name="Zusammenfassung")).to_be_visible()
    expect(page.get_by_text("Antwortquote").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(OVERFLOWING) == []
    axe_check(page)

    page.goto("/insights/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("So steht")
    expect(page.get_by_role("heading", name="Stimmung", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(OVERFLOWING) == []
    axe_check(page)
    context.close()
