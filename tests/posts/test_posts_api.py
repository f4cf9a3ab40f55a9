"""Posts through the HTTP API in both modes: upload, pipeline, media URLs, edit, delete."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa

from glint.infra.runtime import Runtime
from glint.posts.models import Post
from tests.accounts.test_auth_api import assert_error
from tests.factories import images
from tests.factories.accounts import register
from tests.factories.posts import published_post, upload, wait_for_post


def _root(client: httpx.AsyncClient, url: str) -> str:
    return f"http://testserver{url}"


async def test_upload_is_accepted_then_published(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await upload(
        client,
        user,
        files=[images.jpeg(1600, 1200), images.encoded("PNG")],
        caption="Sunset at the #Beach with @friend_1 #beach #golden",
        alt_text=["A beach", "A PNG"],
        location_name="Scheveningen",
        location_lat="52.11",
        location_lng="4.28",
        filter="valencia",
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "processing"
    assert accepted["media"] == []
    assert accepted["hashtags"] == ["beach", "golden"]
    assert accepted["mentions"] == ["friend_1"]
    post = await wait_for_post(client, user, accepted["id"])
    assert post["status"] == "published"
    assert post["filter"] == "valencia"
    assert post["location"] == {"name": "Scheveningen", "lat": 52.11, "lng": 4.28}
    assert [m["alt_text"] for m in post["media"]] == ["A beach", "A PNG"]
    first = post["media"][0]
    assert (first["width"], first["height"]) == (1080, 810)
    assert first["aspect_ratio"] == pytest.approx(1080 / 810, rel=1e-3)
    assert len(first["blurhash"]) == 28
    assert (
        set(first["urls"]) == set(first["jpeg_urls"]) == {"thumbnail", "small", "medium", "large"}
    )
    profile = (await client.get(f"/users/{user.username}")).json()
    assert profile["post_count"] == 1


async def test_media_urls_serve_exact_bytes_with_caching_and_ranges(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    post = await published_post(client, user)
    webp_url = post["media"][0]["urls"]["small"]
    jpeg_url = post["media"][0]["jpeg_urls"]["thumbnail"]
    webp = await client.get(_root(client, webp_url))
    assert webp.status_code == 200
    assert webp.headers["content-type"] == "image/webp"
    assert webp.content[8:12] == b"WEBP"
    assert "max-age=" in webp.headers["cache-control"]
    etag = webp.headers["etag"]
    jpeg = await client.get(_root(client, jpeg_url))
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert jpeg.content[:3] == b"\xff\xd8\xff"
    head = await client.head(_root(client, webp_url))
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(webp.content)
    assert head.content == b""
    cached = await client.get(_root(client, webp_url), headers={"If-None-Match": etag})
    assert cached.status_code == 304
    part = await client.get(_root(client, webp_url), headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.content == webp.content[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(webp.content)}"
    tail = await client.get(_root(client, webp_url), headers={"Range": "bytes=-10"})
    assert tail.content == webp.content[-10:]
    beyond = await client.get(_root(client, webp_url), headers={"Range": "bytes=999999-"})
    assert_error(beyond, 416, "range_not_satisfiable")


async def test_media_signatures_are_checked(client: httpx.AsyncClient) -> None:
    user = await register(client)
    url = (await published_post(client, user))["media"][0]["urls"]["medium"]
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    base = f"http://testserver{parsed.path}"
    assert_error(await client.get(base), 403, "invalid_signature")
    flipped = ("B" if query["sig"][0] == "A" else "A") + query["sig"][1:]  # always another sig
    tampered = await client.get(base, params={"exp": query["exp"], "sig": flipped})
    assert_error(tampered, 403, "invalid_signature")
    longer = await client.get(
        base, params={"exp": str(int(query["exp"]) + 3600), "sig": query["sig"]}
    )
    assert_error(longer, 403, "invalid_signature")
    other_key = await client.get(
        base.replace("medium.webp", "large.webp"), params={"exp": query["exp"], "sig": query["sig"]}
    )
    assert_error(other_key, 403, "invalid_signature")
    assert int(query["exp"]) > time.time()
    original = await client.get("http://testserver/media/originals/p/1/0-x")
    assert original.status_code == 403


async def test_a_processing_post_is_its_authors_alone(client: httpx.AsyncClient) -> None:
    author, stranger = await register(client), await register(client)
    accepted = (await upload(client, author)).json()
    seen = await client.get(f"/posts/{accepted['id']}", headers=stranger.auth)
    # Either still processing (hidden) or already published (visible): never a processing leak.
    assert seen.status_code in (200, 404)
    if seen.status_code == 200:
        assert seen.json()["status"] == "published"
    listing = await client.get(f"/users/{author.username}/posts", headers=stranger.auth)
    assert all(item["status"] == "published" for item in listing.json()["items"])


@pytest.mark.parametrize("name", sorted(images.bad_files()))
async def test_bad_files_get_their_4xx_and_leave_nothing(
    client: httpx.AsyncClient, clean_runtime: Runtime, name: str
) -> None:
    data, status, code = images.bad_files()[name]
    user = await register(client)
    response = await upload(client, user, files=[images.jpeg(100, 100), data])
    assert_error(response, status, code)
    async with clean_runtime.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
    assert await clean_runtime.storage.list_keys("originals") == []


@pytest.mark.parametrize(
    ("fields", "files", "field"),
    [
        ({}, 11, "image"),
        ({"filter": "sepia"}, 1, "filter"),
        ({"location_lat": "north"}, 1, "location_lat"),
        ({"location_lat": "95", "location_lng": "1", "location_name": "x"}, 1, "location_lat"),
        ({"location_lat": "1", "location_name": "x"}, 1, "location_lat"),
        ({"caption": "x" * 2201}, 1, "caption"),
        ({"alt_text": ["a", "b"]}, 1, "alt_text"),
    ],
)
async def test_invalid_fields_are_422(
    client: httpx.AsyncClient,
    clean_runtime: Runtime,
    fields: dict[str, object],
    files: int,
    field: str,
) -> None:
    user = await register(client)
    response = await upload(client, user, files=[images.jpeg(60, 40)] * files, **fields)
    error = assert_error(response, 422, "validation_error")
    assert field in str(error.get("fields", {})), error
    assert await clean_runtime.storage.list_keys("originals") == []


async def test_upload_needs_a_signed_in_user_and_a_file(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post("/posts", files=[("image", ("a.jpg", images.jpeg(), "image/jpeg"))]),
        401,
        "unauthenticated",
    )
    user = await register(client)
    no_file = await client.post("/posts", data={"caption": "hi"}, headers=user.auth)
    assert_error(no_file, 422, "validation_error")


async def test_edit_caption_and_alt_text(client: httpx.AsyncClient) -> None:
    author, other = await register(client), await register(client)
    post = await published_post(client, author, caption="old #one")
    edited = await client.patch(
        f"/posts/{post['id']}",
        json={"caption": "new #two @someone", "alt_text": ["described"], "comments_disabled": True},
        headers=author.auth,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["caption"] == "new #two @someone"
    assert body["hashtags"] == ["two"] and body["mentions"] == ["someone"]
    assert body["media"][0]["alt_text"] == "described"
    assert body["comments_disabled"] is True
    assert body["edited_at"] is not None
    refused = await client.patch(f"/posts/{post['id']}", json={"caption": "x"}, headers=other.auth)
    assert_error(refused, 403, "forbidden")
    bad = await client.patch(
        f"/posts/{post['id']}", json={"caption": "x" * 2201}, headers=author.auth
    )
    assert_error(bad, 422, "validation_error")


async def test_delete_removes_the_post_and_its_media(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    from tests.conftest import wait_for_jobs

    author, other = await register(client), await register(client)
    post = await published_post(client, author)
    url = post["media"][0]["urls"]["large"]
    assert_error(await client.delete(f"/posts/{post['id']}", headers=other.auth), 403, "forbidden")
    assert (await client.delete(f"/posts/{post['id']}", headers=author.auth)).status_code == 204
    assert_error(await client.get(f"/posts/{post['id']}", headers=author.auth), 404, "not_found")
    assert_error(await client.get(_root(client, url)), 404, "not_found")
    assert (await client.get(f"/users/{author.username}")).json()["post_count"] == 0
    await wait_for_jobs(clean_runtime)
    assert await clean_runtime.storage.list_keys("p") == []
    assert await clean_runtime.storage.list_keys("originals") == []


@pytest.mark.parametrize("post_id", ["abc", "-1", "0", "99999999999999999999", "1.5"])
async def test_malformed_post_ids_are_404(client: httpx.AsyncClient, post_id: str) -> None:
    assert_error(await client.get(f"/posts/{post_id}"), 404, "not_found")


async def test_user_posts_page_newest_first(client: httpx.AsyncClient) -> None:
    author = await register(client)
    ids = [(await published_post(client, author, caption=f"n{i}"))["id"] for i in range(3)]
    first = (await client.get(f"/users/{author.username}/posts", params={"limit": 2})).json()
    assert [p["id"] for p in first["items"]] == ids[::-1][:2]
    second = (
        await client.get(
            f"/users/{author.username}/posts", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [p["id"] for p in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    assert_error(
        await client.get(f"/users/{author.username}/posts", params={"cursor": "garbage!"}),
        400,
        "invalid_cursor",
    )
