"""Reading feeds in tests: every page of a feed, as post IDs."""

from __future__ import annotations

import httpx

from tests.factories.accounts import TestUser


async def feed_ids(
    client: httpx.AsyncClient, user: TestUser, path: str = "/feed", *, limit: int = 20
) -> list[str]:
    """Every post ID of a feed, following the cursors to the end."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(200):
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(path, params=params, headers=user.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError(f"{path} did not end after 200 pages")
