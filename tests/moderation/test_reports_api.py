"""Reports, from each side: the member who reports, the staff who resolve, the author whose
content goes, and everyone else. Both run modes."""

from __future__ import annotations

import httpx
import pytest

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser
from tests.factories.messaging import conversation, send
from tests.factories.moderation import open_queue, report, resolve, staff_cast
from tests.factories.posts import published_post
from tests.factories.stories import published_story


@pytest.fixture
async def cast(client: httpx.AsyncClient, clean_runtime: Runtime) -> dict[str, TestUser]:
    """alice posts; bob and carol report; mod moderates; admin administers."""
    return await staff_cast(client, clean_runtime)


async def notices(client: httpx.AsyncClient, user: TestUser, kind: str) -> list[dict[str, object]]:
    body = (await client.get("/notifications", headers=user.auth)).json()
    return [item for item in body["items"] if item["kind"] == kind]


async def test_every_kind_of_thing_can_be_reported_once(
    client: httpx.AsyncClient, cast: dict[str, TestUser]
) -> None:
    alice, bob = cast["alice"], cast["bob"]
    post = await published_post(client, alice, caption="buy followers now")
    comment = (
        await client.post(
            f"/posts/{post['id']}/comments", json={"text": "spam"}, headers=alice.auth
        )
    ).json()
    chat = await conversation(client, alice, bob)
    message = await send(client, alice, str(chat["id"]), "nasty words")
    story = await published_story(client, alice)
    targets = [
        ("post", post["id"]),
        ("comment", comment["id"]),
        ("user", alice.id),
        ("message", message["id"]),
        ("story", story["id"]),
    ]
    for target_type, target_id in targets:
        first = await report(client, bob, target_type, target_id, reason="harassment", text="why")
        assert first["status"] == "open" and first["target_type"] == target_type
        again = await report(client, bob, target_type, target_id, reason="spam", expect=200)
        assert again["id"] == first["id"] and again["reason"] == "harassment"
    queue = await open_queue(client, cast["mia"])
    assert [(g["target_type"], g["target_id"]) for g in queue] == targets  # oldest first
    assert all(g["target_user"]["username"] == "alice" and g["report_count"] == 1 for g in queue)
    assert queue[3]["excerpt"] == "nasty words"


async def test_reports_on_what_you_cannot_see_are_404_and_bad_input_422(
    client: httpx.AsyncClient, cast: dict[str, TestUser]
) -> None:
    alice, bob, carol = cast["alice"], cast["bob"], cast["carol"]
    post = await published_post(client, alice)
    chat = await conversation(client, alice, bob)
    message = await send(client, alice, str(chat["id"]))
    await client.patch("/users/me", json={"is_private": True}, headers=alice.auth)
    # carol follows no one: alice's private post and a conversation she is not in are unseen.
    await report(client, carol, "post", post["id"], expect=404)
    await report(client, carol, "message", message["id"], expect=404)
    await report(client, carol, "comment", "123456", expect=404)
    await report(client, carol, "story", "123456", expect=404)
    await client.post(f"/users/{carol.username}/block", headers=alice.auth)
    await report(client, carol, "user", alice.id, expect=404)  # blocked: as if gone
    await report(client, alice, "post", post["id"], expect=422)  # your own
    for body in (
        {"target_type": "post", "target_id": post["id"], "reason": "boring"},
        {"target_type": "hashtag", "target_id": post["id"], "reason": "spam"},
        {"target_type": "post", "target_id": "x", "reason": "spam"},
        {"target_type": "post", "target_id": post["id"], "reason": "spam", "text": "x" * 1001},
    ):
        response = await client.post("/reports", json=body, headers=bob.auth)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
    anonymous = await client.post(
        "/reports", json={"target_type": "post", "target_id": post["id"], "reason": "spam"}
    )
    assert anonymous.status_code == 401
    assert await open_queue(client, cast["mia"]) == []


async def test_removing_content_resolves_every_report_and_leaves_the_author_a_tombstone(
    client: httpx.AsyncClient, cast: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    alice, bob, carol, mod = cast["alice"], cast["bob"], cast["carol"], cast["mia"]
    post = await published_post(client, alice, caption="miracle pills")
    first = await report(client, bob, "post", post["id"], reason="spam")
    await report(client, carol, "post", post["id"], reason="misinformation")
    (group,) = await open_queue(client, mod)
    assert group["report_count"] == 2
    assert group["reasons"] == {"spam": 1, "misinformation": 1}
    assert [r["reporter"]["username"] for r in group["reports"]] == ["bob", "carol"]
    done = await resolve(client, mod, first["id"], "remove_content", reason="Health scam")
    assert done.status_code == 200, done.text
    assert not done.json()["target_exists"]
    assert {r["status"] for r in done.json()["reports"]} == {"resolved"}
    await wait_for_jobs(clean_runtime)
    for viewer in (bob, carol, alice):
        assert (await client.get(f"/posts/{post['id']}", headers=viewer.auth)).status_code == 404
    removals = (await client.get("/users/me/removals", headers=alice.auth)).json()["items"]
    assert [(r["target_type"], r["target_id"], r["excerpt"], r["reason"]) for r in removals] == [
        ("post", post["id"], "miracle pills", "Health scam")
    ]
    assert (await client.get("/users/me/removals", headers=bob.auth)).json()["items"] == []
    (told,) = await notices(client, alice, "content_removed")
    assert told["actors"] == [] and "Health scam" in str(told["text"])
    for reporter in (bob, carol):
        (outcome,) = await notices(client, reporter, "report_resolved")
        assert outcome["actors"] == [] and "removed" in str(outcome["text"])
    assert await open_queue(client, mod) == []
    resolved = (await client.get("/admin/reports?status=resolved", headers=mod.auth)).json()
    assert resolved["items"][0]["reports"][0]["action"] == "remove_content"
    again = await resolve(client, mod, first["id"], "dismiss")
    assert again.status_code == 409 and again.json()["error"]["code"] == "report_resolved"


async def test_dismissing_keeps_the_content_and_tells_the_reporter_without_naming_anyone(
    client: httpx.AsyncClient, cast: dict[str, TestUser], clean_runtime: Runtime
) -> None:
    alice, bob, mod = cast["alice"], cast["bob"], cast["mia"]
    post = await published_post(client, alice)
    filed = await report(client, bob, "post", post["id"])
    assert (await resolve(client, mod, filed["id"], "dismiss")).status_code == 200
    await wait_for_jobs(clean_runtime)
    assert (await client.get(f"/posts/{post['id']}", headers=bob.auth)).status_code == 200
    (outcome,) = await notices(client, bob, "report_resolved")
    assert "mia" not in str(outcome) and outcome["actor_count"] == 0
    assert await notices(client, alice, "content_removed") == []
    # Resolved, it no longer blocks a fresh report by the same person.
    fresh = await report(client, bob, "post", post["id"])
    assert fresh["id"] != filed["id"]


async def test_who_may_work_the_queue(client: httpx.AsyncClient, cast: dict[str, TestUser]) -> None:
    alice, bob, mod, root = cast["alice"], cast["bob"], cast["mia"], cast["olga"]
    post = await published_post(client, alice)
    filed = await report(client, bob, "user", alice.id)
    for path in ("/admin/reports", f"/admin/reports/{filed['id']}"):
        assert (await client.get(path, headers=bob.auth)).status_code == 403
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=mod.auth)).status_code == 200
    assert (await resolve(client, bob, filed["id"], "dismiss")).status_code == 403
    assert (await resolve(client, mod, "999999", "dismiss")).status_code == 404
    assert (await resolve(client, mod, "nope", "dismiss")).status_code == 404
    assert (await resolve(client, mod, filed["id"], "shout")).status_code == 422
    # A user is banned, never "removed"; banning is an admin's call.
    assert (await resolve(client, mod, filed["id"], "remove_content")).status_code == 422
    assert (await resolve(client, mod, filed["id"], "ban_user")).status_code == 403
    past = await resolve(client, root, filed["id"], "ban_user", until="2020-01-01T00:00:00Z")
    assert past.status_code == 422  # a ban that ended before it began
    banned = await resolve(client, root, filed["id"], "ban_user", reason="Harassment")
    assert banned.status_code == 200
    assert (await client.get(f"/posts/{post['id']}", headers=bob.auth)).status_code == 404
    log = (await client.get("/admin/audit", headers=root.auth)).json()["items"]
    assert [(e["actor"], e["action"], e["reason"]) for e in log] == [
        ("olga", "user.banned", "Harassment")
    ]
