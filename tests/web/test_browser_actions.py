"""The everyday actions in a real browser (Debian's Chromium, driven by Playwright) against a
real `glint serve` (embedded): block and mute from a profile's "…" menu, edit a caption, delete
a post after the confirmation, like and delete a comment, the likers list, Follow back from a
notification, report a post from its menu; and the bugs of issue 15 that only a browser shows
("1 followers" after following, a new comment without its avatar, HEIC thumbnails, the
composer on a 360 px phone, times in the reader's own time zone).

Every wait is a deadline (Playwright's expect), never a sleep. Like tests/web/test_browser.py
these need Debian's /usr/bin/chromium (skipped without it, failed under CI=true).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.factories import images
from tests.live import LiveServer
from tests.web.conftest import live_server
from tests.web.test_accessibility import THEMES, WIDTHS, axe_results, describe
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    Member,
    Watcher,
    _call,
    _context,
    _publish,
    _register,
)

pytestmark = pytest.mark.browser

# The elements that reach past the right edge of the screen (to name them when one does).
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('*')]
  .filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
  .slice(0, 8)
  .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""

# js/time.js's labels for times 1 h, 5 min, 2 days and 10 days before a fixed moment.
RELATIVE_LABELS = """async () => {
  const app = document.querySelector('script[type=module]').src;
  const { relativeLabel } = await import(app.replace('app.js', 'time.js'));
  const now = new Date('2026-06-15T12:00:00Z');
  const agos = [3600e3, 5 * 60e3, 2 * 86400e3, 10 * 86400e3];
  return agos.map((ago) => relativeLabel(new Date(now - ago), now));
}"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, with a data folder of its own."""
    with live_server(tmp_path_factory, "web-actions") as server:
        yield server


def _open(
    browser: Browser, live: LiveServer, member: Member, watcher: Watcher, **options: Any
) -> Page:
    return watcher.attach(_context(browser, live, member, **options).new_page())


def _status(live: LiveServer, member: Member, path: str) -> int:
    response = httpx.get(
        f"{live.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=30,
    )
    return response.status_code


def _menu(page: Page, scope: str = "body") -> Any:
    """Open the "…" menu inside `scope`; its list of items."""
    menu = page.locator(f"{scope} details[data-more-menu]").first
    menu.locator("summary").click()
    items = menu.locator(".more-list")
    expect(items).to_be_visible()
    return items


def test_block_and_mute_from_a_profile_menu(browser: Browser, live: LiveServer) -> None:
    watcher = Watcher()
    ana, ben = _register(live, "ana"), _register(live, "ben")
    _call(live, ben, "POST", "/users/ana/follow")
    page = _open(browser, live, ben, watcher, viewport=PHONE)
    page.goto("/ana")
    items = _menu(page, ".profile-head")
    expect(items.locator(".more-item")).to_have_text(["Block", "Mute", "Report"])
    items.get_by_role("button", name="Mute").click()
    expect(page.locator(".profile-head .more-item[data-graph-action='unmute']")).to_have_count(1)
    assert _call(live, ben, "GET", "/users/ana")["relationship"]["muting"] is True

    _menu(page, ".profile-head").get_by_role("button", name="Block").click()
    expect(page.locator("[data-follow='ana']")).to_have_text("Unblock")
    relationship = _call(live, ben, "GET", "/users/ana")["relationship"]
    assert (relationship["blocking"], relationship["following"]) == (True, False)
    # Escape closes an open menu and gives the focus back to its button.
    _menu(page, ".profile-head")
    page.keyboard.press("Escape")
    expect(page.locator(".profile-head details[data-more-menu]")).not_to_have_attribute("open", "")
    expect(page.locator(".profile-head details[data-more-menu] summary")).to_be_focused()
    _menu(page, ".profile-head").get_by_role("button", name="Unblock").click()
    expect(page.locator("[data-follow='ana']")).to_have_text("Follow")
    assert _call(live, ben, "GET", "/users/ana")["relationship"]["blocking"] is False
    assert _call(live, ana, "GET", "/users/ben")["relationship"]["followed_by"] is False
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()


def test_edit_a_caption_then_delete_the_post_after_confirming(
    browser: Browser, live: LiveServer
) -> None:
    watcher = Watcher()
    cleo = _register(live, "cleo")
    post_id = _publish(live, cleo, "Fist draft", "hills")
    page = _open(browser, live, cleo, watcher, viewport=PHONE)
    page.goto(f"/p/{post_id}")
    _menu(page, ".post-detail").get_by_role("link", name="Edit caption").click()
    dialog = page.locator("dialog[data-action-dialog]")
    expect(dialog.get_by_role("heading")).to_have_text("Edit caption")
    caption = dialog.locator("textarea[name=caption]")
    expect(caption).to_have_value("Fist draft")
    caption.fill("First light on the hills #hiking")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".caption-block")).to_contain_text("First light on the hills #hiking")
    expect(page.locator(".caption-block")).to_contain_text("Edited")
    assert _call(live, cleo, "GET", f"/posts/{post_id}")["hashtags"] == ["hiking"]

    # Delete asks first; Cancel keeps the post.
    _menu(page, ".post-detail").get_by_role("link", name="Delete").click()
    expect(dialog.get_by_role("heading")).to_have_text("Delete post?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert _status(live, cleo, f"/posts/{post_id}") == 200
    _menu(page, ".post-detail").get_by_role("link", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/cleo$"))
    assert _status(live, cleo, f"/posts/{post_id}") == 404
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()


def test_like_and_delete_a_comment(browser: Browser, live: LiveServer) -> None:
    watcher = Watcher()
    dora, eli = _register(live, "dora"), _register(live, "eli")
    post_id = _publish(live, dora, "Tide pools", "sunset")
    page = _open(browser, live, eli, watcher)
    page.goto(f"/p/{post_id}")
    page.locator("#comment").fill("Look at that starfish")
    page.click("form[data-comment-form] button[type=submit]")
    fresh = page.locator(".comment-list .comment", has_text="Look at that starfish")
    expect(fresh).to_be_visible()
    # The comment just posted has its author's avatar at once, as after a reload.
    expect(fresh.locator(".comment-avatar .avatar")).to_be_visible()
    comment_id = fresh.get_attribute("id", timeout=5000) or ""
    comment_id = comment_id.removeprefix("c-")

    dora_page = _open(browser, live, dora, watcher)
    dora_page.goto(f"/p/{post_id}")
    heart = dora_page.locator(f"[data-comment-like='{comment_id}']")
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(dora_page.locator(f"[data-comment-likes='{comment_id}']")).to_have_text("1 like")
    dora_page.reload()
    expect(dora_page.locator(f"[data-comment-like='{comment_id}']")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The post's author deletes it (Delete sits in the comment's line: its form is inside it).
    meta = dora_page.locator(f"#c-{comment_id} .comment-meta")
    expect(meta.locator(f"[data-delete-comment='{comment_id}']")).to_have_count(1)
    expect(meta.get_by_role("link", name="Report")).to_have_count(1)
    dora_page.locator(f"[data-delete-comment='{comment_id}']").click()
    expect(dora_page.locator(f"#c-{comment_id}")).to_have_count(0)
    comments = _call(live, dora, "GET", f"/posts/{post_id}/comments")["items"]
    assert comments == []
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()
    dora_page.context.close()


def test_the_post_menu_in_the_feed(browser: Browser, live: LiveServer, shots_dir: Path) -> None:
    watcher = Watcher()
    rae, sam, tom = _register(live, "rae"), _register(live, "sam"), _register(live, "tom")
    sams = _publish(live, sam, "Sam's boat", "sunset")
    toms = _publish(live, tom, "Tom's hills", "hills")
    own = _publish(live, rae, "My lemons", "lemons")
    for member in (sam, tom):
        _call(live, rae, "POST", f"/users/{member.username}/follow")
    page = _open(browser, live, rae, watcher, viewport=PHONE)
    deadline = time.monotonic() + 10  # fan-out to the home feed is a job
    page.goto("/")
    while page.locator(".card").count() < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.reload()
    expect(page.locator(".card")).to_have_count(3)
    _menu(page, f"#post-{sams}")
    page.screenshot(path=str(shots_dir / "post-menu-360.png"))
    page.keyboard.press("Escape")

    # Mute from a card: the item turns into Unmute, the focus stays on the menu's button.
    _menu(page, f"#post-{sams}").get_by_role("button", name="Mute sam").click()
    expect(page.locator(f"#post-{sams} details[data-more-menu] summary")).to_be_focused()
    expect(page.locator(f"#post-{sams} [data-graph-action='unmute']")).to_have_text("Unmute sam")
    assert _call(live, rae, "GET", "/users/sam")["relationship"]["muting"] is True
    # Block from a card: the author's posts leave the feed.
    _menu(page, f"#post-{toms}").get_by_role("button", name="Block tom").click()
    expect(page.locator(f"#post-{toms}")).to_have_count(0)
    expect(page.locator(".card .card-author:focus")).to_have_count(1)
    assert _call(live, rae, "GET", "/users/tom")["relationship"]["blocking"] is True
    # Delete one's own post from its card, after the confirmation.
    _menu(page, f"#post-{own}").get_by_role("link", name="Delete").click()
    page.locator("dialog[data-action-dialog]").get_by_role("button", name="Delete").click()
    expect(page.locator(f"#post-{own}")).to_have_count(0)
    assert _status(live, rae, f"/posts/{own}") == 404
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()


def test_the_likers_list_and_following_from_it(
    browser: Browser, live: LiveServer, shots_dir: Path
) -> None:
    watcher = Watcher()
    fay, gus, hal = _register(live, "fay"), _register(live, "gus"), _register(live, "hal")
    post_id = _publish(live, fay, "Market day", "lemons")
    for member in (gus, hal):
        _call(live, member, "POST", f"/posts/{post_id}/like")
    page = _open(browser, live, gus, watcher, viewport=PHONE)
    page.goto(f"/p/{post_id}")
    page.locator(f"a[data-likers='{post_id}']").click()
    dialog = page.locator("dialog[data-action-dialog]")
    expect(dialog.get_by_role("heading")).to_have_text("Likes")
    expect(dialog.locator(".user-row .username")).to_have_text(["hal", "gus"])
    follow = dialog.locator("[data-follow='hal']")
    expect(follow).to_have_text("Follow")
    follow.click()
    expect(follow).to_have_text("Following")
    assert _call(live, gus, "GET", "/users/hal")["relationship"]["following"] is True
    page.screenshot(path=str(shots_dir / "likers-360.png"))
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"a[data-likers='{post_id}']")).to_be_focused()
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()


def _until_notified(live: LiveServer, member: Member, kind: str) -> None:
    deadline = time.monotonic() + 20  # notifications are made by background jobs
    while time.monotonic() < deadline:
        if any(n["kind"] == kind for n in _call(live, member, "GET", "/notifications")["items"]):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {kind} notification in time")


def test_follow_back_from_a_notification_and_counts_say_one_follower(
    browser: Browser, live: LiveServer
) -> None:
    watcher = Watcher()
    ida, jon = _register(live, "ida"), _register(live, "jon")
    # Jon follows Ida from her profile: the count and its word change together.
    page = _open(browser, live, jon, watcher, viewport=PHONE)
    page.goto("/ida")
    expect(page.locator(".profile-counts")).to_contain_text("0 followers")
    page.locator("[data-follow='ida']").click()
    expect(page.locator("[data-follow='ida']")).to_have_text("Following")
    expect(page.locator(".profile-counts li").nth(1)).to_have_text("1 follower")
    page.locator("[data-follow='ida']").click()
    expect(page.locator(".profile-counts li").nth(1)).to_have_text("0 followers")
    page.locator("[data-follow='ida']").click()
    expect(page.locator(".profile-counts li").nth(1)).to_have_text("1 follower")

    _until_notified(live, ida, "follow")
    ida_page = _open(browser, live, ida, watcher, viewport=PHONE)
    ida_page.goto("/notifications")
    row = ida_page.locator(".notification[data-kind='follow']")
    expect(row).to_contain_text("jon started following you.")
    back = row.locator("[data-follow='jon']")
    expect(back).to_have_text("Follow back")
    back.click()
    expect(back).to_have_text("Following")
    assert _call(live, ida, "GET", "/users/jon")["relationship"]["following"] is True

    # A private account approves a request from its notification, which then reads as a
    # follow and offers to follow back.
    kim = _register(live, "kim")
    _call(live, kim, "PATCH", "/users/me", json={"is_private": True})
    _call(live, jon, "POST", "/users/kim/follow")
    _until_notified(live, kim, "follow_request")
    kim_page = _open(browser, live, kim, watcher, viewport=PHONE)
    kim_page.goto("/notifications")
    request = kim_page.locator(".notification", has_text="jon requested to follow you.")
    request.get_by_role("button", name="Confirm").click()
    expect(kim_page.locator(".notification", has_text="jon started following you.")).to_be_visible()
    expect(kim_page.locator(".notification [data-follow='jon']")).to_have_text("Follow back")
    kim_page.reload()
    expect(kim_page.locator(".notification", has_text="jon started following you.")).to_be_visible()
    assert _call(live, jon, "GET", "/users/kim")["relationship"]["following"] is True
    assert watcher.problems == [] and watcher.dialogs == []
    for each in (page, ida_page, kim_page):
        each.context.close()


def test_report_a_post_from_its_menu(browser: Browser, live: LiveServer, shots_dir: Path) -> None:
    watcher = Watcher()
    lea, max_ = _register(live, "lea"), _register(live, "max")
    post_id = _publish(live, lea, "Cheap sunglasses, click here", "sunset")
    _call(live, max_, "POST", "/users/lea/follow")
    page = _open(browser, live, max_, watcher, viewport=PHONE)
    page.goto("/")
    card = page.locator(f"#post-{post_id}")
    expect(card).to_be_visible()
    _menu(page, f"#post-{post_id}").get_by_role("link", name="Report").click()
    dialog = page.locator("dialog[data-action-dialog]")
    expect(dialog.get_by_role("heading")).to_have_text("Report this post")
    dialog.get_by_label("It's spam").check()
    dialog.locator("textarea[name=text]").fill("Links to a shop")
    page.screenshot(path=str(shots_dir / "report-360.png"))
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog.get_by_role("heading")).to_have_text("Thanks for reporting")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    again = httpx.post(
        f"{live.url}/api/v1/reports",
        json={"target_type": "post", "target_id": post_id, "reason": "spam"},
        headers={"Authorization": f"Bearer {max_.token}"},
        timeout=30,
    )
    assert again.status_code == 200 and again.json()["text"] == "Links to a shop"
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()


def test_the_composer_fits_a_phone_and_previews_heic(
    browser: Browser, live: LiveServer, tmp_path: Path
) -> None:
    watcher = Watcher()
    nia = _register(live, "nia")
    wide = tmp_path / "wide.jpg"
    wide.write_bytes(images.jpeg(2400, 1200))
    heic = tmp_path / "IMG_0420.HEIC"
    heic.write_bytes(images.encoded("HEIF", 1600, 1200))
    page = _open(browser, live, nia, watcher, viewport=PHONE)
    page.goto("/new")
    page.set_input_files("[data-file-input]", [str(wide), str(heic)])
    expect(page.locator("[data-preview-strip] li")).to_have_count(2)
    # The HEIC photo's thumbnails are the server's JPEG preview, drawn (no broken image).
    heic_thumb = page.locator("[data-preview-strip] [data-index='1'] img")
    expect(heic_thumb).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-preview-strip] img, [data-alt-list] img')]
                 .every((img) => img.complete && img.naturalWidth > 0)"""
    )
    page.locator("[data-preview-strip] [data-index='1']").click()
    expect(page.locator("[data-preview-main]")).to_be_visible()
    expect(page.locator("[data-preview-unsupported]")).to_be_hidden()
    # Nothing is wider than the phone, and the bottom navigation stays on screen.
    widths = page.evaluate(
        """() => ({
          doc: document.documentElement.scrollWidth,
          upload: document.querySelector('[data-upload]').getBoundingClientRect().width,
          nav: document.querySelector('.nav').getBoundingClientRect().toJSON(),
        })"""
    )
    wide_ones = page.evaluate(WIDER_THAN_THE_SCREEN)
    assert widths["doc"] <= PHONE["width"], (widths, wide_ones)
    assert widths["upload"] <= PHONE["width"], widths
    assert widths["nav"]["left"] >= 0 and widths["nav"]["right"] <= PHONE["width"], widths
    assert widths["nav"]["bottom"] <= PHONE["height"], widths
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()


def test_times_are_shown_in_the_readers_time_zone(browser: Browser, live: LiveServer) -> None:
    watcher = Watcher()
    oli = _register(live, "oli")
    post_id = _publish(live, oli, "Night market", "night")
    page = _open(browser, live, oli, watcher, viewport=DESKTOP, timezone_id="Asia/Tokyo")
    page.goto(f"/p/{post_id}")
    stamp = page.locator(".card-head time")
    expect(stamp).to_have_text(re.compile(r"^(just now|\d+m)$"))
    iso = stamp.get_attribute("datetime") or ""
    local = dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Tokyo"))
    hour = local.strftime("%-I:%M")
    title = (stamp.get_attribute("title") or "").replace("\u202f", " ")
    assert hour in title and "UTC" not in title, title
    assert f"{local:%B} {local.day}, {local.year}" in title
    footer = page.locator(".post-detail-foot time[data-abs]")
    expect(footer).to_contain_text(hour)
    # An hour-old time reads "1h", whatever the server wrote.
    older = page.evaluate(RELATIVE_LABELS)
    assert older == ["1h", "5m", "2d", "1w"]
    assert watcher.problems == [] and watcher.dialogs == []
    page.context.close()


def test_the_menus_dialogs_and_their_pages_pass_axe(browser: Browser, live: LiveServer) -> None:
    """axe-core (as tests/web/test_accessibility.py runs it) on every state this module adds:
    the open menus, each dialog, and the pages behind them without JS, at 360 px and desktop,
    light and dark."""
    pia, quinn = _register(live, "pia"), _register(live, "quinn")
    post_id = _publish(live, pia, "Harbour walls", "hills")
    _call(live, quinn, "POST", f"/posts/{post_id}/like")
    comment = _call(live, quinn, "POST", f"/posts/{post_id}/comments", json={"text": "Lovely"})
    states: list[tuple[Member, str, Any]] = [
        (pia, f"/p/{post_id}", lambda page: _menu(page, ".post-detail")),
        (quinn, f"/p/{post_id}", lambda page: _menu(page, ".post-detail")),
        (quinn, "/pia", lambda page: _menu(page, ".profile-head")),
        (pia, f"/p/{post_id}", lambda page: _dialog(page, ".post-detail", "Edit caption")),
        (pia, f"/p/{post_id}", lambda page: _dialog(page, ".post-detail", "Delete")),
        (quinn, f"/p/{post_id}", lambda page: _dialog(page, ".post-detail", "Report")),
        (pia, f"/p/{post_id}", _likers_dialog),
        (pia, f"/p/{post_id}/edit", None),
        (pia, f"/p/{post_id}/delete", None),
        (quinn, f"/p/{post_id}/report", None),
        (quinn, f"/c/{comment['id']}/report", None),
        (pia, f"/p/{post_id}/likes", None),
    ]
    found = []
    contexts = {}
    for member, path, then in states:
        if member.username not in contexts:
            contexts[member.username] = _context(browser, live, member, bypass_csp=True)
        page = contexts[member.username].new_page()
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            for theme in THEMES:
                page.emulate_media(color_scheme=theme)
                page.goto(path)
                if then is not None:
                    then(page)
                for result in axe_results(page):
                    found.append({"state": f"{path} {width} {theme}", **result})
        page.close()
    for context in contexts.values():
        context.close()
    assert not found, describe(found)


def _likers_dialog(page: Page) -> None:
    page.locator("a[data-likers]").click()
    expect(page.locator("dialog[data-action-dialog] .user-row")).to_be_visible()


def _dialog(page: Page, scope: str, item: str) -> None:
    _menu(page, scope).get_by_role("link", name=item).click()
    expect(page.locator("dialog[data-action-dialog]")).to_be_visible()
