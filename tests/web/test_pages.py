"""The page routes through HTTP, in both run modes: who may see what, forms and their CSRF
tokens, escaping of everything users write, and errors shown as pages."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories import images
from tests.factories import posts as post_factory
from tests.factories.accounts import register
from tests.web.conftest import WebFactory, form_token

MEMBERS_ONLY = ["/", "/explore", "/new", "/notifications", "/accounts/edit", "/accounts/sessions"]
XSS = "<img src=x onerror=alert(1)>"


def _is_page(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize("path", MEMBERS_ONLY)
async def test_signed_out_visitors_are_sent_to_sign_in(web: WebFactory, path: str) -> None:
    response = await web().get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


async def test_sign_in_form_signs_in_and_goes_where_asked(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    user = await register(client, "alice")
    browser = web()
    form = await browser.get("/login?next=/explore")
    assert form.status_code == 200
    _is_page(form)
    assert "glint_anon" in form.cookies
    token = form_token(form.text)

    wrong = await browser.post(
        "/login", data={"csrf_token": token, "login": "alice", "password": "nope-nope", "next": "/"}
    )
    assert wrong.status_code == 401
    assert "Wrong username or password." in wrong.text
    assert 'value="alice"' in wrong.text  # what was typed stays in the form

    right = await browser.post(
        "/login",
        data={
            "csrf_token": form_token(wrong.text),
            "login": "ALICE",
            "password": user.password,
            "next": "/explore",
        },
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/explore"
    assert browser.cookies.get("glint_session")
    home = await browser.get("/")
    assert home.status_code == 200
    # The page carries the session's CSRF token for its scripts, the same the API hands out.
    meta = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', home.text)
    assert meta
    csrf = await browser.get("/api/v1/auth/csrf")
    assert csrf.json()["csrf_token"] == meta.group(1)


async def test_sign_in_refuses_a_form_without_its_token(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    user = await register(client, "alice")
    browser = web()
    await browser.get("/login")  # has the pre-session cookie, but posts no token
    response = await browser.post("/login", data={"login": "alice", "password": user.password})
    assert response.status_code == 403
    _is_page(response)
    assert "glint_session" not in response.cookies
    forged = await browser.post(
        "/login", data={"login": "alice", "password": user.password, "csrf_token": "0" * 40}
    )
    assert forged.status_code == 403


async def test_next_never_leaves_the_site(client: httpx.AsyncClient, web: WebFactory) -> None:
    user = await register(client, "alice")
    browser = web()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        form = await browser.get("/login")
        response = await browser.post(
            "/login",
            data={
                "csrf_token": form_token(form.text),
                "login": user.username,
                "password": user.password,
                "next": target,
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        browser.cookies.delete("glint_session")


async def test_sign_up_form_validates_then_creates_the_account(web: WebFactory) -> None:
    browser = web()
    form = await browser.get("/signup")
    _is_page(form)
    fields = {"email": "bob@example.com", "display_name": "Bob", "username": "bob"}
    short = await browser.post(
        "/signup", data={**fields, "password": "short", "csrf_token": form_token(form.text)}
    )
    assert short.status_code == 422
    assert "Password must be at least 8 characters" in short.text
    assert 'value="bob@example.com"' in short.text

    reserved = await browser.post(
        "/signup",
        data={
            **fields,
            "username": "explore",
            "password": "long enough",
            "csrf_token": form_token(short.text),
        },
    )
    assert reserved.status_code == 422
    assert "Username is reserved" in reserved.text

    made = await browser.post(
        "/signup",
        data={**fields, "password": "long enough", "csrf_token": form_token(reserved.text)},
    )
    assert made.status_code == 303
    me = await browser.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "bob"

    again = web()
    taken_form = await again.get("/signup")
    taken = await again.post(
        "/signup",
        data={**fields, "password": "long enough", "csrf_token": form_token(taken_form.text)},
    )
    assert taken.status_code == 409
    assert "Username is taken" in taken.text
    email_taken = await again.post(
        "/signup",
        data={
            **fields,
            "username": "bob2",
            "password": "long enough",
            "csrf_token": form_token(taken.text),
        },
    )
    assert email_taken.status_code == 409
    assert "E-mail is already registered" in email_taken.text


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, web: WebFactory) -> None:
    user = await register(client, "alice")
    browser = web(user)
    no_token = await browser.post("/logout", data={})
    assert no_token.status_code == 403
    assert (await client.get("/auth/me", headers=user.auth)).status_code == 200
    response = await browser.post("/logout", data={"csrf_token": user.csrf_token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert (await client.get("/auth/me", headers=user.auth)).status_code == 401


async def test_cookie_writes_to_the_api_need_the_csrf_token(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    post = await post_factory.published_post(client, alice)
    browser = web(alice)
    refused = await browser.post(f"/api/v1/posts/{post['id']}/like")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    page = await browser.get(f"/p/{post['id']}")
    token = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
    assert token
    liked = await browser.post(
        f"/api/v1/posts/{post['id']}/like", headers={"X-CSRF-Token": token.group(1)}
    )
    assert liked.status_code == 200
    assert liked.json() == {"liked": True, "like_count": 1}


async def test_everything_users_write_is_shown_as_text(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice", display_name='"><script>alert(2)</script>')
    bob = await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    post = await post_factory.published_post(
        client, alice, caption=f"{XSS} #sunset with @bob", location_name="<b>Here</b>"
    )
    comment = await client.post(
        f"/posts/{post['id']}/comments",
        json={"text": "<script>alert(3)</script>"},
        headers=bob.auth,
    )
    assert comment.status_code == 201
    browser = web(bob)
    for path in (f"/p/{post['id']}", "/", "/alice"):
        response = await browser.get(path)
        assert response.status_code == 200, path
        _is_page(response)
        body = response.text
        assert "<img src=x" not in body
        assert "<script>alert" not in body
        assert "<b>Here</b>" not in body
    detail = (await browser.get(f"/p/{post['id']}")).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in detail
    assert '<a class="tag" href="/explore/tags/sunset">#sunset</a>' in detail
    assert '<a class="mention" href="/bob">@bob</a>' in detail
    profile = (await browser.get("/alice")).text
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in profile


async def test_a_private_account_shows_a_notice_to_non_followers(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    post = await post_factory.published_post(client, alice, caption="only for friends")
    await client.patch("/users/me", json={"is_private": True}, headers=alice.auth)

    stranger = await web(bob).get("/alice")
    assert stranger.status_code == 200
    assert "This account is private" in stranger.text
    assert f"/p/{post['id']}" not in stranger.text
    assert 'data-state="none"' in stranger.text
    assert (await web(bob).get(f"/p/{post['id']}")).status_code == 404
    assert (await web(bob).get("/alice/followers")).status_code == 403
    assert (await web().get("/alice")).status_code == 200  # signed out: the notice too

    asked = await client.post("/users/alice/follow", headers=bob.auth)
    assert asked.json() == {"status": "requested"}
    requested = await web(bob).get("/alice")
    assert 'data-state="requested"' in requested.text
    assert ">Requested</button>" in requested.text
    requests_page = await web(alice).get("/notifications/requests")
    assert 'data-request="bob"' in requests_page.text

    await client.post("/follow-requests/bob/approve", headers=alice.auth)
    follower = await web(bob).get("/alice")
    assert "This account is private" not in follower.text
    assert f"/p/{post['id']}" in follower.text
    assert 'data-state="following"' in follower.text


async def test_missing_things_are_404_pages(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice = await register(client, "alice")
    browser = web(alice)
    for path in ("/nobody_here", "/p/123456789", "/p/not-a-number", "/nobody_here/followers"):
        response = await browser.get(path)
        assert response.status_code == 404, path
        _is_page(response)
        assert "Sorry, this page isn&#39;t available" in response.text
    assert (await browser.get("/alice/saved")).status_code == 200
    assert (await web(await register(client, "bob")).get("/alice/saved")).status_code == 404
    bad = await browser.get("/?view=sideways")
    assert bad.status_code == 400
    _is_page(bad)


async def test_profile_edit_form(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice = await register(client, "alice")
    browser = web(alice)
    refused = await browser.post("/accounts/edit", data={"bio": "no token"})
    assert refused.status_code == 403
    bad = await browser.post(
        "/accounts/edit", data={"csrf_token": alice.csrf_token, "website": "javascript:alert(1)"}
    )
    assert bad.status_code == 422
    assert "Website must be an http(s) URL" in bad.text
    saved = await browser.post(
        "/accounts/edit",
        data={
            "csrf_token": alice.csrf_token,
            "display_name": "Alice A",
            "bio": "Photos of #cats by @alice",
            "website": "https://alice.example",
            "is_private": "on",
        },
    )
    assert saved.status_code == 303
    me = (await client.get("/auth/me", headers=alice.auth)).json()
    assert (me["display_name"], me["bio"], me["website"], me["is_private"]) == (
        "Alice A",
        "Photos of #cats by @alice",
        "https://alice.example",
        True,
    )
    bob = await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    photo = await post_factory.published_post(client, alice, files=[images.jpeg(64, 48)])
    assert (await client.get("/feed", headers=bob.auth)).json()["items"] == []
    # Going public from the form approves the pending request, as PATCH /users/me does, with
    # the same consequences: alice's posts join bob's feed and bob hears of it.
    await browser.post("/accounts/edit", data={"csrf_token": alice.csrf_token, "bio": "open"})
    relation = (await client.get("/users/alice", headers=bob.auth)).json()["relationship"]
    assert relation["following"] is True
    feed = (await client.get("/feed", headers=bob.auth)).json()["items"]
    assert [item["id"] for item in feed] == [photo["id"]]
    kinds = [
        n["kind"] for n in (await client.get("/notifications", headers=bob.auth)).json()["items"]
    ]
    assert "follow_accepted" in kinds


async def test_password_and_devices(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice = await register(client, "alice")
    other = await client.post("/auth/login", json={"login": "alice", "password": alice.password})
    other_token = other.json()["token"]
    browser = web(alice)
    devices = await browser.get("/accounts/sessions")
    assert devices.text.count('class="session-row"') == 2
    mismatch = await browser.post(
        "/accounts/password",
        data={
            "csrf_token": alice.csrf_token,
            "current_password": alice.password,
            "new_password": "brand new password",
            "confirm_password": "something else",
        },
    )
    assert mismatch.status_code == 422
    changed = await browser.post(
        "/accounts/password",
        data={
            "csrf_token": alice.csrf_token,
            "current_password": alice.password,
            "new_password": "brand new password",
            "confirm_password": "brand new password",
        },
    )
    assert changed.status_code == 303
    gone = await client.get("/auth/me", headers={"Authorization": f"Bearer {other_token}"})
    assert gone.status_code == 401
    assert (await browser.get("/accounts/sessions")).text.count('class="session-row"') == 1


async def test_comment_form_works_without_javascript(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    post = await post_factory.published_post(client, alice)
    browser = web(alice)
    response = await browser.post(
        f"/p/{post['id']}/comment",
        data={"csrf_token": alice.csrf_token, "text": "First! <3", "parent_id": ""},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/p/{post['id']}#c-")
    page = await browser.get(f"/p/{post['id']}")
    assert "First! &lt;3" in page.text
    comment_id = response.headers["location"].split("#c-")[1]
    reply = await browser.post(
        f"/p/{post['id']}/comment",
        data={"csrf_token": alice.csrf_token, "text": "a reply", "parent_id": comment_id},
    )
    assert reply.status_code == 303
    page = await browser.get(f"/p/{post['id']}")
    assert f'data-replies="{comment_id}"' in page.text
    assert 'class="comment is-reply"' in page.text


async def test_post_page_shows_the_first_replies_of_each_thread(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    post = await post_factory.published_post(client, alice)
    path = f"/posts/{post['id']}/comments"
    busy = (await client.post(path, json={"text": "busy"}, headers=alice.auth)).json()["id"]
    quiet = (await client.post(path, json={"text": "quiet"}, headers=alice.auth)).json()["id"]
    for n in range(4):
        reply = {"text": f"busy reply {n}", "parent_id": busy}
        await client.post(path, json=reply, headers=alice.auth)
    await client.post(path, json={"text": "from bob", "parent_id": quiet}, headers=bob.auth)
    await client.post(path, json={"text": "quiet reply", "parent_id": quiet}, headers=alice.auth)
    await client.post("/users/bob/block", headers=alice.auth)
    page = (await web(alice).get(f"/p/{post['id']}")).text
    # Three replies shown under the busy thread, with a link to the rest; bob's reply is hidden
    # from alice, who blocked him, and the quiet thread shows its own reply only.
    assert [f"busy reply {n}" in page for n in range(4)] == [True, True, True, False]
    assert f"parent_id={busy}" in page and f"parent_id={quiet}" not in page
    assert "quiet reply" in page and "from bob" not in page


async def test_feed_pages_continue_as_fragments(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    captions = [f"photo number {i}" for i in range(12)]
    for caption in captions:
        await post_factory.published_post(client, alice, caption=caption)
    browser = web(bob)
    first = await browser.get("/")
    assert first.text.count('<article class="card"') == 10
    sentinel = re.search(r'<div class="sentinel" data-next="([^"]+)">', first.text)
    assert sentinel, "a full first page ends with a sentinel"
    fragment = await browser.get(sentinel.group(1).replace("&amp;", "&"))
    assert fragment.status_code == 200
    _is_page(fragment)
    assert "<html" not in fragment.text
    assert fragment.text.count('<article class="card"') == 2
    assert "You\u2019re all caught up" in fragment.text
    shown = [c for c in captions if c in first.text or c in fragment.text]
    assert sorted(shown) == sorted(captions)


async def test_static_files_are_versioned_and_cached(web: WebFactory) -> None:
    browser = web()
    page = await browser.get("/login")
    css = re.search(r'href="(/static/[0-9a-f]+/css/app\.css)"', page.text)
    script = re.search(r'src="(/static/[0-9a-f]+/js/app\.js)"', page.text)
    assert css and script
    sheet = await browser.get(css.group(1))
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert "immutable" in sheet.headers["cache-control"]
    module = await browser.get(script.group(1))
    assert module.headers["content-type"].startswith("text/javascript")
    again = await browser.get(css.group(1), headers={"If-None-Match": sheet.headers["etag"]})
    assert again.status_code == 304
    for path in (
        "/static/x/../../config.py",
        "/static/x/%2e%2e/templating.py",
        "/static/x/nope.js",
    ):
        assert (await browser.get(path)).status_code == 404


async def test_profile_photo_form(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice = await register(client, "alice")
    browser = web(alice)
    photo = images.jpeg(400, 400)
    refused = await browser.post(
        "/accounts/avatar", files={"image": ("me.jpg", photo, "image/jpeg")}
    )
    assert refused.status_code == 403
    not_a_photo = await browser.post(
        "/accounts/avatar",
        data={"csrf_token": alice.csrf_token},
        files={"image": ("me.jpg", b"just text", "image/jpeg")},
    )
    assert not_a_photo.status_code == 415
    assert "form-error" in not_a_photo.text
    saved = await browser.post(
        "/accounts/avatar",
        data={"csrf_token": alice.csrf_token},
        files={"image": ("me.jpg", photo, "image/jpeg")},
    )
    assert saved.status_code == 303
    me = (await client.get("/auth/me", headers=alice.auth)).json()
    assert me["avatar_url"]
    page = await browser.get("/alice")
    assert me["avatar_url"].replace("&", "&amp;") in page.text
    avatar = await browser.get(me["avatar_url"])
    assert avatar.status_code == 200
    assert avatar.headers["content-type"] == "image/webp"


async def test_followers_lists_with_follow_buttons(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    await register(client, "alice")
    bob = await register(client, "bob")
    carol = await register(client, "carol")
    for follower in (bob, carol):
        await client.post("/users/alice/follow", headers=follower.auth)
    await client.post("/users/carol/follow", headers=bob.auth)
    page = await web(bob).get("/alice/followers")
    assert page.status_code == 200
    assert page.text.count('class="user-row"') == 2
    assert 'data-follow="carol" data-state="following"' in page.text
    assert 'data-follow="bob"' not in page.text  # no button for yourself
    following = await web(bob).get("/bob/following")
    assert following.text.count('class="user-row"') == 2
