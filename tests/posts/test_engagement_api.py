"""Likes, comments and saves in both modes: idempotent under concurrency, counted truly."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import register
from tests.factories.posts import published_post


async def _post_view(client: httpx.AsyncClient, post_id: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    return dict((await client.get(f"/posts/{post_id}", headers=headers)).json())


async def test_fifty_identical_likes_make_one(client: httpx.AsyncClient) -> None:
    author, fan = await register(client), await register(client)
    post = await published_post(client, author)
    responses = await asyncio.gather(
        *(client.post(f"/posts/{post['id']}/like", headers=fan.auth) for _ in range(50))
    )
    assert {r.status_code for r in responses} == {200}
    assert all(r.json()["liked"] is True for r in responses)
    view = await _post_view(client, post["id"], fan.auth)
    assert view["like_count"] == 1
    assert view["viewer"] == {"liked": True, "saved": False}
    assert (await _post_view(client, post["id"], author.auth))["viewer"]["liked"] is False


async def test_fifty_users_liking_at_once_count_fifty(client: httpx.AsyncClient) -> None:
    author = await register(client)
    fans = [await register(client) for _ in range(50)]
    post = await published_post(client, author)
    await asyncio.gather(*(client.post(f"/posts/{post['id']}/like", headers=f.auth) for f in fans))
    assert (await _post_view(client, post["id"], {}))["like_count"] == 50
    likers = (await client.get(f"/posts/{post['id']}/likes", params={"limit": 100})).json()
    assert len(likers["items"]) == 50
    await asyncio.gather(
        *(client.delete(f"/posts/{post['id']}/like", headers=f.auth) for f in fans)
    )
    assert (await _post_view(client, post["id"], {}))["like_count"] == 0


async def test_unlike_is_idempotent(client: httpx.AsyncClient) -> None:
    author, fan = await register(client), await register(client)
    post = await published_post(client, author)
    await client.post(f"/posts/{post['id']}/like", headers=fan.auth)
    for _ in range(3):
        response = await client.delete(f"/posts/{post['id']}/like", headers=fan.auth)
        assert response.json() == {"liked": False, "like_count": 0}


async def test_concurrent_saves_and_the_saved_list(client: httpx.AsyncClient) -> None:
    author, fan = await register(client), await register(client)
    posts = [await published_post(client, author, caption=f"p{i}") for i in range(3)]
    await asyncio.gather(
        *(client.post(f"/posts/{posts[0]['id']}/save", headers=fan.auth) for _ in range(20))
    )
    await client.post(f"/posts/{posts[2]['id']}/save", headers=fan.auth)
    saved = (await client.get("/users/me/saved", headers=fan.auth)).json()
    assert [p["id"] for p in saved["items"]] == [posts[2]["id"], posts[0]["id"]]
    assert all(p["viewer"]["saved"] for p in saved["items"])
    await client.delete(f"/posts/{posts[0]['id']}/save", headers=fan.auth)
    saved = (await client.get("/users/me/saved", headers=fan.auth)).json()
    assert [p["id"] for p in saved["items"]] == [posts[2]["id"]]
    assert_error(await client.get("/users/me/saved"), 401, "unauthenticated")


async def test_comments_and_replies(client: httpx.AsyncClient) -> None:
    author, fan, other = await register(client), await register(client), await register(client)
    post = await published_post(client, author)
    first = await client.post(
        f"/posts/{post['id']}/comments", json={"text": "lovely"}, headers=fan.auth
    )
    assert first.status_code == 201, first.text
    top = first.json()
    assert top["parent_id"] is None and top["text"] == "lovely"
    reply = await client.post(
        f"/posts/{post['id']}/comments",
        json={"text": "thanks", "parent_id": top["id"]},
        headers=author.auth,
    )
    assert reply.json()["parent_id"] == top["id"]
    # A reply to a reply joins the same thread (one level deep).
    nested = await client.post(
        f"/posts/{post['id']}/comments",
        json={"text": "welcome", "parent_id": reply.json()["id"]},
        headers=other.auth,
    )
    assert nested.json()["parent_id"] == top["id"]
    listing = (await client.get(f"/posts/{post['id']}/comments")).json()
    assert [c["text"] for c in listing["items"]] == ["lovely"]
    replies = (
        await client.get(f"/posts/{post['id']}/comments", params={"parent_id": top["id"]})
    ).json()
    assert [c["text"] for c in replies["items"]] == ["thanks", "welcome"]
    assert (await _post_view(client, post["id"], {}))["comment_count"] == 3
    like = await client.post(f"/comments/{top['id']}/like", headers=author.auth)
    assert like.json() == {"liked": True, "like_count": 1}


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"text": "x" * 2201}, 422, "validation_error"),
        ({"text": ""}, 422, "validation_error"),
        ({"text": "ok", "parent_id": "123"}, 404, "not_found"),
        ({"text": "ok", "parent_id": "nope"}, 422, "validation_error"),
        ({"text": "ok", "extra": 1}, 422, "validation_error"),
    ],
)
async def test_bad_comments(
    client: httpx.AsyncClient, payload: dict[str, object], status: int, code: str
) -> None:
    author = await register(client)
    post = await published_post(client, author)
    response = await client.post(f"/posts/{post['id']}/comments", json=payload, headers=author.auth)
    assert_error(response, status, code)
    assert (await _post_view(client, post["id"], {}))["comment_count"] == 0


async def test_exactly_2200_characters_is_fine(client: httpx.AsyncClient) -> None:
    author = await register(client)
    post = await published_post(client, author)
    response = await client.post(
        f"/posts/{post['id']}/comments", json={"text": "y" * 2200}, headers=author.auth
    )
    assert response.status_code == 201


async def test_disabled_comments_are_refused(client: httpx.AsyncClient) -> None:
    author, fan = await register(client), await register(client)
    post = await published_post(client, author)
    await client.patch(
        f"/posts/{post['id']}", json={"comments_disabled": True}, headers=author.auth
    )
    response = await client.post(
        f"/posts/{post['id']}/comments", json={"text": "hi"}, headers=fan.auth
    )
    assert_error(response, 403, "comments_disabled")


async def test_who_may_delete_a_comment(client: httpx.AsyncClient) -> None:
    author, commenter, stranger = (
        await register(client),
        await register(client),
        await register(client),
    )
    post = await published_post(client, author)

    async def new_comment() -> str:
        response = await client.post(
            f"/posts/{post['id']}/comments", json={"text": "c"}, headers=commenter.auth
        )
        return str(response.json()["id"])

    first, second = await new_comment(), await new_comment()
    assert_error(await client.delete(f"/comments/{first}", headers=stranger.auth), 403, "forbidden")
    assert (await client.delete(f"/comments/{first}", headers=commenter.auth)).status_code == 204
    assert (await client.delete(f"/comments/{second}", headers=author.auth)).status_code == 204
    assert_error(await client.delete(f"/comments/{second}", headers=author.auth), 404, "not_found")
    assert (await _post_view(client, post["id"], {}))["comment_count"] == 0


async def test_liking_a_deleted_post_is_404(client: httpx.AsyncClient) -> None:
    author, fan = await register(client), await register(client)
    post = await published_post(client, author)
    await client.delete(f"/posts/{post['id']}", headers=author.auth)
    assert_error(await client.post(f"/posts/{post['id']}/like", headers=fan.auth), 404, "not_found")
    assert_error(await client.post("/posts/12x/like", headers=fan.auth), 404, "not_found")
    assert_error(await client.post("/comments/abc/like", headers=fan.auth), 404, "not_found")
