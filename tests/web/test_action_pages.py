"""The everyday actions of the web app through HTTP, in both run modes, without JS: the "…"
menus of profiles and posts (block, mute, edit a caption, delete after a confirmation), comment
likes and deletion, the people who liked a post, and Follow back on notifications."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories import posts as post_factory
from tests.factories.accounts import TestUser, register
from tests.web.conftest import WebFactory


async def _relationship(
    client: httpx.AsyncClient, viewer: TestUser, username: str
) -> dict[str, bool]:
    response = await client.get(f"/users/{username}", headers=viewer.auth)
    assert response.status_code == 200, response.text
    relationship: dict[str, bool] = response.json()["relationship"]
    return relationship


def _menu_items(html: str) -> list[str]:
    """The labels in the page's "…" menus, in order."""
    return [
        re.sub(r"\s+", " ", label).strip()
        for label in re.findall(r'class="more-item[^"]*"[^>]*>([^<]+)<', html)
    ]


async def test_profile_menu_blocks_and_mutes_without_javascript(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    browser = web(bob)
    page = await browser.get("/alice")
    assert _menu_items(page.text) == ["Block", "Mute", "Report"]
    assert "data-more-menu" not in (await web(alice).get("/alice")).text  # not on one's own
    assert "data-more-menu" not in (await web().get("/alice")).text  # nor signed out

    form = {"csrf_token": bob.csrf_token, "next": "/alice"}
    muted = await browser.post("/alice/mute", data=form)
    assert muted.status_code == 303 and muted.headers["location"] == "/alice"
    assert (await _relationship(client, bob, "alice"))["muting"] is True
    assert _menu_items((await browser.get("/alice")).text) == ["Block", "Unmute", "Report"]

    blocked = await browser.post("/alice/block", data={**form, "next": "//evil.example/"})
    assert blocked.status_code == 303 and blocked.headers["location"] == "/alice"
    assert (await _relationship(client, bob, "alice"))["blocking"] is True
    assert _menu_items((await browser.get("/alice")).text) == ["Unblock", "Unmute", "Report"]
    # Alice no longer finds bob at all.
    assert (await web(alice).get("/bob")).status_code == 404

    await browser.post("/alice/unblock", data=form)
    await browser.post("/alice/unmute", data=form)
    assert await _relationship(client, bob, "alice") == {
        "following": False,
        "followed_by": False,
        "requested": False,
        "blocking": False,
        "muting": False,
    }


async def test_block_and_mute_forms_refuse_bad_input(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    await register(client, "alice")
    bob = await register(client, "bob")
    browser = web(bob)
    no_token = await browser.post("/alice/block", data={"next": "/alice"})
    assert no_token.status_code == 403
    assert no_token.headers["content-type"].startswith("text/html")
    assert (await _relationship(client, bob, "alice"))["blocking"] is False
    nobody = await browser.post("/nobody/block", data={"csrf_token": bob.csrf_token})
    assert nobody.status_code == 404
    myself = await browser.post("/bob/mute", data={"csrf_token": bob.csrf_token})
    assert myself.status_code == 422
    signed_out = await web().post("/alice/block", data={"csrf_token": bob.csrf_token})
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login")


async def test_post_menus_differ_for_the_author_and_everyone_else(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    post = await post_factory.published_post(client, alice, caption="harbour")
    await client.post("/users/alice/follow", headers=bob.auth)
    own = (await web(alice).get(f"/p/{post['id']}")).text
    assert _menu_items(own) == ["Edit caption", "Delete", "Go to post", "About this account"]
    other = (await web(bob).get(f"/p/{post['id']}")).text
    assert _menu_items(other) == [
        "Report",
        "Mute alice",
        "Block alice",
        "Go to post",
        "About this account",
    ]
    # The feed's cards carry the same menu.
    feed = (await web(bob).get("/")).text
    assert f'href="/p/{post["id"]}/report"' in feed and 'action="/alice/mute"' in feed
    assert "data-more-menu" not in (await web().get(f"/p/{post['id']}")).text


async def test_edit_a_caption_without_javascript(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    post = await post_factory.published_post(client, alice, caption="old words")
    browser = web(alice)
    form = await browser.get(f"/p/{post['id']}/edit")
    assert form.status_code == 200 and ">old words</textarea>" in form.text
    saved = await browser.post(
        f"/p/{post['id']}/edit",
        data={"csrf_token": alice.csrf_token, "caption": "new words #sea"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/p/{post['id']}"
    shown = (await client.get(f"/posts/{post['id']}", headers=alice.auth)).json()
    assert (shown["caption"], shown["hashtags"]) == ("new words #sea", ["sea"])
    assert shown["edited_at"]
    too_long = await browser.post(
        f"/p/{post['id']}/edit", data={"csrf_token": alice.csrf_token, "caption": "x" * 2201}
    )
    assert too_long.status_code == 422 and "at most 2,200 characters" in too_long.text
    # Nobody else edits it, nor sees the form.
    assert (await web(bob).get(f"/p/{post['id']}/edit")).status_code == 404
    theirs = await web(bob).post(
        f"/p/{post['id']}/edit", data={"csrf_token": bob.csrf_token, "caption": "mine now"}
    )
    assert theirs.status_code == 404
    assert (await web(alice).get("/p/12x/edit")).status_code == 404


async def test_delete_a_post_after_a_confirmation(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    post = await post_factory.published_post(client, alice)
    asked = await web(alice).get(f"/p/{post['id']}/delete")
    assert asked.status_code == 200 and "Delete post?" in asked.text
    assert (await client.get(f"/posts/{post['id']}", headers=alice.auth)).status_code == 200
    refused = await web(bob).post(f"/p/{post['id']}/delete", data={"csrf_token": bob.csrf_token})
    assert refused.status_code == 403
    done = await web(alice).post(f"/p/{post['id']}/delete", data={"csrf_token": alice.csrf_token})
    assert done.status_code == 303 and done.headers["location"] == "/alice"
    assert (await client.get(f"/posts/{post['id']}", headers=alice.auth)).status_code == 404
    assert "0</strong> posts" in (await web(alice).get("/alice")).text


async def test_like_and_delete_comments_without_javascript(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    carol = await register(client, "carol")
    post = await post_factory.published_post(client, alice)
    path = f"/posts/{post['id']}/comments"
    comment = (await client.post(path, json={"text": "nice"}, headers=bob.auth)).json()
    cid = comment["id"]

    liked = await web(carol).post(f"/c/{cid}/like", data={"csrf_token": carol.csrf_token})
    assert liked.status_code == 303 and liked.headers["location"] == f"/p/{post['id']}#c-{cid}"
    page = (await web(carol).get(f"/p/{post['id']}")).text
    assert f'action="/c/{cid}/unlike"' in page and "1 like<" in page
    assert re.search(f'data-comment-like="{cid}" aria-pressed="true"', page)
    await web(carol).post(f"/c/{cid}/unlike", data={"csrf_token": carol.csrf_token})
    assert (await client.get(path, headers=carol.auth)).json()["items"][0]["like_count"] == 0

    # Carol may neither delete bob's comment nor see a Delete button; alice (the post's
    # author) and bob (the comment's) see it.
    assert f'data-delete-comment="{cid}"' not in (await web(carol).get(f"/p/{post['id']}")).text
    assert f'data-delete-comment="{cid}"' in (await web(bob).get(f"/p/{post['id']}")).text
    refused = await web(carol).post(f"/c/{cid}/delete", data={"csrf_token": carol.csrf_token})
    assert refused.status_code == 403
    deleted = await web(alice).post(f"/c/{cid}/delete", data={"csrf_token": alice.csrf_token})
    assert deleted.status_code == 303 and deleted.headers["location"] == f"/p/{post['id']}"
    assert (await client.get(path, headers=alice.auth)).json()["items"] == []
    again = await web(alice).post(f"/c/{cid}/delete", data={"csrf_token": alice.csrf_token})
    assert again.status_code == 404
    bad = await web(alice).post("/c/nope/like", data={"csrf_token": alice.csrf_token})
    assert bad.status_code == 404
    unknown = await web(alice).post(f"/c/{cid}/frob", data={"csrf_token": alice.csrf_token})
    assert unknown.status_code == 400


async def test_the_people_who_liked_a_post(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    carol = await register(client, "carol")
    post = await post_factory.published_post(client, alice)
    for who in (bob, carol):
        await client.post(f"/posts/{post['id']}/like", headers=who.auth)
    await client.post("/users/alice/follow", headers=carol.auth)
    await client.post("/users/bob/follow", headers=alice.auth)
    card = (await web(alice).get(f"/p/{post['id']}")).text
    assert f'href="/p/{post["id"]}/likes"' in card
    page = await web(alice).get(f"/p/{post['id']}/likes")
    assert page.status_code == 200
    rows = re.findall(r'data-follow="(\w+)"[^>]*>([^<]+)</button>', page.text)
    # Newest like first; alice follows bob; carol follows alice, who may follow her back.
    assert rows == [("carol", "Follow back"), ("bob", "Following")]
    assert (await web().get(f"/p/{post['id']}/likes")).status_code == 200
    assert (await web(alice).get("/p/123/likes")).status_code == 404
    assert (await web(alice).get(f"/p/{post['id']}/likes?cursor=zz")).status_code == 400


async def test_report_a_post_a_comment_and_an_account(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    post = await post_factory.published_post(client, alice, caption="buy now")
    path = f"/posts/{post['id']}/comments"
    comment = (await client.post(path, json={"text": "spam spam"}, headers=alice.auth)).json()
    browser = web(bob)
    targets = [
        (f"/p/{post['id']}/report", "post", f"/p/{post['id']}"),
        (f"/c/{comment['id']}/report", "comment", f"/p/{post['id']}#c-{comment['id']}"),
        ("/alice/report", "account", "/alice"),
    ]
    for url, noun, back in targets:
        form = await browser.get(url)
        assert form.status_code == 200 and f"Report this {noun}" in form.text
        assert form.text.count('name="reason"') == 9 and f'href="{back}"' in form.text
        done = await browser.post(
            url, data={"csrf_token": bob.csrf_token, "reason": "spam", "text": "again & again"}
        )
        assert done.status_code == 200 and "Thanks for reporting" in done.text
        repeat = await browser.post(url, data={"csrf_token": bob.csrf_token, "reason": "spam"})
        assert "already reported" in repeat.text
    # The reports are the API's: the same open report answers a repeat there with 200.
    again = await client.post(
        "/reports",
        json={"target_type": "post", "target_id": post["id"], "reason": "other"},
        headers=bob.auth,
    )
    assert again.status_code == 200 and again.json()["text"] == "again & again"


async def test_report_forms_refuse_bad_input(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    post = await post_factory.published_post(client, alice)
    url = f"/p/{post['id']}/report"
    browser = web(bob)
    unknown = await browser.post(url, data={"csrf_token": bob.csrf_token, "reason": "meh"})
    assert unknown.status_code == 422 and "Choose why" in unknown.text
    long = await browser.post(
        url, data={"csrf_token": bob.csrf_token, "reason": "other", "text": "x" * 1001}
    )
    assert long.status_code == 422 and "at most 1,000 characters" in long.text
    assert (await browser.post(url, data={"reason": "spam"})).status_code == 403
    assert (await browser.get("/p/123/report")).status_code == 404
    assert (await browser.get("/c/zz/report")).status_code == 404
    assert (await browser.get("/nobody/report")).status_code == 404
    own = await web(alice).post(url, data={"csrf_token": alice.csrf_token, "reason": "spam"})
    assert own.status_code == 422
    # Blocked by alice, bob cannot see her post, so he cannot report it either.
    await client.post("/users/bob/block", headers=alice.auth)
    assert (await browser.get(url)).status_code == 404
    hidden = await browser.post(url, data={"csrf_token": bob.csrf_token, "reason": "spam"})
    assert hidden.status_code == 404
    assert (await web().get(url)).status_code == 303


async def test_follow_back_from_notifications(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    await wait_for_jobs(clean_runtime)
    page = (await web(alice).get("/notifications")).text
    assert "started following you." in page
    assert re.search(r'data-follow="bob"[^>]*>Follow back</button>', page)
    await client.post("/users/bob/follow", headers=alice.auth)
    page = (await web(alice).get("/notifications")).text
    assert re.search(r'data-follow="bob"[^>]*>Following</button>', page)


async def test_an_approved_follow_request_reads_started_following_you(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    carol = await register(client, "carol")
    dave = await register(client, "dave")
    await client.patch("/users/me", json={"is_private": True}, headers=carol.auth)
    await client.post("/users/carol/follow", headers=dave.auth)
    await wait_for_jobs(clean_runtime)
    page = (await web(carol).get("/notifications")).text
    assert "requested to follow you." in page
    assert 'data-request-action="approve" data-username="dave"' in page
    approved = await client.post("/follow-requests/dave/approve", headers=carol.auth)
    assert approved.status_code == 204
    await wait_for_jobs(clean_runtime)
    page = (await web(carol).get("/notifications")).text
    assert "requested to follow you." not in page and "data-request-action" not in page
    assert "started following you." in page
    assert re.search(r'data-follow="dave"[^>]*>Follow back</button>', page)


async def test_the_upload_page_previews_a_heic_photo(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    browser = web(alice)
    heic = images.encoded("HEIF", 1600, 1200)
    response = await browser.post(
        "/new/preview",
        data={"csrf_token": alice.csrf_token},
        files={"image": ("IMG_0001.HEIC", heic, "image/heic")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "private, no-store"
    with Image.open(io.BytesIO(response.content)) as shown:
        assert (shown.format, shown.size) == ("JPEG", (640, 480))
    # Bad input is refused as an upload is, and nothing without the form's token.
    for data, status in ((b"not a photo", 415), (images.truncated_jpeg(), 422)):
        refused = await browser.post(
            "/new/preview",
            data={"csrf_token": alice.csrf_token},
            files={"image": ("x.jpg", data, "image/jpeg")},
        )
        assert refused.status_code == status
    no_file = await browser.post("/new/preview", data={"csrf_token": alice.csrf_token})
    assert no_file.status_code == 422
    no_token = await browser.post("/new/preview", files={"image": ("a.heic", heic, "image/heic")})
    assert no_token.status_code == 403
    signed_out = await web().post("/new/preview", files={"image": ("a.heic", heic, "image/heic")})
    assert signed_out.status_code == 303


async def test_grid_tiles_offer_the_square_thumbnail_and_sharp_crops(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    post = await post_factory.published_post(client, alice, files=[images.jpeg(1200, 900)])
    page = (await web(alice).get("/alice")).text
    tile = re.search(r'<a class="tile" href="/p/{}".*?<img([^>]*)>'.format(post["id"]), page, re.S)
    assert tile
    srcset = re.search(r'srcset="([^"]+)"', tile.group(1))
    sizes = re.search(r'sizes="([^"]+)"', tile.group(1))
    assert srcset and sizes
    widths = [item.rsplit(" ", 1)[1] for item in srcset.group(1).split(", ")]
    # The 150 px square, then 640 x 480 and 1080 x 810 described by their square crops; the
    # 320 px rendition (a stretched 240 px square in a ~300 px tile) is not offered.
    assert widths == ["150w", "480w", "810w"]
    urls = post["media"][0]["jpeg_urls"]
    assert urls["small"].split("?")[0] not in tile.group(1)
    assert sizes.group(1).startswith("(min-width: 975px) 309px")


async def test_odd_input_never_makes_a_500(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice = await register(client, "alice")
    post = await post_factory.published_post(client, alice)
    browser = web(alice)
    token = {"csrf_token": alice.csrf_token}
    huge = "9" * 40
    cases = [
        ("post", f"/p/{post['id']}/edit", {**token, "caption": "nul \x00 here"}, 422),
        ("post", f"/p/{huge}/edit", token, 404),
        ("get", f"/p/{huge}/delete", None, 404),
        ("post", f"/c/{huge}/like", token, 404),
        ("post", f"/c/{huge}/report", {**token, "reason": "spam"}, 404),
        ("post", f"/{'x' * 300}/block", token, 404),
        ("get", f"/{'x' * 300}/report", None, 404),
        ("post", f"/p/{post['id']}/report", {**token, "reason": "x" * 5000}, 422),
        ("get", f"/p/{huge}/likes", None, 404),
        ("get", f"/p/{post['id']}/likes?cursor={'a' * 5000}", None, 400),
        ("post", "/new/preview", {**token, "image": "not a file"}, 422),
        ("post", "/new/preview", {**token}, 422),
    ]
    for method, path, data, status in cases:
        response = await (browser.post(path, data=data) if method == "post" else browser.get(path))
        assert response.status_code == status, (path, response.status_code, response.text[:200])
        assert response.headers["content-type"].startswith("text/html"), path
    png = images.png_header_only(50000, 50000)
    bomb = await browser.post(
        "/new/preview", data=token, files={"image": ("big.png", png, "image/png")}
    )
    assert bomb.status_code == 422
