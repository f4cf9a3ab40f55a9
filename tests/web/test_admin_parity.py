"""The admin pages and the admin API have the same consequences, in both run modes (as
tests/web/test_parity.py checks for members' actions): two equivalent worlds, one resolved
through the report page's form (cookie and CSRF token), the other through
POST /admin/reports/{id}/resolve (Bearer token), compared on what the reporters hear, what the
author can still do, what the queue and the audit log say, and which jobs ran."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from glint.infra.runtime import Runtime
from tests.factories.moderation import give_role, report
from tests.factories.posts import published_post
from tests.web.conftest import WebFactory
from tests.web.test_parity import PATHS, Outcome, World, _act, _inbox, _same


async def _audit(client: httpx.AsyncClient, world: World) -> list[dict[str, Any]]:
    """The world's entries of the (shared) audit log, neutral (no IDs or times)."""
    admin = world.users["admin"]
    response = await client.get("/admin/audit", headers=admin.auth)
    assert response.status_code == 200, response.text
    return [
        world.neutral({k: e[k] for k in ("actor", "action", "target_type", "reason")})
        for e in response.json()["items"]
        if e["actor"] == admin.username
    ]


@pytest.mark.parametrize(
    ("action", "reason"), [("ban_user", "Selling followers"), ("remove_content", "Scam")]
)
async def test_resolving_a_report(
    client: httpx.AsyncClient,
    web: WebFactory,
    clean_runtime: Runtime,
    action: str,
    reason: str,
) -> None:
    """POST /admin/reports/{id}/resolve as a page form and through the API."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    filed: dict[str, str] = {}
    for via, world in worlds.items():
        author = await world.user(client, "author")
        first, second = await world.user(client, "reporter"), await world.user(client, "other")
        admin = await world.user(client, "admin")
        await give_role(rt, admin, "admin")
        post = await published_post(client, author, caption="followers for sale")
        world.roles[post["id"]] = "post"
        filed[via] = (await report(client, first, "post", post["id"], reason="spam"))["id"]
        await report(client, second, "post", post["id"], reason="misinformation")

    outcomes: dict[str, Outcome] = {}
    for via, world in worlds.items():

        async def resolve(via: str = via, world: World = world) -> dict[str, Any]:
            admin, report_id = world.users["admin"], filed[via]
            if via == "web":
                response = await web(admin).post(
                    f"/admin/reports/{report_id}/resolve",
                    data={"csrf_token": admin.csrf_token, "action": action, "reason": reason},
                )
                assert response.status_code == 303, response.text
            else:
                response = await client.post(
                    f"/admin/reports/{report_id}/resolve",
                    json={"action": action, "reason": reason},
                    headers=admin.auth,
                )
                assert response.status_code == 200, response.text
            group = await client.get(f"/admin/reports/{report_id}", headers=admin.auth)
            shaped: dict[str, Any] = world.neutral(
                {
                    "statuses": [r["status"] for r in group.json()["reports"]],
                    "actions": [r["action"] for r in group.json()["reports"]],
                    "target_exists": group.json()["target_exists"],
                    "author_me": (
                        await client.get("/auth/me", headers=world.users["author"].auth)
                    ).status_code,
                }
            )
            return shaped

        immediate, jobs = await _act(rt, resolve)
        seen: dict[str, Any] = {
            "immediate": immediate,
            "reporter": await _inbox(client, world, "reporter"),
            "other": await _inbox(client, world, "other"),
            "audit": await _audit(client, world),
        }
        if action == "remove_content":
            seen["author"] = await _inbox(client, world, "author")
        outcomes[via] = Outcome(seen=seen, jobs=jobs)

    _same(outcomes["web"], outcomes["api"])
    result = outcomes["web"].seen
    banned = action == "ban_user"
    assert result["immediate"] == {
        "statuses": ["resolved", "resolved"],
        "actions": [action, action],
        "target_exists": banned,  # a ban hides the post; removing it deletes it
        "author_me": 401 if banned else 200,
    }
    told = "We took action against the account." if banned else "We removed what you reported."
    for who in ("reporter", "other"):
        assert [(n["kind"], n["actors"], n["text"]) for n in result[who]] == [
            ("report_resolved", [], f"Thanks for your report. {told}")
        ]
    entry = "user.banned" if banned else "content.removed"
    assert result["audit"] == [
        {"actor": "admin", "action": entry, "target_type": "user" if banned else "post",
         "reason": reason}
    ]  # fmt: skip
    if not banned:
        assert [n["text"] for n in result["author"]] == [f"Your post was removed: {reason}"]
