"""Discovery in a real browser: Debian's Chromium against a real `glint serve` (embedded).
Someone finds a friend by typing three letters of her name into the nav's search box, sees
the typeahead, opens the results and follows her from them; picks a hashtag from the
typeahead with the keyboard and follows it; then sees "Suggested for you" beside the feed and
dismisses one. On a phone the magnifier opens the search page, whose box suggests too.

Every wait is a deadline (Playwright's expect), never a sleep. Like tests/web/test_browser.py
these need Debian's /usr/bin/chromium (skipped without it, failed under CI=true); with
GLINT_SCREENSHOTS=1 they write discovery-*.png to docs/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.live import LiveServer
from tests.web.conftest import live_server
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    Member,
    Watcher,
    _call,
    _context,
    _publish,
    _register,
    _settle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, with a data folder of its own."""
    with live_server(tmp_path_factory, "web-discovery") as server:
        yield server


def _until(check: Any, what: str, within: float = 30.0) -> None:
    """Poll the live server until `check()` is true (indexing runs as a job after publishing)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen in time"
        time.sleep(0.2)


def _hashtag(live: LiveServer, member: Member, name: str) -> httpx.Response:
    return httpx.get(
        f"{live.url}/api/v1/hashtags/{name}",
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=30,
    )


def _open(
    browser: Browser, live: LiveServer, member: Member, watcher: Watcher, **options: Any
) -> Page:
    return watcher.attach(_context(browser, live, member, **options).new_page())


def test_find_a_friend_follow_her_and_a_hashtag_then_dismiss_a_suggestion(
    browser: Browser, live: LiveServer, shots_dir: Path
) -> None:
    watcher = Watcher()
    sam = _register(live, "sam", "Sam Rivera")
    priya = _register(live, "priya.r", "Priya Raman")
    oliver = _register(live, "oliver", "Oliver Chen")
    _call(live, priya, "POST", "/users/oliver/follow")
    post_id = _publish(live, priya, "Low tide, big finds #tidepools", "sunset")
    _publish(live, oliver, "Night market", "night")
    _until(lambda: _hashtag(live, sam, "tidepools").status_code == 200, "indexing #tidepools")

    # Nothing in Sam's feed yet: suggestions instead, with Follow buttons and the reason.
    page = _open(browser, live, sam, watcher, viewport=DESKTOP)
    page.goto("/")
    empty = page.locator(".suggestions-empty")
    expect(empty).to_contain_text("Suggested for you")
    expect(empty.locator("[data-follow='priya.r']")).to_have_text("Follow")
    expect(empty.locator("[data-person='priya.r']")).to_contain_text("Popular on Glint")
    _settle(page)
    page.screenshot(path=str(shots_dir / "discovery-empty-feed.png"))

    # Three letters of her name in the nav's box: one request after the pause, the typeahead.
    searches: list[str] = []

    def asked(request: Request) -> None:
        if "/api/v1/search?" in request.url:
            searches.append(request.url)

    page.on("request", asked)
    box = page.locator("#nav-search-input")
    box.press_sequentially("Pri", delay=40)
    listbox = page.locator("#nav-search-list")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    friend = listbox.locator("[role=option]").first
    expect(friend).to_contain_text("priya.r")
    expect(friend).to_contain_text("Priya Raman")
    assert len(searches) < 3, searches  # debounced, not one request per keystroke
    assert "q=Pri" in searches[-1] and "limit=8" in searches[-1]
    box.press("ArrowDown")
    expect(friend).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", friend.get_attribute("id") or "")
    page.screenshot(path=str(shots_dir / "discovery-typeahead.png"))
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    # Enter without a choice: the results page, where she is followed.
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=Pri$"))
    row = page.locator("[data-results=people] [data-person='priya.r']")
    expect(row).to_contain_text("Priya Raman")
    follow = row.locator("[data-follow='priya.r']")
    expect(follow).to_have_text("Follow")
    _settle(page)
    page.screenshot(path=str(shots_dir / "discovery-search.png"))
    follow.click()
    expect(follow).to_have_text("Following")
    expect(follow).to_have_attribute("aria-pressed", "true")
    relationship = _call(live, sam, "GET", "/users/priya.r")["relationship"]
    assert relationship["following"] is True

    # A hashtag from the typeahead, by keyboard: the hashtag page, followed from its header.
    box = page.locator("#nav-search-input")
    box.fill("")
    box.press_sequentially("tide", delay=40)
    tag = page.locator("#nav-search-list [role=option]").first
    expect(tag).to_contain_text("#tidepools")
    expect(tag).to_contain_text("1 post")
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url("**/explore/tags/tidepools")
    expect(page.locator("h1")).to_have_text("#tidepools")
    expect(page.locator("[data-hashtag-count]")).to_have_text("1")
    expect(page.locator(f".grid a[href='/p/{post_id}']")).to_be_visible()
    follow_tag = page.locator("[data-hashtag-follow='tidepools']")
    expect(follow_tag).to_have_text("Follow")
    follow_tag.click()
    expect(follow_tag).to_have_text("Following")
    assert _hashtag(live, sam, "tidepools").json()["following"] is True
    page.reload()
    expect(page.locator("[data-hashtag-follow='tidepools']")).to_have_text("Following")
    _settle(page)
    page.screenshot(path=str(shots_dir / "discovery-hashtag.png"))

    # A feed now: suggestions in the side column (wide screens), one dismissed for good.
    page.goto("/")
    aside = page.locator("[data-suggestions-aside]")
    expect(aside).to_be_visible()
    suggested = aside.locator("[data-person='oliver']")
    expect(suggested).to_contain_text("Followed by priya.r")
    expect(suggested.locator("[data-follow='oliver']")).to_have_text("Follow")
    _settle(page)
    page.screenshot(path=str(shots_dir / "discovery-home.png"))
    suggested.locator("[data-dismiss-suggestion='oliver']").click()
    expect(suggested).to_have_count(0)
    listed = _call(live, sam, "GET", "/suggestions/users")["items"]
    assert "oliver" not in [item["user"]["username"] for item in listed]
    assert watcher.problems == [], watcher.problems


def test_on_a_phone_the_magnifier_opens_the_search_page(
    browser: Browser, live: LiveServer, shots_dir: Path
) -> None:
    watcher = Watcher()
    lena = _register(live, "lena", "Lena Park")
    _register(live, "olga.k", "Olga Kowalska")
    page = _open(browser, live, lena, watcher, viewport=PHONE, color_scheme="dark")
    page.goto("/")
    expect(page.locator("#nav-search-input")).to_be_hidden()
    page.locator(".nav-search-link").click()
    page.wait_for_url("**/search")
    box = page.locator("#page-search-input")
    expect(box).to_be_focused()
    box.press_sequentially("olg", delay=40)
    option = page.locator("#page-search-list [role=option]").first
    expect(option).to_contain_text("olga.k")
    assert int(page.evaluate("document.documentElement.scrollWidth")) <= PHONE["width"]
    page.screenshot(path=str(shots_dir / "discovery-search-phone.png"))
    option.click()
    page.wait_for_url("**/olga.k")
    assert watcher.problems == [], watcher.problems
