"""Messages through the API, in both modes: kinds, idempotency, paging, unsend, reactions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.accounts.test_auth_api import assert_error
from tests.factories import images
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, inbox, messages, send, wait_for_message
from tests.factories.posts import published_post


async def _pair(client: httpx.AsyncClient) -> tuple[TestUser, TestUser, str]:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    return alice, bob, str(chat["id"])


async def _post_message(
    client: httpx.AsyncClient, user: TestUser, chat: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/conversations/{chat}/messages", json=body, headers=user.auth)


async def test_text_heart_and_bad_bodies(client: httpx.AsyncClient) -> None:
    alice, bob, chat = await _pair(client)
    text = await send(client, alice, chat, "  hello  ")
    assert text["kind"] == "text" and text["text"] == "hello" and text["status"] == "published"
    assert text["sender"]["username"] == "alice" and text["reactions"] == []
    heart = await _post_message(client, bob, chat, {"kind": "heart"})
    assert heart.status_code == 201 and heart.json()["text"] is None
    for body in (
        {"kind": "text"},
        {"kind": "text", "text": "   "},
        {"kind": "text", "text": "x" * 1001},
        {"kind": "heart", "text": "hi"},
        {"kind": "sticker", "text": "hi"},
        {"kind": "post_share"},
        {"kind": "text", "text": "hi", "extra": 1},
        {"kind": "text", "text": "hi", "client_id": "x" * 65},
    ):
        assert_error(await _post_message(client, alice, chat, body), 422, "validation_error")
    garbage = await client.post(
        f"/conversations/{chat}/messages",
        content=b"{not json",
        headers={**alice.auth, "content-type": "application/json"},
    )
    assert_error(garbage, 400, "malformed_json")
    exactly = await _post_message(client, alice, chat, {"kind": "text", "text": "y" * 1000})
    assert exactly.status_code == 201
    carol = await register(client, "carol")
    assert_error(
        await _post_message(client, carol, chat, {"kind": "text", "text": "hi"}), 404, "not_found"
    )
    assert [m["kind"] for m in await messages(client, bob, chat)] == ["text", "heart", "text"]


async def test_the_same_client_id_is_one_message_even_at_once(client: httpx.AsyncClient) -> None:
    alice, bob, chat = await _pair(client)
    body = {"kind": "text", "text": "only once", "client_id": "c-1"}
    answers = await asyncio.gather(*(_post_message(client, alice, chat, body) for _ in range(20)))
    assert sorted(r.status_code for r in answers) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in answers}) == 1
    assert answers[0].json()["client_id"] == "c-1"
    assert len(await messages(client, bob, chat)) == 1
    assert (await inbox(client, bob))[0]["unread_count"] == 1
    # The same client_id from someone else is their own message.
    other = await _post_message(client, bob, chat, body)
    assert other.status_code == 201 and other.json()["id"] != answers[0].json()["id"]
    assert (await messages(client, bob, chat))[0]["client_id"] == "c-1"
    assert (await messages(client, alice, chat))[0]["client_id"] is None


async def test_paging_is_newest_first_and_stable_under_concurrent_sends(
    client: httpx.AsyncClient,
) -> None:
    alice, bob, chat = await _pair(client)
    sent = [await send(client, alice, chat, f"m{i}") for i in range(7)]
    first = await client.get(
        f"/conversations/{chat}/messages", params={"limit": 3}, headers=bob.auth
    )
    page = first.json()
    await asyncio.gather(*(send(client, bob, chat, f"new{i}") for i in range(5)))
    seen = [m["id"] for m in page["items"]]
    cursor = page["next_cursor"]
    while cursor:
        nxt = await client.get(
            f"/conversations/{chat}/messages",
            params={"limit": 3, "cursor": cursor},
            headers=bob.auth,
        )
        seen += [m["id"] for m in nxt.json()["items"]]
        cursor = nxt.json()["next_cursor"]
    assert seen == [m["id"] for m in reversed(sent)]


async def test_unsend_removes_for_everyone_and_recounts(client: httpx.AsyncClient) -> None:
    alice, bob, chat = await _pair(client)
    first = await send(client, alice, chat, "keep")
    second = await send(client, alice, chat, "oops")
    assert_error(
        await client.delete(f"/messages/{second['id']}", headers=bob.auth), 403, "forbidden"
    )
    assert (await client.delete(f"/messages/{second['id']}", headers=alice.auth)).status_code == 204
    assert [m["id"] for m in await messages(client, bob, chat)] == [first["id"]]
    (seen,) = await inbox(client, bob)
    assert seen["unread_count"] == 1 and seen["last_message"]["id"] == first["id"]
    assert_error(
        await client.delete(f"/messages/{second['id']}", headers=alice.auth), 404, "not_found"
    )
    assert_error(await client.delete("/messages/nope", headers=alice.auth), 404, "not_found")


async def test_one_reaction_per_person_replaced_and_removed(client: httpx.AsyncClient) -> None:
    alice, bob, chat = await _pair(client)
    message = await send(client, alice, chat, "react to me")
    url = f"/messages/{message['id']}/reactions"
    assert (await client.post(url, json={"emoji": "❤️"}, headers=bob.auth)).status_code == 200
    both = await client.post(url, json={"emoji": "❤️"}, headers=alice.auth)
    assert both.json()["reactions"] == [{"emoji": "❤️", "count": 2, "me": True}]
    replaced = await client.post(url, json={"emoji": "😂"}, headers=bob.auth)
    assert sorted((r["emoji"], r["count"], r["me"]) for r in replaced.json()["reactions"]) == [
        ("❤️", 1, False),
        ("😂", 1, True),
    ]
    removed = await client.delete(url, headers=bob.auth)
    assert removed.json()["reactions"] == [{"emoji": "❤️", "count": 1, "me": False}]
    for emoji in ("", "abc", "❤️" * 20, " "):
        assert_error(
            await client.post(url, json={"emoji": emoji}, headers=bob.auth), 422, "validation_error"
        )
    carol = await register(client, "carol")
    assert_error(await client.post(url, json={"emoji": "❤️"}, headers=carol.auth), 404, "not_found")


async def test_shared_posts_show_only_to_who_may_see_them(client: httpx.AsyncClient) -> None:
    alice, bob, chat = await _pair(client)
    post = await published_post(client, alice, caption="public one")
    shared = await send(client, alice, chat, kind="post_share", post_id=post["id"])
    assert shared["post"]["id"] == post["id"] and shared["post_unavailable"] is False
    assert (await messages(client, bob, chat))[0]["post"]["caption"] == "public one"
    await client.patch("/users/me", json={"is_private": True}, headers=alice.auth)
    (hidden,) = await messages(client, bob, chat)
    assert hidden["post"] is None and hidden["post_unavailable"] is True
    assert hidden["post_id"] == post["id"]
    carol = await register(client, "carol")
    carol_post = await published_post(client, carol)
    await client.patch("/users/me", json={"is_private": True}, headers=carol.auth)
    refused = await _post_message(
        client, alice, chat, {"kind": "post_share", "post_id": carol_post["id"]}
    )
    assert_error(refused, 404, "not_found")


async def test_photo_messages_send_once_processed_and_stay_private(
    client: httpx.AsyncClient,
) -> None:
    alice, bob, chat = await _pair(client)
    answer = await client.post(
        f"/conversations/{chat}/messages",
        files={"image": ("p.jpg", images.jpeg(800, 600), "image/jpeg")},
        data={"client_id": "photo-1"},
        headers=alice.auth,
    )
    assert answer.status_code == 201, answer.text
    sent = answer.json()
    assert sent["kind"] == "image" and sent["status"] in ("processing", "published")
    done = await wait_for_message(client, alice, chat, sent["id"])
    assert done["status"] == "published" and done["media"]["width"] == 800
    (seen,) = await messages(client, bob, chat)
    assert seen["id"] == sent["id"]
    url = seen["media"]["urls"]["small"]
    assert url.startswith("/media/")
    base = "http://testserver"
    fetched = await client.get(base + url, headers=bob.auth)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/webp"
    carol = await register(client, "carol")
    assert (await client.get(base + url, headers=carol.auth)).status_code == 404
    assert (await client.get(base + url)).status_code == 404
    assert (await client.delete(f"/messages/{sent['id']}", headers=alice.auth)).status_code == 204
    assert (await client.get(base + url, headers=bob.auth)).status_code == 404


async def test_bad_photo_messages_get_the_post_errors(client: httpx.AsyncClient) -> None:
    alice, _bob, chat = await _pair(client)
    for name, (data, status, code) in images.bad_files().items():
        answer = await client.post(
            f"/conversations/{chat}/messages",
            files={"image": (name, data, "application/octet-stream")},
            headers=alice.auth,
        )
        assert_error(answer, status, code)
    missing = await client.post(
        f"/conversations/{chat}/messages",
        files={"other": ("x", b"x", "text/plain")},
        headers=alice.auth,
    )
    assert_error(missing, 422, "validation_error")
    assert await messages(client, alice, chat) == []


async def test_a_group_newcomer_reads_from_when_they_joined(client: httpx.AsyncClient) -> None:
    alice, bob, carol = [await register(client, n) for n in ("alice", "bob", "carol")]
    group = await conversation(client, alice, bob, title="g")
    old = await send(client, alice, group["id"], "before carol")
    await client.post(
        f"/conversations/{group['id']}/participants",
        json={"usernames": ["carol"]},
        headers=bob.auth,
    )
    assert await messages(client, carol, group["id"]) == []
    for path in (f"/messages/{old['id']}/reactions",):
        assert_error(
            await client.post(path, json={"emoji": "❤️"}, headers=carol.auth), 404, "not_found"
        )
    await send(client, alice, group["id"], "hi carol")
    assert [m["text"] for m in await messages(client, carol, group["id"])] == ["hi carol"]
    assert (await inbox(client, carol))[0]["unread_count"] == 1


async def test_typing_is_for_members_only(client: httpx.AsyncClient) -> None:
    alice, _bob, chat = await _pair(client)
    assert (
        await client.post(f"/conversations/{chat}/typing", headers=alice.auth)
    ).status_code == 204
    carol = await register(client, "carol")
    assert_error(
        await client.post(f"/conversations/{chat}/typing", headers=carol.auth), 404, "not_found"
    )
