"""GET /trends/hashtags: distinct people against the usual rate, in both modes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import sqlalchemy as sa

from glint.accounts.models import User
from glint.discovery import trends
from glint.discovery.models import HashtagDay, HashtagPost, HashtagPoster
from glint.infra import ids as ids_mod
from glint.infra.clock import MovableClock
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.posts import published_post

CACHE_EXPIRED = dt.timedelta(seconds=trends.CACHE_SECONDS + 1)


def _clock(runtime: Runtime) -> MovableClock:
    assert isinstance(runtime.clock, MovableClock)
    return runtime.clock


def _hour(runtime: Runtime) -> int:
    return int(runtime.clock.now().timestamp()) // 3600


async def _trends(
    client: httpx.AsyncClient, runtime: Runtime, viewer: TestUser | None = None, **params: Any
) -> list[dict[str, Any]]:
    await wait_for_jobs(runtime)  # the uses are recorded as posts are indexed
    response = await client.get(
        "/trends/hashtags", params=params, headers=viewer.auth if viewer else {}
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items"}
    return list(response.json()["items"])


async def _names(client: httpx.AsyncClient, runtime: Runtime) -> list[str]:
    return [item["name"] for item in await _trends(client, runtime)]


async def _add(runtime: Runtime, *rows: HashtagDay | HashtagPoster | HashtagPost) -> None:
    async with runtime.db.session() as session:
        session.add_all(rows)
        await session.commit()


async def test_many_people_outrank_one_person_posting_often(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    ann, ben, cat = [await register(client) for _ in range(3)]
    await published_post(client, ann, caption="Day out #together #solo")
    for _ in range(4):
        await published_post(client, ann, caption="again #solo")
    await published_post(client, ben, caption="#together #pair")
    await published_post(client, cat, caption="#Together #pair")
    assert await _trends(client, clean_runtime) == [
        {"name": "together", "post_count_24h": 3, "posters_24h": 3},
        {"name": "pair", "post_count_24h": 2, "posters_24h": 2},
    ]  # #solo: five posts, one person
    assert await _trends(client, clean_runtime, ann, limit=1) == [
        {"name": "together", "post_count_24h": 3, "posters_24h": 3}
    ]


async def test_a_usually_busy_hashtag_ranks_below_one_new_to_as_many_people(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    for _ in range(2):
        await published_post(client, await register(client), caption="#always #zeitgeist #bursting")
    await wait_for_jobs(clean_runtime)
    today = _hour(clean_runtime) // 24
    # #always: 40 people a day all last week. #bursting: busy today and 8 days ago, which the
    # usual rate leaves out (today is what is measured; the usual rate is the 7 days before).
    await _add(
        clean_runtime,
        *(HashtagDay(tag="always", day=today - back, posters=40) for back in range(1, 8)),
        HashtagDay(tag="bursting", day=today - 8, posters=1000),
    )
    async with clean_runtime.db.session() as session:
        await session.execute(
            sa.update(HashtagDay)
            .where(HashtagDay.tag == "bursting", HashtagDay.day == today)
            .values(posters=100)
        )
        await session.commit()
    # As new as #zeitgeist, so as trending: the name breaks the tie.
    assert await _names(client, clean_runtime) == ["bursting", "zeitgeist", "always"]


async def test_banned_accounts_uses_do_not_count(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    ann, ben, cat = [await register(client) for _ in range(3)]
    await published_post(client, ann, caption="#mob #mixed")
    await published_post(client, ben, caption="#mob #mixed")
    await published_post(client, cat, caption="#mixed")
    before = await _trends(client, clean_runtime)
    assert before == [
        {"name": "mixed", "post_count_24h": 3, "posters_24h": 3},
        {"name": "mob", "post_count_24h": 2, "posters_24h": 2},
    ]
    async with clean_runtime.db.session() as session:
        await session.execute(
            sa.update(User).where(User.id == int(ben.id)).values(banned_at=utcnow())
        )
        await session.commit()
    # A burst of requests within the minute is answered from one computation.
    assert await _trends(client, clean_runtime) == before
    _clock(clean_runtime).advance(CACHE_EXPIRED)
    assert await _trends(client, clean_runtime) == [
        {"name": "mixed", "post_count_24h": 2, "posters_24h": 2}
    ]


async def test_hashtags_whose_recent_posts_are_deleted_do_not_trend(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    authors = [await register(client) for _ in range(2)]
    posts = [await published_post(client, author, caption="#gone") for author in authors]
    await wait_for_jobs(clean_runtime)
    for author, post in zip(authors, posts, strict=True):
        deleted = await client.delete(f"/posts/{post['id']}", headers=author.auth)
        assert deleted.status_code == 204, deleted.text
    assert await _trends(client, clean_runtime) == []


async def test_only_the_last_24_hours_count(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    users = [int((await register(client)).id) for _ in range(3)]
    hour = _hour(clean_runtime)
    recent_id = ids_mod.min_id_at(clean_runtime.clock.now() - dt.timedelta(hours=1))
    old_id = ids_mod.min_id_at(clean_runtime.clock.now() - dt.timedelta(hours=25))
    rows: list[HashtagPoster | HashtagPost] = []
    for i, user in enumerate(users):
        # #faded: its three posters last used it 24 hours ago, one hour too long.
        rows += [HashtagPoster(tag="faded", author_id=user, last_hour=hour - 24)]
        rows += [HashtagPost(tag="faded", post_id=recent_id + i, author_id=user)]
        # #stale: recent posters, but its indexed posts are older than a day.
        rows += [HashtagPoster(tag="stale", author_id=user, last_hour=hour - 1)]
        rows += [HashtagPost(tag="stale", post_id=old_id + i, author_id=user)]
    for i, user in enumerate(users[:2]):
        rows += [HashtagPoster(tag="fresh", author_id=user, last_hour=hour - 22)]
        rows += [HashtagPost(tag="fresh", post_id=recent_id + 10 + i, author_id=user)]
    await _add(clean_runtime, *rows)
    assert await _trends(client, clean_runtime) == [
        {"name": "fresh", "post_count_24h": 2, "posters_24h": 2}
    ]
    # Through the API: a day later, today's hashtags are over.
    for _ in range(2):
        await published_post(client, await register(client), caption="#today")
    _clock(clean_runtime).advance(CACHE_EXPIRED)
    assert await _names(client, clean_runtime) == ["fresh", "today"]
    _clock(clean_runtime).advance(dt.timedelta(hours=24))
    assert await _trends(client, clean_runtime) == []


async def test_prune_forgets_rows_older_than_eight_days(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    user = int((await register(client)).id)
    hour = _hour(clean_runtime)
    today = hour // 24
    await _add(
        clean_runtime,
        HashtagPoster(tag="old", author_id=user, last_hour=hour - 8 * 24 - 1),
        HashtagPoster(tag="kept", author_id=user, last_hour=hour - 8 * 24),
        HashtagDay(tag="old", day=today - 9, posters=3),
        HashtagDay(tag="kept", day=today - 8, posters=3),
    )
    await trends.prune(clean_runtime)
    async with clean_runtime.db.session() as session:
        posters = list(await session.scalars(sa.select(HashtagPoster.tag)))
        days = list(await session.scalars(sa.select(HashtagDay.tag)))
    assert (posters, days) == (["kept"], ["kept"])
    _clock(clean_runtime).advance(dt.timedelta(days=1))
    await trends.prune(clean_runtime)
    async with clean_runtime.db.session() as session:
        assert list(await session.scalars(sa.select(HashtagPoster.tag))) == []
        assert list(await session.scalars(sa.select(HashtagDay.tag))) == []


async def test_limit_is_checked_and_anyone_may_ask(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    assert await _trends(client, clean_runtime) == []
    for limit in ("0", "51", "ten"):
        response = await client.get("/trends/hashtags", params={"limit": limit})
        assert_error(response, 422, "validation_error")
