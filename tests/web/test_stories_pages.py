"""The story pages through HTTP, in both run modes: the tray on the home feed (rings for
unseen, seen and close-friends stories; muted and blocked accounts absent), the viewer for
each kind of viewer, the forms that work without JavaScript (posting a story, replying,
deleting), highlights on profiles as privacy allows, the close-friends list, and the story a
reply quotes in a conversation."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from html import unescape

import httpx
import pytest

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import inbox, messages
from tests.factories.stories import published_story, tray_names, upload_story, wait_for_story
from tests.factories.stories import tray as api_tray
from tests.web.conftest import WebFactory, form_token

XSS = "<img src=x onerror=alert(1)>"


async def _follow(client: httpx.AsyncClient, fan: TestUser, *names: str) -> None:
    for name in names:
        response = await client.post(f"/users/{name}/follow", headers=fan.auth)
        assert response.status_code == 200, response.text


async def _approve(client: httpx.AsyncClient, owner: TestUser, fan: str) -> None:
    response = await client.post(f"/follow-requests/{fan}/approve", headers=owner.auth)
    assert response.status_code == 204, response.text


async def _view(client: httpx.AsyncClient, viewer: TestUser, story: dict[str, object]) -> None:
    response = await client.post(f"/stories/{story['id']}/view", headers=viewer.auth)
    assert response.status_code == 204, response.text


def _circle(html: str, username: str) -> str:
    """One account's circle in the tray, as HTML."""
    found = re.search(rf'<li class="story[^"]*" data-tray-user="{username}">.*?</li>', html, re.S)
    assert found, f"no circle for {username}"
    return found.group(0)


def _ring(html: str, username: str) -> str:
    found = re.search(r'data-ring="(\w+)"', _circle(html, username))
    assert found
    return found.group(1)


def _tray_order(html: str) -> list[str]:
    return re.findall(r'data-tray-user="([^"]+)"', html)


def _hidden(html: str, attribute: str) -> bool:
    """Whether the element carrying this data attribute is rendered hidden."""
    found = re.search(rf"<[^>]*\b{attribute}\b[^>]*>", html)
    assert found, f"no element with {attribute}"
    return bool(re.search(r"\shidden(?=[\s>])", found.group(0)))


@pytest.mark.parametrize(
    "path",
    [
        "/stories/new",
        "/stories/alice",
        "/stories/alice/123",
        "/accounts/close-friends",
        "/accounts/highlights/new",
    ],
)
async def test_signed_out_visitors_are_sent_to_sign_in(web: WebFactory, path: str) -> None:
    response = await web().get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


async def test_the_tray_rings_its_order_and_who_is_left_out(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    me = await register(client, "moe")
    names = ("ann", "ben", "cat", "dan", "eve")
    people = {name: await register(client, name) for name in names}
    await _follow(client, me, *names)
    await _follow(client, people["cat"], "moe")
    assert (await client.put("/users/me/close-friends/moe", headers=people["cat"].auth)).status_code
    ann = await published_story(client, people["ann"])
    ben = await published_story(client, people["ben"])
    await published_story(client, people["cat"], audience="close_friends")
    await published_story(client, people["dan"])
    await published_story(client, people["eve"])
    await _view(client, me, ben)
    assert (await client.post("/users/dan/mute", headers=me.auth)).status_code in (200, 204)
    assert (await client.post("/users/moe/block", headers=people["eve"].auth)).status_code in (
        200,
        204,
    )

    home = await web(me).get("/")
    assert home.status_code == 200
    html = home.text
    # Own first, with a "+" to post (no story yet); unseen next, newest first; seen last.
    assert _tray_order(html) == ["moe", "cat", "ann", "ben"]
    own = _circle(html, "moe")
    assert 'href="/stories/new"' in own and "Your story" in own and "story-plus" in own
    assert _ring(html, "ann") == "unseen" and 'href="/stories/ann"' in _circle(html, "ann")
    assert _ring(html, "ben") == "seen"
    assert _ring(html, "cat") == "close"
    assert "dan" not in _tray_order(html) and "eve" not in _tray_order(html)  # muted, blocked
    # The page agrees with the API's tray.
    assert tray_names(await api_tray(client, me)) == ["cat", "ann", "ben"]

    # Seeing ann's story turns her ring grey; a story of one's own takes the first circle.
    await _view(client, me, ann)
    await published_story(client, me)
    html = (await web(me).get("/")).text
    assert _tray_order(html) == ["moe", "cat", "ben", "ann"]  # seen ones newest first
    assert _ring(html, "ann") == "seen"
    own = _circle(html, "moe")
    assert 'href="/stories/moe"' in own and "story-plus" not in own
    # A later page of the feed has no tray.
    assert "data-story-tray" not in (await web(me).get("/?cursor=abc")).text


async def test_the_viewer_for_a_follower_the_owner_and_strangers(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    ann, moe, zed = [await register(client, name) for name in ("ann", "moe", "zed")]
    await _follow(client, moe, "ann")
    first = await published_story(client, ann, caption=f"Morning {XSS}")
    second = await published_story(client, ann, caption="Noon", alt_text="A bright street")
    await _view(client, moe, first)

    # The follower opens ann's stories at the first one not seen yet, with a reply box.
    page = await web(moe).get("/stories/ann")
    assert page.status_code == 200
    html = page.text
    assert 'data-story-viewer data-mode="stories"' in html
    assert 'data-story-index="1"' in html
    assert 'alt="A bright street"' in html
    assert f'action="/stories/ann/{second["id"]}/reply"' in html
    assert not _hidden(html, "data-story-reply")
    assert 'placeholder="Reply to ann…"' in html
    assert _hidden(html, "data-story-owner")
    assert re.search(r"data-story-viewers>\s*</ul>", html)  # no viewer list for others
    # Both stories are listed for the script, the first marked seen; links go back and on.
    assert f'data-slide="{first["id"]}"' in html and f'data-slide="{second["id"]}"' in html
    assert re.search(rf'data-slide="{first["id"]}"[^>]*data-seen="true"', html, re.S)
    assert re.search(rf'data-slide="{second["id"]}"[^>]*data-seen="false"', html, re.S)
    assert f'href="/stories/ann/{first["id"]}" data-story-prev' in html
    assert 'href="/" data-story-next' in html  # the last story: out of the viewer
    # User text is escaped, here and in the data the script reads.
    first_page = (await web(moe).get(f"/stories/ann/{first['id']}")).text
    assert "Morning &lt;img src=x onerror=alert(1)&gt;" in first_page
    assert "<img src=x" not in first_page
    assert f'href="/stories/ann/{second["id"]}" data-story-next' in first_page

    # The owner sees how many viewed it and who, and can delete it; no reply box.
    own = (await web(ann).get(f"/stories/ann/{first['id']}")).text
    assert not _hidden(own, "data-story-owner")
    assert _hidden(own, "data-story-reply")
    assert "1 view" in own
    viewers = re.search(r"data-story-viewers>(.*?)</ul>", own, re.S)
    assert viewers and 'href="/moe"' in viewers.group(1)
    assert f'action="/stories/ann/{first["id"]}/delete"' in own

    # Someone who does not follow a private account gets 404 for its stories.
    pia = await register(client, "pia")
    assert (await client.patch("/users/me", json={"is_private": True}, headers=pia.auth)).is_success
    secret = await published_story(client, pia, caption="for followers")
    for path in ("/stories/pia", f"/stories/pia/{secret['id']}"):
        response = await web(zed).get(path)
        assert response.status_code == 404, path
        assert "for followers" not in response.text
    # A story under someone else's name, nonsense IDs, and nothing to show: 404 too.
    assert (await web(moe).get(f"/stories/moe/{first['id']}")).status_code == 404
    assert (await web(moe).get("/stories/ann/not-a-number")).status_code == 404
    assert (await web(moe).get("/stories/zed")).status_code == 404
    # With no story of your own, your stories page sends you to post one.
    empty = await web(zed).get("/stories/zed")
    assert empty.status_code == 302 and empty.headers["location"] == "/stories/new"
    # A public account's story opened by link works for someone outside the tray.
    public = (await web(zed).get(f"/stories/ann/{second['id']}")).text
    assert f'data-slide="{second["id"]}"' in public and f'data-slide="{first["id"]}"' not in public
    # And the account's own page (its profile ring) plays all its live stories to them.
    whole = await web(zed).get("/stories/ann")
    assert whole.status_code == 200
    assert (
        f'data-slide="{first["id"]}"' in whole.text and f'data-slide="{second["id"]}"' in whole.text
    )


async def test_the_viewer_moves_on_through_the_tray(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    me = await register(client, "moe")
    ann, ben = await register(client, "ann"), await register(client, "ben")
    await _follow(client, me, "ann", "ben")
    older = await published_story(client, ann)
    newer = await published_story(client, ben)
    html = (await web(me).get("/stories/ben")).text
    # Ben (newest) first in the tray, ann after: the last story of ben's leads to ann's.
    assert re.findall(r'data-reel data-username="([^"]+)"', html) == ["ben", "ann"]
    assert f'href="/stories/ann/{older["id"]}" data-story-next' in html
    assert f'data-slide="{newer["id"]}"' in html
    back = (await web(me).get("/stories/ann?back=/direct/inbox")).text
    assert f'href="/stories/ben/{newer["id"]}" data-story-prev' in back
    assert 'data-close="/direct/inbox"' in back
    evil = (await web(me).get("/stories/ann?back=https://evil.example/")).text
    assert 'data-close="/"' in evil


async def test_close_friends_stories_only_for_close_friends(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    cat, moe, zed = [await register(client, name) for name in ("cat", "moe", "zed")]
    await _follow(client, moe, "cat")
    await _follow(client, zed, "cat")
    assert (await client.put("/users/me/close-friends/moe", headers=cat.auth)).status_code == 204
    story = await published_story(client, cat, audience="close_friends")
    friend = (await web(moe).get("/stories/cat")).text
    assert "data-story-cf>" in friend  # the "Close friends" badge shows
    assert (await web(zed).get(f"/stories/cat/{story['id']}")).status_code == 404
    assert (await web(zed).get("/stories/cat")).status_code == 404
    # After 24 hours it is gone from the viewer.
    clean_runtime.clock.advance(dt.timedelta(hours=25))  # type: ignore[attr-defined]
    assert (await web(moe).get(f"/stories/cat/{story['id']}")).status_code == 404


async def test_posting_a_story_with_the_form(client: httpx.AsyncClient, web: WebFactory) -> None:
    ann = await register(client, "ann")
    browser = web(ann)
    form = await browser.get("/stories/new")
    assert form.status_code == 200
    html = form.text
    assert 'enctype="multipart/form-data"' in html and 'name="media"' in html
    assert 'value="close_friends"' in html and 'href="/accounts/close-friends"' in html
    token = form_token(html)
    photo = {"media": ("story.jpg", images.jpeg(480, 640), "image/jpeg")}

    refused = await browser.post("/stories/new", data={"caption": "hi"}, files=photo)
    assert refused.status_code == 403
    missing = await browser.post(
        "/stories/new", data={"csrf_token": token, "caption": "kept"}, files={}
    )
    assert missing.status_code == 422
    assert "Choose a photo first." in missing.text and ">kept</textarea>" in missing.text
    not_photo = await browser.post(
        "/stories/new",
        data={"csrf_token": token},
        files={"media": ("notes.jpg", b"just some text, not a photo", "image/jpeg")},
    )
    assert not_photo.status_code == 415
    assert "That file isn't a photo we can use." in unescape(not_photo.text)
    too_large = await browser.post(
        "/stories/new",
        data={"csrf_token": token},
        files={"media": ("big.jpg", images.oversized_jpeg_bytes(), "image/jpeg")},
    )
    assert too_large.status_code == 413
    assert "That photo is too large: a story photo may be at most 10 MB." in too_large.text
    bad_audience = await browser.post(
        "/stories/new", data={"csrf_token": token, "audience": "everyone"}, files=photo
    )
    assert bad_audience.status_code == 422

    posted = await browser.post(
        "/stories/new",
        data={
            "csrf_token": token,
            "caption": "From the form",
            "alt_text": "A grey square",
            "audience": "close_friends",
        },
        files=photo,
    )
    assert posted.status_code == 303 and posted.headers["location"] == "/"
    mine = await client.get("/stories/feed", headers=ann.auth)
    assert mine.status_code == 200
    # It is processing; the tray shows it once published.
    for _ in range(300):
        items = (await client.get("/stories/feed", headers=ann.auth)).json()["items"]
        if items:
            break
        await asyncio.sleep(0.1)
    assert items and items[0]["user"]["username"] == "ann"
    story = await wait_for_story(client, ann, items[0]["stories"][0]["id"])
    assert story["caption"] == "From the form" and story["audience"] == "close_friends"
    assert story["media"]["alt_text"] == "A grey square"


async def test_posting_too_many_stories_says_so(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    ann = await register(client, "ann")
    browser = web(ann)
    token = form_token((await browser.get("/stories/new")).text)
    clean_runtime.limiter.enabled = True
    try:
        statuses = []
        for _ in range(21):
            response = await browser.post(
                "/stories/new",
                data={"csrf_token": token},
                files={"media": ("s.jpg", images.jpeg(320, 480), "image/jpeg")},
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert "You've shared a lot of stories lately." in unescape(response.text)
                assert response.headers.get("retry-after")
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) == {303}
    finally:
        clean_runtime.limiter.enabled = False


async def test_replying_and_deleting_without_js_and_the_quote_in_the_thread(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    ann, moe = await register(client, "ann"), await register(client, "moe")
    await _follow(client, moe, "ann")
    await _follow(client, ann, "moe")  # so the reply lands in ann's inbox, not her requests
    story = await published_story(client, ann, caption="Sunset")
    browser = web(moe)
    page = (await browser.get(f"/stories/ann/{story['id']}")).text
    token = form_token(page)
    reply_url = f"/stories/ann/{story['id']}/reply"
    assert (await browser.post(reply_url, data={"text": "no token"})).status_code == 403
    blank = await browser.post(reply_url, data={"csrf_token": token, "text": "  "})
    assert blank.status_code == 422
    sent = await browser.post(reply_url, data={"csrf_token": token, "text": f"Lovely {XSS}"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/stories/ann/{story['id']}?sent=true"
    after = (await browser.get(sent.headers["location"])).text
    assert not _hidden(after, "data-story-sent")

    # Ann finds it in her inbox; the thread quotes the story with its photo.
    conversations = await inbox(client, ann, "inbox")
    assert len(conversations) == 1
    chat = conversations[0]
    assert chat["last_message"]["kind"] == "story_reply"
    owner_thread = (await web(ann).get(f"/direct/t/{chat['id']}")).text
    quote = re.search(
        r'<a class="story-quote" href="([^"]+)"[^>]*>\s*<img[^>]*src="([^"]+)"', owner_thread
    )
    assert quote, "the reply quotes the story"
    assert quote.group(1).startswith(f"/stories/ann/{story['id']}?back=")
    assert "/media/" in quote.group(2)
    assert "Lovely &lt;img src=x onerror=alert(1)&gt;" in owner_thread
    replier_thread = (await browser.get(f"/direct/t/{chat['id']}")).text
    assert 'class="story-quote"' in replier_thread

    # Ann deletes the story from the viewer's form: the quote says it is gone, for both.
    own = (await web(ann).get(f"/stories/ann/{story['id']}")).text
    deleted = await web(ann).post(
        f"/stories/ann/{story['id']}/delete", data={"csrf_token": form_token(own)}
    )
    assert deleted.status_code == 303 and deleted.headers["location"] == "/"
    assert (await client.get(f"/stories/{story['id']}", headers=ann.auth)).status_code == 404
    for reader in (ann, moe):
        thread = (await web(reader).get(f"/direct/t/{chat['id']}")).text
        assert "Story unavailable" in thread and '<a class="story-quote"' not in thread
    listed = await messages(client, moe, chat["id"])
    assert [m["kind"] for m in listed] == ["story_reply"]
    # Someone else's story cannot be deleted by a form either.
    other = await published_story(client, ann)
    refused = await browser.post(f"/stories/ann/{other['id']}/delete", data={"csrf_token": token})
    assert refused.status_code == 403


async def test_highlights_on_profiles_obey_privacy(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    pia, fan, zed = [await register(client, name) for name in ("pia", "fan", "zed")]
    assert (await client.patch("/users/me", json={"is_private": True}, headers=pia.auth)).is_success
    await _follow(client, fan, "pia")
    await _approve(client, pia, "fan")
    one = await published_story(client, pia, caption="Alps")
    two = await published_story(client, pia, caption="Lake")
    made = await client.post(
        "/highlights",
        json={
            "title": f"Trip {XSS}",
            "story_ids": [one["id"], two["id"]],
            "cover_story_id": two["id"],
        },
        headers=pia.auth,
    )
    assert made.status_code == 201, made.text
    highlight = made.json()
    viewer_url = f"/stories/pia/highlights/{highlight['id']}"

    # A follower sees the circle, and the viewer plays its stories.
    profile = (await web(fan).get("/pia")).text
    assert f'href="{viewer_url}"' in profile
    assert "Trip &lt;img src=x onerror=alert(1)&gt;" in profile and "<img src=x" not in profile
    assert "/accounts/highlights/" not in profile  # no editing for others
    played = await web(fan).get(viewer_url)
    assert played.status_code == 200
    assert 'data-mode="highlight"' in played.text
    assert re.findall(r'data-slide="(\d+)"', played.text) == [one["id"], two["id"]]
    assert 'data-close="/pia"' in played.text
    at_two = await web(fan).get(f"{viewer_url}/{two['id']}")
    assert at_two.status_code == 200 and 'data-story-index="1"' in at_two.text
    assert (await web(fan).get(f"{viewer_url}/12345")).status_code == 404

    # A stranger (and a signed-out visitor) sees neither the circles nor the viewer.
    for browser in (web(zed), web()):
        page = (await browser.get("/pia")).text
        assert "data-private-notice" in page and viewer_url not in page and "Alps" not in page
        assert (await browser.get(viewer_url)).status_code == 404

    # The owner sees hers with Edit, and a circle to make a new one.
    own = (await web(pia).get("/pia")).text
    assert f'href="/accounts/highlights/{highlight["id"]}"' in own
    assert 'href="/accounts/highlights/new"' in own

    # Going public shows them to everyone, signed out too (followers' stories only).
    assert (
        await client.patch("/users/me", json={"is_private": False}, headers=pia.auth)
    ).is_success
    anonymous = web()
    assert viewer_url in (await anonymous.get("/pia")).text
    opened = await anonymous.get(viewer_url)
    assert opened.status_code == 200 and _hidden(opened.text, "data-story-reply")


async def test_making_changing_and_deleting_a_highlight(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    ann = await register(client, "ann")
    one = await published_story(client, ann, caption="one")
    two = await published_story(client, ann, caption="two")
    browser = web(ann)
    form = await browser.get(f"/accounts/highlights/new?story={two['id']}")
    assert form.status_code == 200
    html = form.text
    assert f'name="story_ids" value="{one["id"]}">' in html
    assert f'name="story_ids" value="{two["id"]}" checked>' in html
    token = form_token(html)
    empty = await browser.post(
        "/accounts/highlights/new", data={"csrf_token": token, "title": "Nothing"}
    )
    assert empty.status_code == 422 and "Choose at least one story." in empty.text
    untitled = await browser.post(
        "/accounts/highlights/new", data={"csrf_token": token, "story_ids": one["id"]}
    )
    assert untitled.status_code == 422
    made = await browser.post(
        "/accounts/highlights/new",
        data={
            "csrf_token": token,
            "title": "Summer",
            "story_ids": [two["id"], one["id"]],
            "cover_story_id": two["id"],
        },
    )
    assert made.status_code == 303 and made.headers["location"] == "/ann"
    listed = (await client.get("/users/ann/highlights", headers=ann.auth)).json()["items"]
    assert [(h["title"], h["cover_story_id"]) for h in listed] == [("Summer", two["id"])]
    hid = listed[0]["id"]
    # Oldest first, as they were told, whatever order the form sent them in.
    assert [s["id"] for s in listed[0]["stories"]] == [one["id"], two["id"]]

    # A day later the stories are no longer live, but the highlight keeps them to pick from.
    clean_runtime.clock.advance(dt.timedelta(hours=30))  # type: ignore[attr-defined]
    edit = await browser.get(f"/accounts/highlights/{hid}")
    assert edit.status_code == 200
    assert f'value="{one["id"]}" checked' in edit.text and "Delete highlight" in edit.text
    saved = await browser.post(
        f"/accounts/highlights/{hid}",
        data={"csrf_token": token, "title": "Summer '26", "story_ids": [one["id"]]},
    )
    assert saved.status_code == 303
    listed = (await client.get("/users/ann/highlights", headers=ann.auth)).json()["items"]
    assert listed[0]["title"] == "Summer '26"
    assert [s["id"] for s in listed[0]["stories"]] == [one["id"]]

    # Someone else's highlight is not there to edit or delete.
    zed = await register(client, "zed")
    assert (await web(zed).get(f"/accounts/highlights/{hid}")).status_code == 404
    refused = await web(zed).post(
        f"/accounts/highlights/{hid}/delete", data={"csrf_token": zed.csrf_token}
    )
    assert refused.status_code == 404
    gone = await browser.post(f"/accounts/highlights/{hid}/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert (await client.get("/users/ann/highlights", headers=ann.auth)).json()["items"] == []


async def test_the_close_friends_page_adds_and_removes(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    ann = await register(client, "ann")
    await register(client, "bob", display_name=f"Bob {XSS}")
    browser = web(ann)
    page = await browser.get("/accounts/close-friends")
    assert page.status_code == 200
    assert "data-close-friends-empty" in page.text
    assert 'href="/accounts/close-friends" aria-current="page"' in page.text
    assert 'href="/accounts/close-friends"' in (await browser.get("/accounts/edit")).text
    token = form_token(page.text)

    assert (
        await browser.post("/accounts/close-friends", data={"username": "bob"})
    ).status_code == 403
    unknown = await browser.post(
        "/accounts/close-friends", data={"csrf_token": token, "username": "nobody"}
    )
    assert unknown.status_code == 404 and "There is no @nobody." in unknown.text
    yourself = await browser.post(
        "/accounts/close-friends", data={"csrf_token": token, "username": "ann"}
    )
    assert yourself.status_code == 422
    added = await browser.post(
        "/accounts/close-friends", data={"csrf_token": token, "username": "@Bob"}
    )
    assert added.status_code == 303
    listed = (await browser.get(added.headers["location"])).text
    assert "Added to your close friends." in listed
    assert 'data-close-friend="bob"' in listed
    assert "Bob &lt;img src=x onerror=alert(1)&gt;" in listed and "<img src=x" not in listed
    api_list = await client.get("/users/me/close-friends", headers=ann.auth)
    assert [u["username"] for u in api_list.json()["items"]] == ["bob"]

    removed = await browser.post("/accounts/close-friends/bob/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    after = (await browser.get(removed.headers["location"])).text
    assert "Removed from your close friends." in after and 'data-close-friend="bob"' not in after
    assert (await client.get("/users/me/close-friends", headers=ann.auth)).json()["items"] == []


async def test_a_processing_story_shows_to_its_owner(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    ann = await register(client, "ann")
    response = await upload_story(client, ann)
    assert response.status_code == 202
    story_id = response.json()["id"]
    page = await web(ann).get(f"/stories/ann/{story_id}")
    assert page.status_code == 200
    # Processing or already published: either way it is the owner's to see, in the viewer.
    assert f'data-slide="{story_id}"' in page.text
    assert (
        await web(await register(client, "zed")).get(f"/stories/ann/{story_id}")
    ).status_code in (
        200,
        404,
    )


async def test_a_profile_photo_opens_live_stories(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    ann, moe, zed = [await register(client, name) for name in ("ann", "moe", "zed")]
    await _follow(client, moe, "ann")
    assert "profile-story" not in (await web(moe).get("/ann")).text  # nothing live yet
    story = await published_story(client, ann)
    await wait_for_jobs(clean_runtime)  # the ring reads moe's tray, filled by the fan-out job
    ring = re.compile(r'<a class="profile-story story-ring ring-(\w+)" href="/stories/ann"')
    found = ring.search((await web(moe).get("/ann")).text)
    assert found and found.group(1) == "unseen"
    await _view(client, moe, story)
    found = ring.search((await web(moe).get("/ann")).text)
    assert found and found.group(1) == "seen"
    own = ring.search((await web(ann).get("/ann")).text)
    assert own  # her own live story, from her own profile
    # Outside the viewer's tray (not followed), and signed out: just the photo.
    assert "profile-story" not in (await web(zed).get("/ann")).text
    assert "profile-story" not in (await web().get("/ann")).text
