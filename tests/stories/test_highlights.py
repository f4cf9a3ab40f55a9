"""Highlights in both modes: made of your own stories, shown as the profile's privacy allows."""

from __future__ import annotations

import httpx

from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import register
from tests.factories.stories import published_story, upload_story


async def test_create_edit_and_delete_a_highlight(client: httpx.AsyncClient) -> None:
    ann, bob = await register(client, "ann"), await register(client, "bob")
    one, two, three = [await published_story(client, ann, caption=f"s{i}") for i in (1, 2, 3)]
    made = await client.post(
        "/highlights",
        json={"title": "Summer", "story_ids": [two["id"], one["id"]], "cover_story_id": one["id"]},
        headers=ann.auth,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["title"] == "Summer" and body["cover_story_id"] == one["id"]
    assert [s["caption"] for s in body["stories"]] == ["s2", "s1"]
    assert body["cover"]["urls"]["thumbnail"]
    hid = body["id"]
    patched = await client.patch(
        f"/highlights/{hid}",
        json={"title": "Summer '26", "story_ids": [three["id"], two["id"]]},
        headers=ann.auth,
    )
    assert patched.status_code == 200
    assert [s["caption"] for s in patched.json()["stories"]] == ["s3", "s2"]
    # The cover left with its story: the first one covers now.
    assert patched.json()["cover_story_id"] == three["id"]
    cover = await client.patch(
        f"/highlights/{hid}", json={"cover_story_id": two["id"]}, headers=ann.auth
    )
    assert cover.json()["cover_story_id"] == two["id"] and cover.json()["title"] == "Summer '26"
    listed = await client.get("/users/ann/highlights", headers=bob.auth)
    assert [h["title"] for h in listed.json()["items"]] == ["Summer '26"]
    assert_error(
        await client.patch(f"/highlights/{hid}", json={"title": "x"}, headers=bob.auth),
        403,
        "forbidden",
    )
    assert_error(await client.delete(f"/highlights/{hid}", headers=bob.auth), 403, "forbidden")
    assert (await client.delete(f"/highlights/{hid}", headers=ann.auth)).status_code == 204
    assert_error(await client.delete(f"/highlights/{hid}", headers=ann.auth), 404, "not_found")
    assert (await client.get("/users/ann/highlights")).json()["items"] == []
    # Its stories are untouched.
    assert (await client.get(f"/stories/{one['id']}", headers=bob.auth)).status_code == 200


async def test_bad_highlights_are_refused_and_change_nothing(client: httpx.AsyncClient) -> None:
    ann, bob = await register(client, "ann"), await register(client, "bob")
    mine = await published_story(client, ann)
    theirs = await published_story(client, bob)
    processing = (await upload_story(client, ann)).json()
    for body in (
        {"title": "", "story_ids": [mine["id"]]},
        {"title": "x" * 51, "story_ids": [mine["id"]]},
        {"title": "t", "story_ids": []},
        {"title": "t", "story_ids": [theirs["id"]]},
        {"title": "t", "story_ids": [mine["id"], mine["id"]]},
        {"title": "t", "story_ids": ["999"]},
        {"title": "t", "story_ids": ["nope"]},
        {"title": "t", "story_ids": [mine["id"]], "cover_story_id": theirs["id"]},
        {"title": "t", "story_ids": [mine["id"]], "extra": True},
        {"story_ids": [mine["id"]]},
    ):
        assert_error(
            await client.post("/highlights", json=body, headers=ann.auth), 422, "validation_error"
        )
    del processing  # may or may not be processed by now: only published stories are taken
    assert (await client.get("/users/ann/highlights", headers=ann.auth)).json()["items"] == []
    made = await client.post(
        "/highlights", json={"title": "ok", "story_ids": [mine["id"]]}, headers=ann.auth
    )
    hid = made.json()["id"]
    for patch in (
        {"title": ""},
        {"story_ids": []},
        {"story_ids": [theirs["id"]]},
        {"cover_story_id": theirs["id"]},
    ):
        assert_error(
            await client.patch(f"/highlights/{hid}", json=patch, headers=ann.auth),
            422,
            "validation_error",
        )
    assert_error(
        await client.patch("/highlights/12345", json={"title": "x"}, headers=ann.auth),
        404,
        "not_found",
    )
    assert_error(
        await client.post("/highlights", json={"title": "t", "story_ids": [mine["id"]]}),
        401,
        "unauthenticated",
    )
    again = await client.get("/users/ann/highlights", headers=ann.auth)
    assert [(h["title"], len(h["stories"])) for h in again.json()["items"]] == [("ok", 1)]


async def test_highlights_obey_the_profile_and_the_audience(client: httpx.AsyncClient) -> None:
    ann = await register(client, "ann")
    fan, friend, stranger, foe = [
        await register(client, n) for n in ("fan", "friend", "stranger", "foe")
    ]
    for user in (fan, friend):
        await client.post("/users/ann/follow", headers=user.auth)
    await client.put("/users/me/close-friends/friend", headers=ann.auth)
    public = await published_story(client, ann, caption="all")
    close = await published_story(client, ann, caption="close", audience="close_friends")
    await client.post(
        "/highlights",
        json={"title": "Mixed", "story_ids": [public["id"], close["id"]]},
        headers=ann.auth,
    )
    await client.post(
        "/highlights", json={"title": "Inner", "story_ids": [close["id"]]}, headers=ann.auth
    )
    await client.post("/users/foe/block", headers=ann.auth)
    await client.patch("/users/me", json={"is_private": True}, headers=ann.auth)

    async def shown(user: object) -> tuple[int, list[tuple[str, list[str]]]]:
        headers = user.auth if user is not None else {}  # type: ignore[attr-defined]
        response = await client.get("/users/ann/highlights", headers=headers)
        if response.status_code != 200:
            return response.status_code, []
        items = response.json()["items"]
        return 200, [(h["title"], [s["caption"] for s in h["stories"]]) for h in items]

    assert await shown(ann) == (200, [("Inner", ["close"]), ("Mixed", ["all", "close"])])
    assert await shown(friend) == (200, [("Inner", ["close"]), ("Mixed", ["all", "close"])])
    assert await shown(fan) == (200, [("Mixed", ["all"])])
    assert await shown(stranger) == (403, [])
    assert await shown(None) == (403, [])
    assert await shown(foe) == (404, [])
    assert (await client.get("/users/nobody/highlights")).status_code == 404
