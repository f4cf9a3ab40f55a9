"""GET /feed, /feed/ranked and /explore through the API, in both run modes."""

from __future__ import annotations

import asyncio

import httpx

from glint.feeds import jobs as feeds_jobs
from glint.infra.runtime import Runtime
from glint.paging import encode_cursor
from tests.accounts.test_auth_api import assert_error
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories.accounts import TestUser, register
from tests.factories.posts import published_post, upload
from tests.feeds.helpers import feed_ids

SMALL = [images.jpeg(96, 72)]


async def _post(client: httpx.AsyncClient, user: TestUser, caption: str = "") -> str:
    post = await published_post(client, user, files=SMALL, caption=caption)
    return str(post["id"])


async def _settled_feed(
    client: httpx.AsyncClient, runtime: Runtime, user: TestUser, path: str = "/feed"
) -> list[str]:
    await wait_for_jobs(runtime)
    return await feed_ids(client, user, path)


async def test_feed_needs_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/feed", "/feed/ranked", "/explore"):
        assert_error(await client.get(path), 401, "unauthenticated")


async def test_feed_has_own_and_followed_posts_newest_first(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob, carol = [await register(client, n) for n in ("alice", "bob", "carol")]
    assert (await client.post("/users/alice/follow", headers=bob.auth)).status_code == 200
    first = await _post(client, alice, "one")
    mine = await _post(client, bob, "mine")
    stranger = await _post(client, carol, "not followed")
    second = await _post(client, alice, "two")
    feed = await _settled_feed(client, clean_runtime, bob)
    assert feed == [second, mine, first]
    assert stranger not in feed
    page = (await client.get("/feed", headers=bob.auth)).json()["items"]
    assert page[0]["viewer"] == {"liked": False, "saved": False}
    assert page[0]["author"]["username"] == "alice"


async def test_new_post_reaches_followers_within_seconds(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    await feed_ids(client, bob)  # bob's timeline exists before the post
    response = await upload(client, alice, files=SMALL)
    post_id = response.json()["id"]
    deadline = asyncio.get_running_loop().time() + 5
    while post_id not in await feed_ids(client, bob):
        assert asyncio.get_running_loop().time() < deadline, "not in the feed within 5 s"
        await asyncio.sleep(0.1)


async def test_only_published_posts_are_shown(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    good = await _post(client, alice)
    pending = (await upload(client, alice, files=[images.jpeg(2400, 1800)])).json()["id"]
    for viewer in (alice, bob):
        items = (await client.get("/feed", headers=viewer.auth)).json()["items"]
        assert all(item["status"] == "published" for item in items)
        assert good in [item["id"] for item in items]
    await wait_for_jobs(clean_runtime)
    assert await feed_ids(client, bob) == [pending, good]


async def test_follow_merges_and_unfollow_removes_at_once(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    older = await _post(client, alice)
    await wait_for_jobs(clean_runtime)
    assert await feed_ids(client, bob) == []
    await client.post("/users/alice/follow", headers=bob.auth)
    assert await feed_ids(client, bob) == [older]
    await client.delete("/users/alice/follow", headers=bob.auth)
    assert await feed_ids(client, bob) == []


async def test_block_and_mute_take_posts_out(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob, carol = (
        await register(client, "alice"),
        await register(client, "bob"),
        await register(client, "carol"),
    )
    for name in ("alice", "carol"):
        await client.post(f"/users/{name}/follow", headers=bob.auth)
    await client.post("/users/bob/follow", headers=alice.auth)
    from_alice, from_carol = await _post(client, alice), await _post(client, carol)
    from_bob = await _post(client, bob)
    assert set(await _settled_feed(client, clean_runtime, bob)) == {
        from_alice,
        from_carol,
        from_bob,
    }
    await client.post("/users/carol/mute", headers=bob.auth)
    assert set(await feed_ids(client, bob)) == {from_alice, from_bob}
    await client.delete("/users/carol/mute", headers=bob.auth)
    assert set(await feed_ids(client, bob)) == {from_alice, from_carol, from_bob}
    # alice blocks bob: neither sees the other's posts any more.
    await client.post("/users/bob/block", headers=alice.auth)
    assert from_alice not in await feed_ids(client, bob)
    assert from_bob not in await feed_ids(client, alice)


async def test_deleted_post_leaves_every_feed(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    gone, kept = await _post(client, alice), await _post(client, alice)
    assert await _settled_feed(client, clean_runtime, bob) == [kept, gone]
    assert (await client.delete(f"/posts/{gone}", headers=alice.auth)).status_code == 204
    assert await feed_ids(client, bob) == [kept]
    assert await feed_ids(client, alice) == [kept]


async def test_like_and_edit_show_in_the_feed_at_once(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    post_id = await _post(client, alice, "before")
    await _settled_feed(client, clean_runtime, bob)  # the post is now cached
    await client.post(f"/posts/{post_id}/like", headers=bob.auth)
    await client.post(f"/posts/{post_id}/comments", json={"text": "nice"}, headers=bob.auth)
    await client.patch(f"/posts/{post_id}", json={"caption": "after"}, headers=alice.auth)
    (item,) = (await client.get("/feed", headers=bob.auth)).json()["items"]
    assert (item["like_count"], item["comment_count"], item["caption"]) == (1, 1, "after")
    assert item["viewer"] == {"liked": True, "saved": False}


async def test_each_viewer_sees_their_own_flags_on_a_shared_cached_post(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    """Post bodies are cached once for everyone; the liked and saved flags are per viewer."""
    alice = await register(client, "alice")
    bob, carol = await register(client, "bob"), await register(client, "carol")
    for viewer in (bob, carol):
        await client.post("/users/alice/follow", headers=viewer.auth)
    post_id = await _post(client, alice)
    await _settled_feed(client, clean_runtime, bob)  # the body is cached now
    assert (await client.post(f"/posts/{post_id}/like", headers=bob.auth)).status_code == 200
    assert (await client.post(f"/posts/{post_id}/save", headers=carol.auth)).status_code == 200
    flags = {}
    for name, viewer in (("bob", bob), ("carol", carol), ("alice", alice)):
        (item,) = (await client.get("/feed", headers=viewer.auth)).json()["items"]
        assert item["id"] == post_id and item["like_count"] == 1
        flags[name] = item["viewer"]
    assert flags == {
        "bob": {"liked": True, "saved": False},
        "carol": {"liked": False, "saved": True},
        "alice": {"liked": False, "saved": False},
    }


async def test_paging_is_stable_while_posts_arrive(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    posts = [await _post(client, alice) for _ in range(5)]
    await wait_for_jobs(clean_runtime)
    first = (await client.get("/feed", params={"limit": 2}, headers=bob.auth)).json()
    await _post(client, alice)  # arrives between pages
    await wait_for_jobs(clean_runtime)
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        body = (
            await client.get("/feed", params={"limit": 2, "cursor": cursor}, headers=bob.auth)
        ).json()
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
    assert seen == list(reversed(posts))


async def test_bad_cursors_are_400(client: httpx.AsyncClient) -> None:
    bob = await register(client, "bob")
    # Above the 64-bit signed range that IDs live in (PostgreSQL BIGINT), below orjson's limit.
    too_big = encode_cursor({"id": (1 << 63) + 5, "o": (1 << 63) + 5, "s": "x", "score": 1.0})
    for path in ("/feed", "/feed/ranked", "/explore"):
        for cursor in ("not-ours", too_big):
            response = await client.get(path, params={"cursor": cursor}, headers=bob.auth)
            assert_error(response, 400, "invalid_cursor")
    for path in ("/users/bob/posts", "/users/bob/followers", "/notifications"):
        response = await client.get(path, params={"cursor": too_big}, headers=bob.auth)
        assert_error(response, 400, "invalid_cursor")


async def test_ranked_feed_orders_by_engagement_and_pages_without_repeats(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    fans = [await register(client, f"fan{i}") for i in range(3)]
    await client.post("/users/alice/follow", headers=bob.auth)
    quiet, loved = await _post(client, alice), await _post(client, alice)
    newest = await _post(client, alice)
    # Recency gives the newest ~1000 points; engagement decides between posts of one hour.
    for fan in fans:
        await client.post(f"/posts/{quiet}/comments", json={"text": "wow"}, headers=fan.auth)
    await client.post(f"/posts/{loved}/like", headers=fans[0].auth)
    await wait_for_jobs(clean_runtime)
    ranked = await feed_ids(client, bob, "/feed/ranked", limit=1)
    assert ranked == [quiet, loved, newest]
    assert len(set(ranked)) == len(ranked)


async def test_explore_shows_public_posts_of_strangers(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob, carol, dave = (
        await register(client, "alice"),
        await register(client, "bob"),
        await register(client, "carol"),
        await register(client, "dave"),
    )
    eve = await register(client, "eve")
    await client.patch("/users/me", json={"is_private": True}, headers=dave.auth)
    await client.post("/users/alice/follow", headers=bob.auth)
    followed = await _post(client, alice)
    stranger = await _post(client, carol)
    private = await _post(client, dave)
    muted = await _post(client, eve)
    own = await _post(client, bob)
    await client.post("/users/eve/mute", headers=bob.auth)
    await client.post(f"/posts/{stranger}/like", headers=alice.auth)
    await wait_for_jobs(clean_runtime)
    assert await feeds_jobs.refresh_explore(clean_runtime) >= 3
    explore = await feed_ids(client, bob, "/explore", limit=1)
    assert explore == [stranger]
    assert {followed, private, muted, own}.isdisjoint(explore)
    # carol blocks bob: her posts leave his explore page at once, without a refresh.
    await client.post("/users/bob/block", headers=carol.auth)
    assert await feed_ids(client, bob, "/explore") == []
