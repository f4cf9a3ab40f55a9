"""Waiting for the pipeline: poll a photo-made thing (post, story) until it leaves processing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.factories.accounts import TestUser


async def until_processed(
    client: httpx.AsyncClient, user: TestUser, path: str, *, within: float = 60.0
) -> dict[str, Any]:
    """GET path as the user (its author) until its status is no longer `processing`."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        response = await client.get(path, headers=user.auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "processing":
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path} still processing after {within}s")
        await asyncio.sleep(0.1)
