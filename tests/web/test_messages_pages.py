"""The direct-message pages through HTTP, in both run modes: inbox and requests, threads and
their older messages, starting a conversation, the forms that work without JS, the nav badge,
"Send to…" on post cards, and who may see what."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories import posts as post_factory
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, send
from tests.web.conftest import WebFactory, form_token

XSS = "<img src=x onerror=alert(1)>"


async def _follow(client: httpx.AsyncClient, follower: TestUser, target: TestUser) -> None:
    response = await client.post(f"/users/{target.username}/follow", headers=follower.auth)
    assert response.status_code == 200, response.text


def _meta(html: str, name: str) -> str:
    found = re.search(rf'<meta name="{name}" content="([^"]*)">', html)
    assert found, f"no <meta name={name}>"
    return found.group(1)


def _row(html: str, conversation_id: str) -> str:
    """The inbox row of one conversation, as HTML."""
    found = re.search(
        rf'<li class="conv[^"]*" data-conversation="{conversation_id}".*?</li>', html, re.S
    )
    assert found, f"no row for {conversation_id}"
    return found.group(0)


@pytest.mark.parametrize(
    "path", ["/direct", "/direct/inbox", "/direct/requests", "/direct/new", "/direct/t/123"]
)
async def test_signed_out_visitors_are_sent_to_sign_in(web: WebFactory, path: str) -> None:
    response = await web().get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


async def test_the_inbox_lists_conversations_and_requests_wait_apart(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    await _follow(client, alice, bob)  # bob's messages reach alice's inbox, carol's are requests
    with_bob = await conversation(client, bob, alice)
    await send(client, bob, with_bob["id"], "first")
    await send(client, bob, with_bob["id"], "see you at 8?")
    from_carol = await conversation(client, carol, alice)
    await send(client, carol, from_carol["id"], "hi, we met at the market")
    group = await conversation(client, alice, bob, carol, title="Climbing")
    await send(client, alice, group["id"], "Saturday?")
    muted = await client.patch(
        f"/conversations/{group['id']}", json={"muted": True}, headers=alice.auth
    )
    assert muted.status_code == 200

    page = await web(alice).get("/direct/inbox")
    assert page.status_code == 200
    html = page.text
    assert 'data-conversation-list="inbox"' in html
    assert from_carol["id"] not in html  # a request, not in the inbox
    assert "Requests<span data-requests-count> (1)</span>" in html
    bob_row = _row(html, with_bob["id"])
    assert "is-unread" in bob_row and "unread-dot" in bob_row
    assert "2 new messages" in bob_row and ">bob<" in bob_row
    group_row = _row(html, group["id"])
    assert "Climbing" in group_row and "You: Saturday?" in group_row
    assert "Muted" in group_row and "is-unread" not in group_row
    # Newest activity first: the group, then bob.
    assert html.index(f'data-conversation="{group["id"]}"') < html.index(
        f'data-conversation="{with_bob["id"]}"'
    )
    # The nav badge counts unread conversations (the muted group and the request do not).
    badge = re.search(r"data-messages-badge\s*>(\d+)<", html)
    assert badge and badge.group(1) == "1"
    assert _meta(html, "viewer-id") == alice.id

    requests = await web(alice).get("/direct/requests")
    assert requests.status_code == 200
    assert 'data-conversation-list="requests"' in requests.text
    carol_row = _row(requests.text, from_carol["id"])
    assert "hi, we met at the market" in carol_row
    assert with_bob["id"] not in requests.text

    assert (await web(alice).get("/direct")).headers["location"] == "/direct/inbox"


async def test_a_thread_shows_messages_of_every_kind_and_seen(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await _follow(client, bob, alice)
    post = await post_factory.published_post(client, alice, caption="Harbour at dawn")
    gone = await post_factory.published_post(client, alice, caption="soon deleted")
    chat = await conversation(client, alice, bob)
    await send(client, alice, chat["id"], XSS)
    await send(client, alice, chat["id"], kind="heart")
    await send(client, alice, chat["id"], kind="post_share", post_id=post["id"])
    shared_gone = await send(client, alice, chat["id"], kind="post_share", post_id=gone["id"])
    assert (await client.delete(f"/posts/{gone['id']}", headers=alice.auth)).status_code == 204
    reply = await send(client, bob, chat["id"], "nice")
    react = await client.post(
        f"/messages/{reply['id']}/reactions", json={"emoji": "😂"}, headers=alice.auth
    )
    assert react.status_code == 200
    last = await send(client, alice, chat["id"], "coffee?")

    page = await web(alice).get(f"/direct/t/{chat['id']}")
    assert page.status_code == 200
    html = page.text
    assert f'data-chat="{chat["id"]}"' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert 'class="msg-heart"' in html
    assert f'href="/p/{post["id"]}"' in html and "Harbour at dawn" in html
    assert re.search(rf'id="m-{shared_gone["id"]}".*?Post unavailable', html, re.S)
    assert re.search(rf'id="m-{reply["id"]}"(?:(?!</li>).)*data-emoji="😂"', html, re.S)
    assert re.search(rf'<li class="msg kind-text is-mine[^"]*" id="m-{last["id"]}"', html)
    # Messages in order, oldest first; the composer carries the page's CSRF token.
    assert html.index(f'id="m-{reply["id"]}"') < html.index(f'id="m-{last["id"]}"')
    assert f'action="/direct/t/{chat["id"]}"' in html
    assert form_token(html) == _meta(html, "csrf-token")
    # Bob has not read "coffee?" yet; once he has, alice's page says Seen.
    assert re.search(r'<p class="seen[^"]*" data-seen hidden>', html)
    read = await client.post(
        f"/conversations/{chat['id']}/read", json={"message_id": last["id"]}, headers=bob.auth
    )
    assert read.status_code == 204
    seen = (await web(alice).get(f"/direct/t/{chat['id']}")).text
    assert re.search(r'<p class="seen[^"]*" data-seen>Seen</p>', seen)
    # The thread's row is current in the list beside it.
    assert 'aria-current="page"' in _row(seen, chat["id"])


async def test_a_request_has_an_accept_banner_and_accepting_works_without_js(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, bob, alice)
    await send(client, bob, chat["id"], "hello from a stranger")
    browser = web(alice)
    page = await browser.get(f"/direct/t/{chat['id']}")
    assert page.status_code == 200
    assert "data-request-banner" in page.text and "wants to send you a message" in page.text
    assert 'data-request="true"' in page.text
    refused = await browser.post(f"/direct/t/{chat['id']}/accept", data={})
    assert refused.status_code == 403
    accepted = await browser.post(
        f"/direct/t/{chat['id']}/accept", data={"csrf_token": alice.csrf_token}
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/direct/t/{chat['id']}"
    after = await browser.get(f"/direct/t/{chat['id']}")
    assert "data-request-banner" not in after.text
    assert chat["id"] in (await browser.get("/direct/inbox")).text


async def test_starting_a_conversation_and_sending_without_js(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    await register(client, "carol")
    browser = web(alice)
    form = await browser.get("/direct/new?to=bob")
    assert form.status_code == 200
    assert 'value="bob"' in form.text
    token = form_token(form.text)

    unknown = await browser.post(
        "/direct/new", data={"csrf_token": token, "usernames": "nobody_here", "title": ""}
    )
    assert unknown.status_code == 404
    assert "No such user." in unknown.text and 'value="nobody_here"' in unknown.text
    empty = await browser.post("/direct/new", data={"csrf_token": token, "usernames": " , "})
    assert empty.status_code == 422
    assert (await browser.post("/direct/new", data={"usernames": "bob"})).status_code == 403

    made = await browser.post("/direct/new", data={"csrf_token": token, "usernames": "@Bob"})
    assert made.status_code == 303
    thread_url = made.headers["location"]
    assert re.fullmatch(r"/direct/t/\d+", thread_url)
    again = await browser.post("/direct/new", data={"csrf_token": token, "usernames": "bob"})
    assert again.headers["location"] == thread_url  # the one 1:1 of two people

    group = await browser.post(
        "/direct/new",
        data={"csrf_token": token, "usernames": "bob, carol", "title": f"Trip {XSS}"},
    )
    assert group.status_code == 303 and group.headers["location"] != thread_url
    group_page = (await browser.get(group.headers["location"])).text
    assert "Trip &lt;img src=x onerror=alert(1)&gt;" in group_page
    assert "<img src=x" not in group_page

    sent = await browser.post(thread_url, data={"csrf_token": token, "text": "  hi bob  "})
    assert sent.status_code == 303 and sent.headers["location"] == thread_url
    assert (await browser.post(thread_url, data={"text": "no token"})).status_code == 403
    blank = await browser.post(thread_url, data={"csrf_token": token, "text": " "})
    assert blank.status_code == 422
    cid = thread_url.rsplit("/", 1)[1]
    listed = await client.get(f"/conversations/{cid}/messages", headers=alice.auth)
    assert [m["text"] for m in listed.json()["items"]] == ["hi bob"]


async def test_strangers_to_a_conversation_get_404(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob, eve = [await register(client, name) for name in ("alice", "bob", "eve")]
    chat = await conversation(client, alice, bob)
    secret = await send(client, alice, chat["id"], "just between us")
    outsider = web(eve)
    for path in (
        f"/direct/t/{chat['id']}",
        f"/direct/t/{chat['id']}/row",
        f"/direct/t/{chat['id']}/page",
        "/direct/t/999999",
        "/direct/t/not-a-number",
    ):
        response = await outsider.get(path)
        assert response.status_code == 404, path
        assert "just between us" not in response.text
    post = await outsider.post(
        f"/direct/t/{chat['id']}", data={"csrf_token": eve.csrf_token, "text": "let me in"}
    )
    assert post.status_code == 404
    listed = await client.get(f"/conversations/{chat['id']}/messages", headers=alice.auth)
    assert [m["id"] for m in listed.json()["items"]] == [secret["id"]]
    # A block ends the 1:1 for both.
    assert (await client.post("/users/alice/block", headers=bob.auth)).status_code in (200, 204)
    assert (await web(alice).get(f"/direct/t/{chat['id']}")).status_code == 404


async def test_older_messages_and_more_rows_come_as_fragments(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    sent = [await send(client, alice, chat["id"], f"message {n}") for n in range(35)]
    browser = web(alice)
    html = (await browser.get(f"/direct/t/{chat['id']}")).text
    assert f'id="m-{sent[-1]["id"]}"' in html and f'id="m-{sent[5]["id"]}"' in html
    assert f'id="m-{sent[4]["id"]}"' not in html
    older = re.search(r'data-older="([^"]+)"', html)
    assert older
    fragment = await browser.get(older.group(1).replace("&amp;", "&"))
    assert fragment.status_code == 200
    ids = re.findall(r'id="m-(\d+)"', fragment.text)
    assert ids == [m["id"] for m in sent[:5]]
    assert "data-older" not in fragment.text
    assert "<html" not in fragment.text  # a fragment, not a page

    row = await browser.get(f"/direct/t/{chat['id']}/row?active=true")
    assert row.status_code == 200
    assert "message 34" in row.text and 'aria-current="page"' in row.text

    for n in range(21):
        other = await register(client, f"friend{n}")
        await conversation(client, alice, other)
    inbox = (await browser.get("/direct/inbox")).text
    assert len(re.findall(r'data-conversation="\d+"', inbox)) == 20
    more = re.search(r'class="sentinel" data-next="([^"]+)"', inbox)
    assert more
    rest = await browser.get(more.group(1).replace("&amp;", "&"))
    assert rest.status_code == 200
    assert len(re.findall(r'data-conversation="\d+"', rest.text)) == 2
    assert "sentinel" not in rest.text


async def test_post_cards_offer_send_to_and_pages_start_the_stream(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await _follow(client, bob, alice)
    post = await post_factory.published_post(client, alice, caption="share me")
    browser = web(bob)
    for path in ("/", f"/p/{post['id']}"):
        html = (await browser.get(path)).text
        assert f'data-share-post="{post["id"]}"' in html, path
        assert "data-share-dialog" in html
        assert _meta(html, "stream-since")
    anonymous = (await web().get(f"/p/{post['id']}")).text
    assert "data-share-post" not in anonymous and "data-share-dialog" not in anonymous
    assert 'name="stream-since"' not in anonymous
