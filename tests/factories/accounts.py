"""Test data for accounts: users registered through the real API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

_counter = itertools.count(1)
DEFAULT_PASSWORD = "correct-horse-battery"


@dataclass
class TestUser:
    """A registered user and the token that signs it in."""

    __test__ = False  # not a test class, despite the name

    id: str
    username: str
    email: str
    password: str
    token: str
    csrf_token: str

    @property
    def auth(self) -> dict[str, str]:
        """Headers that authenticate as this user."""
        return {"Authorization": f"Bearer {self.token}"}


async def register(
    client: httpx.AsyncClient,
    username: str | None = None,
    *,
    password: str = DEFAULT_PASSWORD,
    **fields: Any,
) -> TestUser:
    """Register a user through POST /auth/register and return it signed in."""
    name = username or f"user{next(_counter)}"
    email = fields.pop("email", f"{name}@example.com")
    response = await client.post(
        "/auth/register",
        json={"username": name, "email": email, "password": password, **fields},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return TestUser(
        id=body["user"]["id"],
        username=body["user"]["username"],
        email=email,
        password=password,
        token=body["token"],
        csrf_token=body["csrf_token"],
    )


async def make_inactive(runtime: Any, username: str, column: str = "banned_at") -> None:
    """Ban (`banned_at`) or delete (`deleted_at`) an account straight in the database, as the
    moderation and deletion flows will."""
    import sqlalchemy as sa

    from glint.accounts.models import User
    from glint.infra.db import utcnow

    async with runtime.db.session() as session:
        await session.execute(
            sa.update(User).where(User.username == username).values({column: utcnow()})
        )
        await session.commit()
