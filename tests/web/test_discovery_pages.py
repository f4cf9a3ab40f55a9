"""The discovery pages through HTTP, in both run modes: the search box in the nav, search
results by tab with follow buttons and paging, hashtag pages, and "Suggested for you"."""

from __future__ import annotations

import re
from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories import posts as post_factory
from tests.factories.accounts import TestUser, register
from tests.web.conftest import WebFactory

XSS = "<img src=x onerror=alert(1)>"


async def _indexed_post(
    client: httpx.AsyncClient, runtime: Runtime, user: TestUser, caption: str
) -> dict[str, Any]:
    """A published post, once its indexing (a job after publishing) has run."""
    post = await post_factory.published_post(client, user, caption=caption)
    await wait_for_jobs(runtime)
    return post


def _follow_state(html: str, username: str) -> str | None:
    match = re.search(rf'data-follow="{re.escape(username)}" data-state="(\w+)"', html)
    return match.group(1) if match else None


def _is_html(response: httpx.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return response.text


async def test_the_nav_has_a_search_box_with_typeahead(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    home = _is_html(await web(alice).get("/"))
    assert 'role="search" action="/search"' in home
    assert 'id="nav-search-input"' in home and 'role="combobox"' in home
    assert 'aria-controls="nav-search-list"' in home and 'role="listbox"' in home
    assert "/js/search.js" in home
    assert 'class="icon-btn nav-search-link" href="/search"' in home  # phones
    signed_out = _is_html(await web().get("/login"))
    assert "nav-search-input" not in signed_out


async def test_people_results_with_follow_buttons_in_each_state(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    seeker = await register(client, "seeker", display_name="Sam Seeker")
    await register(client, "marta", display_name="Marta Lindqvist")
    await register(client, "marcus", display_name="Marcus Aurel")
    private = await register(client, "mark.private", display_name="Mark Hidden")
    await client.patch("/users/me", json={"is_private": True}, headers=private.auth)
    await register(client, "zed", display_name="Zed")
    await client.post("/users/marcus/follow", headers=seeker.auth)
    await client.post("/users/mark.private/follow", headers=seeker.auth)

    page = _is_html(await web(seeker).get("/search", params={"q": "mar"}))
    assert 'aria-current="page">People</a>' in page
    for name in ("marta", "marcus", "mark.private"):
        assert f'data-person="{name}"' in page
    assert 'data-person="zed"' not in page
    assert _follow_state(page, "marta") == "none"
    assert _follow_state(page, "marcus") == "following"
    assert _follow_state(page, "mark.private") == "requested"
    assert 'data-follow="mark.private" data-state="requested" data-private="true"' in page
    assert "Marta Lindqvist" in page
    # People the seeker follows come first.
    assert page.index('data-person="marcus"') < page.index('data-person="marta"')
    # No follow button for yourself.
    me = _is_html(await web(seeker).get("/search", params={"q": "sam"}))
    assert 'data-person="seeker"' in me and 'data-follow="seeker"' not in me
    # Signed out: the same people, no follow buttons.
    anonymous = _is_html(await web().get("/search", params={"q": "mar"}))
    assert 'data-person="marta"' in anonymous and "data-follow=" not in anonymous


async def test_posts_and_tags_tabs_never_show_a_private_accounts_post_to_a_stranger(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    public = await register(client, "pub")
    hidden = await register(client, "hidden")
    stranger = await register(client, "stranger")
    friend = await register(client, "friend")
    shown = await _indexed_post(client, clean_runtime, public, "Lighthouse at dawn #coast")
    secret = await _indexed_post(client, clean_runtime, hidden, "Lighthouse keeper #coast")
    await client.patch("/users/me", json={"is_private": True}, headers=hidden.auth)
    await client.post("/users/hidden/follow", headers=friend.auth)
    await client.post("/follow-requests/friend/approve", headers=hidden.auth)

    for viewer in (web(stranger), web()):
        posts = _is_html(await viewer.get("/search", params={"q": "lighthouse", "tab": "posts"}))
        assert f'href="/p/{shown["id"]}"' in posts
        assert f'href="/p/{secret["id"]}"' not in posts
    followed = _is_html(
        await web(friend).get("/search", params={"q": "lighthouse", "tab": "posts"})
    )
    assert f'href="/p/{secret["id"]}"' in followed

    tags = _is_html(await web(stranger).get("/search", params={"q": "#coa", "tab": "tags"}))
    assert 'href="/explore/tags/coast"' in tags and "#coast" in tags and "2 posts" in tags
    none = _is_html(await web(stranger).get("/search", params={"q": "zzzz", "tab": "tags"}))
    assert "No hashtags found for “zzzz”." in none


async def test_search_lists_page_with_a_cursor(client: httpx.AsyncClient, web: WebFactory) -> None:
    seeker = await register(client, "seeker")
    for i in range(23):
        await register(client, f"page.user{i:02d}", display_name=f"Paging Person {i}")
    first = _is_html(await web(seeker).get("/search", params={"q": "paging"}))
    assert first.count('data-person="page.user') == 20
    match = re.search(r'data-next="(/search/page\?[^"]+)"', first)
    assert match
    fragment = _is_html(await web(seeker).get(match.group(1).replace("&amp;", "&")))
    assert "<html" not in fragment  # a piece of the list, for js/feed.js
    assert fragment.count('data-person="page.user') == 3
    assert "data-next=" not in fragment
    names = set(re.findall(r'data-person="(page\.user\d+)"', first + fragment))
    assert len(names) == 23
    # Without JS, the "More" link opens the same next page as a whole page.
    more = re.search(r'href="(/search\?[^"]*cursor=[^"]+)"', first)
    assert more
    page_two = _is_html(await web(seeker).get(more.group(1).replace("&amp;", "&")))
    assert page_two.count('data-person="page.user') == 3


async def test_bad_queries_are_pages_not_errors(client: httpx.AsyncClient, web: WebFactory) -> None:
    seeker = await register(client, "seeker")
    browser = web(seeker)
    empty = _is_html(await browser.get("/search"))
    assert "Search for people, hashtags and posts." in empty
    short = _is_html(await browser.get("/search", params={"q": "a"}))
    assert "Type at least two letters." in short
    long = _is_html(await browser.get("/search", params={"q": "x" * 150}))
    assert 'value="' + "x" * 100 + '"' in long  # cut to the longest query searched
    _is_html(await browser.get("/search", params={"q": "ab", "tab": "nope"}), 400)
    _is_html(await browser.get("/search", params={"q": "ab", "cursor": "not-a-cursor"}), 400)
    _is_html(await browser.get("/search/page", params={"q": "ab", "cursor": "e30"}), 400)
    escaped = _is_html(await browser.get("/search", params={"q": XSS}))
    assert "<img src=x" not in escaped and "&lt;img src=x onerror=alert(1)&gt;" in escaped


async def test_hashtag_page_count_follow_state_and_grid(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    fan = await register(client, "fan")
    posts = [
        await _indexed_post(client, clean_runtime, author, f"Tide pools #Coast {i}")
        for i in range(2)
    ]
    page = _is_html(await web(fan).get("/explore/tags/coast"))
    assert "<h1>#coast</h1>" in page
    assert re.search(r"data-hashtag-count>2</span> posts", page)
    assert 'data-hashtag-follow="coast" data-state="none"' in page
    assert page.index(f'href="/p/{posts[1]["id"]}"') < page.index(f'href="/p/{posts[0]["id"]}"')
    assert 'aria-current="page">Recent</a>' in page
    top = _is_html(await web(fan).get("/explore/tags/COAST", params={"sort": "top"}))
    assert 'aria-current="page">Top</a>' in top and f'href="/p/{posts[0]["id"]}"' in top

    followed = await client.post("/hashtags/coast/follow", headers=fan.auth)
    assert followed.status_code == 204
    again = _is_html(await web(fan).get("/explore/tags/coast"))
    assert 'data-hashtag-follow="coast" data-state="following"' in again
    assert ">Following</button>" in again
    signed_out = _is_html(await web().get("/explore/tags/coast"))
    assert "data-hashtag-follow" not in signed_out and "Log in to follow" in signed_out
    # Captions link their hashtags here.
    detail = _is_html(await web(fan).get(f"/p/{posts[0]['id']}"))
    assert 'href="/explore/tags/coast">#Coast</a>' in detail


async def test_unknown_or_impossible_hashtags_are_the_404_page(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    viewer = await register(client, "viewer")
    for path in (
        "/explore/tags/neverused",
        "/explore/tags/not%20a%20tag",
        "/explore/tags/" + "a" * 150,
    ):
        page = _is_html(await web(viewer).get(path), 404)
        assert "Sorry, this page isn" in page and "No such hashtag." in page
    _is_html(await web(viewer).get("/explore/tags/neverused/page"), 404)


async def test_suggestions_on_the_empty_home_feed_and_beside_a_feed(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    newcomer = await register(client, "newcomer")
    alice = await register(client, "alice", display_name="Alice Moreau")
    await register(client, "bob")
    await client.post("/users/bob/follow", headers=alice.auth)

    empty = _is_html(await web(newcomer).get("/"))
    assert "Suggested for you" in empty
    assert _follow_state(empty, "alice") == "none" and _follow_state(empty, "bob") == "none"
    assert 'data-dismiss-suggestion="alice"' in empty
    assert "Popular on Glint" in empty
    assert "/js/suggestions.js" in empty

    # Following alice: a feed now, so the suggestions move to the side column, fetched by
    # wide screens; bob comes as a friend of a friend.
    await client.post("/users/alice/follow", headers=newcomer.auth)
    await post_factory.published_post(client, alice, caption="Hello")
    await wait_for_jobs(clean_runtime)
    home = _is_html(await web(newcomer).get("/"))
    assert 'data-suggestions-aside="/explore/people/aside"' in home
    assert "data-dismiss-suggestion" not in home
    aside = _is_html(await web(newcomer).get("/explore/people/aside"))
    assert 'data-person="bob"' in aside and "Followed by alice" in aside
    assert 'data-person="alice"' not in aside

    dismissed = await client.post("/suggestions/users/bob/dismiss", headers=newcomer.auth)
    assert dismissed.status_code == 204
    assert 'data-person="bob"' not in (await web(newcomer).get("/explore/people")).text
