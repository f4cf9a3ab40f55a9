"""Action quotas count what was done, not what was tried: a refused upload (413, 415, 422) is
not a post or a story, a refused sign-up (409, 422) is not a registration. Both run modes."""

from __future__ import annotations

import httpx

from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.factories import images
from tests.factories.accounts import register
from tests.factories.posts import upload
from tests.factories.stories import upload_story

# One of each way an upload is refused: too big, not an image, broken, bad form fields.
_REFUSED_PHOTOS = [
    (images.oversized_jpeg_bytes(), 413),
    (b"just some text, honest\n" * 10, 415),
    (images.truncated_jpeg(), 422),
    (images.png_header_only(50000, 50000), 422),
]


async def test_refused_uploads_do_not_use_up_the_hourly_posts(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    clean_runtime.limiter.enabled = True
    refused = []
    for data, status in _REFUSED_PHOTOS * 2:  # eight refused files ...
        response = await upload(client, alice, files=[data])
        assert response.status_code == status, response.text
        refused.append(response)
    # ... and a form the framework refuses before the route runs (an unknown filter).
    bad_form = await upload(client, alice, filter="sepia")
    assert_error(bad_form, 422, "validation_error")
    refused.append(bad_form)
    assert [r.headers["X-RateLimit-Remaining"] for r in refused] == ["10"] * len(refused)

    photo = images.jpeg(64, 48)
    accepted = [await upload(client, alice, files=[photo]) for _ in range(10)]
    assert [r.status_code for r in accepted] == [202] * 10
    remaining = [r.headers["X-RateLimit-Remaining"] for r in accepted]
    assert remaining == [str(n) for n in range(9, -1, -1)]
    over = await upload(client, alice, files=[photo])
    assert_error(over, 429, "rate_limited")
    assert int(over.headers["Retry-After"]) >= 1
    # Still refused once the quota is used up, and the refusal does not count either.
    assert (await upload(client, alice, files=[photo])).status_code == 429


async def test_refused_stories_do_not_use_up_the_hourly_stories(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    clean_runtime.limiter.enabled = True
    for data, status in _REFUSED_PHOTOS * 3:  # twelve refused files
        response = await upload_story(client, alice, photo=data)
        assert response.status_code == status, response.text
        assert response.headers["X-RateLimit-Remaining"] == "20"
    bad_audience = await upload_story(client, alice, audience="everyone")
    assert_error(bad_audience, 422, "validation_error")

    photo = images.jpeg(48, 64)
    answers = [(await upload_story(client, alice, photo=photo)).status_code for _ in range(21)]
    assert answers == [202] * 20 + [429]


async def test_refused_sign_ups_do_not_use_up_the_hourly_registrations(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    await register(client, "taken")
    clean_runtime.limiter.enabled = True
    tries = [
        {"username": "x", "email": "x@example.com", "password": "long-enough-pw"},  # 422
        {"username": "explore", "email": "e@example.com", "password": "long-enough-pw"},  # 422
        {"username": "shorty", "email": "s@example.com", "password": "short"},  # 422
        {"username": "taken", "email": "new@example.com", "password": "long-enough-pw"},  # 409
        {"username": "fresh", "email": "taken@example.com", "password": "long-enough-pw"},  # 409
        {"username": "nomail", "email": "not an e-mail", "password": "long-enough-pw"},  # 422
    ]
    for body in tries:
        response = await client.post("/auth/register", json=body)
        assert response.status_code in (409, 422), response.text
        assert response.headers["X-RateLimit-Remaining"] == "5"
    for n in range(5):
        made = await client.post(
            "/auth/register",
            json={"username": f"new{n}", "email": f"new{n}@example.com", "password": "long-pw-ok"},
        )
        assert made.status_code == 201, made.text
        assert made.headers["X-RateLimit-Remaining"] == str(4 - n)
    over = await client.post(
        "/auth/register",
        json={"username": "sixth", "email": "sixth@example.com", "password": "long-pw-ok"},
    )
    assert_error(over, 429, "rate_limited")
    assert (await client.get("/users/sixth")).status_code == 404
