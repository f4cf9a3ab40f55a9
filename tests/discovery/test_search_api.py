"""GET /search from each kind of viewer, in both run modes."""

from __future__ import annotations

from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import TestUser, register
from tests.factories.discovery import indexed_post


async def _search(
    client: httpx.AsyncClient, q: str, viewer: TestUser | None = None, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        "/search", params={"q": q, **params}, headers=viewer.auth if viewer else {}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _names(body: dict[str, Any]) -> list[str]:
    return [user["username"] for user in body["users"]]


async def test_people_by_username_and_name_prefix_without_case_or_accents(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "emile.zola", display_name="Émile Zola")
    await register(client, "zoe", display_name="Zoë Émond")
    seeker = await register(client, "seeker")
    assert _names(await _search(client, "émile", seeker)) == ["emile.zola"]
    assert _names(await _search(client, "EMI", seeker)) == ["emile.zola"]
    assert _names(await _search(client, "zol", seeker)) == ["emile.zola"]
    assert sorted(_names(await _search(client, "zo", seeker))) == ["emile.zola", "zoe"]
    assert _names(await _search(client, "emond", None)) == ["zoe"]
    assert _names(await _search(client, "@emile.z", seeker)) == ["emile.zola"]
    assert _names(await _search(client, "zoe emo", seeker)) == ["zoe"]


async def test_posts_by_caption_words_with_stemming(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    running = await indexed_post(
        client, clean_runtime, author, caption="Running by the lake #sunset"
    )
    await indexed_post(client, clean_runtime, author, caption="Breakfast")
    found = await _search(client, "runs lake", author, type="posts")
    assert [post["id"] for post in found["posts"]] == [running["id"]]
    assert (await _search(client, "sunset"))["hashtags"] == [{"name": "sunset", "post_count": 1}]


async def test_bad_queries(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    assert (await _search(client, ""))["users"] == []
    assert (await _search(client, "a"))["users"] == []
    assert_error(await client.get("/search", params={"q": "x" * 101}), 422, "validation_error")
