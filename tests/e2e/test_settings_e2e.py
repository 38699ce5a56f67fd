"""My settings on a phone: a person finds it in the header and chooses their language."""

from playwright.sync_api import expect


def test_an_employee_chooses_german_on_my_settings_by_keyboard(page, login, axe_check):
    login(page, "employee@example.com")
    page.get_by_role("link", name="My settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My settings")
    assert page.get_by_role("radio", name="Follow my browser").is_checked()
    axe_check(page)
    german = page.get_by_role("radio", name="Deutsch")
    german.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Save button
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert page.get_by_role("radio", name="Deutsch").is_checked()
    axe_check(page)
    page.get_by_role("radio").first.check()  # back to the browser's language
    page.locator("main button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
