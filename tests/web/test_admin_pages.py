"""The admin pages through HTTP, in both run modes: who sees which page (signed out, member,
moderator, admin), the report queue and a report's detail with the reported thing inline, each
action's effect (dismiss, remove, ban with an end, unban, roles, taking a post down), the audit
log and its CSV through the cookie, the dashboard's chart; and bad input as HTML error pages.
Also the members' side: notices from the moderators and the "Removed content" settings page."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, send
from tests.factories.moderation import open_queue, report, staff_cast
from tests.factories.posts import published_post
from tests.factories.stories import published_story
from tests.web.conftest import WebFactory

STAFF_PAGES = ["/admin/reports", "/admin/reports?status=resolved", "/admin/posts"]
ADMIN_PAGES = ["/admin", "/admin/users", "/admin/users/alice", "/admin/audit"]


@pytest.fixture
async def cast(client: httpx.AsyncClient, clean_runtime: Runtime) -> dict[str, TestUser]:
    """alice posts; bob and carol report; mia moderates; olga administers."""
    return await staff_cast(client, clean_runtime)


def _is_error_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert '<section class="empty-state error-page">' in response.text


def _text(html: str) -> str:
    """The page's words, tags stripped and spaces squeezed (for reading sentences)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


async def test_who_sees_which_admin_page_and_the_admin_link(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser]
) -> None:
    filed = await report(client, cast["bob"], "user", cast["alice"].id)
    detail = f"/admin/reports/{filed['id']}"
    for path in [*STAFF_PAGES, *ADMIN_PAGES, detail]:
        signed_out = await web().get(path)
        assert signed_out.status_code == 303, path
        assert signed_out.headers["location"].startswith("/login?next=/admin")
        _is_error_page(await web(cast["bob"]).get(path), 403)
        assert (await web(cast["olga"]).get(path)).status_code == 200, path
    moderator = web(cast["mia"])
    for path in [*STAFF_PAGES, detail]:
        assert (await moderator.get(path)).status_code == 200, path
    for path in ADMIN_PAGES:
        _is_error_page(await moderator.get(path), 403)
    # The link in the top bar: staff only, to the page each may open first.
    assert 'href="/admin' not in (await web(cast["bob"]).get("/")).text
    assert (
        '<a class="btn btn-secondary btn-sm" href="/admin/reports"'
        in (await moderator.get("/")).text
    )
    admin_home = (await web(cast["olga"]).get("/")).text
    assert '<a class="btn btn-secondary btn-sm" href="/admin"' in admin_home
    # The admin nav: a moderator is not shown what they may not open.
    nav = (await moderator.get("/admin/reports")).text
    assert 'href="/admin/users"' not in nav and 'href="/admin/posts"' in nav


async def test_the_queue_groups_by_target_oldest_first_and_pages(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser]
) -> None:
    alice, bob, carol = cast["alice"], cast["bob"], cast["carol"]
    first = await report(client, bob, "user", alice.id, reason="harassment", text="rude")
    await report(client, carol, "user", alice.id, reason="spam")
    second = await report(client, alice, "user", bob.id, reason="hate")
    page = (await web(cast["mia"]).get("/admin/reports")).text
    groups = re.findall(r'data-report-group="([a-z]+):(\d+)"', page)
    assert groups == [("user", alice.id), ("user", bob.id)]  # oldest first, one row each
    assert "2 reports" in page and "harassment, spam" in page
    assert f'href="/admin/reports/{first["id"]}"' in page
    assert f'href="/admin/reports/{second["id"]}"' in page
    resolved = (await web(cast["mia"]).get("/admin/reports?status=resolved")).text
    assert "Nothing resolved yet." in resolved
    # Twenty-one things reported: the first page has twenty, "More" has the rest.
    for n in range(19):
        someone = await register(client, f"spammer{n}")
        await report(client, carol, "user", someone.id)
    full = (await web(cast["mia"]).get("/admin/reports")).text
    assert len(re.findall(r"data-report-group=", full)) == 20
    more = re.search(r'href="(/admin/reports\?status=open&amp;cursor=[^"]+)"', full)
    assert more
    rest = (await web(cast["mia"]).get(more.group(1).replace("&amp;", "&"))).text
    assert re.findall(r'data-report-group="user:(\d+)"', rest) == [someone.id]
    _is_error_page(await web(cast["mia"]).get("/admin/reports?status=maybe"), 400)
    _is_error_page(await web(cast["mia"]).get("/admin/reports?cursor=garbage"), 400)


async def test_a_report_shows_the_post_inline_and_dismissing_tells_the_reporters(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    alice, bob, carol, mia = cast["alice"], cast["bob"], cast["carol"], cast["mia"]
    post = await published_post(client, alice, caption="cheap pills <b>now</b>")
    first = await report(client, bob, "post", post["id"], reason="spam", text="selling stuff")
    await report(client, carol, "post", post["id"], reason="misinformation", text="not true")
    moderator = web(mia)
    page = await moderator.get(f"/admin/reports/{first['id']}")
    assert page.status_code == 200
    html = page.text
    assert post["media"][0]["jpeg_urls"]["thumbnail"].replace("&", "&amp;") in html
    assert "cheap pills &lt;b&gt;now&lt;/b&gt;" in html  # the caption, escaped
    words = _text(html)
    assert "Spam from @bob" in words and "selling stuff" in words
    assert "Misinformation from @carol" in words and "not true" in words
    assert "Dismiss" in words and "Remove content" in words
    assert "data-ban-form" not in html  # banning is for admins
    assert "data-ban-form" in (await web(cast["olga"]).get(f"/admin/reports/{first['id']}")).text

    done = await moderator.post(
        f"/admin/reports/{first['id']}/resolve",
        data={"csrf_token": mia.csrf_token, "action": "dismiss"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/reports/{first['id']}?done=dismiss"
    after = (await moderator.get(done.headers["location"])).text
    assert "Dismissed" in after and 'action="/admin/reports/' not in after  # no more actions
    assert await open_queue(client, mia) == []
    resolved = (await moderator.get("/admin/reports?status=resolved")).text
    assert f'data-report-group="post:{post["id"]}"' in resolved and "dismiss" in resolved
    assert (await client.get(f"/posts/{post['id']}", headers=bob.auth)).status_code == 200
    await wait_for_jobs(clean_runtime)
    for reporter in (bob, carol):
        notes = (await web(reporter).get("/notifications")).text
        assert 'data-kind="report_resolved"' in notes
        assert "We reviewed it and found no breach of our rules." in notes
        assert "mia" not in _text(notes)  # never who decided
    # Resolved already: the form again is a 409 page.
    again = await moderator.post(
        f"/admin/reports/{first['id']}/resolve",
        data={"csrf_token": mia.csrf_token, "action": "dismiss"},
    )
    _is_error_page(again, 409)


async def test_removing_content_leaves_a_tombstone_the_author_sees_in_settings(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    alice, bob, mia = cast["alice"], cast["bob"], cast["mia"]
    author = web(alice)
    empty = await author.get("/settings/removed")
    assert empty.status_code == 200 and "Nothing of yours has been removed." in empty.text
    assert (await web().get("/settings/removed")).headers["location"].startswith("/login")
    post = await published_post(client, alice, caption="miracle cure")
    filed = await report(client, bob, "post", post["id"], reason="misinformation")
    done = await web(mia).post(
        f"/admin/reports/{filed['id']}/resolve",
        data={"csrf_token": mia.csrf_token, "action": "remove_content", "reason": "Health scam"},
    )
    assert done.status_code == 303
    detail = (await web(mia).get(done.headers["location"])).text
    assert "It is gone now" in detail and "miracle cure" in detail
    assert (await web(bob).get(f"/p/{post['id']}")).status_code == 404
    await wait_for_jobs(clean_runtime)
    removed = _text((await author.get("/settings/removed")).text)
    assert "Your post: “miracle cure”" in removed and "Reason: Health scam" in removed
    notes = (await author.get("/notifications")).text
    assert 'data-kind="content_removed"' in notes and "Your post was removed: Health scam" in notes
    assert 'href="/settings/removed"' in notes
    assert "We removed what you reported." in (await web(bob).get("/notifications")).text


async def test_an_admin_bans_from_a_report_until_a_date_and_the_session_ends(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser]
) -> None:
    alice, bob, mia, olga = cast["alice"], cast["bob"], cast["mia"], cast["olga"]
    post = await published_post(client, alice, caption="buy now")
    filed = await report(client, bob, "post", post["id"])
    path = f"/admin/reports/{filed['id']}/resolve"
    form = {"csrf_token": olga.csrf_token, "action": "ban_user", "reason": "Scammer"}
    # Moderators may not ban, the end must be a date in the future, the action must exist.
    _is_error_page(await web(mia).post(path, data={**form, "csrf_token": mia.csrf_token}), 403)
    admin = web(olga)
    _is_error_page(await admin.post(path, data={**form, "until": "next week"}), 422)
    _is_error_page(await admin.post(path, data={**form, "until": "2001-01-01"}), 422)
    _is_error_page(await admin.post(path, data={**form, "action": "shout"}), 422)
    _is_error_page(await admin.post(path, data={**form, "csrf_token": "0" * 40}), 403)
    member = web(alice)
    assert (await member.get("/")).status_code == 200
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).date()
    done = await admin.post(path, data={**form, "until": until.isoformat()})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=ban_user")
    # Her session is gone at once: the next page is the sign-in page's redirect.
    assert (await member.get("/")).headers["location"] == "/login?next=/"
    account = (await admin.get("/admin/users/alice")).text
    assert 'data-ban-state="banned"' in account and "Reason: Scammer" in account
    assert until.strftime("%B %Y") in account
    assert (await web(bob).get(f"/p/{post['id']}")).status_code == 404
    users = (await admin.get("/admin/users?q=ali")).text
    assert re.findall(r'data-user="([^"]+)"', users) == ["alice"] and "banned" in users


async def test_each_kind_of_reported_thing_shows_inline(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser]
) -> None:
    alice, bob = cast["alice"], cast["bob"]
    await client.patch(
        "/users/me", json={"display_name": "Alice A", "bio": "I sell <things>"}, headers=alice.auth
    )
    post = await published_post(client, alice, caption="a post")
    comment = (
        await client.post(
            f"/posts/{post['id']}/comments", json={"text": "you are all fools"}, headers=alice.auth
        )
    ).json()
    chat = await conversation(client, alice, bob)
    message = await send(client, alice, str(chat["id"]), "nasty words")
    story = await published_story(client, alice)
    moderator = web(cast["mia"])

    async def detail(target_type: str, target_id: str) -> str:
        filed = await report(client, bob, target_type, target_id)
        page = await moderator.get(f"/admin/reports/{filed['id']}")
        assert page.status_code == 200
        assert f'data-reported="{target_type}"' in page.text
        return page.text

    on_comment = await detail("comment", comment["id"])
    assert "you are all fools" in on_comment
    assert f'href="/p/{post["id"]}#c-{comment["id"]}"' in on_comment
    on_user = await detail("user", alice.id)
    assert "Alice A" in on_user and "I sell &lt;things&gt;" in on_user
    assert "Remove content" not in on_user  # an account is banned, not removed
    assert "nasty words" in await detail("message", message["id"])
    on_story = await detail("story", story["id"])
    assert 'alt="The reported story"' in on_story


async def test_users_roles_and_bans_from_the_user_pages(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser]
) -> None:
    olga = cast["olga"]
    admin = web(olga)
    listed = (await admin.get("/admin/users")).text
    assert re.findall(r'data-user="([^"]+)"', listed) == ["olga", "mia", "carol", "bob", "alice"]
    assert "moderator" in _text(listed)
    assert re.findall(r'data-user="([^"]+)"', (await admin.get("/admin/users?q=c")).text) == [
        "carol"
    ]
    assert "No accounts match." in (await admin.get("/admin/users?q=zzz")).text
    form = {"csrf_token": olga.csrf_token}

    role = await admin.post("/admin/users/carol/role", data={**form, "role": "verified"})
    assert role.status_code == 303 and role.headers["location"] == "/admin/users/carol?done=role"
    me = (await client.get("/users/carol", headers=olga.auth)).json()
    assert me["is_verified"] is True
    _is_error_page(await admin.post("/admin/users/carol/role", data={**form, "role": "god"}), 422)
    # The last admin keeps the role.
    _is_error_page(await admin.post("/admin/users/olga/role", data={**form, "role": "user"}), 409)

    banned = await admin.post("/admin/users/carol/ban", data={**form, "reason": "Spam wave"})
    assert banned.status_code == 303
    assert (await web(cast["carol"]).get("/")).status_code == 303  # signed out
    page = (await admin.get("/admin/users/carol")).text
    assert 'data-ban-state="banned"' in page and "until lifted" in page
    lifted = await admin.post("/admin/users/carol/unban", data={**form, "reason": "Appeal"})
    assert lifted.status_code == 303
    assert 'data-ban-state="active"' in (await admin.get(lifted.headers["location"])).text
    assert (await client.get("/users/carol", headers=olga.auth)).status_code == 200

    _is_error_page(await admin.post("/admin/users/olga/ban", data=form), 422)  # not yourself
    _is_error_page(await admin.get("/admin/users/nobody"), 404)
    _is_error_page(await admin.post("/admin/users/nobody/ban", data=form), 404)
    _is_error_page(await admin.post("/admin/users/carol/shout", data=form), 400)
    _is_error_page(await admin.post("/admin/users/carol/ban", data={}), 403)  # no CSRF token
    _is_error_page(await web(cast["mia"]).post("/admin/users/carol/ban", data=form), 403)


async def test_the_audit_log_pages_and_its_csv_downloads_with_the_cookie(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser]
) -> None:
    olga = cast["olga"]
    admin = web(olga)
    assert "No staff action yet." in (await admin.get("/admin/audit")).text
    form = {"csrf_token": olga.csrf_token}
    for n in range(16):  # 32 entries: two pages of thirty
        await admin.post("/admin/users/carol/ban", data={**form, "reason": f"=round {n}"})
        await admin.post("/admin/users/carol/unban", data=form)
    page = (await admin.get("/admin/audit")).text
    actions = re.findall(r'data-audit-entry="([^"]+)"', page)
    assert len(actions) == 30 and actions[:2] == ["user.unbanned", "user.banned"]
    assert "=round 15" in page and 'href="/api/v1/admin/audit.csv"' in page
    older = re.search(r'href="(/admin/audit\?cursor=[^"]+)"', page)
    assert older
    rest = (await admin.get(older.group(1))).text
    assert re.findall(r'data-audit-entry="([^"]+)"', rest) == ["user.unbanned", "user.banned"]
    # The link works in the browser: a GET with the session cookie only (no CSRF for a read).
    csv = await admin.get("/api/v1/admin/audit.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("id,created_at,actor") and len(lines) == 33
    assert "'=round 0" in lines[1]  # a formula cell is quoted as text
    assert (await web(cast["mia"]).get("/api/v1/admin/audit.csv")).status_code == 403
    assert (await web().get("/api/v1/admin/audit.csv")).status_code == 401


async def test_the_posts_page_filters_and_takes_a_post_down(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    alice, bob, mia = cast["alice"], cast["bob"], cast["mia"]
    hers = await published_post(client, alice, caption="hers")
    his = await published_post(client, bob, caption="his")
    moderator = web(mia)
    every = (await moderator.get("/admin/posts")).text
    assert re.findall(r'data-post="(\d+)"', every) == [his["id"], hers["id"]]
    by_alice = (await moderator.get("/admin/posts?status=published&username=alice")).text
    assert re.findall(r'data-post="(\d+)"', by_alice) == [hers["id"]]
    assert "No posts match." in (await moderator.get("/admin/posts?status=failed")).text
    _is_error_page(await moderator.get("/admin/posts?status=lost"), 400)
    _is_error_page(await moderator.get("/admin/posts?username=nobody"), 404)

    next_url = "/admin/posts?status=published&username=alice"
    gone = await moderator.post(
        f"/admin/posts/{hers['id']}/remove",
        data={"csrf_token": mia.csrf_token, "reason": "Stolen photo", "next": next_url},
    )
    assert gone.status_code == 303 and gone.headers["location"] == next_url + "&done=removed"
    after = (await moderator.get(gone.headers["location"])).text
    assert "Post removed" in after and f'data-post="{hers["id"]}"' not in after
    assert (await web(bob).get(f"/p/{hers['id']}")).status_code == 404
    await wait_for_jobs(clean_runtime)
    assert "Reason: Stolen photo" in (await web(alice).get("/settings/removed")).text
    audit = (await web(cast["olga"]).get("/admin/audit")).text
    assert "content.removed" in audit and "Stolen photo" in audit
    # Gone already, or never there: the 404 page.
    form = {"csrf_token": mia.csrf_token}
    _is_error_page(await moderator.post(f"/admin/posts/{hers['id']}/remove", data=form), 404)
    _is_error_page(await moderator.post("/admin/posts/nope/remove", data=form), 404)
    _is_error_page(await web(bob).post(f"/admin/posts/{his['id']}/remove", data=form), 403)


async def test_the_dashboard_shows_the_figures_and_a_chart_of_thirty_days(
    client: httpx.AsyncClient, web: WebFactory, cast: dict[str, TestUser]
) -> None:
    await published_post(client, cast["alice"])
    await published_post(client, cast["bob"])
    await report(client, cast["bob"], "user", cast["alice"].id)
    page = (await web(cast["olga"]).get("/admin")).text
    words = _text(page)
    for figure in ("Users 5", "Posts 2", "Posts in 24 h 2", "Open reports 1", "Banned accounts 0"):
        assert figure in words, figure
    assert re.search(r"Storage \d", words)
    svg = re.search(r"<svg class=\"chart\".*?</svg>", page, re.S)
    assert svg and 'role="img"' in svg.group(0)
    bars = re.findall(r'data-value="(\d+)"', svg.group(0))
    assert len(bars) == 30 and bars[-1] == "2" and set(bars[:-1]) == {"0"}
    assert '<title id="chart-title">Posts published per day' in svg.group(0)


async def test_unknown_reports_are_the_404_page(web: WebFactory, cast: dict[str, TestUser]) -> None:
    moderator = web(cast["mia"])
    for path in ("/admin/reports/999999", "/admin/reports/nope"):
        _is_error_page(await moderator.get(path), 404)
    form = {"csrf_token": cast["mia"].csrf_token, "action": "dismiss"}
    _is_error_page(await moderator.post("/admin/reports/999999/resolve", data=form), 404)
