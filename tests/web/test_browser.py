"""The web app in a real browser (Debian's Chromium, driven by Playwright) against a real
`glint serve` subprocess, embedded, with a data folder of its own (its in-process worker
processes the uploads).

Missing /usr/bin/chromium skips these tests with the reason, except under CI=true, where it
fails them. With GLINT_SCREENSHOTS=1 the screenshots of the main pages are written to
docs/screenshots/ (else to a temporary folder, so the steps still run).
"""

from __future__ import annotations

import io
import math
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw, ImageFilter
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.factories import images
from tests.live import LiveServer
from tests.web.conftest import live_server

pytestmark = pytest.mark.browser

PASSWORD = "a long password"
XSS = "<img src=x onerror=alert(1)>"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, on a free port, with explore recomputed often."""
    with live_server(tmp_path_factory, "web-live", GLINT_EXPLORE_REFRESH_SECONDS="1") as server:
        yield server


@dataclass
class Member:
    """A user made through the API of the live server."""

    username: str
    token: str
    csrf: str


@dataclass
class World:
    """Users and posts every test but the first can use."""

    alice: Member
    bob: Member
    carol: Member
    post_id: str
    xss_post_id: str


# In the upload page: the mean colour of the previewed photo drawn through the selected
# filter's SVG filter, and of the server's rendition (given its URL) drawn as it is.
MEAN_COLOURS = """async (renditionUrl) => {
  const mean = (source, filter) => {
    const canvas = document.createElement("canvas");
    canvas.width = 270;
    canvas.height = 202;
    const context = canvas.getContext("2d");
    context.filter = filter;
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const sums = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sums[c] += data[i + c];
    return sums.map((sum) => sum / (data.length / 4));
  };
  const preview = document.querySelector("[data-preview-main]");
  const chosen = document.querySelector('input[name="filter"]:checked').value;
  const rendition = await createImageBitmap(await (await fetch(renditionUrl)).blob());
  return [mean(preview, `url(#f-${chosen})`), mean(rendition, "none")];
}"""


# The mean colour of a blurhash as js/blurhash.js decodes it (averaged in linear light, where
# the mean is the hash's DC term: the average colour the server reads out of it).
BLURHASH_MEAN = """async ([url, hash]) => {
  const { decodeBlurhash } = await import(url);
  const size = 64;
  const pixels = decodeBlurhash(hash, size, size);
  const linear = (v) =>
    v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4;
  const srgb = (v) =>
    Math.round(255 * (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055));
  const sums = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 4) {
    for (let c = 0; c < 3; c++) sums[c] += linear(pixels[i + c]);
  }
  return sums.map((sum) => srgb(sum / (size * size)));
}"""


def _register(live: LiveServer, name: str, display_name: str = "") -> Member:
    response = httpx.post(
        f"{live.url}/api/v1/auth/register",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "password": PASSWORD,
            "display_name": display_name,
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Member(username=name, token=body["token"], csrf=body["csrf_token"])


def _scene(kind: str, width: int = 1080, height: int = 1080) -> bytes:
    """A simple painted landscape, so the screenshots show something like photos."""
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    horizon = int(height * 0.62)
    skies = {
        "sunset": ((255, 150, 70), (110, 40, 120)),
        "hills": ((170, 205, 235), (235, 240, 245)),
        "night": ((10, 20, 60), (40, 60, 120)),
        "lemons": ((40, 90, 160), (30, 70, 140)),
    }
    top, bottom = skies[kind]
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    if kind == "sunset":
        draw.ellipse(
            [width * 0.35, horizon - 170, width * 0.65, horizon + 150], fill=(255, 214, 120)
        )
        draw.rectangle([0, horizon, width, height], fill=(40, 30, 80))
        for i in range(12):
            y = horizon + 12 + i * 30
            draw.line(
                [(width * 0.4 - i * 8, y), (width * 0.6 + i * 8, y)], fill=(240, 160, 90), width=4
            )
    elif kind == "hills":
        for layer, colour in enumerate(((120, 170, 110), (80, 140, 80), (50, 105, 60))):
            base = horizon - 120 + layer * 110
            points = [
                (x, base - 60 * math.sin(x / 170 + layer * 1.7)) for x in range(0, width + 20, 20)
            ]
            draw.polygon([(0, height), *points, (width, height)], fill=colour)
    elif kind == "night":
        stars = random.Random(7)
        for _ in range(90):
            x, y = stars.randrange(width), stars.randrange(horizon)
            draw.ellipse([x, y, x + 3, y + 3], fill=(255, 255, 230))
        draw.ellipse([width * 0.68, 120, width * 0.82, 270], fill=(245, 240, 210))
        draw.rectangle([0, horizon + 80, width, height], fill=(15, 25, 45))
    else:
        for i, (x, y) in enumerate(((300, 330), (650, 420), (430, 700), (800, 760), (180, 760))):
            draw.ellipse(
                [x - 120, y - 90, x + 120, y + 90],
                fill=(250, 215, 60),
                outline=(200, 160, 20),
                width=6,
            )
            draw.ellipse([x + 60 + i, y - 130, x + 170, y - 70], fill=(70, 150, 70))
    out = io.BytesIO()
    img.filter(ImageFilter.GaussianBlur(2)).save(out, "JPEG", quality=88)
    return out.getvalue()


def _publish(
    live: LiveServer, member: Member, caption: str, scene: str | tuple[str, ...], **fields: str
) -> str:
    """A post through the API (one photo per scene), waited for until it is published."""
    auth = {"Authorization": f"Bearer {member.token}"}
    scenes = (scene,) if isinstance(scene, str) else scene
    response = httpx.post(
        f"{live.url}/api/v1/posts",
        files=[("image", ("photo.jpg", _scene(kind), "image/jpeg")) for kind in scenes],
        data={"caption": caption, **fields},
        headers=auth,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    post_id: str = response.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        post = httpx.get(f"{live.url}/api/v1/posts/{post_id}", headers=auth, timeout=30).json()
        if post["status"] == "published":
            return post_id
        assert post["status"] == "processing", post
        time.sleep(0.2)
    raise AssertionError(f"post {post_id} was not published in time")


def _call(live: LiveServer, member: Member, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method,
        f"{live.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=30,
        **kwargs,
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


@pytest.fixture(scope="module")
def world(live: LiveServer) -> World:
    """Alice posts (one caption an XSS attempt); Bob and Carol follow her, like and comment;
    Carol also posts in public."""
    alice = _register(live, "alice", "Alice Moreau")
    bob = _register(live, "bob", "Bob Lindqvist")
    carol = _register(live, "carol", "Carol Okafor")
    xss_post_id = _publish(live, alice, XSS, "night")
    _publish(live, alice, "Lemons from the market #still", "lemons", filter="valencia")
    post_id = _publish(
        live,
        alice,
        f"Morning light over the bay #sunrise #sea with @{bob.username}",
        "sunset",
        filter="clarendon",
        location_name="Saint-Malo",
    )
    for caption, scene in (("Fog over the hills #hiking", "hills"), ("Night swim", "night")):
        _publish(live, carol, caption, scene, filter="gingham")
    for member in (bob, carol):
        assert _call(live, member, "POST", f"/users/{alice.username}/follow") == {
            "status": "following"
        }
        _call(live, member, "POST", f"/posts/{post_id}/like")
    comment = _call(live, bob, "POST", f"/posts/{post_id}/comments", json={"text": "That light!"})
    _call(
        live,
        alice,
        "POST",
        f"/posts/{post_id}/comments",
        json={"text": f"@{bob.username} 5:40 am, worth it", "parent_id": comment["id"]},
    )
    _call(live, carol, "POST", f"/posts/{post_id}/comments", json={"text": "Framed print when?"})
    return World(alice=alice, bob=bob, carol=carol, post_id=post_id, xss_post_id=xss_post_id)


class Watcher:
    """Collects what a page must never do: script errors, CSP violations, dialogs."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.dialogs: list[str] = []

    def attach(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("dialog", self._dialog)
        return page

    def _console(self, message: Any) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def _context(
    browser: Browser, live: LiveServer, member: Member | None = None, **options: Any
) -> BrowserContext:
    context = browser.new_context(
        base_url=live.url, viewport=options.pop("viewport", DESKTOP), **options
    )
    context.set_default_timeout(20_000)
    if member is not None:
        context.add_cookies(
            [{"name": "glint_session", "value": member.token, "url": live.url, "httpOnly": True}]
        )
    return context


def _sign_up(page: Page, username: str) -> None:
    page.goto("/signup")
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=display_name]", username.title())
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _background(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


def _scroll_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _settle(page: Page) -> None:
    """Wait until the images in view have loaded (for screenshots)."""
    page.wait_for_function(
        """() => [...document.images]
                 .filter((img) => img.getBoundingClientRect().top < innerHeight)
                 .every((img) => img.complete && img.naturalWidth > 0)"""
    )


def test_two_people_share_like_comment_and_are_notified(
    browser: Browser, live: LiveServer, tmp_path: Path, shots_dir: Path
) -> None:
    watcher = Watcher()
    photo = tmp_path / "harbour.jpg"
    photo.write_bytes(images.jpeg(1200, 900))
    alice_name, bob_name = "maya", "leo"

    # A signs up and shares a photo with a filter; the page waits until it is published.
    a_context = _context(browser, live)
    a = watcher.attach(a_context.new_page())
    _sign_up(a, alice_name)
    a.goto("/new")
    a.set_input_files("[data-file-input]", str(photo))
    a.click("label.filter-option:has-text('Juno')")
    expect(a.locator("[data-preview-main]")).to_have_class(re.compile(r"\bfilter-juno\b"))
    a.fill("[data-caption]", "Golden hour at the harbour #harbour")
    a.fill("[data-alt-index='0']", "Boats in a harbour at sunset")
    a.fill("input[name=location_name]", "Old harbour")
    a.evaluate("window.scrollTo(0, 0)")
    a.screenshot(path=str(shots_dir / "upload.png"), full_page=True)
    a.click("[data-share]")
    expect(a.locator("[data-upload-status]")).to_have_text(
        "Your post has been shared.", timeout=60_000
    )
    post_link = a.locator("[data-post-link]").get_attribute("href")
    assert post_link and post_link.startswith("/p/")
    post_id = post_link.removeprefix("/p/")
    shared = a.request.get(f"/api/v1/posts/{post_id}").json()
    assert (shared["status"], shared["filter"]) == ("published", "juno")
    assert shared["media"][0]["alt_text"] == "Boats in a harbour at sunset"
    # The preview showed what the server made: the original drawn through the page's Juno
    # filter has the colours of the server's Juno rendition.
    preview, server = a.evaluate(MEAN_COLOURS, shared["media"][0]["jpeg_urls"]["large"])
    assert max(abs(p - q) for p, q in zip(preview, server, strict=True)) <= 4, (preview, server)

    # B signs up, follows A from A's profile, and finds the photo in the home feed.
    b_context = _context(browser, live)
    b = watcher.attach(b_context.new_page())
    _sign_up(b, bob_name)
    b.goto(f"/{alice_name}")
    follow = b.locator(f"[data-follow='{alice_name}']")
    expect(follow).to_have_text("Follow")
    follow.click()
    expect(follow).to_have_text("Following")
    expect(b.locator("[data-follower-count]")).to_have_text("1")
    card = b.locator(f"#post-{post_id}")
    deadline = time.monotonic() + 10
    b.goto("/")
    while card.count() == 0 and time.monotonic() < deadline:
        b.wait_for_timeout(500)
        b.reload()
    expect(card).to_be_visible()
    expect(card.locator("[data-caption]")).to_contain_text("Golden hour at the harbour")
    image = card.locator("img.photo").first
    expect(image).to_have_attribute("srcset", re.compile(r"320w, .* 640w, .* 1080w"))
    assert image.get_attribute("sizes")

    # Double-tap likes it: the heart bursts, the count goes up, and stays after a reload.
    count = card.locator(f"[data-like-count='{post_id}']")
    expect(count).to_have_text("0")
    card.locator("[data-media]").dblclick()
    expect(card.locator(".burst")).to_have_class(re.compile(r"\bis-playing\b"))
    expect(count).to_have_text("1")
    expect(card.locator(f"[data-like='{post_id}']")).to_have_attribute("aria-pressed", "true")
    b.wait_for_timeout(300)
    b.reload()
    expect(b.locator(f"[data-like-count='{post_id}']")).to_have_text("1")
    expect(b.locator(f"[data-like='{post_id}']")).to_have_attribute("aria-pressed", "true")

    # B comments from the card.
    card = b.locator(f"#post-{post_id}")
    card.locator("input[name=text]").fill("What a light! @" + alice_name)
    card.locator("form[data-comment-form] button[type=submit]").click()
    expect(card.locator("[data-new-comments]")).to_contain_text("What a light!")

    # A sees the unread badge, then the notifications; opening them clears the badge.
    badge = a.locator("[data-unread-badge]")
    deadline = time.monotonic() + 15
    a.goto("/")
    while not badge.is_visible() and time.monotonic() < deadline:
        a.wait_for_timeout(500)
        a.reload()
    expect(badge).to_be_visible()
    assert int(badge.inner_text().split()[0]) >= 1
    a.click("a.nav-item[href='/notifications']")
    notifications = a.locator(".notification")
    expect(a.locator(".notification[data-kind='comment']")).to_contain_text(
        f"{bob_name} commented: What a light!"
    )
    expect(a.locator(".notification[data-kind='like']")).to_contain_text(
        f"{bob_name} liked your post."
    )
    expect(a.locator(".notification[data-kind='follow']")).to_contain_text(
        f"{bob_name} started following you."
    )
    assert notifications.count() >= 3
    expect(a.locator(".notification.is-unread").first).to_be_visible()
    expect(badge).to_be_hidden()
    a.wait_for_timeout(300)
    a.reload()
    expect(a.locator("[data-unread-badge]")).to_be_hidden()

    # The post page shows the comment, and A replies to it.
    a.goto(post_link)
    expect(a.locator(".comment-list")).to_contain_text("What a light!")
    a.click(f"[data-reply-name='{bob_name}']")
    expect(a.locator("[data-replying]")).to_be_visible()
    a.locator("#comment").fill(f"@{bob_name} thank you!")
    a.click("form[data-comment-form] button[type=submit]")
    expect(a.locator(".replies .comment.is-reply")).to_contain_text("thank you!")
    a.reload()
    expect(a.locator(".replies .comment.is-reply")).to_contain_text("thank you!")
    a.goto(f"/{alice_name}")
    expect(a.locator(".grid .tile")).to_have_count(1)

    assert watcher.problems == []
    assert watcher.dialogs == []
    a_context.close()
    b_context.close()


def test_main_pages(browser: Browser, live: LiveServer, world: World, shots_dir: Path) -> None:
    """The feed, a post with its thread, a profile and notifications, as the README shows them."""
    watcher = Watcher()
    context = _context(browser, live, world.bob)
    page = watcher.attach(context.new_page())
    page.goto("/")
    card = page.locator(f"#post-{world.post_id}")
    expect(card).to_be_visible()
    expect(card.locator(f"[data-like-count='{world.post_id}']")).to_have_text("2")
    expect(card.locator(".view-comments")).to_have_text("View all 3 comments")
    _settle(page)
    page.screenshot(path=str(shots_dir / "feed.png"))
    page.goto(f"/p/{world.post_id}")
    expect(page.locator(".replies .comment")).to_contain_text("5:40 am, worth it")
    expect(page.locator(".comment-list > .thread")).to_have_count(2)
    _settle(page)
    page.screenshot(path=str(shots_dir / "post.png"))
    context.close()

    context = _context(browser, live, world.alice)
    page = watcher.attach(context.new_page())
    page.goto(f"/{world.alice.username}")
    expect(page.locator(".grid .tile")).to_have_count(3)
    expect(page.locator("[data-follower-count]")).to_have_text("2")
    _settle(page)
    page.screenshot(path=str(shots_dir / "profile.png"))
    deadline = time.monotonic() + 15  # notifications are made by background jobs
    while time.monotonic() < deadline:
        listed = _call(live, world.alice, "GET", "/notifications")["items"]
        if {item["kind"] for item in listed} >= {"like", "comment", "follow", "mention"}:
            break
        time.sleep(0.3)
    page.goto("/notifications")
    expect(page.locator(".notification[data-kind='like']")).to_contain_text(
        f"{world.carol.username} and {world.bob.username} liked your post."
    )
    _settle(page)
    page.screenshot(path=str(shots_dir / "notifications.png"))
    assert watcher.problems == []
    context.close()


def test_user_text_is_shown_as_text(browser: Browser, live: LiveServer, world: World) -> None:
    watcher = Watcher()
    context = _context(browser, live, world.bob)
    page = watcher.attach(context.new_page())
    for path in (f"/p/{world.xss_post_id}", "/", f"/{world.alice.username}"):
        page.goto(path)
        if path != f"/{world.alice.username}":
            expect(page.get_by_text(XSS).first).to_be_visible()
        assert page.locator("img[src='x']").count() == 0
    # A comment added by script goes through DOM building, not innerHTML: text again.
    page.goto(f"/p/{world.xss_post_id}")
    page.locator("#comment").fill("<img src=x onerror=alert(2)> nice")
    page.click("form[data-comment-form] button[type=submit]")
    expect(page.locator(".comment-list")).to_contain_text("<img src=x onerror=alert(2)> nice")
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(500)  # an onerror would have fired by now
    assert watcher.dialogs == []
    assert watcher.problems == []
    context.close()


def test_dark_mode_toggles_at_once_and_follows_the_os(
    browser: Browser, live: LiveServer, world: World, shots_dir: Path
) -> None:
    light = _context(browser, live, world.bob, color_scheme="light")
    page = light.new_page()
    page.goto("/")
    assert _background(page) == "rgb(250, 250, 250)"
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.evaluate("window.__stillHere = true")
    page.click("[data-theme-toggle]")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert _background(page) == "rgb(0, 0, 0)"
    assert page.evaluate("window.__stillHere") is True  # no reload happened
    page.wait_for_timeout(1200)  # let the first card's image and placeholder settle
    page.screenshot(path=str(shots_dir / "feed-dark.png"))
    page.reload()
    assert _background(page) == "rgb(0, 0, 0)"  # the choice is remembered
    page.click("[data-theme-toggle]")
    assert _background(page) == "rgb(250, 250, 250)"
    light.close()

    dark = _context(browser, live, color_scheme="dark")
    page = dark.new_page()
    page.goto("/login")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert _background(page) == "rgb(0, 0, 0)"
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(245, 245, 245)"
    page.emulate_media(color_scheme="light")  # the OS switches: so does the page, no reload
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert _background(page) == "rgb(250, 250, 250)"
    dark.close()


def test_pages_fit_a_360_pixel_phone(
    browser: Browser, live: LiveServer, world: World, shots_dir: Path
) -> None:
    context = _context(browser, live, world.bob, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    for path in ("/", f"/{world.alice.username}", f"/p/{world.post_id}", "/new", "/notifications"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert _scroll_width(page) <= 360, path
        if path == "/":
            page.screenshot(path=str(shots_dir / "feed-360.png"))
    # The tab bar is at the bottom on a phone, and still reachable.
    nav = page.locator("nav.nav")
    box = nav.bounding_box()
    assert box and box["y"] + box["height"] >= 740 - 2
    # Touch: a double tap on the photo likes it (Bob has not liked this one yet).
    page.goto(f"/p/{world.xss_post_id}")
    media = page.locator("[data-media]")
    count = page.locator(f"[data-like-count='{world.xss_post_id}']")
    before = int(count.inner_text())
    media.tap()
    media.tap()
    expect(count).to_have_text(str(before + 1))
    context.close()


def test_security_headers_and_csrf(browser: Browser, live: LiveServer, world: World) -> None:
    context = _context(browser, live, world.bob)
    page = context.new_page()
    for path in ("/", "/login", f"/p/{world.post_id}", f"/{world.alice.username}", "/new"):
        response = page.goto(path)
        assert response is not None
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "img-src 'self' data: blob:" in policy and "base-uri 'self'" in policy
    # Inline script is refused by the policy: the page cannot run what an attacker injects.
    page.goto("/login")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true'; document.body.append(s); }"""
    )
    assert page.evaluate("window.__injected === undefined")

    # The session cookie alone does not make a write: the CSRF token has to come with it.
    like_url = f"/api/v1/posts/{world.post_id}/like"
    refused = page.request.post(like_url)
    assert refused.status == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    from_page = page.evaluate(
        "async (url) => (await fetch(url, {method: 'POST'})).status", like_url
    )
    assert from_page == 403
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    accepted = page.request.post(like_url, headers={"X-CSRF-Token": token or ""})
    assert accepted.status == 200
    context.close()


def test_explore_and_sign_in_pages(
    browser: Browser, live: LiveServer, world: World, shots_dir: Path
) -> None:
    context = _context(browser, live, world.bob)
    page = context.new_page()
    tiles = page.locator(".grid-explore .tile")
    deadline = time.monotonic() + 45  # explore is recomputed in the background
    page.goto("/explore")
    # A post joins explore as it is published: wait for all three of Carol's.
    while tiles.count() < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.reload()
    expect(tiles.first).to_be_visible()
    links = [tiles.nth(i).get_attribute("href") for i in range(tiles.count())]
    assert len(links) >= 3  # Carol's three (and other public posts Bob doesn't follow)
    for followed in (world.post_id, world.xss_post_id):  # Alice's: in Bob's home feed instead
        assert f"/p/{followed}" not in links
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots_dir / "explore.png"))
    tiles.first.click()
    expect(page).to_have_url(re.compile(r"/p/\d+$"))
    context.close()

    signed_out = _context(browser, live)
    page = signed_out.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.screenshot(path=str(shots_dir / "login.png"))
    page.fill("input[name=login]", world.carol.username)
    page.fill("input[name=password]", "not the password")
    page.click("form button[type=submit]")
    expect(page.locator(".form-error")).to_have_text("Wrong username or password.")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("a.nav-item[href='/new']")).to_be_visible()
    signed_out.close()


# Last: Dave's thirteen posts push the others down Bob's feed.
def test_infinite_scroll_and_placeholders(browser: Browser, live: LiveServer, world: World) -> None:
    dave = _register(live, "dave", "Dave")
    for number in range(13):
        _publish(live, dave, f"Roll {number}", ("hills", "lemons", "night", "sunset")[number % 4])
    _call(live, world.bob, "POST", "/users/dave/follow")
    watcher = Watcher()
    context = _context(browser, live, world.bob)
    page = watcher.attach(context.new_page())

    # The profile grid: 12 tiles, then the 13th when the end of the grid comes into view.
    first_page = page.request.get("/dave").text()
    assert first_page.count('<a class="tile"') == 12
    assert 'class="sentinel" data-next="/dave/grid?cursor=' in first_page
    page.goto("/dave")
    tiles = page.locator(".grid .tile")
    page.locator(".grid .tile").last.scroll_into_view_if_needed()
    expect(tiles).to_have_count(13)
    expect(page.locator(".sentinel")).to_have_count(0)

    # The home feed: 10 cards, then the rest, each page's cards wired up like the first.
    assert page.request.get("/").text().count('<article class="card"') == 10
    page.goto("/")
    cards = page.locator("article.card")
    for _ in range(5):
        if page.locator(".feed-end").count():
            break
        page.mouse.wheel(0, 20_000)
        page.wait_for_timeout(400)
    expect(page.locator(".feed-end")).to_have_text("You\u2019re all caught up")
    assert cards.count() == 13 + 3  # Dave's and Alice's posts, each once
    ids = page.eval_on_selector_all("article.card", "(all) => all.map((card) => card.id)")
    assert len(set(ids)) == len(ids)
    appended = cards.nth(10)  # the first card of the second page: one of Dave's
    expect(appended).to_contain_text("dave")
    like = appended.locator("[data-like]")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()  # a card from an appended page works like the first ones
    expect(like).to_have_attribute("aria-pressed", "true")

    # Blurhash placeholders: the decoder in js/blurhash.js agrees with the server's average
    # colour, and every photo was given its placeholder.
    image = page.locator("img[data-blurhash]").first
    blurhash, average = image.get_attribute("data-blurhash"), image.get_attribute("data-avg")
    module_url = page.evaluate(
        "new URL('blurhash.js', document.querySelector('script[type=module]').src).href"
    )
    decoded = page.evaluate(BLURHASH_MEAN, [module_url, blurhash])
    assert average
    expected = [int(average[i : i + 2], 16) for i in (1, 3, 5)]
    assert max(abs(a - b) for a, b in zip(decoded, expected, strict=True)) <= 4, decoded
    assert page.eval_on_selector_all(
        "img[data-blurhash]", "(all) => all.every((img) => img.dataset.placeholder === '1')"
    )
    assert watcher.problems == []
    context.close()
