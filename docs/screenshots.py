"""Take screenshots of the main pages for each role, at phone and desktop size (`make screenshots`).

Builds a fresh demo database in a temporary folder, serves it with gunicorn, signs in as each
demo person in headless Chromium and writes `docs/screenshots/<role>-<page>-<phone|desktop>.png`.
Phone screenshots are the first screen (what a person sees before scrolling); desktop ones are
the whole page.
"""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "demo-password-2026"  # noqa: S105 (the demo's published password)
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# (role, name, path, link): with a link (a CSS selector), the screenshot is of the page that the
# first matching link on `path` leads to.
PAGES = [
    ("employee", "home", "/", None),
    ("employee", "learning", "/learn/", None),
    ("employee", "pulse", "/pulse/", None),
    ("employee", "fix", "/fixes/new", None),
    ("manager", "home", "/", None),
    ("manager", "insights", "/insights/", None),
    ("manager", "results", "/pulse/results", None),
    ("manager", "action-plan", "/", 'a[href^="/pulse/plans/"]'),
    ("manager", "fixes", "/fixes/team", None),
    ("hr", "home", "/", None),
    ("hr", "heatmap", "/insights/", None),
    ("hr", "pulse-heatmap", "/pulse/results", 'a[href*="/heatmap"]'),
    ("hr", "company-results", "/pulse/results", 'table a[href^="/pulse/results/"]'),
    ("hr", "follow-through", "/pulse/follow-through", None),
    ("hr", "programmes", "/pulse/programmes", None),
    ("admin", "home", "/", None),
    ("admin", "system", "/system", None),
]


def _run(env, *args):
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "trainer", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _serve(env, port):
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
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        env = dict(
            os.environ,
            TRAINER_DATABASE_URL=f"sqlite:///{folder}/shots.sqlite3",
            TRAINER_SECRET_KEY="screenshots",  # noqa: S106 (a throwaway local server)
            TRAINER_SEAL_PUBLIC_KEY_FILE=f"{folder}/seal-public.key",
            TRAINER_SEAL_PRIVATE_KEY_FILE=f"{folder}/seal-private.key",
            TRAINER_BASE_URL=f"http://127.0.0.1:{port}",
        )
        env.pop("TRAINER_TEST_DATABASE_URL", None)
        for args in (["db", "upgrade"], ["seal", "generate"], ["content", "sync"], ["demo"]):
            _run(env, *args)
        server = _serve(env, port)
        try:
            _shoot(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait()


def _shoot(base):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        for size, viewport in SIZES.items():
            for role in dict.fromkeys(page[0] for page in PAGES):
                context = browser.new_context(
                    viewport=viewport, base_url=base, is_mobile=size == "phone"
                )
                page = context.new_page()
                page.goto("/auth/login")
                page.get_by_label("Email").fill(f"{role}@example.com")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(lambda url: "/auth/login" not in url)
                for _, name, path, link in (p for p in PAGES if p[0] == role):
                    page.goto(path)
                    if link:
                        page.locator(link).first.click()
                    page.wait_for_load_state("networkidle")
                    target = OUT / f"{role}-{name}-{size}.png"
                    page.screenshot(path=target, full_page=size == "desktop")
                    print(target.relative_to(ROOT))
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
