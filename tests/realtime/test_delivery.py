"""Who receives which stream event, and what each viewer may see of it, in both modes.

These tests read each user's event log and present its events as the gateway does, so they
check the rules (recipients, privacy at delivery, notify flags) without a socket; the socket
itself is tested in test_stream_gateway.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from glint.accounts.models import User
from glint.infra.runtime import Runtime
from glint.media.urls import MediaUrls
from glint.realtime import presenter
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, send
from tests.factories.posts import published_post


async def _stream(rt: Runtime, user: TestUser) -> list[tuple[str, dict[str, Any]]]:
    """Everything in the user's window, as they may see it now."""
    await wait_for_jobs(rt)
    read = await rt.eventlog.read(int(user.id), None)
    assert not read.gap
    urls = MediaUrls(rt.secret_key)
    result = []
    async with rt.db.session() as session:
        viewer = await session.get(User, int(user.id))
        assert viewer is not None
        for event in read.events:
            shown = await presenter.present(
                session, viewer=viewer, urls=urls, payload=event.payload
            )
            if shown is not None:
                result.append(shown)
    return result


def _types(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in events]


async def _follow(client: httpx.AsyncClient, follower: TestUser, target: TestUser) -> None:
    answer = await client.post(f"/users/{target.username}/follow", headers=follower.auth)
    assert answer.status_code == 200


async def test_a_message_reaches_every_member_with_the_right_noise(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob, carol = [await register(client, n) for n in ("alice", "bob", "carol")]
    await _follow(client, bob, alice)
    chat = await conversation(client, alice, bob)
    message = await send(client, alice, chat["id"], "hello")
    (to_bob,) = await _stream(clean_runtime, bob)
    assert to_bob[0] == "message.created"
    assert to_bob[1]["id"] == message["id"] and to_bob[1]["text"] == "hello"
    assert to_bob[1]["notify"] is True
    # Her other devices get it too (beside the notification that bob follows her).
    to_alice_all = await _stream(clean_runtime, alice)
    assert sorted(_types(to_alice_all)) == ["message.created", "notification.created"]
    to_alice = next(event for event in to_alice_all if event[0] == "message.created")
    assert to_alice[1]["id"] == message["id"] and to_alice[1]["notify"] is False
    assert await _stream(clean_runtime, carol) == []
    stranger_chat = await conversation(client, carol, bob)
    await send(client, carol, stranger_chat["id"], "a request")
    request = (await _stream(clean_runtime, bob))[-1]
    assert request[1]["text"] == "a request" and request[1]["notify"] is False
    await client.patch(f"/conversations/{chat['id']}", json={"muted": True}, headers=bob.auth)
    await send(client, alice, chat["id"], "muted")
    muted = (await _stream(clean_runtime, bob))[-1]
    assert muted[1]["text"] == "muted" and muted[1]["notify"] is False


async def test_privacy_is_checked_at_delivery(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    await send(client, alice, chat["id"], "before the block")
    assert _types(await _stream(clean_runtime, bob)) == ["message.created"]
    await client.post("/users/alice/block", headers=bob.auth)
    # The event is still in the window, but the door is closed.
    assert await _stream(clean_runtime, bob) == []
    assert await _stream(clean_runtime, alice) == []


async def test_unsend_reactions_and_reads_reach_the_thread(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    first = await send(client, alice, chat["id"], "first")
    second = await send(client, alice, chat["id"], "second")
    await client.post(f"/messages/{first['id']}/reactions", json={"emoji": "❤️"}, headers=bob.auth)
    await client.post(
        f"/conversations/{chat['id']}/read", json={"message_id": second["id"]}, headers=bob.auth
    )
    await client.delete(f"/messages/{second['id']}", headers=alice.auth)
    events = await _stream(clean_runtime, alice)
    # The unsent message's own creation is no longer shown to anyone.
    assert _types(events) == [
        "message.created",
        "message.reaction",
        "conversation.read",
        "message.deleted",
    ]
    reaction = events[1][1]
    assert reaction["id"] == first["id"]
    assert reaction["reactions"] == [{"emoji": "❤️", "count": 1, "me": False}]
    assert events[2][1] == {
        "conversation_id": chat["id"],
        "message_id": second["id"],
        "user_id": bob.id,
    }
    assert events[3][1] == {"conversation_id": chat["id"], "message_id": second["id"]}


async def test_notifications_and_publications_are_told_live(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    post = await published_post(client, alice)
    assert ("post.published", post["id"]) in [
        (kind, data["id"]) for kind, data in await _stream(clean_runtime, alice)
    ]
    await client.post(f"/posts/{post['id']}/like", headers=bob.auth)
    kinds = await _stream(clean_runtime, alice)
    note = [data for kind, data in kinds if kind == "notification.created"]
    assert note and note[-1]["kind"] == "like" and note[-1]["actors"][0]["username"] == "bob"
    assert await _stream(clean_runtime, bob) == []
    # An unlike withdraws the notification: its stored event then shows nothing.
    await client.delete(f"/posts/{post['id']}/like", headers=bob.auth)
    assert "notification.created" not in _types(await _stream(clean_runtime, alice))


async def test_typing_goes_to_the_others_connections_and_is_never_stored(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    async with clean_runtime.hub.connect(int(bob.id), 1) as connection:
        answer = await client.post(f"/conversations/{chat['id']}/typing", headers=alice.auth)
        assert answer.status_code == 204
        signal = await asyncio.wait_for(connection.next(), timeout=5)
    payload = getattr(signal, "payload", None)
    assert payload is not None
    urls = MediaUrls(clean_runtime.secret_key)
    async with clean_runtime.db.session() as session:
        viewer = await session.get(User, int(bob.id))
        assert viewer is not None
        shown = await presenter.present(session, viewer=viewer, urls=urls, payload=payload)
    assert shown is not None and shown[0] == "typing"
    assert shown[1]["user"]["username"] == "alice" and shown[1]["expires_in"] == 5
    assert await _stream(clean_runtime, bob) == []
