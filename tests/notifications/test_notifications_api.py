"""Notifications in both modes: made by background jobs, grouped, withdrawn, never for yourself."""

from __future__ import annotations

from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.posts import published_post


async def _inbox(client: httpx.AsyncClient, runtime: Runtime, user: TestUser) -> dict[str, Any]:
    await wait_for_jobs(runtime)
    response = await client.get("/notifications", headers=user.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_likes_are_grouped_and_unlikes_withdraw(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    fans = [await register(client, f"fan{i}") for i in range(4)]
    post = await published_post(client, author)
    for fan in fans:
        await client.post(f"/posts/{post['id']}/like", headers=fan.auth)
    await client.post(f"/posts/{post['id']}/like", headers=author.auth)  # own like: silent
    inbox = await _inbox(client, clean_runtime, author)
    likes = [n for n in inbox["items"] if n["kind"] == "like"]
    assert len(likes) == 1
    assert likes[0]["actor_count"] == 4
    assert [a["username"] for a in likes[0]["actors"]] == ["fan3", "fan2", "fan1"]
    assert likes[0]["post_id"] == post["id"]
    assert inbox["unread_count"] == 1
    for fan in fans[2:]:
        await client.delete(f"/posts/{post['id']}/like", headers=fan.auth)
    inbox = await _inbox(client, clean_runtime, author)
    assert inbox["items"][0]["actor_count"] == 2
    for fan in fans[:2]:
        await client.delete(f"/posts/{post['id']}/like", headers=fan.auth)
    assert (await _inbox(client, clean_runtime, author))["items"] == []


async def test_comments_replies_and_mentions(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    fan = await register(client, "fan")
    friend = await register(client, "friend")
    post = await published_post(client, author, caption="with @friend at the lake")
    top = (
        await client.post(
            f"/posts/{post['id']}/comments", json={"text": "wow @friend"}, headers=fan.auth
        )
    ).json()
    await client.post(
        f"/posts/{post['id']}/comments",
        json={"text": "thanks!", "parent_id": top["id"]},
        headers=author.auth,
    )
    author_kinds = sorted(n["kind"] for n in (await _inbox(client, clean_runtime, author))["items"])
    assert author_kinds == ["comment"]
    fan_inbox = (await _inbox(client, clean_runtime, fan))["items"]
    assert [n["kind"] for n in fan_inbox] == ["comment_reply"]
    assert fan_inbox[0]["text"] == "thanks!"
    friend_kinds = sorted(n["kind"] for n in (await _inbox(client, clean_runtime, friend))["items"])
    assert friend_kinds == ["mention", "mention"]


async def test_follow_request_and_acceptance(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    owner, asker, fan = (
        await register(client, "owner"),
        await register(client, "asker"),
        await register(client, "fan"),
    )
    await client.post("/users/owner/follow", headers=fan.auth)
    await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    await client.post("/users/owner/follow", headers=asker.auth)
    kinds = [n["kind"] for n in (await _inbox(client, clean_runtime, owner))["items"]]
    assert kinds == ["follow_request", "follow"]
    await client.post("/follow-requests/asker/approve", headers=owner.auth)
    accepted = (await _inbox(client, clean_runtime, asker))["items"]
    assert [n["kind"] for n in accepted] == ["follow_accepted"]
    assert accepted[0]["actors"][0]["username"] == "owner"
    # The approved request now reads "started following you" (test_one_per_event.py).
    await client.delete("/users/owner/follow", headers=fan.auth)
    items = (await _inbox(client, clean_runtime, owner))["items"]
    assert [(n["kind"], n["actors"][0]["username"]) for n in items] == [("follow", "asker")]


async def test_blocked_users_cause_no_notifications(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author, pest = await register(client, "author"), await register(client, "pest")
    post = await published_post(client, author)
    await client.post(f"/posts/{post['id']}/like", headers=pest.auth)
    await wait_for_jobs(clean_runtime)
    await client.post("/users/pest/block", headers=author.auth)
    await client.post("/users/author/follow", headers=pest.auth)
    inbox = await _inbox(client, clean_runtime, author)
    assert all(n["kind"] == "like" for n in inbox["items"])


async def test_mark_read(client: httpx.AsyncClient, clean_runtime: Runtime) -> None:
    author = await register(client, "author")
    fans = [await register(client) for _ in range(3)]
    for fan in fans:
        await client.post("/users/author/follow", headers=fan.auth)
    inbox = await _inbox(client, clean_runtime, author)
    assert inbox["unread_count"] == 3
    middle = inbox["items"][1]["id"]
    response = await client.post(
        "/notifications/read", json={"up_to_id": middle}, headers=author.auth
    )
    assert response.status_code == 204
    inbox = await _inbox(client, clean_runtime, author)
    assert [n["read"] for n in inbox["items"]] == [False, True, True]
    assert inbox["unread_count"] == 1
    assert (await client.post("/notifications/read", headers=author.auth)).status_code == 204
    assert (await _inbox(client, clean_runtime, author))["unread_count"] == 0
