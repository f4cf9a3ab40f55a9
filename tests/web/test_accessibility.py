"""Accessibility in a real browser: axe-core (from npm, `make node-deps`) injected by Playwright
into every page of the web app against a real `glint serve` with seeded data, at 360 px and
1280 px, in the light and the dark theme. No serious or critical result is allowed; a failure
prints each one (rule, element, what is wrong). Keyboard checks are in
tests/web/test_accessibility_keyboard.py.

Like the other browser tests these need Debian's /usr/bin/chromium (skipped without it, failed
under CI=true); node_modules/axe-core missing fails them (CI installs it with `make test`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.live import ROOT, LiveServer
from tests.web.conftest import live_server
from tests.web.test_browser import Member, _call, _context, _publish, _register
from tests.web.test_browser_discovery import _until
from tests.web.test_browser_stories import _post_story

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS: dict[str, ViewportSize] = {
    "360px": {"width": 360, "height": 740},
    "1280px": {"width": 1280, "height": 900},
}
THEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
SEVERE = ("serious", "critical")

# axe.run on the document: the WCAG 2.0 A/AA and 2.1 AA rules, plus the experimental check that
# a control's accessible name contains its visible text (WCAG 2.5.3); violations only.
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] },
    rules: { "label-content-name-mismatch": { enabled: true } },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      impact: n.impact,
      target: n.target.join(" "),
      summary: n.failureSummary,
    })),
  }));
}"""


@dataclass
class Seeded:
    """The people and things the pages show."""

    members: dict[str, Member]
    post_id: str
    carousel_id: str
    conversation_id: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`glint serve`, embedded, with a data folder of its own (per test module)."""
    with live_server(tmp_path_factory, "web-a11y") as server:
        yield server


@pytest.fixture(scope="module")
def seeded(live: LiveServer) -> Seeded:
    """Ana (the reader) follows Ben and is followed back; Ben posts with hashtags and mentions,
    has a story; Cleo is private, Dan and Ana asked to follow her; Ana and Ben talk in direct."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make node-deps` (npm ci)")
    ana = _register(live, "ana", "Ana Lima")
    ben = _register(live, "ben", "Ben Okoro")
    cleo = _register(live, "cleo", "Cleo Park")
    dan = _register(live, "dan", "Dan Weiss")
    _call(live, cleo, "PATCH", "/users/me", json={"is_private": True})
    with ThreadPoolExecutor() as pool:  # the photos are processed side by side
        post = pool.submit(
            _publish, live, ben, f"Harbour at dawn #sunrise #sea with @{ana.username}", "sunset"
        )
        carousel = pool.submit(
            _publish, live, ana, "Two hills, one walk #hiking", ("hills", "lemons")
        )
        private = pool.submit(_publish, live, cleo, "Private lemons", "lemons")
        story = pool.submit(_post_story, live, ben, "night")
        post_id, carousel_id = post.result(), carousel.result()
        private.result()
        story.result()
    for follower, followed in ((ana, ben), (ben, ana), (dan, ana)):
        _call(live, follower, "POST", f"/users/{followed.username}/follow")
    for member in (ana, dan):
        assert _call(live, member, "POST", "/users/cleo/follow") == {"status": "requested"}
    _call(live, ana, "POST", f"/posts/{post_id}/like")
    _call(live, ben, "POST", f"/posts/{carousel_id}/like")
    comment = _call(
        live, ana, "POST", f"/posts/{post_id}/comments", json={"text": "What a light! #sea"}
    )
    _call(
        live,
        ben,
        "POST",
        f"/posts/{post_id}/comments",
        json={"text": f"@{ana.username} 6 am, worth it", "parent_id": comment["id"]},
    )
    _call(live, ben, "POST", f"/posts/{carousel_id}/comments", json={"text": "Lovely walk @dan"})
    chat = _call(live, ana, "POST", "/conversations", json={"usernames": [ben.username]})
    for member, text in ((ana, "Coffee tomorrow?"), (ben, "Yes! 9 at the harbour")):
        _call(live, member, "POST", f"/conversations/{chat['id']}/messages", json={"text": text})
    _until(
        lambda: len(_call(live, ana, "GET", "/notifications")["items"]) >= 3,
        "Ana's notifications",
    )
    return Seeded(
        members={m.username: m for m in (ana, ben, cleo, dan)},
        post_id=post_id,
        carousel_id=carousel_id,
        conversation_id=chat["id"],
    )


# States reached from a page by doing something on it (each waits until the state is there).
def _share_dialog(page: Page, photo: Path) -> None:
    page.locator("[data-share-post]").first.click()
    expect(page.locator("[data-share-dialog]")).to_be_visible()


def _typeahead(page: Page, photo: Path) -> None:
    page.locator("main [data-search-input]").fill("be")
    expect(page.locator("main [data-search-list] li").first).to_be_visible()


def _photo_picked(page: Page, photo: Path) -> None:
    page.set_input_files("[data-file-input]", str(photo))
    expect(page.locator("[data-preview-main]")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-preview-main]').complete")


def _story_photo_picked(page: Page, photo: Path) -> None:
    page.set_input_files("[data-story-file]", str(photo))
    expect(page.locator("[data-story-preview-photo]")).to_be_visible()


Action = Callable[[Page, Path], None]
STATES: dict[str, Action] = {
    "share-dialog": _share_dialog,
    "search-typeahead": _typeahead,
    "composer-photo": _photo_picked,
    "story-composer-photo": _story_photo_picked,
}

# (name, who reads it or None when signed out, path); {post}, {carousel}, {chat} are filled
# in; a name in STATES is that page after the action.
PAGES = [
    ("feed", "ana", "/"),
    ("share-dialog", "ana", "/"),
    ("post", "ana", "/p/{post}"),
    ("post-carousel", "ana", "/p/{carousel}"),
    ("profile-own", "ana", "/ana"),
    ("profile-other", "ana", "/ben"),
    ("profile-private", "ana", "/cleo"),
    ("followers", "ana", "/ben/followers"),
    ("following", "ana", "/ana/following"),
    ("saved", "ana", "/ana/saved"),
    ("explore", "ana", "/explore"),
    ("explore-people", "ana", "/explore/people"),
    ("hashtag", "ana", "/explore/tags/sea"),
    ("search", "ana", "/search"),
    ("search-results", "ana", "/search?q=ben"),
    ("search-typeahead", "ana", "/search"),
    ("notifications", "ana", "/notifications"),
    ("follow-requests", "cleo", "/notifications/requests"),
    ("notifications-private", "cleo", "/notifications"),
    ("direct-inbox", "ana", "/direct/inbox"),
    ("direct-requests", "ana", "/direct/requests"),
    ("direct-new", "ana", "/direct/new"),
    ("direct-thread", "ana", "/direct/t/{chat}"),
    ("composer", "ana", "/new"),
    ("composer-photo", "ana", "/new"),
    ("story-composer", "ana", "/stories/new"),
    ("story-composer-photo", "ana", "/stories/new"),
    ("story-viewer", "ana", "/stories/ben"),
    ("story-viewer-own", "ben", "/stories/ben"),
    ("settings-profile", "ana", "/accounts/edit"),
    ("settings-password", "ana", "/accounts/password"),
    ("settings-sessions", "ana", "/accounts/sessions"),
    ("settings-close-friends", "ana", "/accounts/close-friends"),
    ("settings-email", "ana", "/settings/email"),
    ("settings-username", "ana", "/settings/username"),
    ("settings-delete", "ana", "/settings/delete"),
    ("highlight-new", "ben", "/accounts/highlights/new"),
    ("not-found", "ana", "/nobody-by-that-name"),
    ("login", None, "/login"),
    ("signup", None, "/signup"),
    ("password-forgot", None, "/password/forgot"),
    ("password-forgot-sent", None, "/password/forgot?sent=1"),
    ("password-reset", None, "/password/reset?token=from-the-link"),
    ("verify-email", None, "/verify-email?token=from-the-link"),
    ("account-deleted", None, "/account-deleted"),
    ("profile-signed-out", None, "/ben"),
    ("post-signed-out", None, "/p/{post}"),
    ("not-found-signed-out", None, "/nobody-by-that-name"),
]


@pytest.fixture(scope="module")
def pages(browser: Browser, live: LiveServer, seeded: Seeded) -> Iterator[dict[str | None, Page]]:
    """One page per reader (and one signed out), reused by every check."""
    contexts: list[BrowserContext] = []
    opened: dict[str | None, Page] = {}
    for who in ("ana", "ben", "cleo", None):
        # axe.min.js goes in as an inline script, which the pages' CSP would refuse.
        member = seeded.members[who] if who else None
        context = _context(browser, live, member, bypass_csp=True)
        contexts.append(context)
        opened[who] = context.new_page()
    yield opened
    for context in contexts:
        context.close()


# axe leaves placeholders out (not content), but a hint in an empty field must be read too:
# the visible fields whose placeholder is under 4.5:1 against the field's background.
PLACEHOLDERS = """() => {
  const rgba = (css) => {
    const v = css.match(/[\\d.]+/g).map(Number);
    return v.length > 3 ? v : [...v, 1];
  };
  const linear = (v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const lum = ([r, g, b]) => 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const backdrop = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour[3] === 1) return colour;
    }
    const dark = getComputedStyle(document.documentElement).colorScheme === "dark";
    return dark ? [0, 0, 0, 1] : [255, 255, 255, 1];
  };
  const shown = (el) => el.getClientRects().length && getComputedStyle(el).visibility === "visible";
  return [...document.querySelectorAll("input[placeholder], textarea[placeholder]")]
    .filter((el) => el.placeholder && !el.value && shown(el))
    .map((el) => {
      const bg = backdrop(el);
      const fg = rgba(getComputedStyle(el, "::placeholder").color);
      const seen = bg.map((b, i) => (i < 3 ? fg[i] * fg[3] + b * (1 - fg[3]) : 1));
      const [hi, lo] = [lum(seen), lum(bg)].sort((a, b) => b - a);
      const key = el.name ? `name="${el.name}"` : `placeholder="${el.placeholder}"`;
      const target = `${el.tagName.toLowerCase()}[${key}]`;
      return { target, ratio: (hi + 0.05) / (lo + 0.05) };
    })
    .filter((field) => field.ratio < 4.5);
}"""


def axe_results(page: Page) -> list[dict[str, Any]]:
    """The serious and critical axe-core results on the page as it is now, one per element,
    and the placeholders under 4.5:1 as results of the same shape."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = []
    for violation in page.evaluate(RUN_AXE):
        for node in violation["nodes"]:
            if (node["impact"] or violation["impact"]) in SEVERE:
                found.append({"rule": violation["id"], "help": violation["help"], **node})
    for field in page.evaluate(PLACEHOLDERS):
        found.append(
            {
                "rule": "placeholder-contrast",
                "help": "Placeholder text must have 4.5:1 contrast",
                "impact": "serious",
                "target": field["target"],
                "summary": f"contrast {field['ratio']:.2f}:1",
            }
        )
    return found


def describe(results: list[dict[str, Any]]) -> str:
    """One paragraph per result: where, which rule, what is wrong."""
    return "\n".join(
        f"[{r['state']}] {r['impact']} {r['rule']} ({r['help']}) at {r['target']}\n"
        f"    {' '.join(r['summary'].split())}"
        for r in results
    )


def check_every_state(page: Page, url: str, then: Action | None, photo: Path) -> list[Any]:
    """axe on the page at both widths and in both themes (the theme follows the OS setting)."""
    found: list[dict[str, Any]] = []
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.emulate_media(color_scheme="light")
        page.goto(url)
        if then is not None:
            then(page, photo)
        for theme in THEMES:
            page.emulate_media(color_scheme=theme)
            page.wait_for_function(
                "(theme) => document.documentElement.dataset.theme === theme", arg=theme
            )
            for result in axe_results(page):
                found.append({"state": f"{width} {theme}", **result})
    return found


@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_or_critical_axe_results(
    pages: dict[str | None, Page],
    seeded: Seeded,
    photo_file: Path,
    name: str,
    who: str | None,
    path: str,
) -> None:
    url = path.format(post=seeded.post_id, carousel=seeded.carousel_id, chat=seeded.conversation_id)
    page = pages[who]
    found = check_every_state(page, url, STATES.get(name), photo_file)
    assert not found, f"axe: {len(found)} serious/critical results on {url}\n" + describe(found)
    assert page.locator("h1").count() >= 1, f"{url} has no h1"
