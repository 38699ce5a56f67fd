"""Scenarios in a real browser on a phone: every shipped scenario end to end, by touch and by
keyboard, the due re-serve, and the manager's choice reports, with axe-core checks."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import main_nav
from trainer.scenarios.loader import load_scenarios

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [r.scenario for r in load_scenarios(ROOT / "trainer" / "courses" / "scenarios") if r.ok]
EMPLOYEE, MANAGER = "employee@example.com", "manager@example.com"
START = re.compile(r"^(Start|Play again|Continue)$")
MAX_STEPS = 30


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def play_to_the_end(page, pick, axe_check=None):
    """Take choices until the ending; `pick(n, count)` gives the choice index at decision n."""
    for n in range(MAX_STEPS):
        if heading(page) == "How it ended":
            return
        assert heading(page).startswith("Decision"), heading(page)
        choices = page.locator("button.choice")
        if axe_check and n == 0:
            axe_check(page)  # a decision screen
        choices.nth(pick(n, choices.count())).click()
        page.wait_for_url(re.compile(r"/steps/\d+$"))
        assert heading(page) == "What happened next"
        if axe_check and n == 0:
            axe_check(page)  # a reaction screen
        page.get_by_role("link", name=re.compile("^(Continue|See how it ended)$")).click()
    raise AssertionError(f"no ending after {MAX_STEPS} decisions")


def test_the_demo_employee_practises_a_due_decision(page, login, axe_check):
    # First in the file: it needs the re-serve the demo left due for the employee.
    login(page, EMPLOYEE)
    page.goto("/scenarios/")
    page.get_by_role("link", name=re.compile("^Practise a decision from")).first.click()
    assert heading(page) == "Quick practice: one decision"
    axe_check(page)
    page.locator("button.choice").first.click()
    assert heading(page) == "What happened next"
    expect(page.get_by_text(re.compile("best ending still within reach"))).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Back to scenarios").click()
    assert heading(page) == "Scenarios"


def test_every_shipped_scenario_can_be_played_on_a_phone(page, login, axe_check):
    assert len(SHIPPED) >= 13
    login(page, EMPLOYEE)
    main_nav(page).get_by_role("link", name="Scenarios").click()
    assert heading(page) == "Scenarios"
    axe_check(page)
    for number, scenario in enumerate(SHIPPED):
        page.goto(f"/scenarios/{scenario.id}")
        assert heading(page) == scenario.title
        first = number == 0
        if first:
            axe_check(page)  # the intro
        page.get_by_role("button", name=START).click()
        play_to_the_end(
            page, lambda n, count, s=number: (n + s) % count, axe_check if first else None
        )
        ending = page.get_by_text(re.compile(r"^(Good|Acceptable|Poor) ending$")).first
        expect(ending).to_be_visible()
        expect(page.get_by_role("heading", name="Debrief")).to_be_visible()
        expect(page.get_by_role("table", name=re.compile("Meter totals"))).to_be_visible()
        if first:
            axe_check(page)  # the ending and debrief
    page.goto("/scenarios/")
    assert page.get_by_text("Not played yet").count() == 0


def tab_to(page, script: str, limit: int = 60) -> None:
    """Press Tab until `script` (a JS expression about `el`) is true for the focused element."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {script}; }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {script}")


def test_a_scenario_can_be_played_by_keyboard_alone(page, login, axe_check):
    login(page, EMPLOYEE)
    scenario = SHIPPED[-1]
    page.goto(f"/scenarios/{scenario.id}")
    tab_to(page, "el.tagName === 'BUTTON' && el.value === 'practice'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/scenarios/plays/\d+$"))
    for _ in range(MAX_STEPS):
        if heading(page) == "How it ended":
            break
        tab_to(page, "el.classList.contains('choice')")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/steps/\d+$"))
        tab_to(page, "/^(Continue|See how it ended)$/.test(el.textContent.trim())")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
    assert heading(page) == "How it ended"
    expect(page.get_by_text("Private practice")).to_be_visible()
    axe_check(page)


def test_a_manager_sees_choice_reports_that_respect_the_minimum_group(page, login, axe_check):
    login(page, MANAGER)
    main_nav(page).get_by_role("link", name="Scenario reports").click()
    assert heading(page) == "Scenario reports"
    axe_check(page)
    page.get_by_role("link", name=SHIPPED[0].title).click()
    assert heading(page).startswith("Choice report")
    axe_check(page)
    period_options = page.locator("#period option").all_inner_texts()
    shown = hidden = False
    for period in period_options:
        page.goto(page.url.split("?")[0] + f"?period={period}")
        hidden = hidden or page.get_by_text("Not enough players to show a breakdown").count() > 0
        links = page.get_by_role("table").get_by_role("link")
        if links.count():
            shown = True
            links.first.click()
            choices = page.get_by_role("heading", name="Choices at each decision point")
            expect(choices).to_be_visible()
            axe_check(page)
            break
    assert shown and hidden
