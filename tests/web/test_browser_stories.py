"""Stories in a real browser: Debian's Chromium against a real `glint serve` (embedded). One
person posts a story from the new-story page; a follower sees the gradient ring in the tray,
watches it in the viewer (the ring turns grey), replies from the viewer; the reply reaches
the author's inbox with the story quoted, and the follower appears in the story's viewer list.
Then the viewer's keys, taps, holds and swipes across two accounts, a wide photo letter-boxed,
and deleting a story with the in-page confirmation.

Every wait is a deadline (Playwright's expect), never a sleep. Like tests/web/test_browser.py
these need Debian's /usr/bin/chromium (skipped without it, failed under CI=true); with
GLINT_SCREENSHOTS=1 they write the stories screenshots to docs/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Request,
    expect,
)

from tests.live import LiveServer
from tests.web.conftest import live_server
from tests.web.test_browser import (
    PHONE,
    Member,
    Watcher,
    _call,
    _context,
    _register,
    _scene,
)
from tests.web.test_browser_messages import _open, _stream_open

pytestmark = pytest.mark.browser
LIVE = 10_000  # ms: how long something pushed over the stream may take to show
PROCESSED = 60_000  # ms: how long a photo may take to go through the pipeline


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, with a data folder of its own."""
    with live_server(tmp_path_factory, "web-stories") as server:
        yield server


# Story photos: portrait like a phone's, except one wide one (letter-boxed in the viewer).
_SIZES = {"hills": (1600, 900)}


def _post_story(live: LiveServer, member: Member, scene: str, **fields: str) -> str:
    """A story through the API (with a painted photo), waited for until it is live."""
    width, height = _SIZES.get(scene, (720, 1280))
    response = httpx.post(
        f"{live.url}/api/v1/stories",
        files=[("media", ("story.jpg", _scene(scene, width, height), "image/jpeg"))],
        data=fields,
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    story_id: str = response.json()["id"]
    deadline = time.monotonic() + PROCESSED / 1000
    while time.monotonic() < deadline:
        story = _call(live, member, "GET", f"/stories/{story_id}")
        if story["status"] == "published":
            return story_id
        assert story["status"] == "processing", story
        time.sleep(0.2)
    raise AssertionError(f"story {story_id} was not published in time")


def _circle(page: Page, username: str) -> Locator:
    return page.locator(f"[data-tray-user='{username}']")


def _ring(page: Page, username: str) -> Locator:
    return _circle(page, username).locator("[data-ring]")


def _viewer_ready(page: Page) -> None:
    """The viewer's script has taken over and the photo is on screen."""
    expect(page.locator("[data-story-viewer].is-live")).to_be_attached()
    expect(page.locator("[data-story-photo]")).to_be_visible()
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-story-photo]');"
        " return img.complete && img.naturalWidth > 0; }"
    )


def _paused(page: Page) -> None:
    expect(page.locator("[data-story-viewer]")).to_have_class(re.compile(r"\bis-paused\b"))
    page.wait_for_function(
        "() => document.getAnimations().length > 0"
        " && document.getAnimations().every((a) => a.playState === 'paused')"
    )


def test_post_watch_reply_and_see_who_viewed(
    browser: Browser, live: LiveServer, tmp_path: Path, shots_dir: Path
) -> None:
    watcher = Watcher()
    alice, bob = _register(live, "alice"), _register(live, "bob")
    _call(live, bob, "POST", "/users/alice/follow")
    _call(live, alice, "POST", "/users/bob/follow")  # so bob's reply reaches alice's inbox

    # Alice posts a story from the new-story page: "+" in her tray, preview, caption, share.
    a = _open(browser, live, alice, watcher)
    a.goto("/")
    own = _circle(a, "alice")
    expect(own.locator(".story-plus")).to_be_visible()
    own.locator("a").click()
    a.wait_for_url("**/stories/new")
    photo = tmp_path / "sunset.jpg"
    photo.write_bytes(_scene("sunset", 720, 1280))
    a.set_input_files("[data-story-file]", str(photo))
    expect(a.locator("[data-story-preview-photo]")).to_be_visible()
    a.fill("[data-story-caption]", "Golden hour at the pier <3")
    expect(a.locator("[data-story-preview-caption]")).to_have_text("Golden hour at the pier <3")
    a.fill("input[name=alt_text]", "The sun setting over the sea")
    polls: list[str] = []

    def asked(request: Request) -> None:
        if request.method == "GET" and re.search(r"/api/v1/stories/\d+$", request.url):
            polls.append(request.url)

    a.on("request", asked)
    _stream_open(a)
    a.click("[data-story-share]")
    expect(a.locator("[data-story-status-line]")).to_have_text(
        re.compile(r"Uploading|Processing|Your story is live")
    )
    a.wait_for_url(f"{live.url}/", timeout=PROCESSED)
    a.remove_listener("request", asked)
    assert polls == []  # the stream said it was published: the page never had to ask
    expect(_ring(a, "alice")).not_to_have_attribute("data-ring", "none")  # a ring, no "+"
    expect(_circle(a, "alice").locator(".story-plus")).to_have_count(0)

    # Bob sees alice's gradient ring, opens the viewer, and the story is marked seen.
    b = _open(browser, live, bob, watcher)
    b.goto("/")
    expect(_ring(b, "alice")).to_have_attribute("data-ring", "unseen")
    expect(_ring(b, "alice")).to_have_class(re.compile(r"\bring-unseen\b"))
    b.screenshot(path=str(shots_dir / "stories-tray.png"))
    with b.expect_response(re.compile(r"/api/v1/stories/\d+/view$")) as seen:
        _circle(b, "alice").locator("a").click()
    assert seen.value.status == 204
    b.wait_for_url(re.compile(r"/stories/alice/\d+$"))
    story_id = b.url.rsplit("/", 1)[1]
    _viewer_ready(b)
    expect(b.locator("[data-story-photo]")).to_have_attribute("alt", "The sun setting over the sea")
    expect(b.locator("[data-story-caption]")).to_have_text("Golden hour at the pier <3")
    expect(b.locator("[data-story-bars] .story-bar")).to_have_count(1)
    expect(b.locator("[data-story-owner]")).to_be_hidden()
    b.keyboard.press("Space")  # paused for the picture
    _paused(b)
    b.screenshot(path=str(shots_dir / "story-viewer.png"))
    # Escape closes (back home); a reload shows the ring grey.
    b.keyboard.press("Escape")
    b.wait_for_url(f"{live.url}/")
    b.reload()
    expect(_ring(b, "alice")).to_have_attribute("data-ring", "seen")
    expect(_ring(b, "alice")).to_have_class(re.compile(r"\bring-seen\b"))

    # Alice waits in her inbox; bob opens the story again and replies from the viewer
    # (typing pauses it); the reply is confirmed.
    a.goto("/direct/inbox")
    _stream_open(a)
    _circle(b, "alice").locator("a").click()
    _viewer_ready(b)
    reply = b.locator("[data-story-reply-text]")
    expect(reply).to_have_attribute("placeholder", "Reply to alice…")
    reply.click()
    _paused(b)
    reply.fill("What a sky!")
    with b.expect_response(re.compile(rf"/api/v1/stories/{story_id}/reply$")) as answered:
        reply.press("Enter")
    assert answered.value.status == 201
    expect(b.locator("[data-story-sent]")).to_have_text("Sent")
    expect(reply).to_have_value("")
    reply.click()  # stays paused for the next reply

    # The reply reaches alice's inbox (not her requests) at once; its thread quotes the story.
    row = a.locator(".conv", has_text="bob")
    expect(row).to_contain_text("Replied to a story: What a sky!", timeout=LIVE)
    expect(a.locator("[data-requests-count]")).to_have_text("")
    row.locator("a").click()
    a.wait_for_url(re.compile(r"/direct/t/\d+$"))
    message = a.locator(".msg.kind-story_reply", has_text="What a sky!")
    expect(message.locator(".msg-text")).to_have_text("What a sky!")
    expect(message.locator(f"a.story-quote[href^='/stories/alice/{story_id}'] img")).to_be_visible()
    _stream_open(a)
    # A second reply arrives live: js/story-quote.js fills its quote in.
    reply.fill("Those colours!")
    reply.press("Enter")
    expect(b.locator("[data-story-sent]")).to_have_text("Sent")
    live_quote = a.locator(".msg.kind-story_reply", has_text="Those colours!").locator(
        "a.story-quote img"
    )
    expect(live_quote).to_be_visible(timeout=LIVE)
    a.wait_for_function(
        "() => [...document.querySelectorAll('a.story-quote img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    b.keyboard.press("Escape")  # out of the reply box
    b.keyboard.press("Escape")  # out of the viewer
    b.wait_for_url(f"{live.url}/")

    # Alice opens her own story: 1 view, and bob in the viewer list.
    a.goto("/")
    _circle(a, "alice").locator("a").click()
    _viewer_ready(a)
    owner = a.locator("[data-story-owner]")
    expect(owner).to_be_visible()
    expect(a.locator("[data-story-reply]")).to_be_hidden()
    expect(a.locator("[data-story-views]")).to_have_text("1 view")
    with a.expect_response(re.compile(rf"/api/v1/stories/{story_id}/viewers")):
        a.click("[data-story-seen-by] summary")
    _paused(a)
    viewers = a.locator("[data-story-viewers]")
    expect(viewers.locator("a[href='/bob'] .username")).to_have_text("bob")
    a.screenshot(path=str(shots_dir / "story-viewers.png"))
    assert watcher.problems == []
    assert watcher.dialogs == []


def test_keys_taps_holds_swipes_and_deleting(browser: Browser, live: LiveServer) -> None:
    watcher = Watcher()
    carol, dave, erin = _register(live, "carol"), _register(live, "dave"), _register(live, "erin")
    for name in ("carol", "dave"):
        _call(live, erin, "POST", f"/users/{name}/follow")
    first = _post_story(live, carol, "night", caption="one")
    second = _post_story(live, carol, "lemons", caption="two")
    wide = _post_story(live, dave, "hills", caption="wide")  # the newest

    page = _open(browser, live, erin, watcher)
    page.goto("/")
    # Dave's story is the newest: his circle comes first (after erin's own "+"), then carol's.
    expect(page.locator("[data-tray-user]")).to_have_count(3)
    assert page.locator("[data-tray-user]").evaluate_all(
        "items => items.map((item) => item.dataset.trayUser)"
    ) == ["erin", "dave", "carol"]
    _circle(page, "dave").locator("a").click()
    page.wait_for_url(f"**/stories/dave/{wide}")
    _viewer_ready(page)
    expect(page.locator("[data-story-bars] .story-bar")).to_have_count(1)
    # The wide photo is shown whole, letter-boxed on black.
    fit = page.locator("[data-story-photo]").evaluate(
        "img => [getComputedStyle(img).objectFit, getComputedStyle(img).backgroundColor,"
        " img.naturalWidth > img.naturalHeight]"
    )
    assert fit == ["contain", "rgb(0, 0, 0)", True]

    # Space pauses and plays; holding the photo pauses until released, without moving on.
    page.keyboard.press("Space")
    _paused(page)
    expect(page.locator("[data-story-pause]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(page.locator("[data-story-viewer]")).not_to_have_class(re.compile(r"\bis-paused\b"))
    box = page.locator("[data-story-media]").bounding_box()
    assert box is not None
    right_x, middle_y = box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2
    left_x = box["x"] + box["width"] * 0.1
    page.mouse.move(right_x, middle_y)
    page.mouse.down()
    _paused(page)
    page.mouse.up()
    expect(page.locator("[data-story-viewer]")).not_to_have_class(re.compile(r"\bis-paused\b"))
    assert page.url.endswith(f"/stories/dave/{wide}")
    # A tap on the left of the very first story starts it over.
    page.mouse.click(left_x, middle_y)
    assert page.url.endswith(f"/stories/dave/{wide}")

    # A tap on the right goes on, to carol's first story; the arrow keys go on and back,
    # across accounts.
    page.mouse.click(right_x, middle_y)
    page.wait_for_url(f"**/stories/carol/{first}")
    expect(page.locator("[data-story-author]")).to_contain_text("carol")
    expect(page.locator("[data-story-caption]")).to_have_text("one")
    expect(page.locator("[data-story-bars] .story-bar")).to_have_count(2)
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/stories/carol/{second}")
    expect(page.locator("[data-story-caption]")).to_have_text("two")
    expect(page.locator("[data-story-bars] .story-bar.is-done")).to_have_count(1)
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/stories/carol/{first}")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/stories/dave/{wide}")
    expect(page.locator("[data-story-author]")).to_contain_text("dave")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/stories/carol/{first}")
    _viewer_ready(page)

    # A swipe down closes; every story shown was marked seen, so both rings are grey.
    page.mouse.move(right_x, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(right_x, box["y"] + 140, steps=4)
    page.mouse.move(right_x, box["y"] + 260, steps=4)
    page.mouse.up()
    page.wait_for_url(f"{live.url}/")
    page.reload()
    expect(_ring(page, "carol")).to_have_attribute("data-ring", "seen")
    expect(_ring(page, "dave")).to_have_attribute("data-ring", "seen")

    # Dave deletes his story from the viewer, confirming in the page (no browser dialog).
    d = _open(browser, live, dave, watcher, viewport=PHONE)
    d.goto(f"/stories/dave/{wide}")
    _viewer_ready(d)
    assert d.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    d.click("[data-story-delete-box] summary")
    _paused(d)
    with d.expect_response(re.compile(rf"/api/v1/stories/{wide}$")) as deleted:
        d.click("[data-story-delete] button[type=submit]")
    assert deleted.value.status == 204
    d.wait_for_url(f"{live.url}/")
    expect(_circle(d, "dave").locator(".story-plus")).to_be_visible()
    page.reload()
    expect(_circle(page, "dave")).to_have_count(0)
    assert watcher.problems == []
    assert watcher.dialogs == []

    # A refused upload is put in words (this page is not watched: Chromium logs the 415).
    refused = _context(browser, live, erin).new_page()
    refused.goto("/stories/new")
    refused.set_input_files(
        "[data-story-file]",
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo at all"}],
    )
    refused.click("[data-story-share]")
    expect(refused.locator("[data-story-error]")).to_have_text(
        "That file isn't a photo we can use. Choose a JPEG, PNG, WebP, HEIC or AVIF photo."
    )
    expect(refused.locator("[data-story-share]")).to_be_enabled()
    refused.context.close()
