"""The automatic guards on new accounts: a link-heavy comment from an account younger than a
day waits for a moderator. Both run modes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from glint.accounts.models import User
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.posts.engagement import CommentGuard
from tests.conftest import base_settings, wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.moderation import age_account, give_role, open_queue, resolve
from tests.factories.posts import published_post

SPAM = "great deals at https://cheap.example/a and www.cheap.example/b"


@pytest.fixture
async def scene(client: httpx.AsyncClient, clean_runtime: Runtime) -> dict[str, Any]:
    """alice (an old account) posts; sam signed up just now; mia moderates."""
    alice, sam, bob, mia = [await register(client, n) for n in ("alice", "sam", "bob", "mia")]
    for old in (alice, bob, mia):
        await age_account(clean_runtime, old, days=3)
    await give_role(clean_runtime, mia, "moderator")
    post = await published_post(client, alice)
    return {"alice": alice, "sam": sam, "bob": bob, "mia": mia, "post": post}


async def _comment(client: httpx.AsyncClient, who: TestUser, post_id: str, text: str) -> Any:
    response = await client.post(
        f"/posts/{post_id}/comments", json={"text": text}, headers=who.auth
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _seen_by(client: httpx.AsyncClient, who: TestUser, post_id: str) -> list[str]:
    body = (await client.get(f"/posts/{post_id}/comments", headers=who.auth)).json()
    return [c["text"] for c in body["items"]]


async def test_a_new_accounts_link_comment_waits_until_a_moderator_lets_it_through(
    client: httpx.AsyncClient, scene: dict[str, Any], clean_runtime: Runtime
) -> None:
    alice, sam, bob, mia, post = (scene[k] for k in ("alice", "sam", "bob", "mia", "post"))
    held = await _comment(client, sam, post["id"], SPAM)
    assert held["held"] is True
    plain = await _comment(client, sam, post["id"], "lovely light, one link: https://x.example")
    assert "held" not in plain
    await wait_for_jobs(clean_runtime)
    assert await _seen_by(client, sam, post["id"]) == [SPAM, plain["text"]]
    for other in (alice, bob):
        assert await _seen_by(client, other, post["id"]) == [plain["text"]]
        liked = await client.post(f"/comments/{held['id']}/like", headers=other.auth)
        assert liked.status_code == 404
    assert (await client.get(f"/posts/{post['id']}")).status_code in (200, 401)
    shown = (await client.get(f"/posts/{post['id']}", headers=bob.auth)).json()
    assert shown["comment_count"] == 1
    told = (await client.get("/notifications", headers=alice.auth)).json()["items"]
    assert [n["comment_id"] for n in told if n["kind"] == "comment"] == [plain["id"]]

    (group,) = await open_queue(client, mia)
    assert (group["target_type"], group["target_id"]) == ("comment", held["id"])
    assert group["reports"][0]["reporter"] is None and group["excerpt"] == SPAM
    released = await resolve(client, mia, group["reports"][0]["id"], "dismiss")
    assert released.status_code == 200
    await wait_for_jobs(clean_runtime)
    assert await _seen_by(client, bob, post["id"]) == [SPAM, plain["text"]]
    shown = (await client.get(f"/posts/{post['id']}", headers=bob.auth)).json()
    assert shown["comment_count"] == 2
    told = (await client.get("/notifications", headers=alice.auth)).json()["items"]
    assert sorted(n["comment_id"] for n in told if n["kind"] == "comment") == sorted(
        [plain["id"], held["id"]]
    )
    assert [
        n
        for n in (await client.get("/notifications", headers=sam.auth)).json()["items"]
        if n["kind"] == "report_resolved"
    ] == []  # no one reported it: no one to tell


async def test_removing_a_held_comment_never_counted_it(
    client: httpx.AsyncClient, scene: dict[str, Any], clean_runtime: Runtime
) -> None:
    sam, bob, mia, post = scene["sam"], scene["bob"], scene["mia"], scene["post"]
    held = await _comment(client, sam, post["id"], SPAM)
    await wait_for_jobs(clean_runtime)
    (group,) = await open_queue(client, mia)
    done = await resolve(client, mia, group["reports"][0]["id"], "remove_content", reason="Spam")
    assert done.status_code == 200
    await wait_for_jobs(clean_runtime)
    assert await _seen_by(client, sam, post["id"]) == []
    assert (await client.get(f"/posts/{post['id']}", headers=bob.auth)).json()["comment_count"] == 0
    (tomb,) = (await client.get("/users/me/removals", headers=sam.auth)).json()["items"]
    assert (tomb["target_id"], tomb["reason"]) == (held["id"], "Spam")


async def test_old_accounts_are_not_held(client: httpx.AsyncClient, scene: dict[str, Any]) -> None:
    bob, post = scene["bob"], scene["post"]
    assert "held" not in await _comment(client, bob, post["id"], SPAM)


@pytest.fixture
def tight_new_accounts(clean_runtime: Runtime) -> Iterator[Runtime]:
    """A new account's per-user limits divided by 4 (the default); the test turns limits on."""
    settings = clean_runtime.settings
    clean_runtime.settings = settings.model_copy(update={"new_account_limit_divisor": 4})
    try:
        yield clean_runtime
    finally:
        clean_runtime.settings = settings
        clean_runtime.limiter.enabled = settings.rate_limits_enabled


async def test_a_new_account_has_a_quarter_of_the_follows_for_its_first_day(
    client: httpx.AsyncClient, tight_new_accounts: Runtime
) -> None:
    people = [await register(client, f"star{n}") for n in range(9)]
    for star in people[1:]:
        await age_account(tight_new_accounts, star, days=3)
    newcomer, veteran = people[0], people[1]
    tight_new_accounts.limiter.enabled = True
    answers = [
        (await client.post(f"/users/{star.username}/follow", headers=newcomer.auth)).status_code
        for star in people[1:]
    ]
    assert answers == [200] * 7 + [429]  # 30 an hour / 4
    veteran_answers = [
        (await client.post(f"/users/{star.username}/follow", headers=veteran.auth)).status_code
        for star in people[2:]
    ]
    assert veteran_answers == [200] * 7  # a veteran's 30 an hour are untouched
    # Browsing is not a new account's to lose: the general limit is never divided.
    assert tight_new_accounts.settings.rate_limit("default", new_account=True) == (
        tight_new_accounts.settings.rate_limit_default
    )


def test_the_divided_limits(tmp_path: Path) -> None:
    settings = base_settings(
        tmp_path, new_account_limit_divisor=4, rate_limit_posts="10/hour;3/minute"
    )
    assert settings.rate_limit("posts", new_account=True) == "2/1 hour;1/1 minute"
    assert settings.rate_limit("posts") == "10/hour;3/minute"
    assert (
        settings.rate_limit("failed_logins", new_account=True) == settings.rate_limit_failed_logins
    )
    now = utcnow()
    assert settings.is_new_account(now - dt.timedelta(hours=23))
    assert not settings.is_new_account(now - dt.timedelta(hours=25))


@pytest.mark.parametrize(
    ("links", "hours", "age_hours", "text", "held"),
    [
        (2, 24, 1, SPAM, True),
        (2, 24, 25, SPAM, False),  # a day old: trusted
        (0, 24, 1, SPAM, False),  # switched off
        (3, 24, 1, SPAM, False),  # two links are under three
        (1, 48, 30, "see cheap.example/x", True),
        (2, 0, 0, SPAM, False),  # no account is new
    ],
)
def test_the_guard_follows_its_settings(
    tmp_path: Path, links: int, hours: int, age_hours: int, text: str, held: bool
) -> None:
    settings = base_settings(tmp_path, hold_comment_links=links, new_account_hours=hours)
    author = User(created_at=utcnow() - dt.timedelta(hours=age_hours, seconds=1))
    assert CommentGuard.of(settings).holds(author, text) is held
