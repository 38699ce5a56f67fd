"""The phone menu and the audience picker, in a real browser."""

import re

from playwright.sync_api import expect

from trainer.demo import DEMO_PASSWORD


def test_the_menu_collapses_into_one_button_on_a_phone(page, login, axe_check):
    login(page, "hr@example.com")
    toggle = page.get_by_role("button", name="Menu")
    audit = page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(audit).to_be_hidden()
    assert page.locator(".site-header").bounding_box()["height"] < 100  # one row, not four
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(audit).to_be_visible()
    axe_check(page)
    page.keyboard.press("Escape")
    expect(audit).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.click()
    audit.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")


def test_without_javascript_or_on_a_desktop_the_links_show(browser, live_url):
    for options in (
        {"viewport": {"width": 390, "height": 844}, "java_script_enabled": False},
        {"viewport": {"width": 1280, "height": 900}},
    ):
        context = browser.new_context(base_url=live_url, **options)
        page = context.new_page()
        page.goto("/auth/login")
        page.get_by_label("Email").fill("hr@example.com")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/auth/login" not in url)
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log")
        ).to_be_visible()
        context.close()


def test_the_audience_picker_finds_units_and_counts_people_live(page, login, axe_check):
    login(page, "hr@example.com")
    page.goto("/pulse/programmes/new")
    count = page.locator("[data-audience-count]")
    expect(count).to_have_text("0")
    # Teams sit folded under their site, each branch with a button to open it.
    york = page.get_by_role("button", name="Show the 4 units in York Motors")
    york_sales = page.get_by_role("checkbox", name=re.compile(r"York Motors: Sales"))
    expect(york).to_have_attribute("aria-expanded", "false")
    expect(york_sales).to_be_hidden()
    york.click()
    expect(york_sales).to_be_visible()
    expect(page.get_by_role("button", name="Hide the 4 units in York Motors")).to_have_attribute(
        "aria-expanded", "true"
    )
    page.get_by_label("Find a unit").fill("leeds motors: sales")
    expect(page.get_by_text("1 unit matches.")).to_be_visible()
    sales = page.get_by_role("checkbox", name=re.compile(r"Leeds Motors: Sales"))
    expect(sales).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile(r"Bath Motors \(BATH\)"))).to_be_hidden()
    sales.check()
    in_sales = int(count.inner_text())
    assert in_sales > 0
    page.get_by_label("Find a unit").press("Enter")  # searching does not submit the form
    expect(page.get_by_role("heading", level=1)).to_have_text("New programme")
    page.get_by_label("Find a unit").fill("")
    leeds = page.get_by_role("checkbox", name=re.compile(r"^Leeds Motors \(LEEDS\)"))
    leeds.check()  # the whole branch: Sales is now included, not counted twice
    expect(sales).to_be_disabled()
    expect(sales).to_be_checked()
    in_leeds = int(count.inner_text())
    assert in_leeds > in_sales
    leeds.uncheck()
    expect(sales).to_be_enabled()
    expect(sales).to_be_checked()  # the unit's own tick comes back
    expect(count).to_have_text(str(in_sales))
    axe_check(page)
