"""Direct messages in a real browser: two people chat live in two Chromium contexts against a
real `glint serve` (embedded), with the stream carrying typing, messages, "Seen" and
reactions; a request accepted from its banner, a photo that finishes sending, "Send to…" from
a post card, live nav badges, and the new-post page learning of its publication from the
stream instead of polling.

Every wait is a deadline (Playwright's expect), never a sleep. Like tests/web/test_browser.py
these need Debian's /usr/bin/chromium (skipped without it, failed under CI=true).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Request,
    expect,
)

from tests.conftest import base_settings
from tests.factories import images
from tests.live import GlintProcess, LiveServer, settings_env
from tests.web.conftest import live_server
from tests.web.test_browser import (
    PHONE,
    Member,
    Watcher,
    _call,
    _context,
    _publish,
    _register,
)

pytestmark = pytest.mark.browser
LIVE = 10_000  # ms: how long something pushed over the stream may take to show


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, with a data folder of its own."""
    with live_server(tmp_path_factory, "web-direct") as server:
        yield server


def _open(
    browser: Browser, live: LiveServer, member: Member, watcher: Watcher, **kw: object
) -> Page:
    page = _context(browser, live, member, **kw).new_page()
    return watcher.attach(page)


def _stream_open(page: Page) -> None:
    """Wait until the page's stream socket is connected (js/stream.js marks <html>)."""
    expect(page.locator("html")).to_have_attribute("data-stream-open", "", timeout=LIVE)


def _bubble(page: Page, text: str) -> Locator:
    return page.locator(".msg", has=page.locator(".msg-text", has_text=text))


def test_two_people_chat_live(browser: Browser, live: LiveServer) -> None:
    watcher = Watcher()
    alice, bob = _register(live, "alice"), _register(live, "bob")
    _call(live, bob, "POST", "/users/alice/follow")  # so alice's messages are not a request

    # A starts the conversation from the new-message form and lands in its thread.
    a = _open(browser, live, alice, watcher)
    a.goto("/direct/new")
    a.fill("input[name=usernames]", "bob")
    a.click("form[data-new-conversation] button[type=submit]")
    a.wait_for_url(re.compile(r"/direct/t/\d+$"))
    conversation_id = a.url.rsplit("/", 1)[1]
    _stream_open(a)

    # B waits in the inbox; A's first message arrives there, with the unread badge.
    b = _open(browser, live, bob, watcher)
    b.goto("/direct/inbox")
    _stream_open(b)
    a.fill("[data-composer-text]", "hello bob")
    a.press("[data-composer-text]", "Enter")
    expect(_bubble(a, "hello bob")).to_have_attribute("data-message", re.compile(r"^\d+$"))
    row = b.locator(f"[data-conversation='{conversation_id}']")
    expect(row).to_contain_text("hello bob", timeout=LIVE)
    expect(row).to_have_class(re.compile(r"\bis-unread\b"))
    expect(b.locator("[data-messages-badge]")).to_have_text(re.compile(r"^1"), timeout=LIVE)

    # B opens it: the message is there, B's reading reaches A as "Seen", B's badge clears.
    row.locator("a").click()
    b.wait_for_url(f"**/direct/t/{conversation_id}")
    expect(_bubble(b, "hello bob")).to_be_visible()
    _stream_open(b)
    expect(a.locator("[data-seen]")).to_have_text("Seen", timeout=LIVE)
    expect(b.locator("[data-messages-badge]")).to_be_hidden(timeout=LIVE)
    beside = b.locator(f"[data-conversation='{conversation_id}']")  # the list by the thread
    expect(beside.locator("a")).to_have_attribute("aria-current", "page")
    expect(beside).not_to_have_class(re.compile(r"\bis-unread\b"), timeout=LIVE)

    # A types: B sees "typing…" (and it goes when A's message arrives).
    typing = b.locator("[data-typing]")
    expect(typing).to_be_hidden()
    a.type("[data-composer-text]", "are you there?", delay=30)
    expect(typing).to_be_visible(timeout=LIVE)
    expect(typing).to_contain_text("typing…")
    expect(a.locator("[data-seen]")).to_be_visible()  # the newest message is still A's, seen

    # A sends: B sees it without reloading, the typing line goes, and "Seen" comes back to A
    # once B (looking at the thread) has read it.
    a.press("[data-composer-text]", "Enter")
    second = _bubble(b, "are you there?")
    expect(second).to_be_visible(timeout=LIVE)
    expect(typing).to_be_hidden()
    expect(a.locator("[data-seen]")).to_have_text("Seen", timeout=LIVE)

    # B double-taps A's message: A sees the ❤️ under it.
    second.locator("[data-bubble]").dblclick()
    expect(second.locator(".reaction.is-mine")).to_have_text("❤️", timeout=LIVE)
    on_a = _bubble(a, "are you there?")
    expect(on_a.locator("[data-reactions]")).to_contain_text("❤️", timeout=LIVE)

    # B answers with a reaction from the long-press menu on A's first message...
    first_on_b = _bubble(b, "hello bob")
    first_on_b.locator("[data-bubble]").click(delay=700)  # a long press
    menu = b.locator("[data-reaction-menu]")
    expect(menu).to_be_visible()
    expect(menu.locator("[data-unsend]")).to_be_hidden()  # not B's to unsend
    menu.locator("[data-react='😂']").click()
    expect(_bubble(a, "hello bob").locator("[data-reactions]")).to_contain_text("😂", timeout=LIVE)
    # ...and a heart; A unsends "hello bob", which leaves B's thread too.
    b.fill("[data-composer-text]", "")
    b.click("[data-send-heart]")
    expect(a.locator(".msg.kind-heart:not(.is-mine)")).to_have_count(1, timeout=LIVE)
    _bubble(a, "hello bob").locator("[data-msg-menu]").click()
    a.locator("[data-reaction-menu] [data-unsend]").click()
    expect(_bubble(a, "hello bob")).to_have_count(0)
    expect(_bubble(b, "hello bob")).to_have_count(0, timeout=LIVE)

    # What the stream showed is what the server has: a reload shows the same thread.
    b.reload()
    expect(_bubble(b, "are you there?").locator(".reaction.is-mine")).to_have_text("❤️")
    expect(_bubble(b, "hello bob")).to_have_count(0)
    assert watcher.problems == []
    assert watcher.dialogs == []


def test_a_request_a_shared_post_and_a_photo(
    browser: Browser, live: LiveServer, tmp_path: Path
) -> None:
    watcher = Watcher()
    dana, erin = _register(live, "dana"), _register(live, "erin")
    post_id = _publish(live, dana, "Lighthouse at noon #sea", "hills")

    # Erin (a stranger to dana's followers) sends dana's public post to dana herself from the
    # post page's "Send to…": a message request for dana.
    e = _open(browser, live, erin, watcher)
    e.goto(f"/p/{post_id}")
    e.click(f"[data-share-post='{post_id}']")
    dialog = e.locator("[data-share-dialog]")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=username]").fill("dana")
    dialog.locator("[data-share-to] button[type=submit]").click()
    expect(dialog).to_be_hidden(timeout=LIVE)
    expect(e.locator("[data-toast]")).to_have_text("Sent.")

    # Dana finds it among her requests, with the post as a card, and accepts.
    d = _open(browser, live, dana, watcher)
    d.goto("/direct/inbox")
    expect(d.locator("[data-requests-count]")).to_have_text(" (1)")
    d.click("a[href='/direct/requests']")
    d.locator(".conv-link").first.click()
    d.wait_for_url(re.compile(r"/direct/t/\d+$"))
    card = d.locator(f".shared-post[href='/p/{post_id}']")
    expect(card).to_contain_text("Lighthouse at noon")
    banner = d.locator("[data-request-banner]")
    expect(banner).to_contain_text("erin wants to send you a message")
    banner.locator("button[type=submit]").click()
    expect(banner).to_have_count(0)
    expect(d.locator("[data-requests-count]")).to_have_text("", timeout=LIVE)

    # Dana answers with a photo: it shows as sending, then as the processed photo, on both
    # sides. Erin's thread was open all along.
    e.goto(d.url.replace(live.url, ""))
    _stream_open(e)
    _stream_open(d)
    photo = tmp_path / "boat.jpg"
    photo.write_bytes(images.jpeg(800, 600))
    d.set_input_files("[data-photo-input]", str(photo))
    mine = d.locator(".msg.kind-image.is-mine")
    expect(mine.locator("[data-sending]")).to_be_visible()
    expect(mine.locator("img.msg-photo:not(.is-local)")).to_be_visible(timeout=60_000)
    expect(mine).to_have_attribute("data-status", "published")
    theirs = e.locator(".msg.kind-image:not(.is-mine) img.msg-photo")
    expect(theirs).to_be_visible(timeout=60_000)
    assert theirs.evaluate("img => img.complete && img.naturalWidth > 0")

    # A like on dana's post reaches her notifications badge without a reload.
    badge = d.locator("[data-unread-badge]")
    expect(badge).to_be_hidden()
    _call(live, erin, "POST", f"/posts/{post_id}/like")
    expect(badge).to_have_text(re.compile(r"^1"), timeout=LIVE)
    assert watcher.problems == []


def test_a_new_post_is_published_over_the_stream(
    browser: Browser, live: LiveServer, tmp_path: Path
) -> None:
    watcher = Watcher()
    fay = _register(live, "fay")
    page = _open(browser, live, fay, watcher, viewport=PHONE)
    polls: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "GET" and re.search(r"/api/v1/posts/\d+$", request.url):
            polls.append(request.url)

    page.on("request", seen)
    page.goto("/new")
    _stream_open(page)
    photo = tmp_path / "field.jpg"
    photo.write_bytes(images.jpeg(1000, 800))
    page.set_input_files("[data-file-input]", str(photo))
    page.click("[data-share]")
    expect(page.locator("[data-upload-status]")).to_have_text(
        "Your post has been shared.", timeout=60_000
    )
    # The stream said so: the page never had to ask for the post.
    assert polls == []
    # The messages pages fit a phone: the list alone, then the thread alone.
    page.goto("/direct/inbox")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator(".direct-list")).to_be_visible()
    expect(page.locator(".direct-pane")).to_be_hidden()
    assert watcher.problems == []


class _ServerOnPort(LiveServer):
    """`glint serve` on a given port (to come back where the pages expect it)."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        GlintProcess.__init__(self, env, "serve", "--port", str(port))


def test_the_stream_comes_back_after_a_restart_and_replays_what_was_missed(
    browser: Browser, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = settings_env(base_settings(data))
    server: LiveServer = LiveServer(env)
    server.wait_ready(timeout=120)
    try:
        gil, hal = _register(server, "gil"), _register(server, "hal")
        _call(server, hal, "POST", "/users/gil/follow")
        chat = _call(server, gil, "POST", "/conversations", json={"usernames": ["hal"]})
        _call(server, gil, "POST", f"/conversations/{chat['id']}/messages", json={"text": "one"})
        page = _context(browser, server, hal).new_page()
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.goto(f"/direct/t/{chat['id']}")
        _stream_open(page)
        _call(server, gil, "POST", f"/conversations/{chat['id']}/messages", json={"text": "two"})
        expect(_bubble(page, "two")).to_be_visible(timeout=LIVE)

        # The server goes away and comes back on the same port; a message sent at once is
        # there when the page has reconnected by itself (with since=, after a backoff).
        server.stop()
        expect(page.locator("html")).not_to_have_attribute("data-stream-open", "")
        server = _ServerOnPort(env, server.port)
        server.wait_ready(timeout=120)
        _call(server, gil, "POST", f"/conversations/{chat['id']}/messages", json={"text": "three"})
        expect(_bubble(page, "three")).to_be_visible(timeout=60_000)
        _stream_open(page)
        assert len(sockets) >= 2
        assert all("since=" in url for url in sockets), sockets
        page.context.close()
    finally:
        server.stop()
