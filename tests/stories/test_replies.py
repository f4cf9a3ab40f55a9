"""Replies to stories land in the 1:1 conversation with the author, under the request rules."""

from __future__ import annotations

from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import inbox, messages
from tests.factories.stories import published_story


async def _notifications(
    client: httpx.AsyncClient, runtime: Runtime, user: TestUser
) -> list[dict[str, Any]]:
    await wait_for_jobs(runtime)
    response = await client.get("/notifications", headers=user.auth)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["kind"] == "story_reply"]


async def test_a_reply_is_a_message_quoting_the_story_and_a_notification(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    ann, bob = await register(client, "ann"), await register(client, "bob")
    await client.post("/users/ann/follow", headers=bob.auth)
    await client.post("/users/bob/follow", headers=ann.auth)
    story = await published_story(client, ann)
    first = await client.post(
        f"/stories/{story['id']}/reply", json={"text": " lovely "}, headers=bob.auth
    )
    assert first.status_code == 201, first.text
    message = first.json()
    assert message["kind"] == "story_reply" and message["text"] == "lovely"
    assert message["story_id"] == story["id"] and message["sender"]["username"] == "bob"
    second = await client.post(
        f"/stories/{story['id']}/reply", json={"text": "again"}, headers=bob.auth
    )
    assert second.json()["conversation_id"] == message["conversation_id"]  # the same 1:1
    (chat,) = await inbox(client, ann, "inbox")
    assert chat["id"] == message["conversation_id"] and chat["unread_count"] == 2
    assert [m["text"] for m in await messages(client, ann, chat["id"])] == ["again", "lovely"]
    replies = await _notifications(client, clean_runtime, ann)
    assert [n["text"] for n in replies] == ["again", "lovely"]
    assert replies[0]["actors"][0]["username"] == "bob"
    for body in ({"text": ""}, {"text": "   "}, {"text": "x" * 1001}, {}, {"text": "a", "x": 1}):
        assert_error(
            await client.post(f"/stories/{story['id']}/reply", json=body, headers=bob.auth),
            422,
            "validation_error",
        )
    assert_error(
        await client.post(f"/stories/{story['id']}/reply", json={"text": "hi"}),
        401,
        "unauthenticated",
    )


async def test_a_reply_from_someone_the_author_does_not_follow_is_a_request(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    ann, fan = await register(client, "ann"), await register(client, "fan")
    await client.post("/users/ann/follow", headers=fan.auth)
    story = await published_story(client, ann)
    sent = await client.post(
        f"/stories/{story['id']}/reply", json={"text": "hello"}, headers=fan.auth
    )
    assert sent.status_code == 201
    assert await inbox(client, ann, "inbox") == []
    (request,) = await inbox(client, ann, "requests")
    assert request["is_request"] is True and request["last_message"]["kind"] == "story_reply"
    assert await _notifications(client, clean_runtime, ann) == []  # a request makes no noise
    await client.post("/users/fan/block", headers=ann.auth)
    blocked = await client.post(
        f"/stories/{story['id']}/reply", json={"text": "still?"}, headers=fan.auth
    )
    assert_error(blocked, 404, "not_found")
