"""The data export, end to end in both run modes: everything the API shows of a member is in
the ZIP's JSON, photos are byte-identical to the stored originals, index.html browses it all."""

from __future__ import annotations

import json
import re
import zipfile
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from glint.infra.runtime import Runtime
from glint.posts.models import PostMedia
from glint.stories.models import Story
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, send, wait_for_message
from tests.factories.ownership import download, export_state, finished_export, open_zip
from tests.factories.posts import published_post
from tests.factories.stories import published_story

CAPTION = 'Sunset <script>alert("x")</script> & friends #sea'


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 204), response.text
    return dict(response.json()) if response.content else {}


async def _items(client: httpx.AsyncClient, user: TestUser, path: str) -> list[dict[str, Any]]:
    answer = await client.get(path, headers=user.auth, params={"limit": 50})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def _alice_world(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    """alice with something of every kind: posts, comments, likes, saves, people, stories,
    a highlight, messages with a photo, notifications, two devices."""
    alice = await register(client, "alice")
    bob, carol = await register(client, "bob"), await register(client, "carol")
    dave = await register(client, "dave")
    await _ok(await client.patch("/users/me", json={"is_private": True}, headers=dave.auth))
    eve = await register(client, "eve")
    photos = [images.jpeg(640, 480), images.encoded("webp", 320, 240)]
    first = await published_post(
        client,
        alice,
        files=photos,
        caption=CAPTION,
        alt_text=["a beach", "a boat"],
        location_name="Brighton",
        location_lat=50.82,
        location_lng=-0.14,
    )
    second = await published_post(client, alice, caption="second")
    bobs = await published_post(client, bob, caption="bob's post")
    await _ok(await client.post(f"/posts/{bobs['id']}/like", headers=alice.auth))
    await _ok(await client.post(f"/posts/{bobs['id']}/save", headers=alice.auth))
    comment = await _ok(
        await client.post(
            f"/posts/{bobs['id']}/comments", json={"text": "nice <b>"}, headers=alice.auth
        )
    )
    await _ok(await client.post(f"/posts/{first['id']}/like", headers=bob.auth))
    for follower, followee in ((alice, bob), (carol, alice), (alice, dave)):
        await _ok(await client.post(f"/users/{followee.username}/follow", headers=follower.auth))
    await _ok(await client.post("/users/eve/block", headers=alice.auth))
    await _ok(await client.post("/users/carol/mute", headers=alice.auth))
    await _ok(await client.put("/users/me/close-friends/bob", headers=alice.auth))
    story = await published_story(client, alice, caption="story time")
    await _ok(
        await client.post(
            "/highlights", json={"title": "Trips", "story_ids": [story["id"]]}, headers=alice.auth
        )
    )
    chat = str((await conversation(client, alice, bob))["id"])
    await send(client, alice, chat, "hello <bob>")
    answer = await client.post(
        f"/conversations/{chat}/messages",
        files={"image": ("p.jpg", images.jpeg(400, 300), "image/jpeg")},
        headers=bob.auth,
    )
    photo_message = await wait_for_message(client, bob, chat, answer.json()["id"])
    assert photo_message["status"] == "published"
    await _ok(await client.post("/auth/login", json={"login": "alice", "password": alice.password}))
    await wait_for_jobs(runtime)
    return {
        "alice": alice,
        "photos": photos,
        "posts": [first, second],
        "comment": comment,
        "bobs": bobs,
        "story": story,
        "chat": chat,
        "photo_message": photo_message,
        "eve": eve,
    }


def _json(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name))


def _ids(items: list[dict[str, Any]], key: str = "id") -> set[str]:
    return {str(item[key]) for item in items}


async def _originals(runtime: Runtime, post_ids: list[str]) -> dict[str, bytes]:
    async with runtime.db.session() as session:
        rows = await session.execute(
            sa.select(PostMedia.post_id, PostMedia.position, PostMedia.original_key).where(
                PostMedia.post_id.in_([int(i) for i in post_ids])
            )
        )
        keys = {f"{post_id}/{position}": key for post_id, position, key in rows.all()}
    return {name: (await runtime.storage.get(key)).data for name, key in keys.items()}


async def test_every_kind_of_data_round_trips(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    world = await _alice_world(client, clean_runtime)
    alice: TestUser = world["alice"]
    state = await finished_export(client, clean_runtime, alice)
    assert state["status"] == "ready" and state["progress"] == 1.0, state
    assert state["expires_at"] and state["download_url"].startswith("/api/v1/exports/")
    answer = await download(client, alice, state["download_url"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith('attachment; filename="glint-alice-')
    assert int(answer.headers["content-length"]) == len(answer.content) == state["size_bytes"]
    archive = open_zip(answer.content)

    profile = _json(archive, "profile.json")
    assert (profile["id"], profile["username"], profile["email"]) == (
        alice.id,
        "alice",
        alice.email,
    )
    assert "password_hash" not in profile and "totp_secret" not in profile

    posts = _json(archive, "posts.json")
    shown = await _items(client, alice, "/users/alice/posts")
    assert _ids(posts) == _ids(shown) == _ids(world["posts"])
    first = next(post for post in posts if post["id"] == world["posts"][0]["id"])
    assert first["caption"] == CAPTION and first["location"]["name"] == "Brighton"
    assert [photo["alt_text"] for photo in first["photos"]] == ["a beach", "a boat"]
    originals = await _originals(clean_runtime, [post["id"] for post in posts])
    assert len(originals) == 3
    for post in posts:
        for photo in post["photos"]:
            stored = originals[f"{post['id']}/{photo['position']}"]
            assert archive.read(photo["file"]) == stored
            assert archive.getinfo(photo["file"]).compress_type == zipfile.ZIP_STORED
    uploaded = [archive.read(photo["file"]) for photo in first["photos"]]
    assert uploaded == world["photos"] and first["photos"][1]["file"].endswith(".webp")

    comments = _json(archive, "comments.json")
    assert [(c["id"], c["text"]) for c in comments] == [(world["comment"]["id"], "nice <b>")]
    assert _ids(_json(archive, "likes.json"), "post_id") == {world["bobs"]["id"]}
    saved = await _items(client, alice, "/users/me/saved")
    assert _ids(_json(archive, "saves.json"), "post_id") == _ids(saved) == {world["bobs"]["id"]}
    for file, path in (("following.json", "following"), ("followers.json", "followers")):
        listed = await _items(client, alice, f"/users/alice/{path}")
        assert {u["username"] for u in _json(archive, file)} == {u["username"] for u in listed}
    assert [u["username"] for u in _json(archive, "follow_requests_sent.json")] == ["dave"]
    assert [u["username"] for u in _json(archive, "blocked.json")] == ["eve"]
    assert [u["username"] for u in _json(archive, "muted.json")] == ["carol"]
    friends = await _items(client, alice, "/users/me/close-friends")
    assert (
        [u["username"] for u in _json(archive, "close_friends.json")]
        == [u["username"] for u in friends]
        == ["bob"]
    )

    stories = _json(archive, "stories.json")
    assert [s["id"] for s in stories] == [world["story"]["id"]]
    async with clean_runtime.db.session() as session:
        story_key = await session.scalar(sa.select(Story.original_key))
    assert (
        archive.read(stories[0]["file"]) == (await clean_runtime.storage.get(str(story_key))).data
    )
    highlights = _json(archive, "highlights.json")
    shown_highlights = (await client.get("/users/alice/highlights", headers=alice.auth)).json()
    assert _ids(highlights) == _ids(shown_highlights["items"])
    assert highlights[0]["title"] == "Trips" and highlights[0]["story_ids"] == [
        world["story"]["id"]
    ]

    (chat,) = _json(archive, "conversations.json")
    assert chat["id"] == world["chat"] and chat["members"] == ["alice", "bob"]
    messages = _json(archive, chat["messages_file"])
    shown_messages = await _items(client, alice, f"/conversations/{world['chat']}/messages")
    assert _ids(messages) == _ids(shown_messages)
    assert [m["text"] for m in messages if m["kind"] == "text"] == ["hello <bob>"]
    (photo,) = [m for m in messages if m["file"]]
    assert photo["sender"] == "bob" and archive.read(photo["file"]).startswith(b"\xff\xd8")

    notifications = _json(archive, "notifications.json")
    shown_notes = await _items(client, alice, "/notifications")
    # The export's own "ready" notice was recorded after the ZIP was written.
    assert _ids(notifications) == _ids(shown_notes) - _ids(
        [n for n in shown_notes if n["kind"] == "export_ready"]
    )
    assert any(n["kind"] == "like" and n["actors"] == ["bob"] for n in notifications)
    sessions = await _items(client, alice, "/auth/sessions")
    assert _ids(_json(archive, "sessions.json")) == _ids(sessions) and len(sessions) == 2

    _check_index(archive)
    (ready,) = [n for n in shown_notes if n["kind"] == "export_ready"]
    assert "ready" in ready["text"]


def _check_index(archive: zipfile.ZipFile) -> None:
    page = archive.read("index.html").decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    assert "nice &lt;b&gt;" in page and "hello &lt;bob&gt;" in page
    names = set(archive.namelist())
    links = re.findall(r'(?:href|src)="([^"#][^"]*)"', page)
    assert any(link.startswith("media/posts/") for link in links)
    assert {"posts.json", "comments.json", "sessions.json"} <= set(links)
    assert [link for link in links if link not in names] == []


async def test_bad_input_never_500(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    assert (await client.post("/users/me/export")).status_code == 401
    assert (await client.get("/users/me/export")).status_code == 401
    assert (await export_state(client, alice))["status"] == "none"
    for path in (
        "/exports/abc/download",
        "/exports/99999999999999999999999/download",
        "/exports/1/download?exp=x&sig=y",
        "/exports/1/download?exp=1&sig=" + "a" * 300,
    ):
        answer = await client.get(path, headers=alice.auth)
        assert answer.status_code in (403, 404, 422), (path, answer.text)
        assert "error" in answer.json()


@pytest.mark.parametrize("junk", [b"{", b"[]", b"x" * 5000])
async def test_junk_bodies_are_ignored(client: httpx.AsyncClient, junk: bytes) -> None:
    alice = await register(client)
    answer = await client.post(
        "/users/me/export", content=junk, headers={**alice.auth, "content-type": "application/json"}
    )
    assert answer.status_code in (202, 409, 422), answer.text
