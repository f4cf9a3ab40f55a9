"""Profile photos: validated and processed like post photos, served by signed URL."""

from __future__ import annotations

import httpx

from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories.accounts import register


async def test_set_and_replace_avatar(client: httpx.AsyncClient, clean_runtime: Runtime) -> None:
    user = await register(client)
    response = await client.put(
        "/users/me/avatar",
        files={"image": ("me.heic", images.encoded("HEIF", 600, 600), "image/heic")},
        headers=user.auth,
    )
    assert response.status_code == 200, response.text
    first = response.json()["avatar_url"]
    assert first.startswith("/media/a/")
    fetched = await client.get(f"http://testserver{first}")
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/webp"
    public = (await client.get(f"/users/{user.username}")).json()
    assert public["avatar_url"] is not None
    replaced = await client.put(
        "/users/me/avatar",
        files={"image": ("me.png", images.encoded("PNG"), "image/png")},
        headers=user.auth,
    )
    assert replaced.json()["avatar_url"] != first
    await wait_for_jobs(clean_runtime)
    assert (await client.get(f"http://testserver{first}")).status_code == 404
    keys = await clean_runtime.storage.list_keys("a")
    assert len(keys) == 8  # one photo's renditions: the old ones are gone


async def test_bad_avatars_are_refused(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for name, (data, status, code) in images.bad_files().items():
        response = await client.put(
            "/users/me/avatar", files={"image": ("x.jpg", data, "image/jpeg")}, headers=user.auth
        )
        assert_error(response, status, code)
        assert name
    me = (await client.get("/auth/me", headers=user.auth)).json()
    assert me["avatar_url"] is None
