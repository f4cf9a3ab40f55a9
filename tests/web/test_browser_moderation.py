"""Moderation in a real browser: Debian's Chromium against a real `glint serve` (embedded).
A member reports a post from its "…" menu; the admin (made with `glint admin create-user`, as
an operator does) finds it in the queue, opens it, sees the photo and the report, and bans the
author. The author's own browser is signed out on its next page load, the reporter no longer
finds the post and hears the outcome; the author's tombstone is nowhere (a ban hides, it does
not remove), and the ban is in the audit log.

Every wait is a deadline (Playwright's expect, or polling the API for what a job does). Like
tests/web/test_browser.py these need Debian's /usr/bin/chromium (skipped without it, failed
under CI=true); with GLINT_SCREENSHOTS=1 they write moderation-*.png to docs/screenshots/.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import base_settings
from tests.live import ROOT, LiveServer, settings_env
from tests.web.conftest import require_chromium
from tests.web.test_accessibility import check_every_state, describe
from tests.web.test_browser import (
    PASSWORD,
    PHONE,
    Member,
    Watcher,
    _call,
    _context,
    _publish,
    _register,
    _scroll_width,
)
from tests.web.test_browser_discovery import _until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, whose first admin was made on the command line beforehand."""
    require_chromium()
    env = settings_env(base_settings(tmp_path_factory.mktemp("web-moderation")))
    made = subprocess.run(
        [sys.executable, "-m", "glint", "admin", "create-user", "olga", "--email",
         "olga@example.com", "--role", "admin", "--password", PASSWORD],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    server = LiveServer(env)
    try:
        server.wait_ready(timeout=120)
        yield server
    finally:
        server.stop()


def _sign_in(live: LiveServer, username: str) -> Member:
    response = httpx.post(
        f"{live.url}/api/v1/auth/login",
        json={"login": username, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Member(username=username, token=body["token"], csrf=body["csrf_token"])


def _notices(live: LiveServer, member: Member, kind: str) -> list[object]:
    response = httpx.get(
        f"{live.url}/api/v1/notifications",
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=30,
    )
    return [item for item in response.json()["items"] if item["kind"] == kind]


def _open(browser: Browser, live: LiveServer, member: Member, watcher: Watcher) -> Page:
    return watcher.attach(_context(browser, live, member).new_page())


def test_a_report_from_the_menu_through_the_queue_to_a_ban(
    browser: Browser, live: LiveServer, shots_dir: Path
) -> None:
    watcher = Watcher()
    alice = _register(live, "alice", "Alice")
    bob = _register(live, "bob", "Bob")
    olga = _sign_in(live, "olga")
    post_id = _publish(live, alice, "Followers for sale, DM me", "lemons")

    author = _open(browser, live, alice, watcher)
    author.goto("/")
    expect(author.locator("main")).to_contain_text("Followers for sale")

    # Bob reports the post from its "…" menu (a dialog with JS, the report page without).
    reporter = _open(browser, live, bob, watcher)
    reporter.goto(f"/p/{post_id}")
    reporter.get_by_label("More options for this post").first.click()
    reporter.get_by_role("link", name="Report").click()
    reporter.get_by_label("It's spam").check()
    reporter.get_by_label("Anything else we should know?").fill("Selling fake followers")
    reporter.get_by_role("button", name="Submit report").click()
    expect(reporter.get_by_text("Thanks for reporting").first).to_be_visible()

    # Olga: the Admin link, the queue, the report with the photo inline, the ban.
    admin = _open(browser, live, olga, watcher)
    admin.goto("/")
    admin.get_by_role("link", name="Admin").click()
    admin.wait_for_url(re.compile(r"/admin$"))
    expect(admin.locator(".admin-figure", has_text="Open reports")).to_contain_text("1")
    expect(admin.locator("svg.chart[role=img]")).to_be_visible()
    admin.screenshot(path=str(shots_dir / "moderation-dashboard.png"))
    admin.get_by_role("link", name="Reports", exact=True).click()
    row = admin.locator(f"[data-report-group='post:{post_id}']")
    expect(row).to_contain_text("Post by @alice")
    expect(row).to_contain_text("Followers for sale")
    admin.screenshot(path=str(shots_dir / "moderation-queue.png"))
    row.get_by_role("link", name="Review").click()
    admin.wait_for_url(re.compile(r"/admin/reports/\d+$"))
    report_url = admin.url
    photo = admin.locator("[data-reported=post] img")
    expect(photo).to_be_visible()
    assert admin.evaluate("img => img.naturalWidth", photo.element_handle()) > 0
    expect(admin.locator("[data-reports]")).to_contain_text("Spam from @bob")
    expect(admin.locator("[data-reports]")).to_contain_text("Selling fake followers")
    ban = admin.locator("[data-ban-form]")
    ban.get_by_label("Reason for the ban").fill("Selling followers")
    admin.screenshot(path=str(shots_dir / "moderation-report.png"))
    ban.get_by_role("button", name="Ban @alice").click()
    expect(admin.locator(".notice")).to_contain_text("Banned")
    expect(admin.locator("[data-reports]")).to_contain_text("ban user")

    # Alice's browser is signed out on its next page load; her post is gone for Bob.
    author.reload()
    author.wait_for_url(re.compile(r"/login\?next=/$"))
    gone = reporter.context.new_page()  # unwatched: its 404 is the point
    assert (gone.goto(f"/p/{post_id}") or pytest.fail("no response")).status == 404
    expect(gone.locator("h1")).to_have_text("Sorry, this page isn't available")
    gone.close()
    # Bob hears the outcome (a job tells him), never who decided it.
    _until(lambda: _notices(live, bob, "report_resolved"), "telling the reporter")
    reporter.goto("/notifications")
    outcome = reporter.locator("[data-kind=report_resolved]")
    expect(outcome).to_contain_text("We took action against the account.")
    expect(outcome).not_to_contain_text("olga")

    admin.goto("/admin/audit")
    expect(admin.locator("[data-audit-entry='user.banned']")).to_contain_text("Selling followers")
    # Every admin page fits a 360 px phone (the audit table scrolls inside its own box).
    admin_pages = ("/admin", "/admin/reports?status=resolved", report_url, "/admin/users",
                   "/admin/users/alice", "/admin/audit", "/admin/posts")  # fmt: skip
    admin.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    for path in admin_pages:
        admin.goto(path)
        assert _scroll_width(admin) <= PHONE["width"], path
    assert watcher.problems == [], watcher.problems


def test_the_admin_pages_and_notices_have_no_serious_axe_results(
    browser: Browser, live: LiveServer, tmp_path: Path
) -> None:
    """axe-core on every admin page and on a member's notices and tombstones, at 360 px and
    1280 px, light and dark (as tests/web/test_accessibility.py does for the other pages)."""
    carol, dan = _register(live, "carol"), _register(live, "dan")
    olga = _sign_in(live, "olga")
    kept = _publish(live, carol, "Sunset over the bay", "sunset")
    taken = _publish(live, carol, "Stolen photo", "hills")
    filed = _call(live, dan, "POST", "/reports", json={"target_type": "post", "target_id": kept,
                                                     "reason": "spam", "text": "ads"})  # fmt: skip
    _call(live, dan, "POST", "/reports", json={"target_type": "post", "target_id": taken,
                                            "reason": "intellectual_property"})  # fmt: skip
    _call(live, olga, "DELETE", f"/admin/posts/{taken}", params={"reason": "Not yours"})
    _until(lambda: _notices(live, carol, "content_removed"), "telling the author")
    pages = {
        olga.username: ["/admin", "/admin/reports", "/admin/reports?status=resolved",
                        f"/admin/reports/{filed['id']}", "/admin/users", "/admin/users/carol",
                        "/admin/audit", "/admin/posts"],
        carol.username: ["/notifications", "/settings/removed"],
        dan.username: ["/notifications"],
    }  # fmt: skip
    found = []
    for member in (olga, carol, dan):
        page = _context(browser, live, member, bypass_csp=True).new_page()  # axe is injected
        for path in pages[member.username]:
            found += [{**r, "state": f"{path} {r['state']}"} for r in
                      check_every_state(page, path, None, tmp_path)]  # fmt: skip
        page.context.close()
    assert not found, describe(found)
