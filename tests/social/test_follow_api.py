"""Follows, private accounts, requests, blocks and mutes through the API, in both modes."""

from __future__ import annotations

import asyncio

import httpx

from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import TestUser, register


async def _profile(client: httpx.AsyncClient, name: str, viewer: TestUser | None = None) -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/users/{name}", headers=viewer.auth if viewer else {})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _usernames(client: httpx.AsyncClient, path: str, viewer: TestUser | None) -> list[str]:
    response = await client.get(path, headers=viewer.auth if viewer else {})
    assert response.status_code == 200, response.text
    return [item["username"] for item in response.json()["items"]]


async def test_follow_and_unfollow_update_counts_and_lists(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    first = await client.post("/users/alice/follow", headers=bob.auth)
    assert first.json() == {"status": "following"}
    again = await client.post("/users/alice/follow", headers=bob.auth)
    assert again.json() == {"status": "following"}
    assert (await _profile(client, "alice"))["follower_count"] == 1
    assert (await _profile(client, "bob"))["following_count"] == 1
    assert await _usernames(client, "/users/alice/followers", None) == ["bob"]
    assert await _usernames(client, "/users/bob/following", None) == ["alice"]
    relation = (await _profile(client, "alice", bob))["relationship"]
    assert relation == {
        "following": True,
        "followed_by": False,
        "requested": False,
        "blocking": False,
        "muting": False,
    }
    assert (await client.delete("/users/alice/follow", headers=bob.auth)).status_code == 204
    assert (await client.delete("/users/alice/follow", headers=bob.auth)).status_code == 204
    assert (await _profile(client, "alice"))["follower_count"] == 0
    assert (await _profile(client, "bob"))["following_count"] == 0
    assert alice.username == "alice"


async def test_cannot_follow_yourself_or_nobody(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    assert_error(
        await client.post("/users/alice/follow", headers=alice.auth), 422, "validation_error"
    )
    assert_error(await client.post("/users/nobody/follow", headers=alice.auth), 404, "not_found")
    assert_error(await client.post("/users/alice/follow"), 401, "unauthenticated")


async def test_fifty_concurrent_identical_follows_make_one(client: httpx.AsyncClient) -> None:
    await register(client, "star")
    fan = await register(client, "fan")
    responses = await asyncio.gather(
        *(client.post("/users/star/follow", headers=fan.auth) for _ in range(50))
    )
    assert all(r.status_code == 200 for r in responses), {r.status_code for r in responses}
    assert (await _profile(client, "star"))["follower_count"] == 1
    assert (await _profile(client, "fan"))["following_count"] == 1


async def test_fifty_users_following_at_once_count_fifty(client: httpx.AsyncClient) -> None:
    await register(client, "star")
    fans = [await register(client) for _ in range(50)]
    responses = await asyncio.gather(
        *(client.post("/users/star/follow", headers=fan.auth) for fan in fans)
    )
    assert all(r.status_code == 200 for r in responses)
    assert (await _profile(client, "star"))["follower_count"] == 50


async def test_private_account_requests(client: httpx.AsyncClient) -> None:
    owner = await register(client, "owner")
    await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    asker, other = await register(client, "asker"), await register(client, "other")
    assert (await client.post("/users/owner/follow", headers=asker.auth)).json() == {
        "status": "requested"
    }
    await client.post("/users/owner/follow", headers=other.auth)
    assert (await _profile(client, "owner", asker))["relationship"]["requested"] is True
    assert (await _profile(client, "owner"))["follower_count"] == 0
    assert_error(
        await client.get("/users/owner/followers", headers=asker.auth), 403, "account_private"
    )
    assert set(await _usernames(client, "/follow-requests", owner)) == {"asker", "other"}
    approved = await client.post("/follow-requests/asker/approve", headers=owner.auth)
    assert approved.status_code == 204
    rejected = await client.post("/follow-requests/other/reject", headers=owner.auth)
    assert rejected.status_code == 204
    assert_error(
        await client.post("/follow-requests/other/approve", headers=owner.auth), 404, "not_found"
    )
    assert await _usernames(client, "/follow-requests", owner) == []
    assert await _usernames(client, "/users/owner/followers", asker) == ["asker"]
    assert_error(
        await client.get("/users/owner/followers", headers=other.auth), 403, "account_private"
    )


async def test_going_public_approves_pending_requests(client: httpx.AsyncClient) -> None:
    owner = await register(client, "owner")
    await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    fans = [await register(client) for _ in range(3)]
    for fan in fans:
        await client.post("/users/owner/follow", headers=fan.auth)
    await client.patch("/users/me", json={"is_private": False}, headers=owner.auth)
    assert (await _profile(client, "owner"))["follower_count"] == 3
    assert await _usernames(client, "/follow-requests", owner) == []


async def test_withdrawing_a_request(client: httpx.AsyncClient) -> None:
    owner = await register(client, "owner")
    await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    asker = await register(client, "asker")
    await client.post("/users/owner/follow", headers=asker.auth)
    assert (await client.delete("/users/owner/follow", headers=asker.auth)).status_code == 204
    assert await _usernames(client, "/follow-requests", owner) == []


async def test_block_removes_follows_both_ways_and_hides_the_blocker(
    client: httpx.AsyncClient,
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    await client.post("/users/bob/follow", headers=alice.auth)
    assert (await client.post("/users/bob/block", headers=alice.auth)).status_code == 204
    for name in ("alice", "bob"):
        profile = await _profile(client, name)
        assert profile["follower_count"] == profile["following_count"] == 0
    assert_error(await client.get("/users/alice", headers=bob.auth), 404, "not_found")
    assert_error(await client.get("/users/alice/followers", headers=bob.auth), 404, "not_found")
    assert_error(await client.post("/users/alice/follow", headers=bob.auth), 404, "not_found")
    assert_error(await client.post("/users/bob/follow", headers=alice.auth), 403, "forbidden")
    assert (await _profile(client, "bob", alice))["relationship"]["blocking"] is True
    assert (await client.delete("/users/bob/block", headers=alice.auth)).status_code == 204
    assert (await client.get("/users/alice", headers=bob.auth)).status_code == 200


async def test_mute_changes_nothing_else(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/bob/follow", headers=alice.auth)
    assert (await client.post("/users/bob/mute", headers=alice.auth)).status_code == 204
    relation = (await _profile(client, "bob", alice))["relationship"]
    assert relation["muting"] is True and relation["following"] is True
    assert (await client.get("/users/alice", headers=bob.auth)).status_code == 200
    assert (await client.delete("/users/bob/mute", headers=alice.auth)).status_code == 204
    assert (await _profile(client, "bob", alice))["relationship"]["muting"] is False


async def test_remove_a_follower(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    assert (await client.delete("/users/bob/follower", headers=alice.auth)).status_code == 204
    assert await _usernames(client, "/users/alice/followers", None) == []
    assert (await _profile(client, "bob"))["following_count"] == 0


async def test_follower_lists_page_stably(client: httpx.AsyncClient) -> None:
    await register(client, "star")
    fans = [await register(client, f"fan{i:02d}") for i in range(7)]
    for fan in fans:
        await client.post("/users/star/follow", headers=fan.auth)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/users/star/followers", params=params)).json()
        seen += [item["username"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
        # A follow arriving mid-paging must not repeat or skip anyone already listed.
        late = await register(client)
        await client.post("/users/star/follow", headers=late.auth)
    assert seen == [f"fan{i:02d}" for i in reversed(range(7))]
    assert len(seen) == len(set(seen))
