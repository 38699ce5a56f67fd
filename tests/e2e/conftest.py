"""Browser tests: a real gunicorn server on a demo database, driven by Playwright in Chromium.

Playwright cannot download its own browser here, so it drives Debian's /usr/bin/chromium.
"""

import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port
from trainer import create_app
from trainer.demo import DEMO_PASSWORD

CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
AXE_JS = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            # Tests go to xdist workers file by file; each worker serves its own live demo.
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def e2e_mailbox():
    """A real SMTP server for the live app; yields the received messages."""
    from aiosmtpd.controller import Controller

    class Handler:
        messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            from email import message_from_bytes
            from email.policy import default

            self.messages.append(message_from_bytes(envelope.content, policy=default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(scope="session")
def live_env(tmp_path_factory, e2e_mailbox):
    """Environment for a server on a fresh SQLite file with migrations, content and demo data."""
    folder = tmp_path_factory.mktemp("live")
    env = dict(os.environ)
    env.pop("TRAINER_TEST_DATABASE_URL", None)
    env.update(
        TRAINER_DATABASE_URL=f"sqlite:///{folder / 'live.sqlite3'}",
        TRAINER_SECRET_KEY="e2e-secret",
        TRAINER_MAIL_SERVER="127.0.0.1",
        TRAINER_MAIL_PORT=str(e2e_mailbox.port),
        # Emailed links are built on BASE_URL, so it names the port live_url serves on.
        TRAINER_BASE_URL=f"http://127.0.0.1:{free_port()}",
        TRAINER_SEAL_PUBLIC_KEY_FILE=str(folder / "seal-public.key"),
        TRAINER_SEAL_PRIVATE_KEY_FILE=str(folder / "seal-private.key"),
    )
    app = create_app(
        {
            "DATABASE_URL": env["TRAINER_DATABASE_URL"],
            "SEAL_PUBLIC_KEY_FILE": env["TRAINER_SEAL_PUBLIC_KEY_FILE"],
            "SEAL_PRIVATE_KEY_FILE": env["TRAINER_SEAL_PRIVATE_KEY_FILE"],
        }
    )
    runner = app.test_cli_runner()
    commands = [["db", "upgrade"], ["seal", "generate"], ["demo"]]
    if "content" in app.cli.commands:
        commands.insert(1, ["content", "sync"])
    for args in commands:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, f"flask {' '.join(args)}: {result.output}"
    app.extensions["trainer.engine"].dispose()
    return env


@contextmanager
def gunicorn_server(env):
    """Run gunicorn with two workers on the port of env's TRAINER_BASE_URL; yield that URL."""
    url = env["TRAINER_BASE_URL"]
    port = url.rsplit(":", 1)[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "trainer.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the live server did not start") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def live_url(live_env):
    """Start gunicorn with two workers on the demo database; yield its base URL."""
    with gunicorn_server(live_env) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_url):
    """A phone-sized page; fails the test on any browser console error (CSP included)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_url)
    page = context.new_page()
    errors = []
    # A 400 for a rejected form is expected; JS errors, CSP violations and 5xx are not.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"


def main_nav(page):
    """Return the main navigation, opening the phone's "Menu" button first when it is shut."""
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    return page.get_by_role("navigation", name="Main")


@pytest.fixture
def login():
    def sign_in(page, email, password=DEMO_PASSWORD):
        page.goto("/auth/login")
        # By field name, not label: the page may be in the browser's language.
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(password)
        page.locator("form[action*='/auth/login'] button[type=submit]").click()
        page.wait_for_url(lambda url: "/auth/login" not in url)

    return sign_in


@pytest.fixture(scope="session")
def unanswered_employee(live_env):
    """Return a demo employee invited to the open survey who has not answered it (other browser
    tests answer employee@example.com's survey, and their order is not fixed)."""
    path = live_env["TRAINER_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT u.email FROM pulse_invitation i JOIN pulse_cycle c ON c.id = i.cycle_id "
            "JOIN user_account u ON u.id = i.employee_id "
            "WHERE c.status = 'open' AND u.active AND u.roles = 'employee' "
            "AND u.email != 'employee@example.com' AND NOT EXISTS (SELECT 1 FROM "
            "survey_participation p WHERE p.survey_id = i.cycle_id AND p.employee_id = u.id) "
            "ORDER BY u.id LIMIT 1"
        ).fetchone()
    assert row, "the demo has no one left who has not answered the open survey"
    return row[0]


@pytest.fixture
def axe_check():
    """Run axe-core on the current page and fail on any WCAG 2.1 A/AA violation."""

    def check(page):
        page.wait_for_load_state()  # a form just sent may still be loading its answer page
        page.evaluate(AXE_JS)
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            WCAG_TAGS,
        )
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:5])
            for v in result["violations"]
        ]
        assert not problems, f"axe-core on {page.url}:\n" + "\n".join(problems)

    return check
