"""Stories through the API, in both modes: posting, processing, views, viewers, deletion."""

from __future__ import annotations

import asyncio
import io

import httpx
from PIL import Image

from glint.accounts.models import User
from glint.infra.runtime import Runtime
from glint.media.urls import MediaUrls
from glint.realtime import presenter as realtime_presenter
from tests.accounts.test_auth_api import assert_error
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories.accounts import register
from tests.factories.stories import (
    media_url,
    published_story,
    tray,
    upload_story,
    wait_for_story,
)


async def _rendition_size(
    client: httpx.AsyncClient, url: str, auth: dict[str, str]
) -> tuple[int, int]:
    response = await client.get(media_url(url), headers=auth)
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content)).size


async def test_post_a_story_and_see_it_processed_into_portrait_sizes(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client, "alice")
    accepted = await upload_story(
        client, alice, photo=images.jpeg(900, 2400), caption=" hi ", alt_text="a tower"
    )
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["status"] == "processing" and body["media"] is None
    assert body["expires_at"] is None and body["audience"] == "followers"
    story = await wait_for_story(client, alice, body["id"])
    assert story["status"] == "published" and story["caption"] == "hi"
    media = story["media"]
    # Taller than 9:16: cut to 9:16 around the centre, 900 px wide (never upscaled).
    assert (media["width"], media["height"]) == (900, 1600)
    assert media["alt_text"] == "a tower" and media["blurhash"]
    assert await _rendition_size(client, media["urls"]["large"], alice.auth) == (900, 1600)
    assert await _rendition_size(client, media["jpeg_urls"]["thumbnail"], alice.auth) == (150, 150)
    assert story["view_count"] == 0 and story["viewer"] == {"seen": True}  # its author's
    wide = await published_story(client, alice, photo=images.jpeg(2000, 1000))
    # Wider than tall: kept whole at 1080 px wide (the viewer letter-boxes it).
    assert (wide["media"]["width"], wide["media"]["height"]) == (1080, 540)


async def test_bad_uploads_and_fields_are_refused(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    assert_error(
        await upload_story(client, alice, photo=b"not an image at all"),
        415,
        "unsupported_media_type",
    )
    assert_error(
        await upload_story(client, alice, photo=images.truncated_jpeg()), 422, "corrupt_image"
    )
    too_big = b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024 + 10)
    assert (await upload_story(client, alice, photo=too_big)).status_code == 413
    assert_error(await upload_story(client, alice, audience="everyone"), 422, "validation_error")
    assert_error(await upload_story(client, alice, caption="x" * 501), 422, "validation_error")
    missing = await client.post("/stories", data={"caption": "no photo"}, headers=alice.auth)
    assert_error(missing, 422, "validation_error")
    assert_error(
        await client.post("/stories", files=[("media", ("a.jpg", images.jpeg(), "image/jpeg"))]),
        401,
        "unauthenticated",
    )
    assert await tray(client, alice) == []


async def test_views_are_counted_once_even_when_concurrent(client: httpx.AsyncClient) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    for fan in (bob, carol):
        await client.post("/users/alice/follow", headers=fan.auth)
    story = await published_story(client, alice)
    sid = story["id"]
    results = await asyncio.gather(
        *(client.post(f"/stories/{sid}/view", headers=bob.auth) for _ in range(8))
    )
    assert {r.status_code for r in results} == {204}
    assert (await client.post(f"/stories/{sid}/view", headers=carol.auth)).status_code == 204
    assert (await client.post(f"/stories/{sid}/view", headers=alice.auth)).status_code == 204
    own = (await client.get(f"/stories/{sid}", headers=alice.auth)).json()
    assert own["view_count"] == 2
    seen_by_bob = (await client.get(f"/stories/{sid}", headers=bob.auth)).json()
    assert seen_by_bob["viewer"] == {"seen": True} and seen_by_bob["view_count"] is None
    viewers = await client.get(f"/stories/{sid}/viewers", params={"limit": 1}, headers=alice.auth)
    assert viewers.status_code == 200
    page = viewers.json()
    assert [v["user"]["username"] for v in page["items"]] == ["carol"]
    rest = await client.get(
        f"/stories/{sid}/viewers", params={"cursor": page["next_cursor"]}, headers=alice.auth
    )
    assert [v["user"]["username"] for v in rest.json()["items"]] == ["bob"]
    assert rest.json()["next_cursor"] is None
    assert_error(await client.get(f"/stories/{sid}/viewers", headers=bob.auth), 403, "forbidden")
    # A viewer the owner blocks since is left out of the list.
    await client.post("/users/carol/block", headers=alice.auth)
    after = await client.get(f"/stories/{sid}/viewers", headers=alice.auth)
    assert [v["user"]["username"] for v in after.json()["items"]] == ["bob"]


async def test_delete_is_for_the_owner_and_removes_the_media(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    story = await published_story(client, alice)
    sid = story["id"]
    assert_error(await client.delete(f"/stories/{sid}", headers=bob.auth), 403, "forbidden")
    assert_error(await client.delete("/stories/123", headers=alice.auth), 404, "not_found")
    assert_error(await client.delete("/stories/nope", headers=alice.auth), 404, "not_found")
    assert (await client.delete(f"/stories/{sid}", headers=alice.auth)).status_code == 204
    assert_error(await client.get(f"/stories/{sid}", headers=alice.auth), 404, "not_found")
    assert_error(await client.post(f"/stories/{sid}/view", headers=bob.auth), 404, "not_found")
    for _ in range(100):
        if not await clean_runtime.storage.list_keys("s/"):
            break
        await asyncio.sleep(0.1)
    assert await clean_runtime.storage.list_keys("s/") == []
    assert await clean_runtime.storage.list_keys("originals/s/") == []


async def test_the_author_hears_over_the_stream_when_the_story_is_live(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    story = await published_story(client, alice)
    await wait_for_jobs(clean_runtime)
    read = await clean_runtime.eventlog.read(int(alice.id), None)
    urls = MediaUrls(clean_runtime.secret_key)
    async with clean_runtime.db.session() as session:
        viewer = await session.get(User, int(alice.id))
        assert viewer is not None
        shown = [
            await realtime_presenter.present(session, viewer=viewer, urls=urls, payload=e.payload)
            for e in read.events
        ]
    published = [data for kind, data in filter(None, shown) if kind == "story.published"]
    assert [data["id"] for data in published] == [story["id"]]
    assert published[0]["status"] == "published" and published[0]["media"] is not None
    assert not (await clean_runtime.eventlog.read(int(bob.id), None)).events


async def test_twenty_stories_an_hour(client: httpx.AsyncClient, clean_runtime: Runtime) -> None:
    alice = await register(client, "alice")
    clean_runtime.limiter.enabled = True
    photo = images.jpeg(64, 96)
    answers = [(await upload_story(client, alice, photo=photo)).status_code for _ in range(21)]
    assert answers == [202] * 20 + [429]
