"""Pulse in a real browser: answer on a phone with axe-core, then read team results."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import main_nav

EMPLOYEE = "employee@example.com"


def test_employee_answers_the_pulse_on_a_phone(page, login, axe_check):
    login(page, EMPLOYEE)
    main_nav(page).get_by_role("link", name="Pulse").click()
    expect(page.get_by_role("heading", name="My surveys")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name=re.compile("Answer the survey")).first.click()
    expect(page.get_by_role("heading", name="Who can see what")).to_be_visible()
    # The short privacy screen fits a phone: the start button is on the first screen and
    # the full explanation is one tap away.
    expect(page.get_by_role("link", name=re.compile("start the survey"))).to_be_in_viewport()
    expect(page.get_by_role("link", name=re.compile("full page"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page)
    page.get_by_role("link", name=re.compile("start the survey")).click()
    expect(page.get_by_role("link", name="Who can see what").first).to_be_visible()
    expect(page.get_by_text("Don't include details that identify you")).to_be_visible()
    axe_check(page)
    groups = page.locator("fieldset.question")
    assert 1 <= groups.count() <= 10
    for n in range(groups.count()):
        radios = groups.nth(n).get_by_role("radio")
        radios.nth(radios.count() - 2).check()
    page.get_by_label(re.compile("optional")).fill("The new rota works well for us.")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    axe_check(page)
    page.go_back()
    page.reload()
    expect(page.get_by_role("heading", name="You have already answered")).to_be_visible()


def test_who_can_see_what_is_clear_and_accessible(page, login, axe_check):
    login(page, EMPLOYEE)
    page.goto("/pulse/privacy")
    for text in (
        "Stored with your name",
        "Stored without your name",
        "Small teams",
        "Taking part is voluntary",
    ):
        expect(page.get_by_text(text, exact=True)).to_be_visible()
    axe_check(page)


def test_employee_views_team_and_company_results(page, login, axe_check):
    login(page, EMPLOYEE)
    main_nav(page).get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", name="Pulse results")).to_be_visible()
    axe_check(page)
    links = page.get_by_role("table").get_by_role("link")
    assert links.count() >= 1
    names = [links.nth(i).inner_text() for i in range(links.count())]
    assert "Northwind Motor Group" in names
    page.get_by_role("link", name="Northwind Motor Group").click()
    expect(page.get_by_text("Engagement index")).to_be_visible()
    expect(page.get_by_role("heading", name="Trend")).to_be_visible()
    expect(page.get_by_role("heading", name="You said, we did")).to_be_visible()
    axe_check(page)
    team = [n for n in names if n != "Northwind Motor Group"]
    if team:
        page.go_back()
        page.get_by_role("link", name=team[0]).click()
        assert page.get_by_role("heading", level=1).inner_text().startswith(team[0])
        axe_check(page)


def test_employee_marks_a_commitment(page, login, axe_check):
    login(page, EMPLOYEE)
    page.goto("/pulse/ledger")
    expect(page.get_by_role("heading", name="You said, we did")).to_be_visible()
    axe_check(page)
    form = page.locator("form").filter(has=page.get_by_role("button", name=re.compile("mark")))
    before = form.count()
    assert before >= 1  # the demo gives the employee's team a fresh commitment
    form.first.get_by_role("radio").first.check()
    form.first.get_by_role("button").click()
    expect(page.get_by_role("status").get_by_text("Thank you")).to_be_visible()
    assert form.count() == before - 1
    expect(page.get_by_text("You have marked this commitment.").first).to_be_visible()


def test_hr_and_manager_pulse_pages_are_accessible(page, login, axe_check):
    login(page, "hr@example.com")
    for path in (
        "/pulse/items",
        "/pulse/programmes",
        "/pulse/programmes/new",
        "/pulse/follow-through",
    ):
        page.goto(path)
        axe_check(page)
    page.goto("/pulse/programmes")
    page.get_by_role("table").get_by_role("link").first.click()
    axe_check(page)
    page.get_by_role("link", name=re.compile("Response rate")).first.click()
    expect(page.get_by_text("Counts only")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()
    login(page, "manager@example.com")
    page.goto("/pulse/results")
    page.get_by_role("table").get_by_role("link").first.click()
    axe_check(page)


def test_results_trend_is_charted_with_gaps_beside_its_table(page, login, axe_check):
    login(page, "manager@example.com")
    page.goto("/pulse/results")
    links = page.get_by_role("table").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    # A team of the manager's whose trend has a cycle withheld (the demo has some on purpose).
    for href in hrefs:
        path, _, query = href.partition("?")
        trend = page.request.get(f"{path}.json?{query}").json()["trend"]
        gaps = [i for i, p in enumerate(trend) if p["status"] != "shown"]
        if gaps and len(gaps) < len(trend):
            break
    else:
        raise AssertionError("no unit in the manager's scope has a withheld cycle")
    page.goto(href)
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every((c) => Chart.getChart(c))"
    )

    canvases = page.locator("canvas")
    assert canvases.count() == 2
    for i in range(canvases.count()):
        canvas = canvases.nth(i)
        assert canvas.get_attribute("role") == "img"
        label = canvas.get_attribute("aria-label")
        assert re.search(r"over \d+ cycles: .*no results to show.*table below", label)
        box = canvas.bounding_box()
        assert box["width"] > 200 and box["height"] > 100
    drawn = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('canvas')]
        .map((c) => [c.dataset.series, Chart.getChart(c).data.datasets[0].data]))""")
    # Withheld cycles are gaps (null), never zeros; the other points are the JSON's numbers.
    assert drawn["engagement"] == [p.get("engagement") for p in trend]
    assert drawn["enps"] == [p.get("enps") for p in trend]
    assert all(drawn["engagement"][i] is None and drawn["enps"][i] is None for i in gaps)

    # The table with the same numbers stays, reachable by keyboard.
    table = page.get_by_role("table", name=re.compile("in recent cycles"))
    expect(table).to_be_visible()
    assert table.get_by_role("row").count() == len(trend) + 1
    region = page.get_by_role("region", name=re.compile("in recent cycles"))
    assert region.get_attribute("tabindex") == "0"
    expect(page.get_by_text("Gaps in the lines are cycles without results")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(page)


def test_driver_analysis_reads_on_a_phone(page, login, axe_check):
    login(page, "hr@example.com")
    page.goto("/pulse/results")
    links = page.get_by_role("table").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    # A unit whose released group has 30 answers or more (the demo's larger sites).
    for href in hrefs:
        path, _, query = href.partition("?")
        drivers = page.request.get(f"{path}.json?{query}").json()["drivers"]
        if any(d["status"] == "ok" for d in drivers):
            break
    else:
        raise AssertionError("no unit in the demo has a driver analysis")
    page.goto(href)
    expect(page.get_by_role("heading", name="What moves engagement here")).to_be_visible()
    page.get_by_text("Show every question's link with engagement").click()
    expect(
        page.get_by_role("region", name="Each question and engagement without it")
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page)


def test_comment_themes_and_search_read_on_a_phone(page, login, axe_check):
    login(page, "hr@example.com")
    page.goto("/pulse/results")
    links = page.get_by_role("table").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:  # a group with 10 comments or more (the demo's larger units)
        path, _, query = href.partition("?")
        if page.request.get(f"{path}.json?{query}").json()["themes"]:
            break
    else:
        raise AssertionError("no unit in the demo has comment themes")
    page.goto(href)
    expect(page.get_by_role("heading", name="What people write about")).to_be_visible()
    page.get_by_label("Search these comments").fill("time")
    page.get_by_role("button", name="Search", exact=True).click()
    found = page.get_by_role("heading", name=re.compile(r"comments? contains? “time”"))
    expect(found).to_be_visible()
    expect(page.get_by_role("link", name="Show all comments")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page)
