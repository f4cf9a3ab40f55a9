"""Test data for direct messages: conversations and messages made through the real API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.factories.accounts import TestUser


async def conversation(
    client: httpx.AsyncClient, creator: TestUser, *others: TestUser, title: str | None = None
) -> dict[str, Any]:
    """POST /conversations with these people (a 1:1 for one, a group for several)."""
    body: dict[str, Any] = {"usernames": [other.username for other in others]}
    if title is not None:
        body["title"] = title
    response = await client.post("/conversations", json=body, headers=creator.auth)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def send(
    client: httpx.AsyncClient, sender: TestUser, conversation_id: str, text: str = "hi", **body: Any
) -> dict[str, Any]:
    """A text message (or another kind, given in body), which must be accepted."""
    payload: dict[str, Any] = {"kind": "text", "text": text, **body}
    if payload["kind"] != "text" and text == "hi":
        payload.pop("text")
    response = await client.post(
        f"/conversations/{conversation_id}/messages", json=payload, headers=sender.auth
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def messages(
    client: httpx.AsyncClient, viewer: TestUser, conversation_id: str, **params: Any
) -> list[dict[str, Any]]:
    """The first page of a conversation as the viewer sees it."""
    response = await client.get(
        f"/conversations/{conversation_id}/messages", params=params, headers=viewer.auth
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def inbox(
    client: httpx.AsyncClient, viewer: TestUser, folder: str = "all"
) -> list[dict[str, Any]]:
    """The viewer's conversations in one folder."""
    response = await client.get("/conversations", params={"folder": folder}, headers=viewer.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def wait_for_message(
    client: httpx.AsyncClient, viewer: TestUser, conversation_id: str, message_id: str
) -> dict[str, Any]:
    """Poll the conversation until the message has left `processing`."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        for item in await messages(client, viewer, conversation_id):
            if item["id"] == message_id and item["status"] != "processing":
                return item
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"message {message_id} still processing")
        await asyncio.sleep(0.1)
