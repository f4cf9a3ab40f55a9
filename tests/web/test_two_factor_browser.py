"""Two-factor sign-in in a real browser (Debian's Chromium, driven by Playwright) against a
real `glint serve` (embedded): a member sets up an authenticator app from the settings page,
with the code computed from the secret the page shows (as the app would), keeps the recovery
codes, signs out, signs in with password then code, and finds the factor on the devices page;
a second browser signs in with a recovery code.

Like tests/web/test_browser.py these need Debian's /usr/bin/chromium (skipped without it,
failed under CI=true); with GLINT_SCREENSHOTS=1 they write two-factor-*.png to
docs/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.live import LiveServer
from tests.web.conftest import live_server
from tests.web.test_accessibility import axe_results, describe
from tests.web.test_browser import PASSWORD, Watcher, _context, _register

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, with a data folder of its own."""
    with live_server(tmp_path_factory, "web-two-factor") as server:
        yield server


def _sign_in_first_step(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("input[name=code]")).to_be_visible()
    expect(page.get_by_text("Enter the six-digit code")).to_be_visible()


def _check_accessible(page: Page) -> None:
    """No serious or critical axe-core result on the page as it is now, in both themes."""
    found = []
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        page.wait_for_function("(t) => document.documentElement.dataset.theme === t", arg=theme)
        found += [{"state": theme, **result} for result in axe_results(page)]
    page.emulate_media(color_scheme="light")
    assert found == [], describe(found)


def _submit_code(page: Page, code: str) -> None:
    page.fill("input[name=code]", code)
    page.press("input[name=code]", "Enter")  # its own form's submit, not the nav's Log out


def _nothing(page: Page) -> None:
    """No check of the page beyond what the steps expect."""


def _enrol(page: Page, shots_dir: Path, check: Callable[[Page], None]) -> tuple[str, list[str]]:
    """Settings → Two-factor: set up, read the secret from the page, confirm with a code; the
    secret and the recovery codes shown. `check` looks at each page on the way."""
    page.goto("/settings/two-factor")
    expect(page.get_by_text("Off.")).to_be_visible()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.wait_for_url(re.compile(r"/settings/two-factor/setup$"))
    qr = page.locator("figure.two-factor-qr svg")
    expect(qr).to_be_visible()
    assert (qr.bounding_box() or {}).get("width", 0) > 100
    secret_box = page.locator("#two-factor-secret")
    secret = secret_box.get_attribute("data-secret") or ""
    assert len(secret) == 32
    assert secret_box.inner_text().replace(" ", "") == secret  # the text a person would type
    page.screenshot(path=str(shots_dir / "two-factor-setup.png"))
    check(page)
    _submit_code(page, pyotp.TOTP(secret).now())
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    codes = page.locator("pre.recovery-codes").inner_text().split()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c) for c in codes)
    page.screenshot(path=str(shots_dir / "two-factor-recovery-codes.png"))
    check(page)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("10 of 10 recovery codes left.")).to_be_visible()
    check(page)
    return secret, codes


def test_enrol_then_sign_in_with_a_code_and_with_a_recovery_code(
    browser: Browser, live: LiveServer, shots_dir: Path
) -> None:
    tina = _register(live, "tina")
    watcher = Watcher()
    context = _context(browser, live, tina)
    page = watcher.attach(context.new_page())
    secret, codes = _enrol(page, shots_dir, _nothing)
    totp = pyotp.TOTP(secret)

    # Sign out, then in again: password first, then the app's code (the next step's: the one
    # that confirmed the setup may not be used twice).
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    _sign_in_first_step(page, tina.username)
    page.screenshot(path=str(shots_dir / "two-factor-login-code.png"))
    wrong = next(
        c for c in ("000000", "111111") if c not in {totp.at(time.time() + s) for s in (-30, 0, 30)}
    )
    _submit_code(page, wrong)
    expect(page.get_by_role("alert")).to_have_text("Wrong password or code.")
    _submit_code(page, totp.at(time.time() + 30))
    page.wait_for_url(re.compile(r"/$"))

    page.goto("/accounts/sessions")
    this_device = page.locator(".session-row", has=page.locator(".this-device"))
    expect(this_device).to_contain_text("password + authenticator app")
    page.screenshot(path=str(shots_dir / "two-factor-sessions.png"))

    # Another browser: a recovery code instead of the app, typed in capitals without hyphen.
    other_context = _context(browser, live)
    other = watcher.attach(other_context.new_page())
    _sign_in_first_step(other, tina.username)
    _submit_code(other, codes[0].replace("-", "").upper())
    other.wait_for_url(re.compile(r"/$"))
    other.goto("/accounts/sessions")
    mine = other.locator(".session-row", has=other.locator(".this-device"))
    expect(mine).to_contain_text("password + recovery code")
    expect(other.locator(".session-row")).to_have_count(2)
    expect(other.get_by_text("password + authenticator app")).to_be_visible()

    # The same recovery code again: refused, with its own message.
    other_context.clear_cookies()
    _sign_in_first_step(other, tina.username)
    _submit_code(other, codes[0])
    expect(other.get_by_role("alert")).to_have_text("That recovery code has already been used.")

    # The refused codes answered their form with 403 and 400 (the browser logs those); nothing
    # else may have gone wrong.
    expected = ("status of 403 (Forbidden)", "status of 400 (Bad Request)")
    assert [p for p in watcher.problems if not p.endswith(expected)] == []
    context.close()
    other_context.close()


def test_two_factor_pages_pass_axe(browser: Browser, live: LiveServer, shots_dir: Path) -> None:
    """axe-core finds nothing serious on the setup, recovery codes, overview and second-step
    pages, light and dark."""
    una = _register(live, "una")
    # axe-core is injected as a script, which the page's CSP (rightly) refuses.
    context = _context(browser, live, una, bypass_csp=True)
    page = context.new_page()
    _enrol(page, shots_dir, _check_accessible)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    _sign_in_first_step(page, una.username)
    _check_accessible(page)
    context.close()
