"""Conversations through the API, in both modes: 1:1s, groups, requests, blocks, inbox, receipts."""

from __future__ import annotations

import asyncio

import httpx

from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, inbox, messages, send


async def _follow(client: httpx.AsyncClient, follower: TestUser, target: TestUser) -> None:
    response = await client.post(f"/users/{target.username}/follow", headers=follower.auth)
    assert response.status_code == 200, response.text


async def _counts(client: httpx.AsyncClient, user: TestUser) -> dict[str, int]:
    response = await client.get("/conversations/counts", headers=user.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_one_to_one_is_made_once_whoever_asks(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    first = await client.post("/conversations", json={"usernames": ["bob"]}, headers=alice.auth)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["is_group"] is False and body["title"] is None
    assert sorted(p["username"] for p in body["participants"]) == ["alice", "bob"]
    again = await client.post("/conversations", json={"usernames": ["BOB"]}, headers=alice.auth)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    other_way = await client.post("/conversations", json={"usernames": ["alice"]}, headers=bob.auth)
    assert other_way.status_code == 200 and other_way.json()["id"] == body["id"]


async def test_concurrent_first_messages_share_one_conversation(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    answers = await asyncio.gather(
        *(
            client.post("/conversations", json={"usernames": [other]}, headers=user.auth)
            for user, other in [(alice, "bob"), (bob, "alice")] * 5
        )
    )
    assert sorted(r.status_code for r in answers) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in answers}) == 1


async def test_a_stranger_s_conversation_is_a_request_until_accepted(
    client: httpx.AsyncClient,
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    await send(client, alice, chat["id"], "hello bob")
    (seen,) = await inbox(client, bob)
    assert seen["is_request"] is True and seen["unread_count"] == 1
    assert await inbox(client, bob, "inbox") == []
    assert [c["id"] for c in await inbox(client, bob, "requests")] == [chat["id"]]
    assert await _counts(client, bob) == {"unread_conversations": 0, "requests": 1}
    assert (await inbox(client, alice, "inbox"))[0]["is_request"] is False
    accepted = await client.post(f"/conversations/{chat['id']}/accept", headers=bob.auth)
    assert accepted.status_code == 204
    assert [c["id"] for c in await inbox(client, bob, "inbox")] == [chat["id"]]
    assert await _counts(client, bob) == {"unread_conversations": 1, "requests": 0}


async def test_answering_a_request_accepts_it_and_followers_get_no_request(
    client: httpx.AsyncClient,
) -> None:
    alice, bob, carol = [await register(client, n) for n in ("alice", "bob", "carol")]
    chat = await conversation(client, alice, bob)
    await send(client, alice, chat["id"])
    await send(client, bob, chat["id"], "who is this?")
    assert (await inbox(client, bob))[0]["is_request"] is False
    await _follow(client, carol, alice)
    with_carol = await conversation(client, alice, carol)
    await send(client, alice, with_carol["id"])
    assert (await inbox(client, carol))[0]["is_request"] is False


async def test_blocked_people_cannot_message_and_lose_the_thread(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    await send(client, alice, chat["id"])
    assert (await client.post("/users/alice/block", headers=bob.auth)).status_code in (200, 204)
    for user, other in ((alice, "bob"), (bob, "alice")):
        refused = await client.post(
            "/conversations", json={"usernames": [other]}, headers=user.auth
        )
        assert_error(refused, 403, "forbidden")
        assert await inbox(client, user) == []
        sent = await client.post(
            f"/conversations/{chat['id']}/messages", json={"text": "hey"}, headers=user.auth
        )
        assert_error(sent, 404, "not_found")
    group = await client.post(
        "/conversations", json={"usernames": ["bob"], "title": "g"}, headers=alice.auth
    )
    assert_error(group, 403, "forbidden")


async def test_groups_hold_up_to_32_and_members_add_people(client: httpx.AsyncClient) -> None:
    people = [await register(client) for _ in range(33)]
    owner, rest = people[0], people[1:]
    too_many = await client.post(
        "/conversations", json={"usernames": [p.username for p in rest]}, headers=owner.auth
    )
    assert_error(too_many, 422, "validation_error")
    group = await conversation(client, owner, *rest[:30], title="Climbing")
    assert group["is_group"] and group["title"] == "Climbing" and len(group["participants"]) == 31
    outsider = rest[31]
    refused = await client.post(
        f"/conversations/{group['id']}/participants",
        json={"usernames": [outsider.username]},
        headers=outsider.auth,
    )
    assert_error(refused, 404, "not_found")
    added = await client.post(
        f"/conversations/{group['id']}/participants",
        json={"usernames": [rest[30].username]},
        headers=rest[0].auth,
    )
    assert added.status_code == 200 and len(added.json()["participants"]) == 32
    full = await client.post(
        f"/conversations/{group['id']}/participants",
        json={"usernames": [outsider.username]},
        headers=owner.auth,
    )
    assert_error(full, 422, "validation_error")


async def test_leaving_a_group_and_rejoining_hides_what_was_said_meanwhile(
    client: httpx.AsyncClient,
) -> None:
    alice, bob, carol = [await register(client, n) for n in ("alice", "bob", "carol")]
    group = await conversation(client, alice, bob, carol, title="trip")
    await send(client, alice, group["id"], "before")
    left = await client.post(f"/conversations/{group['id']}/leave", headers=carol.auth)
    assert left.status_code == 204
    assert_error(
        await client.get(f"/conversations/{group['id']}/messages", headers=carol.auth),
        404,
        "not_found",
    )
    await send(client, alice, group["id"], "while carol was away")
    rejoined = await client.post(
        f"/conversations/{group['id']}/participants",
        json={"usernames": ["carol"]},
        headers=bob.auth,
    )
    assert rejoined.status_code == 200
    await send(client, bob, group["id"], "welcome back")
    assert [m["text"] for m in await messages(client, carol, group["id"])] == ["welcome back"]
    one_to_one = await conversation(client, alice, bob)
    assert_error(
        await client.post(f"/conversations/{one_to_one['id']}/leave", headers=bob.auth),
        422,
        "not_a_group",
    )


async def test_read_marker_moves_forward_only_and_recounts_unread(
    client: httpx.AsyncClient,
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await _follow(client, bob, alice)
    chat = await conversation(client, alice, bob)
    sent = [await send(client, alice, chat["id"], f"m{i}") for i in range(3)]
    assert (await inbox(client, bob))[0]["unread_count"] == 3
    read = await client.post(
        f"/conversations/{chat['id']}/read", json={"message_id": sent[1]["id"]}, headers=bob.auth
    )
    assert read.status_code == 204
    (seen,) = await inbox(client, bob)
    assert seen["unread_count"] == 1
    states = {s["user_id"]: s["last_read_message_id"] for s in seen["read_states"]}
    assert states[bob.id] == sent[1]["id"] and states[alice.id] == sent[2]["id"]
    back = await client.post(
        f"/conversations/{chat['id']}/read", json={"message_id": sent[0]["id"]}, headers=bob.auth
    )
    assert back.status_code == 204
    assert (await inbox(client, bob))[0]["unread_count"] == 1
    muted = await client.patch(
        f"/conversations/{chat['id']}", json={"muted": True}, headers=bob.auth
    )
    assert muted.status_code == 200 and muted.json()["muted"] is True
    await send(client, alice, chat["id"], "still counted")
    assert (await inbox(client, bob))[0]["unread_count"] == 2
    assert await _counts(client, bob) == {"unread_conversations": 0, "requests": 0}
    missing = await client.post(
        f"/conversations/{chat['id']}/read", json={"message_id": "123"}, headers=bob.auth
    )
    assert_error(missing, 404, "not_found")


async def test_inbox_is_ordered_by_last_activity_and_pages(client: httpx.AsyncClient) -> None:
    me = await register(client, "mee")
    friends = [await register(client) for _ in range(5)]
    chats = [await conversation(client, me, friend) for friend in friends]
    for chat in chats:
        await send(client, me, chat["id"], f"to {chat['id']}")
    await send(client, me, chats[1]["id"], "bump")
    first = await client.get("/conversations", params={"limit": 3}, headers=me.auth)
    page = first.json()
    second = await client.get(
        "/conversations", params={"limit": 3, "cursor": page["next_cursor"]}, headers=me.auth
    )
    order = [c["id"] for c in page["items"] + second.json()["items"]]
    expected = [chats[1]["id"]] + [c["id"] for c in reversed(chats) if c is not chats[1]]
    assert order == expected
    assert page["items"][0]["last_message"]["text"] == "bump"
    assert second.json()["next_cursor"] is None


async def test_bad_conversation_input_is_refused(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    for body in ({}, {"usernames": []}, {"usernames": ["alice"]}, {"usernames": ["bob"], "x": 1}):
        assert_error(
            await client.post("/conversations", json=body, headers=alice.auth),
            422,
            "validation_error",
        )
    assert_error(
        await client.post("/conversations", json={"usernames": ["ghost"]}, headers=alice.auth),
        404,
        "not_found",
    )
    for path in ("/conversations/abc/messages", "/conversations/99999999/messages"):
        assert_error(await client.get(path, headers=alice.auth), 404, "not_found")
    assert_error(await client.get("/conversations"), 401, "unauthenticated")
    assert_error(
        await client.get("/conversations", params={"folder": "spam"}, headers=alice.auth),
        422,
        "validation_error",
    )
