"""Who sees what: every kind of viewer against a private account's content, and blocks."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from glint.infra.runtime import Runtime
from glint.media import signing
from glint.media.urls import MediaUrls
from tests.conftest import TEST_SECRET
from tests.factories.accounts import TestUser, register
from tests.factories.posts import published_post

VIEWERS = ("owner", "follower", "stranger", "requester", "blocked", "anonymous")


async def _private_world(client: httpx.AsyncClient) -> dict[str, Any]:
    owner = await register(client, "owner")
    people = {name: await register(client, name) for name in VIEWERS[1:-1]}
    post = await published_post(client, owner, caption="secret #garden")
    await client.post(f"/posts/{post['id']}/comments", json={"text": "mine"}, headers=owner.auth)
    await client.post("/users/owner/follow", headers=people["follower"].auth)
    await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    await client.post("/users/owner/follow", headers=people["requester"].auth)
    await client.post("/users/blocked/block", headers=owner.auth)
    users: dict[str, TestUser | None] = {"owner": owner, **people, "anonymous": None}
    follower_view = await client.get(f"/posts/{post['id']}", headers=people["follower"].auth)
    assert follower_view.status_code == 200
    return {
        "users": users,
        "post": post,
        "media": follower_view.json()["media"][0]["urls"]["small"],
    }


def _auth(user: TestUser | None) -> dict[str, str]:
    return user.auth if user else {}


# (status for owner, follower, stranger, requester, blocked, anonymous)
READS = {
    "post": ("/posts/{post}", (200, 200, 404, 404, 404, 404)),
    "user_posts": ("/users/owner/posts", (200, 200, 403, 403, 404, 403)),
    "comments": ("/posts/{post}/comments", (200, 200, 404, 404, 404, 404)),
    "likes": ("/posts/{post}/likes", (200, 200, 404, 404, 404, 404)),
    "followers": ("/users/owner/followers", (200, 200, 403, 403, 404, 403)),
    "following": ("/users/owner/following", (200, 200, 403, 403, 404, 403)),
    "profile": ("/users/owner", (200, 200, 200, 200, 404, 200)),
}


@pytest.mark.parametrize("endpoint", sorted(READS))
async def test_reads_of_a_private_account(client: httpx.AsyncClient, endpoint: str) -> None:
    world = await _private_world(client)
    path, expected = READS[endpoint]
    for viewer, status in zip(VIEWERS, expected, strict=True):
        response = await client.get(
            path.format(post=world["post"]["id"]), headers=_auth(world["users"][viewer])
        )
        assert response.status_code == status, (endpoint, viewer, response.text)
        if status >= 400:
            assert response.json()["error"]["code"] in ("not_found", "account_private")


async def test_writes_on_a_private_account(client: httpx.AsyncClient) -> None:
    world = await _private_world(client)
    post_id = world["post"]["id"]
    expected = {
        "owner": 200,
        "follower": 200,
        "stranger": 404,
        "requester": 404,
        "blocked": 404,
        "anonymous": 401,
    }
    for viewer, status in expected.items():
        headers = _auth(world["users"][viewer])
        like = await client.post(f"/posts/{post_id}/like", headers=headers)
        assert like.status_code == status, (viewer, like.text)
        comment = await client.post(
            f"/posts/{post_id}/comments", json={"text": "hello"}, headers=headers
        )
        assert comment.status_code == (201 if status == 200 else status), (viewer, comment.text)
        save = await client.post(f"/posts/{post_id}/save", headers=headers)
        assert save.status_code == status, (viewer, save.text)
    blocked = world["users"]["blocked"]
    assert (await client.post("/users/owner/follow", headers=blocked.auth)).status_code == 404


async def test_media_bytes_of_a_private_account(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    world = await _private_world(client)
    url = f"http://testserver{world['media']}"
    expected = {
        "owner": 200,
        "follower": 200,
        "stranger": 404,
        "requester": 404,
        "blocked": 404,
        "anonymous": 404,
    }
    for viewer, status in expected.items():
        response = await client.get(url, headers=_auth(world["users"][viewer]))
        assert response.status_code == status, viewer
        if status == 200:
            assert response.headers["cache-control"].startswith("private")
    # A URL copied from a follower's response, once expired, serves no one: not even them.
    key = urlparse(world["media"]).path.removeprefix("/media/")
    expired = signing.sign_media_path(
        key, secret=MediaUrls(TEST_SECRET).key, now=time.time() - 10 * 3600
    )
    for viewer in ("follower", "stranger"):
        response = await client.get(
            f"http://testserver{expired}", headers=_auth(world["users"][viewer])
        )
        assert response.status_code == 403, viewer


async def test_blocks_hide_a_public_account_from_the_blocked(client: httpx.AsyncClient) -> None:
    owner = await register(client, "owner")
    blocked = await register(client, "blocked")
    bystander = await register(client, "bystander")
    post = await published_post(client, owner, caption="public")
    await client.post(f"/posts/{post['id']}/comments", json={"text": "hi"}, headers=blocked.auth)
    media = f"http://testserver{post['media'][0]['urls']['small']}"
    assert (await client.post("/users/blocked/block", headers=owner.auth)).status_code == 204
    for path in (
        f"/posts/{post['id']}",
        "/users/owner",
        "/users/owner/posts",
        f"/posts/{post['id']}/comments",
        f"/posts/{post['id']}/likes",
        "/users/owner/followers",
    ):
        assert (await client.get(path, headers=blocked.auth)).status_code == 404, path
        assert (await client.get(path, headers=bystander.auth)).status_code == 200, path
    assert (await client.get(media, headers=blocked.auth)).status_code == 404
    assert (await client.get(media, headers=bystander.auth)).status_code == 200
    like = await client.post(f"/posts/{post['id']}/like", headers=blocked.auth)
    assert like.status_code == 404
    # The owner no longer sees the blocked user's comment either.
    comments = (await client.get(f"/posts/{post['id']}/comments", headers=owner.auth)).json()
    assert [c["author"]["username"] for c in comments["items"]] == []
