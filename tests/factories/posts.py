"""Test data for posts: uploads through the real API, and waiting for the pipeline."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.factories import images
from tests.factories.accounts import TestUser


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    *,
    files: list[bytes] | None = None,
    caption: str = "",
    **fields: Any,
) -> httpx.Response:
    """POST /posts with real image files."""
    photos = files if files is not None else [images.jpeg(640, 480)]
    multipart = [("image", (f"photo{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    data: dict[str, Any] = {"caption": caption, **fields}
    return await client.post("/posts", files=multipart, data=data, headers=user.auth)


async def wait_for_post(
    client: httpx.AsyncClient, user: TestUser, post_id: str, *, within: float = 60.0
) -> dict[str, Any]:
    """Poll the post (as its author) until it leaves `processing`."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        response = await client.get(f"/posts/{post_id}", headers=user.auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "processing":
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"post {post_id} still processing after {within}s")
        await asyncio.sleep(0.1)


async def published_post(
    client: httpx.AsyncClient, user: TestUser, **kwargs: Any
) -> dict[str, Any]:
    """Upload and wait until published."""
    response = await upload(client, user, **kwargs)
    assert response.status_code == 202, response.text
    post = await wait_for_post(client, user, response.json()["id"])
    assert post["status"] == "published", post
    return post
