"""Test data for posts: uploads through the real API, and waiting for the pipeline."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import images
from tests.factories.accounts import TestUser
from tests.factories.processing import until_processed


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
    return await until_processed(client, user, f"/posts/{post_id}", within=within)


async def published_post(
    client: httpx.AsyncClient, user: TestUser, **kwargs: Any
) -> dict[str, Any]:
    """Upload and wait until published."""
    response = await upload(client, user, **kwargs)
    assert response.status_code == 202, response.text
    post = await wait_for_post(client, user, response.json()["id"])
    assert post["status"] == "published", post
    return post
