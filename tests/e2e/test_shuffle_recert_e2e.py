"""On a phone: a scenario's choices in their shuffled order, kept on reload, on resume and on
the step page; the training report's expiring certificates; and the verification page."""

import re
import sqlite3
from datetime import date

from babel.dates import format_date
from playwright.sync_api import expect

HR = "hr@example.com"


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def choice_texts(page) -> list[str]:
    return [t.strip() for t in page.locator("button.choice").all_inner_texts()]


def test_a_shuffled_decision_keeps_its_order_on_a_phone(page, login, axe_check):
    login(page, HR)
    page.goto("/scenarios/")
    page.locator("main a[href^='/scenarios/']").filter(
        has_not_text=re.compile("report", re.I)
    ).first.click()
    intro = page.url
    page.get_by_role("button", name=re.compile(r"^(Start|Play again|Continue)$")).click()
    page.wait_for_url(re.compile(r"/scenarios/plays/\d+$"))
    assert heading(page).startswith("Decision")
    shown = choice_texts(page)
    assert len(shown) >= 2
    axe_check(page)

    page.reload()
    assert choice_texts(page) == shown
    page.goto(intro)  # leave, and come back through "Continue"
    page.get_by_role("button", name="Continue").click()
    assert choice_texts(page) == shown

    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], "the decision screen scrolls sideways on a phone"
    page.locator("button.choice").nth(1).click()
    page.wait_for_url(re.compile(r"/steps/\d+$"))
    page.get_by_text("The options you had").click()
    listed = [
        re.sub(r"\s*\(your choice\)$", "", t.strip())
        for t in page.locator("details.options-had li").all_inner_texts()
    ]
    assert listed == shown
    expect(page.locator("details.options-had li").nth(1)).to_contain_text("(your choice)")
    axe_check(page)


def test_hr_sees_expiring_certificates_and_checks_an_expired_one(page, login, axe_check, live_env):
    login(page, HR)
    page.goto("/learn/reports")
    table = page.get_by_role("table", name="Certificates that expire, by unit")
    expect(table).to_be_visible()
    axe_check(page)
    table.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Certificates expired or expiring")).to_be_visible()
    axe_check(page)

    database = live_env["TRAINER_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        code, expired_on = db.execute(
            "SELECT code, expires_on FROM course_certificate WHERE renewal_due_on IS NOT NULL "
            "ORDER BY id LIMIT 1"
        ).fetchone()
    page.goto("/learn/verify")
    page.get_by_role("searchbox").fill(code)
    page.get_by_role("button", name="Check").click()
    day = date.fromisoformat(expired_on)
    expected = format_date(day, "long", locale="en")  # as the page words it, in English
    expect(page.get_by_role("status")).to_contain_text(f"Expired on {expected}")
    axe_check(page)
