"""The admin API besides reports and bans: roles, the user and post lists, taking a post down,
the dashboard figures and the audit log (append-only, CSV). Both run modes."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
import sqlalchemy as sa

from glint.infra.runtime import Runtime
from glint.moderation.models import AuditEntry
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.moderation import give_role
from tests.factories.posts import published_post, upload


@pytest.fixture
async def staff(client: httpx.AsyncClient, clean_runtime: Runtime) -> dict[str, TestUser]:
    """olga the admin, mia the moderator, alice and bob members."""
    people = {n: await register(client, n) for n in ("olga", "mia", "alice", "bob")}
    await give_role(clean_runtime, people["olga"], "admin")
    await give_role(clean_runtime, people["mia"], "moderator")
    return people


async def test_roles_are_given_by_admins_and_the_last_admin_keeps_theirs(
    client: httpx.AsyncClient, staff: dict[str, TestUser]
) -> None:
    olga, mia, alice = staff["olga"], staff["mia"], staff["alice"]

    async def set_role(who: TestUser, name: str, role: str) -> httpx.Response:
        return await client.post(f"/admin/users/{name}/role", json={"role": role}, headers=who.auth)

    assert (await set_role(alice, "alice", "admin")).status_code == 403
    assert (await set_role(mia, "alice", "moderator")).status_code == 403
    assert (await set_role(olga, "alice", "emperor")).status_code == 422
    assert (await set_role(olga, "nobody", "verified")).status_code == 404
    given = await set_role(olga, "alice", "verified")
    assert given.status_code == 200 and given.json()["role"] == "verified"
    profile = (await client.get("/users/alice", headers=staff["bob"].auth)).json()
    assert profile["is_verified"]
    refused = await set_role(olga, "olga", "user")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"
    assert (await set_role(olga, "mia", "admin")).status_code == 200
    assert (await set_role(olga, "olga", "user")).status_code == 200  # mia is admin now
    assert (await client.get("/admin/stats", headers=olga.auth)).status_code == 403
    log = (await client.get("/admin/audit", headers=mia.auth)).json()["items"]
    assert [e["target_label"] for e in log] == [
        "olga: admin → user",
        "mia: moderator → admin",
        "alice: user → verified",
    ]


async def test_moderators_work_content_but_not_accounts(
    client: httpx.AsyncClient, staff: dict[str, TestUser]
) -> None:
    mia = staff["mia"]
    for path in (
        "/admin/users",
        "/admin/users/alice",
        "/admin/stats",
        "/admin/audit",
        "/admin/jobs",
    ):
        assert (await client.get(path, headers=mia.auth)).status_code == 403, path
        assert (await client.get(path, headers=staff["alice"].auth)).status_code == 403, path
    for path in ("/admin/reports", "/admin/posts"):
        assert (await client.get(path, headers=mia.auth)).status_code == 200, path
        assert (await client.get(path, headers=staff["alice"].auth)).status_code == 403, path


async def test_user_search_includes_banned_accounts(
    client: httpx.AsyncClient, staff: dict[str, TestUser]
) -> None:
    olga = staff["olga"]
    await client.post("/admin/users/bob/ban", headers=olga.auth)

    async def names(q: str) -> list[str]:
        body = (await client.get("/admin/users", params={"q": q}, headers=olga.auth)).json()
        return [u["username"] for u in body["items"]]

    assert await names("") == ["bob", "alice", "mia", "olga"]
    assert await names("b") == ["bob"]
    assert await names("@ALI") == ["alice"]
    assert await names("alice@example") == ["alice"]
    assert await names("%") == [] and await names("_") == []
    page = (await client.get("/admin/users", params={"limit": 2}, headers=olga.auth)).json()
    rest = await client.get(
        "/admin/users", params={"limit": 2, "cursor": page["next_cursor"]}, headers=olga.auth
    )
    assert [u["username"] for u in rest.json()["items"]] == ["mia", "olga"]
    bob = page["items"][0]
    assert bob["banned"] and bob["email"] == "bob@example.com"
    too_long = await client.get("/admin/users", params={"q": "x" * 101}, headers=olga.auth)
    assert too_long.status_code == 422


async def test_taking_a_post_down_from_the_post_list(
    client: httpx.AsyncClient, staff: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    mia, alice, bob = staff["mia"], staff["alice"], staff["bob"]
    await client.patch("/users/me", json={"is_private": True}, headers=alice.auth)
    kept = await published_post(client, alice, caption="private but fine")
    gone = await published_post(client, alice, caption="against the rules")
    failed = await upload(client, bob, files=[b"not an image at all"])
    assert failed.status_code == 415

    async def listed(**params: str) -> list[str]:
        body = (await client.get("/admin/posts", params=params, headers=mia.auth)).json()
        return [p["id"] for p in body["items"]]

    assert await listed() == [gone["id"], kept["id"]]  # private accounts included
    assert await listed(username="alice", status="published") == [gone["id"], kept["id"]]
    assert await listed(username="bob") == []
    assert (await client.get("/admin/posts?status=lost", headers=mia.auth)).status_code == 422
    assert (await client.get("/admin/posts?username=nobody", headers=mia.auth)).status_code == 404
    assert (await client.delete(f"/admin/posts/{gone['id']}", headers=bob.auth)).status_code == 403
    removed = await client.delete(
        f"/admin/posts/{gone['id']}", params={"reason": "Graphic violence"}, headers=mia.auth
    )
    assert removed.status_code == 204
    assert (await client.delete(f"/admin/posts/{gone['id']}", headers=mia.auth)).status_code == 404
    assert (await client.delete("/admin/posts/abc", headers=mia.auth)).status_code == 404
    await wait_for_jobs(clean_runtime)
    assert await listed() == [kept["id"]]
    assert (await client.get(f"/posts/{gone['id']}", headers=alice.auth)).status_code == 404
    (tomb,) = (await client.get("/users/me/removals", headers=alice.auth)).json()["items"]
    assert (tomb["excerpt"], tomb["reason"]) == ("against the rules", "Graphic violence")
    me = (await client.get("/auth/me", headers=alice.auth)).json()
    assert me["post_count"] == 1


async def test_the_dashboard_counts(
    client: httpx.AsyncClient, staff: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    olga, alice = staff["olga"], staff["alice"]
    post = await published_post(client, alice)
    await client.post(
        "/reports",
        json={"target_type": "post", "target_id": post["id"], "reason": "spam"},
        headers=staff["bob"].auth,
    )
    await client.post("/admin/users/bob/ban", headers=olga.auth)
    await wait_for_jobs(clean_runtime)
    stats = (await client.get("/admin/stats", headers=olga.auth)).json()
    assert stats["users"] == 4 and stats["banned_users"] == 1
    assert stats["posts"] == 1 and stats["posts_24h"] == 1
    assert stats["active_sessions"] == 3  # bob's ended with his ban
    assert stats["open_reports"] == 1 and stats["queue_depth"] == 0 and stats["failed_jobs"] == 0
    assert stats["storage_bytes"] > 10_000  # the original and its renditions
    days = stats["posts_per_day"]
    assert len(days) == 30 and days[-1]["posts"] == 1 and sum(d["posts"] for d in days) == 1


async def test_the_audit_log_is_append_only_and_exports_as_csv(
    client: httpx.AsyncClient, staff: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    olga = staff["olga"]
    await client.post(
        "/admin/users/bob/ban", json={"reason": "=HYPERLINK(evil)"}, headers=olga.auth
    )
    await client.post(
        "/admin/users/bob/unban", json={"reason": "appeal, granted"}, headers=olga.auth
    )
    exported = await client.get("/admin/audit.csv", headers=olga.auth)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == [
        "id",
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target",
        "reason",
    ]
    assert [(r[2], r[3], r[6], r[7]) for r in rows[1:]] == [
        ("olga", "user.banned", "bob", "'=HYPERLINK(evil)"),
        ("olga", "user.unbanned", "bob", "appeal, granted"),
    ]
    assert (await client.get("/admin/audit.csv", headers=staff["mia"].auth)).status_code == 403
    # The database itself refuses to change or remove a line.
    for statement in (sa.update(AuditEntry).values(reason="nothing"), sa.delete(AuditEntry)):
        async with clean_runtime.db.session() as session:
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                await session.execute(statement)
    async with clean_runtime.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 2


async def test_staff_deleting_someone_elses_content_is_a_take_down(
    client: httpx.AsyncClient, staff: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    olga, mia, alice, bob = staff["olga"], staff["mia"], staff["alice"], staff["bob"]
    post = await published_post(client, alice, caption="a post")
    own = await published_post(client, alice, caption="mine to delete")
    reply = await client.post(
        f"/posts/{own['id']}/comments", json={"text": "rude words"}, headers=bob.auth
    )
    assert (await client.delete(f"/posts/{post['id']}", headers=bob.auth)).status_code == 403
    assert (await client.delete(f"/posts/{post['id']}", headers=olga.auth)).status_code == 204
    comment_id = reply.json()["id"]
    assert (await client.delete(f"/comments/{comment_id}", headers=mia.auth)).status_code == 204
    assert (await client.delete(f"/posts/{own['id']}", headers=alice.auth)).status_code == 204
    await wait_for_jobs(clean_runtime)
    alices = (await client.get("/users/me/removals", headers=alice.auth)).json()["items"]
    assert [(r["target_type"], r["reason"]) for r in alices] == [
        ("post", "Removed by a moderator.")
    ]  # her own deletion leaves no tombstone
    bobs = (await client.get("/users/me/removals", headers=bob.auth)).json()["items"]
    assert [(r["target_type"], r["excerpt"]) for r in bobs] == [("comment", "rude words")]
    log = (await client.get("/admin/audit", headers=olga.auth)).json()["items"]
    assert [(e["actor"], e["action"], e["target_type"]) for e in log] == [
        ("mia", "content.removed", "comment"),
        ("olga", "content.removed", "post"),
    ]
