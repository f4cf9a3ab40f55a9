"""A story's 24 hours, on a moved clock, and the clean-up that leaves nothing no one can see."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from glint.infra.clock import MovableClock
from glint.infra.runtime import Runtime
from glint.stories import jobs as stories_jobs
from tests.conftest import wait_for_jobs
from tests.factories.accounts import register
from tests.factories.stories import published_story, tray, tray_names


def _clock(runtime: Runtime) -> MovableClock:
    assert isinstance(runtime.clock, MovableClock)
    return runtime.clock


def _expiry(story: dict[str, str]) -> dt.datetime:
    return dt.datetime.fromisoformat(story["expires_at"].replace("Z", "+00:00"))


async def _stored(runtime: Runtime, story_id_prefix: str) -> list[str]:
    return await runtime.storage.list_keys(story_id_prefix)


async def _until_gone(runtime: Runtime, prefix: str) -> list[str]:
    await wait_for_jobs(runtime)
    for _ in range(100):
        keys = await runtime.storage.list_keys(prefix)
        if not keys:
            return keys
        await asyncio.sleep(0.1)
    return await runtime.storage.list_keys(prefix)


async def test_live_for_exactly_24_hours_then_gone_everywhere(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    ann, bob = await register(client, "ann"), await register(client, "bob")
    await client.post("/users/ann/follow", headers=bob.auth)
    story = await published_story(client, ann)
    published = dt.datetime.fromisoformat(story["created_at"].replace("Z", "+00:00"))
    assert dt.timedelta(hours=24) <= _expiry(story) - published < dt.timedelta(hours=24, minutes=5)
    clock = _clock(clean_runtime)
    clock.advance(_expiry(story) - clock.now() - dt.timedelta(seconds=1))
    assert (await client.get(f"/stories/{story['id']}", headers=bob.auth)).status_code == 200
    assert tray_names(await tray(client, bob)) == ["ann"]
    clock.advance(dt.timedelta(seconds=1))  # exactly 24 hours after publication: over
    sid = story["id"]
    assert (await client.get(f"/stories/{sid}", headers=bob.auth)).status_code == 404
    assert (await client.get(f"/stories/{sid}")).status_code == 404
    assert (await client.post(f"/stories/{sid}/view", headers=bob.auth)).status_code == 404
    reply = await client.post(f"/stories/{sid}/reply", json={"text": "late"}, headers=bob.auth)
    assert reply.status_code == 404
    assert await tray(client, bob) == []
    assert await tray(client, ann) == []
    # Until the clean-up its owner still has it (to put it in a highlight).
    assert (await client.get(f"/stories/{sid}", headers=ann.auth)).status_code == 200
    assert await _stored(clean_runtime, "s/") != []
    assert await stories_jobs.clean_up_expired(clean_runtime) == 1
    assert (await client.get(f"/stories/{sid}", headers=ann.auth)).status_code == 404
    assert await _until_gone(clean_runtime, "s/") == []
    assert await _until_gone(clean_runtime, "originals/s/") == []
    assert await stories_jobs.clean_up_expired(clean_runtime) == 0


async def test_a_highlight_keeps_a_story_until_it_leaves_the_last_one(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    ann, bob = await register(client, "ann"), await register(client, "bob")
    await client.post("/users/ann/follow", headers=bob.auth)
    kept, lost = await published_story(client, ann), await published_story(client, ann)
    first = await client.post(
        "/highlights", json={"title": "Trip", "story_ids": [kept["id"]]}, headers=ann.auth
    )
    second = await client.post(
        "/highlights", json={"title": "Best", "story_ids": [kept["id"]]}, headers=ann.auth
    )
    assert first.status_code == second.status_code == 201
    _clock(clean_runtime).advance(dt.timedelta(hours=25))
    assert await stories_jobs.clean_up_expired(clean_runtime) == 1  # the one no highlight holds
    assert (await client.get(f"/stories/{lost['id']}", headers=ann.auth)).status_code == 404
    seen = await client.get(f"/stories/{kept['id']}", headers=bob.auth)
    assert seen.status_code == 200 and seen.json()["media"] is not None
    assert await tray(client, bob) == []  # a highlight is not the tray
    # Views and replies are for live stories only.
    assert (await client.post(f"/stories/{kept['id']}/view", headers=bob.auth)).status_code == 404
    await client.delete(f"/highlights/{first.json()['id']}", headers=ann.auth)
    assert await stories_jobs.clean_up_expired(clean_runtime) == 0  # still in "Best"
    other = await published_story(client, ann)
    patched = await client.patch(
        f"/highlights/{second.json()['id']}", json={"story_ids": [other["id"]]}, headers=ann.auth
    )
    assert patched.status_code == 200
    assert await stories_jobs.clean_up_expired(clean_runtime) == 1
    assert (await client.get(f"/stories/{kept['id']}", headers=bob.auth)).status_code == 404
    base = kept["media"]["urls"]["large"].split("/media/", 1)[1].rsplit("/", 1)[0]
    assert await _until_gone(clean_runtime, base) == []
