"""Sign-in for every role, the org pages and the people import, in a real browser."""

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from tests.e2e.conftest import PHONE, main_nav
from trainer import create_app
from trainer.demo import DEMO_PASSWORD
from trainer.org.models import PeopleImport
from trainer.scheduler import jobs, run_job

SCREENSHOTS = Path(os.environ.get("TRAINER_SCREENSHOTS", tempfile.gettempdir()))

ROLES = {
    "employee": "employee@example.com",
    "manager": "manager@example.com",
    "hr": "hr@example.com",
    "admin": "admin@example.com",
}


@pytest.mark.parametrize("role", ROLES)
def test_each_demo_role_signs_in_and_sees_a_home_page_that_fits(page, login, axe_check, role):
    page.goto("/")
    assert "/auth/login" in page.url
    axe_check(page)
    login(page, ROLES[role])
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
    expected_org_link = role in ("hr", "admin")
    nav = main_nav(page)
    assert nav.get_by_role("link", name="People", exact=True).count() == int(expected_org_link)
    axe_check(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.wait_for_url(re.compile("/auth/login"))


def test_wrong_password_is_refused_without_saying_whether_the_account_exists(page, axe_check):
    page.goto("/auth/login")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("do not match").first).to_be_visible()
    axe_check(page)


def test_keyboard_user_can_skip_to_content_and_sign_in(page):
    page.goto("/auth/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("employee@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")


def test_hr_browses_the_org_tree_and_people(page, login, axe_check):
    login(page, ROLES["hr"])
    main_nav(page).get_by_role("link", name="Org").click()
    expect(page.get_by_role("heading", name="Org tree")).to_be_visible()
    expect(page.get_by_role("link", name="Northwind Motor Group")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Leeds Motors", exact=True).click()
    expect(page.get_by_role("heading", name="Leeds Motors")).to_be_visible()
    axe_check(page)
    page.goto("/org/people")
    page.get_by_label("Search by name, email or employee number").fill("employee@example.com")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 person.")).to_be_visible()
    axe_check(page)
    page.get_by_role("cell").get_by_role("link").first.click()
    assert page.get_by_label("Email").input_value() == "employee@example.com"
    axe_check(page)


def test_hr_imports_people_and_sees_row_errors_first(page, login, axe_check, tmp_path):
    login(page, ROLES["hr"])
    page.goto("/org/import")
    axe_check(page)
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,unit_code,roles\nnot-an-email,Ann,NOPE,employee\n")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    alert = page.get_by_role("alert")
    assert "line 2, column email" in alert.inner_text()
    assert "line 2, column unit_code" in alert.inner_text()
    axe_check(page)
    good = tmp_path / "good.csv"
    good.write_text(
        "email,name,unit_code,roles,manager_of\n"
        "new.starter@example.com,New Starter,LEEDS-SVC,employee,\n"
    )
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("1 created")).to_be_visible()


def _people_imports(live_env, change):
    """Open the live database as the scheduler would and apply `change(app, session)`."""
    app = create_app({"DATABASE_URL": live_env["TRAINER_DATABASE_URL"]})
    with app.app_context(), Session(app.extensions["trainer.engine"]) as session:
        change(app, session)
        session.commit()
    app.extensions["trainer.engine"].dispose()


def test_a_large_people_upload_shows_its_progress_then_the_result(
    page, login, axe_check, live_env, tmp_path
):
    login(page, ROLES["hr"])
    page.goto("/org/import")
    big = tmp_path / "big.csv"
    big.write_text(
        "email,name,unit_code,roles,manager_of\n"
        + "".join(
            f"bulk{i}@example.com,Bulk Starter {i},LEEDS-SVC,employee,\n" for i in range(2_100)
        )
    )
    page.get_by_label("CSV file").set_input_files(str(big))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    axe_check(page)

    def half_checked(app, session):
        job = session.exec(select(PeopleImport).where(PeopleImport.filename == "big.csv")).one()
        job.status, job.rows_checked = "checking", 1_000

    _people_imports(live_env, half_checked)
    page.get_by_role("link", name="Refresh").click()
    expect(page.get_by_text("1,000 of 2,100 rows checked.")).to_be_visible()
    axe_check(page)
    page.screenshot(path=str(SCREENSHOTS / "import-progress-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "import-progress-desktop.png"), full_page=True)

    def run_the_job(app, session):
        [job] = [job for job in jobs(app) if job.name == "org-people-imports"]
        run_job(app, job)

    _people_imports(live_env, run_the_job)
    page.get_by_role("link", name="Refresh").click()
    expect(page.get_by_role("heading", name="Import done")).to_be_visible()
    expect(page.get_by_text("2,100 created, 0 updated")).to_be_visible()
    axe_check(page)
    page.screenshot(path=str(SCREENSHOTS / "import-done-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / "import-done-phone.png"), full_page=True)


def test_admin_reads_the_outbox_and_follows_a_reset_link_from_the_dev_mailbox(
    page, login, axe_check
):
    page.goto("/auth/forgot")
    page.get_by_label("Email").fill("employee@example.com")
    page.get_by_role("button", name="Send the link").click()
    login(page, ROLES["admin"])
    main_nav(page).get_by_role("link", name="System").click()
    expect(page.get_by_role("heading", name="Email", exact=True)).to_be_visible()
    expect(page.get_by_text("Reset your trainer password").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    axe_check(page)
    page.get_by_role("link", name="Read the development mailbox").click()
    axe_check(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    link = page.locator("a[href*='/auth/reset/']").first.get_attribute("href")
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.goto(link)
    expect(page.get_by_label("New password")).to_be_visible()
