"""Test data for moderation: staff roles, reports filed through the real API."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from glint.accounts.models import User
from tests.factories.accounts import TestUser, register


async def give_role(runtime: Any, user: TestUser, role: str) -> None:
    """Make an account staff straight in the database (as `glint admin create-user` does)."""
    async with runtime.db.session() as session:
        await session.execute(sa.update(User).where(User.id == int(user.id)).values(role=role))
        await session.commit()


async def staff_cast(client: httpx.AsyncClient, runtime: Any) -> dict[str, TestUser]:
    """alice posts; bob and carol report; mia moderates; olga administers."""
    people = {
        name: await register(client, name) for name in ("alice", "bob", "carol", "mia", "olga")
    }
    await give_role(runtime, people["mia"], "moderator")
    await give_role(runtime, people["olga"], "admin")
    return people


async def age_account(runtime: Any, user: TestUser, *, days: int) -> None:
    """Pretend an account signed up `days` ago (the guards go by age)."""
    import datetime as dt

    from glint.infra.db import utcnow

    async with runtime.db.session() as session:
        await session.execute(
            sa.update(User)
            .where(User.id == int(user.id))
            .values(created_at=utcnow() - dt.timedelta(days=days))
        )
        await session.commit()


async def report(
    client: httpx.AsyncClient,
    reporter: TestUser,
    target_type: str,
    target_id: str,
    *,
    reason: str = "spam",
    text: str = "",
    expect: int = 201,
) -> dict[str, Any]:
    """POST /reports as one member."""
    response = await client.post(
        "/reports",
        json={"target_type": target_type, "target_id": target_id, "reason": reason, "text": text},
        headers=reporter.auth,
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_queue(client: httpx.AsyncClient, staff: TestUser) -> list[dict[str, Any]]:
    """The open report groups, oldest first (one page)."""
    response = await client.get("/admin/reports", headers=staff.auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def resolve(
    client: httpx.AsyncClient, staff: TestUser, report_id: str, action: str, **extra: Any
) -> httpx.Response:
    """POST /admin/reports/{id}/resolve."""
    return await client.post(
        f"/admin/reports/{report_id}/resolve",
        json={"action": action, **extra},
        headers=staff.auth,
    )
