"""A ban, from every side: the banned member's token and socket stop at once, everyone else
stops seeing them anywhere, an unban (or the end of a ban) brings it all back. Both modes."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from glint.feeds import jobs as feeds_jobs
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.moderation import jobs as moderation_jobs
from tests.conftest import wait_for_jobs
from tests.factories.accounts import DEFAULT_PASSWORD, TestUser, register
from tests.factories.discovery import indexed_post
from tests.factories.moderation import give_role
from tests.factories.stories import published_story, tray, tray_names
from tests.feeds.helpers import feed_ids
from tests.realtime.test_stream_gateway import StartServer, closed_with, ping, serve

__all__ = ["serve"]  # the live-server fixture, shared with the stream tests


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_runtime: Runtime) -> dict[str, Any]:
    """alice (to be banned) posts, comments and has a story; bob follows her; olga is admin."""
    alice, bob, olga = [await register(client, n) for n in ("alice", "bob", "olga")]
    await give_role(clean_runtime, olga, "admin")
    await client.post("/users/alice/follow", headers=bob.auth)
    post = await indexed_post(client, clean_runtime, alice, caption="sunset over the harbour")
    bobs = await indexed_post(client, clean_runtime, bob, caption="my breakfast")
    await client.post(
        f"/posts/{bobs['id']}/comments", json={"text": "looks tasty"}, headers=alice.auth
    )
    await published_story(client, alice)
    await wait_for_jobs(clean_runtime)
    await feeds_jobs.refresh_explore(clean_runtime)
    return {"alice": alice, "bob": bob, "olga": olga, "post": post, "bobs": bobs}


async def _ban(client: httpx.AsyncClient, admin: TestUser, name: str, **body: Any) -> None:
    response = await client.post(f"/admin/users/{name}/ban", json=body or None, headers=admin.auth)
    assert response.status_code == 204, response.text


async def _what_bob_sees(client: httpx.AsyncClient, world: dict[str, Any]) -> dict[str, Any]:
    bob, post = world["bob"], world["post"]
    comments = await client.get(f"/posts/{world['bobs']['id']}/comments", headers=bob.auth)
    search = await client.get("/search", params={"q": "alice"}, headers=bob.auth)
    captions = await client.get("/search", params={"q": "harbour"}, headers=bob.auth)
    return {
        "profile": (await client.get("/users/alice", headers=bob.auth)).status_code,
        "post": (await client.get(f"/posts/{post['id']}", headers=bob.auth)).status_code,
        "feed": post["id"] in await feed_ids(client, bob),
        "explore": post["id"] in await feed_ids(client, bob, "/explore"),
        "comments": [c["author"]["username"] for c in comments.json()["items"]],
        "people": [u["username"] for u in search.json()["users"]],
        "captions": [p["id"] for p in captions.json()["posts"]],
        "tray": "alice" in tray_names(await tray(client, bob)),
    }


async def test_a_ban_hides_everything_and_an_unban_brings_it_back(
    client: httpx.AsyncClient, world: dict[str, Any], clean_runtime: Runtime
) -> None:
    alice, olga, post = world["alice"], world["olga"], world["post"]
    before = await _what_bob_sees(client, world)
    assert before == {
        "profile": 200,
        "post": 200,
        "feed": True,
        "explore": False,  # bob follows alice: her posts are in his home, not explore
        "comments": ["alice"],
        "people": ["alice"],
        "captions": [post["id"]],
        "tray": True,
    }
    await _ban(client, olga, "alice", reason="Spam ring")
    await wait_for_jobs(clean_runtime)
    assert await _what_bob_sees(client, world) == {
        "profile": 404,
        "post": 404,
        "feed": False,
        "explore": False,
        "comments": [],
        "people": [],
        "captions": [],
        "tray": False,
    }
    # A stranger's explore page leaves her out too.
    carol = await register(client, "carol")
    assert post["id"] not in await feed_ids(client, carol, "/explore")
    login = await client.post("/auth/login", json={"login": "alice", "password": DEFAULT_PASSWORD})
    assert login.status_code == 403 and login.json()["error"]["code"] == "account_banned"
    admin_view = (await client.get("/admin/users/alice", headers=olga.auth)).json()
    assert admin_view["banned"] and admin_view["ban_reason"] == "Spam ring"

    unban = await client.post("/admin/users/alice/unban", headers=olga.auth)
    assert unban.status_code == 204
    await wait_for_jobs(clean_runtime)
    after = await _what_bob_sees(client, world)
    assert after == before
    again = await client.post("/auth/login", json={"login": "alice", "password": DEFAULT_PASSWORD})
    assert again.status_code == 200
    assert (await client.get("/auth/me", headers=alice.auth)).status_code == 401  # old token
    log = (await client.get("/admin/audit", headers=olga.auth)).json()["items"]
    assert [(e["action"], e["actor"]) for e in log] == [
        ("user.unbanned", "olga"),
        ("user.banned", "olga"),
    ]


async def test_the_token_stops_on_the_next_request_and_the_socket_closes(
    serve: StartServer, client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    server = await serve()
    alice, olga = await register(client, "alice"), await register(client, "olga")
    await give_role(clean_runtime, olga, "admin")
    assert (await client.get("/auth/me", headers=alice.auth)).status_code == 200
    async with server.open(alice.token) as ws:
        await ping(ws)
        await _ban(client, olga, "alice")
        assert (await client.get("/auth/me", headers=alice.auth)).status_code == 401
        assert (await client.get("/feed", headers=alice.auth)).status_code == 401
        code, _ = await closed_with(ws)
        assert code == 4401


async def test_a_ban_with_an_end_is_lifted_by_the_system(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    await register(client, "alice")
    olga = await register(client, "olga")
    await give_role(clean_runtime, olga, "admin")
    until = (utcnow() + dt.timedelta(seconds=1)).isoformat()
    await _ban(client, olga, "alice", reason="Cool off", until=until)
    await moderation_jobs.lift_expired_bans(clean_runtime)  # not yet
    assert (await client.get("/users/alice", headers=olga.auth)).status_code == 404
    await asyncio.sleep(1.2)
    await moderation_jobs.lift_expired_bans(clean_runtime)
    assert (await client.get("/users/alice", headers=olga.auth)).status_code == 200
    log = (await client.get("/admin/audit", headers=olga.auth)).json()["items"]
    assert [(e["action"], e["actor"]) for e in log] == [
        ("user.unbanned", "system"),
        ("user.banned", "olga"),
    ]


async def test_bans_refused_and_who_may_ban(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, mia, olga = (
        await register(client, "alice"),
        await register(client, "mia"),
        await register(client, "olga"),
    )
    await give_role(clean_runtime, mia, "moderator")
    await give_role(clean_runtime, olga, "admin")
    for who, expected in ((alice, 403), (mia, 403)):
        response = await client.post("/admin/users/olga/ban", headers=who.auth)
        assert response.status_code == expected
    assert (await client.post("/admin/users/alice/ban")).status_code == 401
    assert (await client.post("/admin/users/nobody/ban", headers=olga.auth)).status_code == 404
    cases = [
        ("olga", {}),  # yourself
        ("alice", {"until": (utcnow() - dt.timedelta(days=1)).isoformat()}),  # in the past
        ("alice", {"reason": "x" * 501}),
        ("alice", {"until": "tomorrow"}),
        ("alice", {"colour": "red"}),
    ]
    for name, body in cases:
        response = await client.post(f"/admin/users/{name}/ban", json=body, headers=olga.auth)
        assert response.status_code == 422, (name, body, response.text)
    await give_role(clean_runtime, mia, "admin")
    refused = await client.post("/admin/users/mia/ban", headers=olga.auth)
    assert refused.status_code == 422  # an admin loses the role before a ban
    assert (await client.get("/users/alice", headers=olga.auth)).status_code == 200
    assert (await client.get("/admin/audit", headers=olga.auth)).json()["items"] == []
