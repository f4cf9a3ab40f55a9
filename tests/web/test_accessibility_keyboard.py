"""The web app by keyboard, in a real browser (Debian's Chromium) against a real `glint serve`:
every control reached with Tab shows where the focus is (an outline or a ring, on the label of
a visually hidden file picker), and the focus is never lost to <body> when an action changes
the page (Follow, the carousel's last arrow, picking photos, Share). Also what the
notifications' post thumbnails say. axe-core checks of every page are in
tests/web/test_accessibility.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.live import LiveServer
from tests.web.conftest import live_server
from tests.web.test_browser import Member, _call, _context, _publish, _register
from tests.web.test_browser_discovery import _until

pytestmark = pytest.mark.browser

# Whether focus shows on the focused element (on its label when the control itself is visually
# hidden): its outline or box-shadow, or its parent's, differs from when it is not focused, and
# the focused look has an outline or a ring.
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  const tiny = (node) => node.getBoundingClientRect().width <= 1;
  const own = tiny(el) ? el.closest("label") : el;
  if (!own || tiny(own)) return false;
  const looks = () => [own, own.parentElement].map((node) => {
    const style = getComputedStyle(node);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const ring = style.boxShadow;
    return { outline: outline ? `${style.outlineWidth} ${style.outlineColor}` : "", ring };
  });
  const focused = looks();
  el.blur();
  const resting = looks();
  el.focus();
  return focused.some((look, i) =>
    (look.outline && look.outline !== resting[i].outline)
    || (look.ring !== "none" && look.ring !== resting[i].ring));
}"""

# What a Tab reached: null when the focus came back to a control already seen (the page has
# been gone round).
TAB_STEP = """() => {
  const el = document.activeElement;
  window.__tabbed = window.__tabbed || new WeakSet();
  if (window.__tabbed.has(el)) return null;
  window.__tabbed.add(el);
  return el === document.body ? "body" : el.outerHTML.slice(0, 120);
}"""

# What has the focus: "body" when it was lost.
ACTIVE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "body";
  const visible = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  return (visible ? "" : "hidden ") + el.outerHTML.slice(0, 120);
}"""


@dataclass
class People:
    ana: Member
    ben: Member
    carousel_id: str
    chat_id: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, with a data folder of its own."""
    with live_server(tmp_path_factory, "web-keyboard") as server:
        yield server


@pytest.fixture(scope="module")
def people(live: LiveServer) -> People:
    """Ana reads; Ben posts two photos mentioning her and likes her post; Dan is there to
    follow; Ana and Ben have a conversation."""
    ana = _register(live, "ana", "Ana Lima")
    ben = _register(live, "ben", "Ben Okoro")
    _register(live, "dan", "Dan Weiss")
    carousel_id = _publish(live, ben, "Two hills, one walk with @ana", ("hills", "lemons"))
    own_id = _publish(live, ana, "Lemons", "lemons")
    _call(live, ben, "POST", f"/posts/{own_id}/like")
    chat = _call(live, ana, "POST", "/conversations", json={"usernames": [ben.username]})
    _call(live, ben, "POST", f"/conversations/{chat['id']}/messages", json={"text": "Hi!"})
    _until(
        lambda: len(_call(live, ana, "GET", "/notifications")["items"]) >= 2,
        "Ana's notifications",
    )
    return People(ana=ana, ben=ben, carousel_id=carousel_id, chat_id=chat["id"])


@pytest.fixture
def page(browser: Browser, live: LiveServer, people: People) -> Iterator[Page]:
    context = _context(browser, live, people.ana)
    yield context.new_page()
    context.close()


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching the selector has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def active(page: Page) -> str:
    return str(page.evaluate(ACTIVE))


def unshown_focus(page: Page, limit: int = 300) -> list[str]:
    """Tab round the whole page once: the controls whose focus does not show."""
    unshown: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        what = page.evaluate(TAB_STEP)
        if what is None:
            return unshown
        if what != "body" and not page.evaluate(FOCUS_SHOWN):
            unshown.append(str(what))
    raise AssertionError(f"{limit} Tabs did not go round {page.url}")


def test_every_control_reached_by_tab_shows_the_focus(
    browser: Browser, live: LiveServer, page: Page, people: People, photo_file: Path
) -> None:
    """Text boxes, the labels of hidden file pickers and filter choices, buttons, links."""
    unshown: list[str] = []
    for path in (
        "/",
        f"/p/{people.carousel_id}",
        "/ben",
        f"/direct/t/{people.chat_id}",
        "/direct/new",
        "/new",
        "/stories/new",
        "/accounts/edit",
        "/accounts/password",
        "/settings/email",
        "/settings/username",
    ):
        page.goto(path)
        unshown += [f"{path}: {what}" for what in unshown_focus(page)]
        if path == "/new":  # then the photo's step: filters, caption, alt texts, place
            page.set_input_files("[data-file-input]", str(photo_file))
            expect(page.locator("[data-step=edit]")).to_be_visible()
            page.evaluate("window.__tabbed = null")
            unshown += [f"{path} (a photo picked): {what}" for what in unshown_focus(page)]
    signed_out = _context(browser, live).new_page()
    for path in ("/login", "/signup", "/password/forgot", "/password/reset?token=t"):
        signed_out.goto(path)
        unshown += [f"{path}: {what}" for what in unshown_focus(signed_out)]
    signed_out.context.close()
    assert not unshown, "no visible focus on:\n" + "\n".join(unshown)


def test_follow_keeps_the_focus_on_its_button(page: Page) -> None:
    page.goto("/dan")
    tab_to(page, "[data-follow]")
    button = page.locator("main [data-follow]")
    page.keyboard.press("Enter")
    expect(button).to_have_text("Following")
    assert page.evaluate("document.activeElement.matches('[data-follow]')"), active(page)
    page.keyboard.press("Enter")
    expect(button).to_have_text("Follow")
    assert page.evaluate("document.activeElement.matches('[data-follow]')"), active(page)
    assert page.evaluate(FOCUS_SHOWN)


def test_dismissing_a_suggestion_hands_the_focus_on(page: Page) -> None:
    page.goto("/explore/people")
    rows = page.locator("[data-dismiss-suggestion]")
    before = rows.count()
    assert before >= 1, "Ana has no suggestions to dismiss"
    tab_to(page, "[data-dismiss-suggestion]")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(before - 1)
    assert active(page) != "body", "the focus fell to <body>"
    assert not active(page).startswith("hidden "), active(page)


def test_send_to_goes_back_to_its_button(page: Page, people: People) -> None:
    page.goto(f"/p/{people.carousel_id}")
    tab_to(page, "[data-share-post]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-share-dialog]")).to_be_visible()
    assert page.evaluate("document.activeElement.matches('#share-username')"), active(page)
    page.keyboard.type(people.ben.username)
    page.keyboard.press("Enter")
    expect(page.locator("[data-share-dialog]")).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('[data-share-post]')"), active(page)


def test_the_carousel_arrows_hand_the_focus_over_at_either_end(page: Page, people: People) -> None:
    page.goto(f"/p/{people.carousel_id}")
    prev, following = page.locator(".carousel-btn.prev"), page.locator(".carousel-btn.next")
    tab_to(page, ".carousel-btn.next")
    page.keyboard.press("Enter")
    expect(following).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('.carousel-btn.prev')"), active(page)
    page.keyboard.press("Enter")
    expect(prev).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('.carousel-btn.next')"), active(page)


def test_picking_removing_and_sharing_photos_keep_the_focus(page: Page, photo_file: Path) -> None:
    page.goto("/new")
    tab_to(page, "[data-file-input]")
    page.set_input_files("[data-file-input]", [str(photo_file), str(photo_file)])
    expect(page.locator("[data-step=edit]")).to_be_visible()
    assert page.evaluate("document.activeElement.matches('[data-index=\"0\"]')"), active(page)
    tab_to(page, "[data-remove='0']")
    page.keyboard.press("Enter")
    expect(page.locator("[data-preview-strip] li")).to_have_count(1)
    assert page.evaluate("document.activeElement.matches('[data-index]')"), active(page)
    page.fill("[data-caption]", "By keyboard")
    tab_to(page, "[data-share]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-step=status]")).to_be_visible()
    assert page.evaluate("document.activeElement.matches('[data-upload-status]')"), active(page)
    expect(page.locator("[data-upload-status]")).to_have_text(
        "Your post has been shared.", timeout=60_000
    )
    assert page.evaluate("document.activeElement.matches('[data-upload-status]')"), active(page)


def test_sharing_a_story_keeps_the_focus(page: Page, photo_file: Path) -> None:
    page.goto("/stories/new")
    tab_to(page, "[data-story-file]")
    page.set_input_files("[data-story-file]", str(photo_file))
    expect(page.locator("[data-story-preview-photo]")).to_be_visible()
    tab_to(page, "[data-story-share]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-story-status]")).to_be_visible()
    assert page.evaluate("document.activeElement.matches('[data-story-status-line]')"), active(page)


def test_notification_thumbnails_say_whose_post_it_is(page: Page) -> None:
    page.goto("/notifications")
    expect(page.locator("[data-kind=mention] .notification-thumb img")).to_have_attribute(
        "alt", "Post by ben"
    )
    expect(page.locator("[data-kind=like] .notification-thumb img")).to_have_attribute(
        "alt", "Your post"
    )
