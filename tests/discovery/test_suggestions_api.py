"""Account suggestions and dismissing them through the API, in both modes."""

from __future__ import annotations

import httpx

from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import TestUser, make_inactive, register


async def _follow(client: httpx.AsyncClient, follower: TestUser, *names: str) -> None:
    for name in names:
        response = await client.post(f"/users/{name}/follow", headers=follower.auth)
        assert response.status_code == 200, response.text


async def _suggestions(
    client: httpx.AsyncClient, viewer: TestUser, **params: int
) -> list[tuple[str, int, str]]:
    response = await client.get("/suggestions/users", params=params, headers=viewer.auth)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert all(set(item["user"]) >= {"id", "username", "avatar_url"} for item in items)
    return [(item["user"]["username"], item["mutual_count"], item["reason"]) for item in items]


async def _names(client: httpx.AsyncClient, viewer: TestUser) -> list[str]:
    return [name for name, _, _ in await _suggestions(client, viewer)]


async def test_friends_of_friends_ranked_by_mutuals_then_popular(
    client: httpx.AsyncClient,
) -> None:
    vera = await register(client, "vera")
    names = ("alice", "bob", "carol", "dave", "xena", "yuri", "will", "zoe", "fan")
    users = {name: await register(client, name) for name in names}
    await _follow(client, vera, "alice", "bob", "carol", "dave")
    await _follow(client, users["fan"], "alice", "will")  # alice: vera's most-followed followee
    for name in ("alice", "bob", "carol", "dave"):
        await _follow(client, users[name], "xena")
    await _follow(client, users["alice"], "yuri")
    await _follow(client, users["bob"], "yuri")
    await _follow(client, users["carol"], "zoe")
    await _follow(client, users["dave"], "will")
    assert await _suggestions(client, vera) == [
        ("xena", 4, "followed by alice and 3 others"),
        ("yuri", 2, "followed by alice and bob"),
        ("will", 1, "followed by dave"),  # ties with zoe on mutuals, has more followers
        ("zoe", 1, "followed by carol"),
        ("fan", 0, "popular on Glint"),
    ]
    # From fan's side: alice's follows are fan's friends of friends, then popular accounts.
    fan_items = await _suggestions(client, users["fan"])
    assert fan_items[:2] == [("xena", 1, "followed by alice"), ("yuri", 1, "followed by alice")]
    assert all(reason == "popular on Glint" and count == 0 for _, count, reason in fan_items[2:])
    shown = {name for name, _, _ in fan_items}
    assert not shown & {"fan", "alice", "will"}
    assert shown == {"xena", "yuri", "vera", "bob", "carol", "dave", "zoe"}


async def test_popular_accounts_for_someone_who_follows_no_one(client: httpx.AsyncClient) -> None:
    star, mid, quiet = [await register(client, n) for n in ("star", "mid", "quiet")]
    fans = [await register(client) for _ in range(3)]
    await _follow(client, fans[0], "star", "mid")
    await _follow(client, fans[1], "star")
    await _follow(client, fans[2], "star")
    newbie = await register(client, "newbie")
    items = await _suggestions(client, newbie)
    assert items[:2] == [("star", 0, "popular on Glint"), ("mid", 0, "popular on Glint")]
    names = [name for name, _, _ in items]
    assert "newbie" not in names
    assert {"quiet", *(fan.username for fan in fans)} <= set(names)
    assert all(count == 0 and reason == "popular on Glint" for _, count, reason in items)
    assert {star.username, mid.username, quiet.username} <= set(names)


async def test_never_self_followed_requested_blocked_inactive_or_dismissed(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    vera = await register(client, "vera")
    alice = await register(client, "alice")
    names = ("bob", "priv", "blocked", "blocker", "banned", "gone", "dismissed", "okay")
    users = {name: await register(client, name) for name in names}
    await _follow(client, vera, "alice", "bob")
    await _follow(client, alice, "vera", *names)  # alice leads vera to each of them
    await client.patch("/users/me", json={"is_private": True}, headers=users["priv"].auth)
    requested = await client.post("/users/priv/follow", headers=vera.auth)
    assert requested.json() == {"status": "requested"}
    assert (await client.post("/users/blocked/block", headers=vera.auth)).status_code == 204
    assert (
        await client.post("/users/vera/block", headers=users["blocker"].auth)
    ).status_code == 204
    await make_inactive(clean_runtime, "banned", "banned_at")
    await make_inactive(clean_runtime, "gone", "deleted_at")
    dismissed = await client.post("/suggestions/users/dismissed/dismiss", headers=vera.auth)
    assert dismissed.status_code == 204
    # Everyone else is excluded, so the popular fill-up adds no one either.
    assert await _suggestions(client, vera) == [("okay", 1, "followed by alice")]
    # Blocks hide both ways: neither side of a block is suggested to the other.
    assert "vera" not in await _names(client, users["blocked"])
    assert "vera" not in await _names(client, users["blocker"])
    assert "blocked" in await _names(client, users["blocker"])  # no block between those two
    for someone in (users["bob"], users["okay"]):
        shown = await _names(client, someone)
        assert "banned" not in shown and "gone" not in shown
        assert someone.username not in shown


async def test_dismiss_is_idempotent_and_hides_popular_accounts_too(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    vera = await register(client, "vera")
    await register(client, "star")
    await register(client, "other")
    await _follow(client, await register(client), "star")
    assert (await _names(client, vera))[0] == "star"
    for _ in range(2):
        response = await client.post("/suggestions/users/STAR/dismiss", headers=vera.auth)
        assert response.status_code == 204
    assert "star" not in await _names(client, vera)
    assert "other" in await _names(client, vera)
    dismiss = "/suggestions/users/{}/dismiss"
    assert_error(await client.post(dismiss.format("nobody"), headers=vera.auth), 404, "not_found")
    await make_inactive(clean_runtime, "other", "banned_at")
    assert_error(await client.post(dismiss.format("other"), headers=vera.auth), 404, "not_found")
    assert_error(
        await client.post(dismiss.format("vera"), headers=vera.auth), 422, "validation_error"
    )
    assert_error(await client.post(dismiss.format("star")), 401, "unauthenticated")
    assert_error(await client.get("/suggestions/users"), 401, "unauthenticated")


async def test_limit_is_respected_and_bounded(client: httpx.AsyncClient) -> None:
    vera = await register(client, "vera")
    alice = await register(client, "alice")
    for _ in range(4):
        await register(client)
    others = [await register(client) for _ in range(3)]
    await _follow(client, vera, "alice")
    await _follow(client, alice, *(other.username for other in others))
    two = await _suggestions(client, vera, limit=2)
    assert len(two) == 2 and all(count == 1 for _, count, _ in two)
    assert len(await _suggestions(client, vera, limit=5)) == 5  # 3 mutual, 2 popular
    assert len(await _suggestions(client, vera)) == 7  # everyone but vera and alice
    for bad in (0, 51):
        response = await client.get("/suggestions/users", params={"limit": bad}, headers=vera.auth)
        assert_error(response, 422, "validation_error")
