"""The story tray in both modes: its order, how it follows the graph, and the store failing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import pytest

from glint.infra.runtime import Runtime
from glint.infra.trays import TrayStore, TrayUnavailable
from glint.paging import encode_cursor
from tests.factories.accounts import TestUser, register
from tests.factories.stories import published_story, tray, tray_names


async def _follow(client: httpx.AsyncClient, fan: TestUser, *names: str) -> None:
    for name in names:
        assert (await client.post(f"/users/{name}/follow", headers=fan.auth)).status_code == 200


async def test_own_first_then_unseen_then_seen_each_newest_first(
    client: httpx.AsyncClient,
) -> None:
    me = await register(client, "moe")
    authors = {name: await register(client, name) for name in ("ann", "ben", "cat", "dan")}
    await _follow(client, me, *authors)
    stories = {}
    for name in ("ann", "ben", "cat", "dan"):  # oldest to newest
        stories[name] = await published_story(client, authors[name])
    assert tray_names(await tray(client, me)) == ["dan", "cat", "ben", "ann"]
    for name in ("dan", "ben"):  # seen: they move behind the unseen ones
        await client.post(f"/stories/{stories[name]['id']}/view", headers=me.auth)
    items = await tray(client, me)
    assert tray_names(items) == ["cat", "ann", "dan", "ben"]
    assert [item["has_unseen"] for item in items] == [True, True, False, False]
    assert items[2]["stories"][0]["viewer"] == {"seen": True}
    newer = await published_story(client, authors["ben"])  # ben has something new again
    await published_story(client, me)
    items = await tray(client, me)
    assert tray_names(items) == ["moe", "ben", "cat", "ann", "dan"]
    assert items[0]["has_unseen"] is False  # its author has seen their own story
    assert [s["id"] for s in items[1]["stories"]] == [stories["ben"]["id"], newer["id"]]
    assert items[1]["latest_at"] >= items[2]["latest_at"]


async def test_the_tray_follows_follows_mutes_blocks_and_deletions(
    client: httpx.AsyncClient,
) -> None:
    me, ann = await register(client, "moe"), await register(client, "ann")
    story = await published_story(client, ann)
    assert await tray(client, me) == []
    await _follow(client, me, "ann")  # a story from before the follow joins at once
    assert tray_names(await tray(client, me)) == ["ann"]
    await client.post("/users/ann/mute", headers=me.auth)
    assert await tray(client, me) == []
    await client.delete("/users/ann/mute", headers=me.auth)
    assert tray_names(await tray(client, me)) == ["ann"]
    await client.delete("/users/ann/follow", headers=me.auth)
    assert await tray(client, me) == []
    await _follow(client, me, "ann")
    await client.post("/users/moe/block", headers=ann.auth)
    assert await tray(client, me) == []
    await client.delete("/users/moe/block", headers=ann.auth)
    await _follow(client, me, "ann")
    assert tray_names(await tray(client, me)) == ["ann"]
    await client.delete(f"/stories/{story['id']}", headers=ann.auth)
    assert await tray(client, me) == []


async def test_close_friends_list_and_its_tray(client: httpx.AsyncClient) -> None:
    ann, bo, cy = [await register(client, name) for name in ("ann", "bob", "cyd")]
    await _follow(client, bo, "ann")
    await _follow(client, cy, "ann")
    await published_story(client, ann, audience="close_friends")
    assert await tray(client, bo) == []
    assert (await client.put("/users/me/close-friends/bob", headers=ann.auth)).status_code == 204
    assert (await client.put("/users/me/close-friends/bob", headers=ann.auth)).status_code == 204
    assert (await client.put("/users/me/close-friends/cyd", headers=ann.auth)).status_code == 204
    listed = await client.get("/users/me/close-friends", params={"limit": 1}, headers=ann.auth)
    assert [u["username"] for u in listed.json()["items"]] == ["cyd"]
    rest = await client.get(
        "/users/me/close-friends", params={"cursor": listed.json()["next_cursor"]}, headers=ann.auth
    )
    assert [u["username"] for u in rest.json()["items"]] == ["bob"]
    entry = await tray(client, bo)
    assert tray_names(entry) == ["ann"] and entry[0]["has_close_friends"] is True
    assert (await client.delete("/users/me/close-friends/bob", headers=ann.auth)).status_code == 204
    assert await tray(client, bo) == []
    assert (await client.put("/users/me/close-friends/ann", headers=ann.auth)).status_code == 422
    assert (await client.put("/users/me/close-friends/nobody", headers=ann.auth)).status_code == 404
    await client.post("/users/cyd/block", headers=ann.auth)
    assert (await client.put("/users/me/close-friends/cyd", headers=ann.auth)).status_code == 404
    assert (await client.get("/users/me/close-friends")).status_code == 401


class DownTrays:
    """A tray store that is always down (the failure path of the real ones)."""

    cap = 10_000

    async def read(self, user_id: int, *, now_ms: int, generation: int) -> None:
        raise TrayUnavailable("down")

    async def rebuild(
        self, user_id: int, entries: Sequence[tuple[int, int]], *, generation: int
    ) -> None:
        raise TrayUnavailable("down")

    async def push(self, author_id: int, score: int, user_ids: Sequence[int]) -> None:
        raise TrayUnavailable("down")

    async def remove(self, author_id: int, user_ids: Sequence[int]) -> None:
        raise TrayUnavailable("down")

    async def forget(self, user_id: int) -> None:
        raise TrayUnavailable("down")

    async def trim(self, *, now_ms: int) -> int:
        raise TrayUnavailable("down")


@pytest.fixture
async def trays_down(clean_runtime: Runtime) -> AsyncIterator[Runtime]:
    """The runtime with its tray store down, restored afterwards."""
    real: TrayStore = clean_runtime.trays
    clean_runtime.trays = DownTrays()
    yield clean_runtime
    clean_runtime.trays = real


async def test_the_tray_answers_from_the_database_while_its_store_is_down(
    client: httpx.AsyncClient, trays_down: Runtime
) -> None:
    me, ann, bo = [await register(client, name) for name in ("moe", "ann", "bob")]
    await _follow(client, me, "ann", "bob")
    first = await published_story(client, ann)
    await published_story(client, bo, audience="close_friends")
    await published_story(client, bo)
    await client.post(f"/stories/{first['id']}/view", headers=me.auth)
    items = await tray(client, me)
    assert tray_names(items) == ["bob", "ann"]
    assert [len(item["stories"]) for item in items] == [1, 1]


async def test_the_tray_pages_in_its_order(client: httpx.AsyncClient) -> None:
    me = await register(client, "moe")
    names = [f"author{i}" for i in range(5)]
    authors = {name: await register(client, name) for name in names}
    await _follow(client, me, *names)
    stories = {name: await published_story(client, authors[name]) for name in names}
    await client.post(f"/stories/{stories['author3']['id']}/view", headers=me.auth)
    await published_story(client, me)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/stories/feed", params=params, headers=me.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 2
        seen += tray_names(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["moe", "author4", "author2", "author1", "author0", "author3"]
    far = encode_cursor({"g": 1, "t": 2**62, "a": 1})  # past any date: a 400, never a 500
    for cursor in ("nonsense", far, encode_cursor({"g": 1, "t": -5, "a": 1})):
        bad = await client.get("/stories/feed", params={"cursor": cursor}, headers=me.auth)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
