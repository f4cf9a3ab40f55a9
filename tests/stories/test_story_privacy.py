"""Who sees which story, from the point of view of each kind of viewer, in both modes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories.accounts import TestUser, register
from tests.factories.stories import media_url, published_story, tray, tray_names

VIEWERS = ("owner", "follower", "close_friend", "stranger", "requester", "blocked", "muted")


async def _world(client: httpx.AsyncClient, *, private: bool) -> dict[str, Any]:
    """owner with a followers story and a close-friends story, and one user of each kind."""
    owner = await register(client, "owner")
    users: dict[str, TestUser | None] = {"owner": owner}
    for name in VIEWERS[1:]:
        users[name] = await register(client, name)
    for name in ("follower", "close_friend", "muted", "blocked"):
        assert (
            await client.post("/users/owner/follow", headers=_auth(users[name]))
        ).status_code == 200
    if private:
        await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    await client.post("/users/owner/follow", headers=_auth(users["requester"]))
    await client.put("/users/me/close-friends/close_friend", headers=owner.auth)
    await client.post("/users/blocked/block", headers=owner.auth)
    await client.post("/users/owner/mute", headers=_auth(users["muted"]))
    users["anonymous"] = None
    followers = await published_story(client, owner, caption="for followers")
    close = await published_story(client, owner, audience="close_friends", caption="for friends")
    return {"users": users, "followers": followers, "close": close}


def _auth(user: TestUser | None) -> dict[str, str]:
    return user.auth if user else {}


ORDER = (*VIEWERS, "anonymous")
# GET /stories/{id} status for owner, follower, close_friend, stranger, requester, blocked,
# muted, anonymous.
EXPECTED = {
    ("public", "followers"): (200, 200, 200, 200, 200, 404, 200, 200),
    ("public", "close"): (200, 404, 200, 404, 404, 404, 404, 404),
    ("private", "followers"): (200, 200, 200, 404, 404, 404, 200, 404),
    ("private", "close"): (200, 404, 200, 404, 404, 404, 404, 404),
}


@pytest.mark.parametrize("privacy", ["public", "private"])
async def test_each_viewer_reads_views_and_fetches_what_they_may(
    client: httpx.AsyncClient, privacy: str
) -> None:
    world = await _world(client, private=privacy == "private")
    for which in ("followers", "close"):
        story = world[which]
        large = story["media"]["urls"]["large"]
        expected = EXPECTED[(privacy, which)]
        for viewer, status in zip(ORDER, expected, strict=True):
            auth = _auth(world["users"][viewer])
            got = await client.get(f"/stories/{story['id']}", headers=auth)
            assert got.status_code == status, (privacy, which, viewer, got.text)
            if status == 404:
                assert got.json()["error"]["code"] == "not_found"
            else:
                body = got.json()
                assert body["caption"] == story["caption"]
                assert (body["view_count"] is not None) == (viewer == "owner")
            photo = await client.get(media_url(large), headers=auth)
            assert photo.status_code == status, (privacy, which, viewer, "media")
            viewed = await client.post(f"/stories/{story['id']}/view", headers=auth)
            assert viewed.status_code == (
                401 if viewer == "anonymous" else 204 if status == 200 else 404
            )
            listing = await client.get(f"/stories/{story['id']}/viewers", headers=auth)
            wanted = {"owner": 200, "anonymous": 401}.get(viewer, 403 if status == 200 else 404)
            assert listing.status_code == wanted, (privacy, which, viewer, "viewers")


@pytest.mark.parametrize("privacy", ["public", "private"])
async def test_the_tray_of_each_viewer(client: httpx.AsyncClient, privacy: str) -> None:
    world = await _world(client, private=privacy == "private")
    users = world["users"]
    own = await tray(client, users["owner"])
    assert tray_names(own) == ["owner"] and len(own[0]["stories"]) == 2
    follower = await tray(client, users["follower"])
    assert tray_names(follower) == ["owner"]
    assert [s["caption"] for s in follower[0]["stories"]] == ["for followers"]
    assert follower[0]["has_close_friends"] is False and follower[0]["has_unseen"] is True
    friend = await tray(client, users["close_friend"])
    assert [s["caption"] for s in friend[0]["stories"]] == ["for followers", "for friends"]
    assert friend[0]["has_close_friends"] is True
    outsiders = ["stranger", "blocked", "muted"]
    if privacy == "private":
        outsiders.append("requester")  # a request waiting for approval shows nothing
    else:
        assert tray_names(await tray(client, users["requester"])) == ["owner"]  # followed at once
    for outsider in outsiders:
        assert await tray(client, users[outsider]) == [], outsider
    assert (await client.get("/stories/feed")).status_code == 401


async def test_replies_follow_who_may_see_the_story(client: httpx.AsyncClient) -> None:
    world = await _world(client, private=True)
    users, story = world["users"], world["followers"]
    for viewer, status in (
        ("follower", 201),
        ("stranger", 404),
        ("requester", 404),
        ("blocked", 404),
    ):
        got = await client.post(
            f"/stories/{story['id']}/reply", json={"text": "nice"}, headers=_auth(users[viewer])
        )
        assert got.status_code == status, (viewer, got.text)
    friend_only = world["close"]
    refused = await client.post(
        f"/stories/{friend_only['id']}/reply", json={"text": "hm"}, headers=_auth(users["follower"])
    )
    assert refused.status_code == 404
    own = await client.post(
        f"/stories/{story['id']}/reply", json={"text": "me"}, headers=_auth(users["owner"])
    )
    assert own.status_code == 422


@pytest.mark.parametrize("privacy", ["public", "private"])
async def test_an_accounts_live_stories_for_each_viewer(
    client: httpx.AsyncClient, privacy: str
) -> None:
    world = await _world(client, private=privacy == "private")
    expected = {
        # (public, private): captions each viewer gets from GET /users/owner/stories
        "owner": (["for followers", "for friends"],) * 2,
        "follower": (["for followers"],) * 2,
        "close_friend": (["for followers", "for friends"],) * 2,
        "stranger": (["for followers"], []),
        "requester": (["for followers"], []),
        "muted": (["for followers"],) * 2,
        "anonymous": (["for followers"], []),
    }
    for viewer, by_privacy in expected.items():
        got = await client.get("/users/owner/stories", headers=_auth(world["users"][viewer]))
        assert got.status_code == 200, (viewer, got.text)
        captions = [s["caption"] for s in got.json()["items"]]
        assert captions == by_privacy[privacy == "private"], (privacy, viewer)
    blocked = await client.get("/users/owner/stories", headers=_auth(world["users"]["blocked"]))
    assert blocked.status_code == 404
    assert (await client.get("/users/nobody/stories")).status_code == 404
