"""Test data for stories: stories posted through the real API, and waiting for the pipeline."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import images
from tests.factories.accounts import TestUser
from tests.factories.processing import until_processed


async def upload_story(
    client: httpx.AsyncClient,
    user: TestUser,
    *,
    photo: bytes | None = None,
    filename: str = "story.jpg",
    **fields: Any,
) -> httpx.Response:
    """POST /stories with a real image file."""
    data = photo if photo is not None else images.jpeg(480, 640)
    return await client.post(
        "/stories",
        files=[("media", (filename, data, "application/octet-stream"))],
        data=fields,
        headers=user.auth,
    )


async def wait_for_story(
    client: httpx.AsyncClient, user: TestUser, story_id: str, *, within: float = 60.0
) -> dict[str, Any]:
    """Poll the story (as its author) until it leaves `processing`."""
    return await until_processed(client, user, f"/stories/{story_id}", within=within)


async def published_story(
    client: httpx.AsyncClient, user: TestUser, **fields: Any
) -> dict[str, Any]:
    """Post a story and wait until it is live."""
    response = await upload_story(client, user, **fields)
    assert response.status_code == 202, response.text
    story = await wait_for_story(client, user, response.json()["id"])
    assert story["status"] == "published", story
    return story


async def tray(client: httpx.AsyncClient, viewer: TestUser) -> list[dict[str, Any]]:
    """GET /stories/feed as the viewer."""
    response = await client.get("/stories/feed", headers=viewer.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def tray_names(items: list[dict[str, Any]]) -> list[str]:
    """The usernames in a tray, in its order."""
    return [item["user"]["username"] for item in items]


def media_url(url: str) -> str:
    """An absolute URL for a signed media path (media is served outside the API prefix)."""
    return f"http://testserver{url}"
