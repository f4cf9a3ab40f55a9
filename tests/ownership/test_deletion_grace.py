"""Deletion with a grace period, from every side: the account stops and vanishes at once for a
follower, a stranger and search; signing in brings it all back; once the clock passes the
purge time the periodic job purges it and signing in fails. Wrong passwords, the second
factor, sockets and garbage too. Both run modes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from glint.accounts.deletion import DeletionStatus, move_deletion
from glint.feeds import jobs as feeds_jobs
from glint.infra.runtime import Runtime
from glint.ownership import deletion_jobs
from tests.conftest import wait_for_jobs
from tests.factories.accounts import DEFAULT_PASSWORD, TestUser, make_inactive, register
from tests.factories.deletion import leftovers, pass_stream_windows
from tests.factories.discovery import indexed_post
from tests.factories.messaging import conversation, inbox, messages, send
from tests.factories.moderation import give_role
from tests.factories.stories import published_story, tray, tray_names
from tests.factories.two_factor import enrol, first_step, wrong_code
from tests.feeds.helpers import feed_ids
from tests.realtime.test_stream_gateway import StartServer, closed_with, ping, serve

__all__ = ["serve"]  # the live-server fixture, shared with the stream tests

LEAVER = "alicedeparts"


async def _delete(client: httpx.AsyncClient, user: TestUser, **body: Any) -> httpx.Response:
    return await client.request(
        "DELETE", "/users/me", json={"password": DEFAULT_PASSWORD, **body}, headers=user.auth
    )


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_runtime: Runtime) -> dict[str, Any]:
    """alice (to delete) posts, comments, likes, follows and writes to bob, who follows her."""
    alice = await register(client, LEAVER, display_name="Alice Departs")
    bob, carol = await register(client, "bob"), await register(client, "carol")
    await client.post(f"/users/{LEAVER}/follow", headers=bob.auth)
    await client.post("/users/bob/follow", headers=alice.auth)
    post = await indexed_post(client, clean_runtime, alice, caption="sunset over the harbour")
    bobs = await indexed_post(client, clean_runtime, bob, caption="my breakfast")
    await client.post(f"/posts/{bobs['id']}/comments", json={"text": "yum"}, headers=alice.auth)
    await client.post(f"/posts/{bobs['id']}/like", headers=alice.auth)
    await published_story(client, alice)
    room = await conversation(client, alice, bob)
    await send(client, alice, room["id"], "see you")
    group = await conversation(client, bob, alice, carol, title="trio")
    await send(client, bob, group["id"], "hello all")
    await send(client, alice, group["id"], "alice in the group")
    await wait_for_jobs(clean_runtime)
    await feeds_jobs.refresh_explore(clean_runtime)
    return {
        **{"alice": alice, "bob": bob, "carol": carol, "post": post, "bobs": bobs},
        **{"room": room, "group": group},
    }


async def _seen(
    client: httpx.AsyncClient, world: dict[str, Any], viewer: TestUser
) -> dict[str, Any]:
    post, bobs = world["post"], world["bobs"]
    auth = viewer.auth

    async def names(path: str, key: str = "items", **params: Any) -> list[str]:
        response = await client.get(path, params=params, headers=auth)
        assert response.status_code == 200, response.text
        items = response.json()[key]
        people = [item.get("author") or item.get("user") or item for item in items]
        return [person["username"] for person in people]

    notified = await client.get("/notifications", headers=auth)
    rooms = [room for room in await inbox(client, viewer) if room["id"] != world["group"]["id"]]
    group = next(r for r in await inbox(client, viewer) if r["id"] == world["group"]["id"])
    return {
        "profile": (await client.get(f"/users/{LEAVER}", headers=auth)).status_code,
        "post": (await client.get(f"/posts/{post['id']}", headers=auth)).status_code,
        "feed": post["id"] in await feed_ids(client, viewer),
        "explore": post["id"] in await feed_ids(client, viewer, "/explore"),
        "people": await names("/search", "users", q="alicedep"),
        "captions": [
            p["id"]
            for p in (await client.get("/search", params={"q": "harbour"}, headers=auth)).json()[
                "posts"
            ]
        ],
        "comments": await names(f"/posts/{bobs['id']}/comments"),
        "likers": await names(f"/posts/{bobs['id']}/likes"),
        "followers of bob": await names("/users/bob/followers"),
        "following of bob": await names("/users/bob/following"),
        "suggested": LEAVER in await names("/suggestions/users"),
        "tray": LEAVER in tray_names(await tray(client, viewer)),
        "notified by": sorted(
            {a["username"] for n in notified.json()["items"] for a in n["actors"]}
            | {n["text"] for n in notified.json()["items"] if n["text"]}
        ),
        "group": [m["text"] for m in await messages(client, viewer, world["group"]["id"])],
        "group preview": (group["last_message"] or {}).get("text"),
        "group people": sorted(p["username"] for p in group["participants"]),
        "rooms": [
            [p["username"] for p in room["participants"] if p["username"] != viewer.username]
            for room in rooms
        ],
    }


async def test_invisible_during_the_grace_period_back_on_sign_in_purged_after_it(
    client: httpx.AsyncClient, world: dict[str, Any], clean_runtime: Runtime
) -> None:
    alice, bob, carol = world["alice"], world["bob"], world["carol"]
    before_bob, before_carol = await _seen(client, world, bob), await _seen(client, world, carol)
    assert before_bob["profile"] == 200 and before_bob["feed"] and before_bob["tray"]
    assert before_bob["comments"] == [LEAVER] and before_bob["likers"] == [LEAVER]
    assert before_bob["people"] == [LEAVER] and before_bob["rooms"] == [[LEAVER]]
    assert before_bob["group"] == ["alice in the group", "hello all"]
    assert before_bob["notified by"] == [LEAVER, "yum"]
    assert before_bob["group preview"] == "alice in the group"
    assert before_carol["explore"] and before_carol["suggested"]

    response = await _delete(client, alice)
    assert response.status_code == 202, response.text
    purge_after = dt.datetime.fromisoformat(response.json()["purge_after"])
    assert purge_after - clean_runtime.clock.now() > dt.timedelta(days=29)
    await wait_for_jobs(clean_runtime)
    assert (await client.get("/auth/me", headers=alice.auth)).status_code == 401
    gone = {
        "profile": 404,
        "post": 404,
        "feed": False,
        "explore": False,
        "people": [],
        "captions": [],
        "comments": [],
        "likers": [],
        "followers of bob": [],
        "following of bob": [],
        "suggested": False,
        "tray": False,
        "notified by": [],
        "group": ["hello all"],
        "group preview": None,
        "group people": ["bob", "carol"],
        "rooms": [],
    }
    assert await _seen(client, world, bob) == gone
    assert await _seen(client, world, carol) == gone

    # Signing in again: everything as it was.
    login = await client.post("/auth/login", json={"login": LEAVER, "password": DEFAULT_PASSWORD})
    assert login.status_code == 200, login.text
    await wait_for_jobs(clean_runtime)
    assert await _seen(client, world, bob) == before_bob
    assert await _seen(client, world, carol) == before_carol

    # Deleted again; the grace period passes; the periodic job purges it.
    alice.token = login.json()["token"]
    assert (await _delete(client, alice)).status_code == 202
    await deletion_jobs.claim_due_accounts(clean_runtime)  # not due yet: nothing happens
    await wait_for_jobs(clean_runtime)
    assert await leftovers(clean_runtime, user_id=int(alice.id), username=LEAVER) != []
    clean_runtime.clock.advance(dt.timedelta(days=31))
    await deletion_jobs.claim_due_accounts(clean_runtime)
    await wait_for_jobs(clean_runtime, within=60)
    await pass_stream_windows(clean_runtime)
    assert await leftovers(clean_runtime, user_id=int(alice.id), username=LEAVER) == []
    login = await client.post("/auth/login", json={"login": LEAVER, "password": DEFAULT_PASSWORD})
    assert login.status_code == 401
    assert [m["text"] for m in await messages(client, bob, world["room"]["id"])] == []


async def test_a_wrong_password_is_403_and_changes_nothing(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, LEAVER)
    response = await _delete(client, alice, password="not the password")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert (await client.get("/auth/me", headers=alice.auth)).status_code == 200
    assert (await client.get(f"/users/{LEAVER}", headers=alice.auth)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"password": ""},
        {"password": 5},
        {"password": DEFAULT_PASSWORD, "code": "x" * 65},
        {"password": DEFAULT_PASSWORD, "extra": 1},
        "not json",
    ],
)
async def test_garbage_is_a_clear_4xx(
    client: httpx.AsyncClient, clean_runtime: Runtime, body: Any
) -> None:
    alice = await register(client, LEAVER)
    if isinstance(body, str):
        response = await client.request(
            "DELETE", "/users/me", content=body.encode(), headers=alice.auth
        )
    else:
        response = await client.request("DELETE", "/users/me", json=body, headers=alice.auth)
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()
    anonymous = await client.request("DELETE", "/users/me", json={"password": "x"})
    assert anonymous.status_code == 401
    assert (await client.get("/auth/me", headers=alice.auth)).status_code == 200


async def test_the_socket_closes_at_once(
    serve: StartServer, client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    server = await serve()
    alice = await register(client, LEAVER)
    async with server.open(alice.token) as ws:
        await ping(ws)
        assert (await _delete(client, alice)).status_code == 202
        assert (await client.get("/auth/me", headers=alice.auth)).status_code == 401
        code, _ = await closed_with(ws)
        assert code == 4401


async def test_with_two_factor_the_code_is_needed_and_only_the_second_step_cancels(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, LEAVER), await register(client, "bob")
    enrolled = await enrol(client, alice, at=clean_runtime.clock.now().timestamp())
    code_time = clean_runtime.clock.now().timestamp()
    code = enrolled.code(code_time)
    refusals = [
        await _delete(client, alice),
        await _delete(client, alice, code=wrong_code(enrolled.secret, code_time)),
        await _delete(client, alice, password="not the password", code=code),
    ]
    assert [r.status_code for r in refusals] == [403, 403, 403]
    assert len({r.json()["error"]["message"] for r in refusals}) == 1  # no hint which was wrong
    assert (await client.get(f"/users/{LEAVER}", headers=bob.auth)).status_code == 200

    assert (await _delete(client, alice, code=code)).status_code == 202
    await wait_for_jobs(clean_runtime)
    challenge = await first_step(client, alice)  # the password alone restores nothing
    assert (await client.get(f"/users/{LEAVER}", headers=bob.auth)).status_code == 404
    clean_runtime.clock.advance(dt.timedelta(seconds=60))
    second = await client.post(
        "/auth/login/2fa",
        json={"challenge": challenge, "code": enrolled.code(clean_runtime.clock.now().timestamp())},
    )
    assert second.status_code == 200, second.text
    await wait_for_jobs(clean_runtime)
    assert (await client.get(f"/users/{LEAVER}", headers=bob.auth)).status_code == 200


async def test_the_last_admin_cannot_leave(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    olga, pat = await register(client, "olga"), await register(client, "pat")
    await give_role(clean_runtime, olga, "admin")
    refused = await _delete(client, olga)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"
    await give_role(clean_runtime, pat, "admin")
    assert (await _delete(client, olga)).status_code == 202


async def test_a_banned_admin_does_not_count_as_the_admin_who_stays(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    olga, pat = await register(client, "olga"), await register(client, "pat")
    for admin in (olga, pat):
        await give_role(clean_runtime, admin, "admin")
    await make_inactive(clean_runtime, "pat")
    refused = await _delete(client, olga)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"


async def test_a_sign_in_and_the_purge_claim_cannot_both_win(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, LEAVER)
    assert (await _delete(client, alice)).status_code == 202
    clean_runtime.clock.advance(dt.timedelta(days=31))
    now = clean_runtime.clock.now()
    for first, second in ((None, DeletionStatus.PURGING), (DeletionStatus.PURGING, None)):
        async with clean_runtime.db.session() as session:
            assert await move_deletion(session, user_id=int(alice.id), to=first, now=now)
            assert not await move_deletion(session, user_id=int(alice.id), to=second, now=now)
            await session.rollback()
    # The claim won: signing in is refused like an unknown account, before any purge ran.
    async with clean_runtime.db.session() as session:
        await move_deletion(session, user_id=int(alice.id), to=DeletionStatus.PURGING, now=now)
        await session.commit()
    login = await client.post("/auth/login", json={"login": LEAVER, "password": DEFAULT_PASSWORD})
    assert login.status_code == 401
