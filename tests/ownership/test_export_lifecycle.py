"""An export's life: one at a time, a link only its owner can use while it lives, failure
leaving nothing behind, expiry removing the object. Both run modes."""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import sqlalchemy as sa

from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.ownership import exports
from glint.ownership import jobs as ownership_jobs
from glint.ownership.models import DataExport
from glint.posts.models import PostMedia
from tests.conftest import wait_for_jobs
from tests.factories.accounts import register
from tests.factories.ownership import (
    download,
    export_id_of,
    export_state,
    finished_export,
    open_zip,
    start_export,
)
from tests.factories.posts import published_post


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, **changes})}"


async def test_one_running_export_per_member(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    # A double click: both requests race on the partial unique index, exactly one wins.
    first, second = await asyncio.gather(
        client.post("/users/me/export", headers=alice.auth),
        client.post("/users/me/export", headers=alice.auth),
    )
    assert sorted([first.status_code, second.status_code]) == [202, 409]
    loser = second if second.status_code == 409 else first
    assert loser.json()["error"]["code"] == "export_running"
    winner = (first if first.status_code == 202 else second).json()
    assert winner["status"] == "running" and winner["download_url"] is None
    # While a run is going (held here as a row), another start is refused; others may start.
    async with clean_runtime.db.session() as session:
        await exports.start(session, ids=clean_runtime.ids, user_id=int(bob.id), now=utcnow())
        await clean_runtime.commit(session)
    refused = await client.post("/users/me/export", headers=bob.auth)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "export_running"
    await wait_for_jobs(clean_runtime, within=120)
    assert (await export_state(client, alice))["status"] == "ready"
    assert (await start_export(client, alice))["status"] == "running"  # a new one once done


async def test_the_link_is_the_owners_and_lives_a_while(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    url = (await finished_export(client, clean_runtime, alice))["download_url"]
    assert (await download(client, alice, url)).status_code == 200
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    refusals = [
        (alice, _with(url, sig=sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")), 403),
        (alice, _with(url, exp=str(int(parse_qs(urlsplit(url).query)["exp"][0]) + 3600)), 403),
        (alice, url.split("?")[0], 403),  # no signature at all
        (bob, url, 403),  # signed for alice: bob's own session does not match it
        (None, url, 401),
    ]
    for user, link, status in refusals:
        answer = await download(client, user, link)
        assert answer.status_code == status, (link, answer.text)
        assert answer.json()["error"]["code"]
    # bob cannot reach alice's export with a link of his own either (he has no such export).
    bobs = await finished_export(client, clean_runtime, bob)
    forged = bobs["download_url"].replace(export_id_of(bobs["download_url"]), export_id_of(url))
    assert (await download(client, bob, forged)).status_code == 403
    # Links stop working when they expire (a day at most), the export still being there.
    clean_runtime.clock.advance(dt.timedelta(days=1, hours=2))  # type: ignore[attr-defined]
    expired = await download(client, alice, url)
    assert expired.status_code == 403 and "expired" in expired.json()["error"]["message"]
    fresh = (await export_state(client, alice))["download_url"]
    assert fresh != url and (await download(client, alice, fresh)).status_code == 200


async def test_expiry_removes_the_object(client: httpx.AsyncClient, clean_runtime: Runtime) -> None:
    alice = await register(client, "alice")
    state = await finished_export(client, clean_runtime, alice)
    key = exports.export_key(int(alice.id), int(export_id_of(state["download_url"])))
    assert (await clean_runtime.storage.head(key)).size == state["size_bytes"]
    await ownership_jobs.expire_exports(clean_runtime)  # not yet due: nothing changes
    assert (await export_state(client, alice))["status"] == "ready"
    ttl = clean_runtime.settings.export_ttl_days
    clean_runtime.clock.advance(dt.timedelta(days=ttl, minutes=1))  # type: ignore[attr-defined]
    await ownership_jobs.expire_exports(clean_runtime)
    assert await clean_runtime.storage.list_keys(exports.exports_prefix(int(alice.id))) == []
    assert (await export_state(client, alice))["status"] == "none"
    async with clean_runtime.db.session() as session:
        row = await session.scalar(sa.select(DataExport))
        assert row is not None and row.status == "expired" and row.storage_key is None
    gone = await download(client, alice, state["download_url"])
    assert gone.status_code in (403, 404)


async def test_a_failed_build_is_marked_and_leaves_nothing(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    await published_post(client, alice, caption="its original will vanish")
    async with clean_runtime.db.session() as session:
        original = await session.scalar(sa.select(PostMedia.original_key))
    await clean_runtime.storage.delete_many([str(original)])
    state = await finished_export(client, clean_runtime, alice)
    assert state["status"] == "failed" and state["download_url"] is None
    assert "a photo is missing from storage" in state["error"]
    assert await clean_runtime.storage.list_keys("exports/") == []
    notices = (await client.get("/notifications", headers=alice.auth)).json()["items"]
    assert [n for n in notices if n["kind"] == "export_ready"] == []
    # The member may try again; a whole account exports once the photo is back.
    await clean_runtime.storage.put(str(original), b"\xff\xd8\xffback", content_type="image/jpeg")
    again = await finished_export(client, clean_runtime, alice)
    assert again["status"] == "ready"
    archive = open_zip((await download(client, alice, again["download_url"])).content)
    assert b"\xff\xd8\xffback" in [archive.read(name) for name in archive.namelist()]
