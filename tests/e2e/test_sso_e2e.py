"""Single sign-on in a browser: trainer (gunicorn, "SSO only") and a real OpenID Connect provider
(oidc-provider-mock) started here; a person signs in at the provider and lands on their home."""

import os
import re
import tempfile
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.auth.oidc_provider import PROVIDER_WARNINGS, running_provider
from tests.conftest import free_port
from tests.e2e.conftest import PHONE, gunicorn_server
from trainer.demo import DEMO_PASSWORD

pytestmark = PROVIDER_WARNINGS
SCREENSHOTS = Path(os.environ.get("TRAINER_SCREENSHOTS", tempfile.gettempdir()))
DESKTOP = {"width": 1280, "height": 900}
BUTTON = "Sign in with Northwind ID"


@pytest.fixture(scope="module")
def provider():
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def sso_url(live_env, provider):
    """trainer on the demo database with the provider set up and passwords off, except for
    the break-glass admin."""
    env = dict(
        live_env,
        TRAINER_BASE_URL=f"http://127.0.0.1:{free_port()}",
        TRAINER_OIDC_ISSUER=provider.url,
        TRAINER_OIDC_CLIENT_ID="trainer-e2e",
        TRAINER_OIDC_CLIENT_SECRET="e2e-client-secret",
        TRAINER_OIDC_NAME="Northwind ID",
        TRAINER_SSO_ONLY="true",
        TRAINER_BREAK_GLASS_EMAILS='["admin@example.com"]',
    )
    with gunicorn_server(env) as url:
        yield url


@pytest.fixture
def sso_page(browser, sso_url):
    """A phone-sized page on trainer; fails the test on any browser console error."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=sso_url)
    # The provider's form links a stylesheet on a CDN, which this machine cannot reach.
    context.route(
        "https://cdn.jsdelivr.net/**", lambda r: r.fulfill(body="", content_type="text/css")
    )
    page = context.new_page()
    errors = []
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


def test_sign_in_at_the_provider_lands_on_home(sso_page, sso_url, provider, axe_check):
    page = sso_page
    sub = f"e2e-{uuid.uuid4().hex[:10]}"
    provider.set_user(sub, email="employee@example.com", email_verified=True, name="Employee")

    page.goto("/auth/login")
    expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
    expect(page.get_by_label("Password")).to_be_hidden()  # folded away: SSO only
    axe_check(page)
    page.screenshot(path=str(SCREENSHOTS / "sso-login-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / "sso-login-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("link", name=BUTTON).click()
    page.wait_for_url(lambda url: url.startswith(provider.url))
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{sso_url}/")
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()

    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.wait_for_url(re.compile("/auth/login"))
    page.goto("/")
    expect(page).to_have_url(re.compile("/auth/login"))


def test_a_password_is_refused_except_for_the_break_glass_admin(sso_page, sso_url, axe_check):
    page = sso_page
    page.goto("/auth/login")
    page.get_by_text("Administrator sign-in with a password").click()  # opens the fold
    page.get_by_label("Email").fill("employee@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Sign-in with a password is turned off here").first).to_be_visible()
    axe_check(page)

    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{sso_url}/")
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()
    page.goto("/auth/sso/settings")
    expect(page.get_by_text("Off. Only emergency administrator accounts")).to_be_visible()
    axe_check(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
