"""Hashtag pages, following hashtags and the home feed they feed, from each kind of viewer."""

from __future__ import annotations

from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import TestUser, register
from tests.factories.discovery import indexed_post
from tests.feeds.helpers import feed_ids


async def _get(
    client: httpx.AsyncClient, path: str, viewer: TestUser | None = None, **params: Any
) -> Any:
    response = await client.get(path, params=params, headers=viewer.auth if viewer else {})
    assert response.status_code == 200, response.text
    return response.json()


async def _tag_post_ids(
    client: httpx.AsyncClient,
    tag: str,
    viewer: TestUser | None = None,
    *,
    sort: str = "recent",
    limit: int = 2,
) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = await _get(client, f"/hashtags/{tag}/posts", viewer, **params)
        ids.extend(post["id"] for post in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


async def test_hashtag_page_counts_and_pages_what_each_viewer_may_see(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    public, private = await register(client, "pub"), await register(client, "priv")
    follower, stranger = await register(client, "follower"), await register(client, "stranger")
    await client.patch("/users/me", json={"is_private": True}, headers=private.auth)
    await client.post("/users/priv/follow", headers=follower.auth)
    await client.post("/follow-requests/follower/approve", headers=private.auth)
    first = await indexed_post(client, clean_runtime, public, caption="#Sunset over the bay")
    hidden = await indexed_post(client, clean_runtime, private, caption="my #sunset")
    third = await indexed_post(client, clean_runtime, public, caption="again #sunset #sea")
    assert await _get(client, "/hashtags/sunset") == {"name": "sunset", "post_count": 3}
    assert (await _get(client, "/hashtags/SUNSET", stranger))["following"] is False
    assert await _tag_post_ids(client, "sunset", stranger) == [third["id"], first["id"]]
    assert await _tag_post_ids(client, "sunset") == [third["id"], first["id"]]
    seen = await _tag_post_ids(client, "sunset", follower)
    assert seen == [third["id"], hidden["id"], first["id"]]
    await client.post(f"/posts/{first['id']}/like", headers=stranger.auth)
    top = await _tag_post_ids(client, "sunset", stranger, sort="top")
    assert top == [first["id"], third["id"]]
    await client.post("/users/pub/block", headers=stranger.auth)
    assert await _tag_post_ids(client, "sunset", stranger) == []


async def test_unknown_hashtags_are_404(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    assert_error(await client.get("/hashtags/neverused"), 404, "not_found")
    assert_error(await client.get("/hashtags/neverused/posts"), 404, "not_found")
    assert_error(await client.get("/hashtags/not%20a%20tag"), 404, "not_found")
    assert_error(
        await client.post("/hashtags/neverused/follow", headers=alice.auth), 404, "not_found"
    )
    assert_error(await client.post("/hashtags/sunset/follow"), 401, "unauthenticated")


async def test_deleting_a_post_takes_it_off_its_hashtags_at_once(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    post = await indexed_post(client, clean_runtime, author, caption="#gone soon")
    assert await _tag_post_ids(client, "gone") == [post["id"]]
    assert (await client.delete(f"/posts/{post['id']}", headers=author.auth)).status_code == 204
    assert await _tag_post_ids(client, "gone") == []
    assert (await _get(client, "/hashtags/gone"))["post_count"] == 0


async def test_editing_a_caption_moves_the_post_between_hashtags(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    post = await indexed_post(client, clean_runtime, author, caption="#before")
    response = await client.patch(
        f"/posts/{post['id']}", json={"caption": "#after"}, headers=author.auth
    )
    assert response.status_code == 200, response.text
    assert (await _get(client, "/hashtags/before"))["post_count"] == 0
    assert await _tag_post_ids(client, "after") == [post["id"]]


async def test_a_followed_hashtag_brings_posts_into_the_home_feed_marked(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    reader, friend = await register(client, "reader"), await register(client, "friend")
    stranger, secret = await register(client, "stranger"), await register(client, "secret")
    await client.patch("/users/me", json={"is_private": True}, headers=secret.auth)
    await client.post("/users/friend/follow", headers=reader.auth)
    seed = await indexed_post(client, clean_runtime, stranger, caption="#bread first")
    follow = await client.post("/hashtags/bread/follow", headers=reader.auth)
    assert follow.status_code == 204, follow.text
    assert (await client.post("/hashtags/bread/follow", headers=reader.auth)).status_code == 204
    assert (await _get(client, "/hashtags/bread", reader))["following"] is True
    by_friend = await indexed_post(client, clean_runtime, friend, caption="#bread from a friend")
    by_stranger = await indexed_post(client, clean_runtime, stranger, caption="more #Bread")
    await indexed_post(client, clean_runtime, secret, caption="#bread behind a private account")
    await indexed_post(client, clean_runtime, stranger, caption="#cake is not followed")
    assert await feed_ids(client, reader, limit=2) == [
        by_stranger["id"],
        by_friend["id"],
        seed["id"],
    ]
    items = (await _get(client, "/feed", reader))["items"]
    marks = {item["id"]: item.get("via_hashtag") for item in items}
    assert marks == {by_stranger["id"]: "bread", by_friend["id"]: None, seed["id"]: "bread"}
    await client.post("/users/stranger/mute", headers=reader.auth)
    assert await feed_ids(client, reader) == [by_friend["id"]]
    await client.delete("/users/stranger/mute", headers=reader.auth)
    await client.post("/users/reader/block", headers=stranger.auth)
    assert await feed_ids(client, reader) == [by_friend["id"]]
    assert (await client.delete("/hashtags/bread/follow", headers=reader.auth)).status_code == 204
    assert (await _get(client, "/hashtags/bread", reader))["following"] is False
    assert await feed_ids(client, reader) == [by_friend["id"]]
