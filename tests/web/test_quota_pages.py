"""The web's sign-up and story forms count against the same quotas as the API, and like the
API only what they did: a refused form is not a registration or a story. Both run modes."""

from __future__ import annotations

import httpx

from glint.infra.runtime import Runtime
from tests.factories import images
from tests.factories.accounts import register
from tests.web.conftest import WebFactory, form_token


async def _sign_up(web: WebFactory, **fields: str) -> httpx.Response:
    browser = web()  # a new visitor each time, from the same address
    form = await browser.get("/signup")
    return await browser.post("/signup", data={**fields, "csrf_token": form_token(form.text)})


async def test_refused_sign_ups_do_not_use_up_the_hourly_registrations(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    await register(client, "taken")
    clean_runtime.limiter.enabled = True
    refused = [
        await _sign_up(web, username="x", email="x@example.com", password="long enough"),
        await _sign_up(web, username="explore", email="e@example.com", password="long enough"),
        await _sign_up(web, username="shorty", email="s@example.com", password="short"),
        await _sign_up(web, username="taken", email="t@example.com", password="long enough"),
        await _sign_up(web, username="fresh", email="taken@example.com", password="long enough"),
        await _sign_up(web, username="nomail", email="not an e-mail", password="long enough"),
    ]
    assert [r.status_code for r in refused] == [422, 422, 422, 409, 409, 422]
    made = [
        await _sign_up(web, username=f"new{n}", email=f"n{n}@example.com", password="long enough")
        for n in range(5)
    ]
    assert [r.status_code for r in made] == [303] * 5
    over = await _sign_up(web, username="sixth", email="six@example.com", password="long enough")
    assert over.status_code == 429
    assert (await client.get("/users/sixth")).status_code == 404


async def test_refused_story_forms_do_not_use_up_the_hourly_stories(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    ann = await register(client, "ann")
    browser = web(ann)
    token = form_token((await browser.get("/stories/new")).text)
    clean_runtime.limiter.enabled = True

    async def post(data: bytes) -> int:
        files = {"media": ("story.jpg", data, "image/jpeg")}
        response = await browser.post("/stories/new", data={"csrf_token": token}, files=files)
        return response.status_code

    refused = [
        await post(images.oversized_jpeg_bytes()),
        await post(b"just some text, not a photo"),
        await post(images.truncated_jpeg()),
    ] * 3
    assert refused == [413, 415, 422] * 3
    photo = images.jpeg(48, 64)
    assert [await post(photo) for _ in range(21)] == [303] * 20 + [429]
