"""Changing a username: the old name stays its owner's for 14 days, its profile URL redirects
meanwhile, then it is free again."""

from __future__ import annotations

import datetime as dt

import httpx
import sqlalchemy as sa

from glint.accounts.models import UsernameReservation
from glint.infra.queue import registry
from glint.infra.runtime import Runtime
from tests.factories.accounts import TestUser, register

PATH = "/users/me/username"


async def _rename(client: httpx.AsyncClient, user: TestUser, name: str) -> httpx.Response:
    return await client.put(
        PATH, headers=user.auth, json={"username": name, "password": user.password}
    )


async def test_a_rename_keeps_the_old_name_and_redirects_it(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    renamed = await _rename(client, alice, "Alicia")
    assert renamed.status_code == 200
    assert renamed.json()["username"] == "alicia"
    assert (await client.get("/users/alicia")).json()["id"] == alice.id
    old = await client.get("/users/alice")
    assert old.status_code == 308
    assert old.headers["location"] == "/api/v1/users/alicia"
    followed = await client.get("/users/ALICE", follow_redirects=True)
    assert followed.json()["username"] == "alicia"
    # Nobody else may take it, by signing up or by renaming.
    taken = await client.post(
        "/auth/register",
        json={"username": "alice", "email": "x@example.com", "password": "long enough pw"},
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "username_taken"
    bob = await register(client, "bob")
    clash = await _rename(client, bob, "alice")
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "username_taken"
    # Its owner may take it back; then the new name is the one held.
    back = await _rename(client, alice, "alice")
    assert back.status_code == 200
    assert (await client.get("/users/alice")).json()["username"] == "alice"
    assert (await client.get("/users/alicia")).status_code == 308


async def test_a_rename_needs_the_password_and_a_free_valid_name(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    wrong = await client.put(
        PATH, headers=alice.auth, json={"username": "alicia", "password": "not it at all"}
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "wrong_password"
    assert (await _rename(client, alice, "BOB")).status_code == 409
    for bad in ("a", "admin", "no spaces", "x" * 31, "..dots"):
        response = await _rename(client, alice, bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"
    unchanged = await client.get("/auth/me", headers=alice.auth)
    assert unchanged.json()["username"] == "alice"
    assert (await client.get("/users/alicia")).status_code == 404
    same = await _rename(client, alice, "alice")
    assert same.status_code == 200


async def test_after_14_days_the_old_name_is_free(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    await _rename(client, alice, "alicia")
    clean_runtime.clock.advance(dt.timedelta(days=14, minutes=1))  # type: ignore[attr-defined]
    assert (await client.get("/users/alice")).status_code == 404
    # The periodic job forgets the lapsed reservation...
    await registry.periodic_tasks["accounts.drop_expired_reservations"].handler(clean_runtime)
    async with clean_runtime.db.session() as session:
        left = await session.scalar(sa.select(sa.func.count()).select_from(UsernameReservation))
    assert left == 0
    # ...and anyone may have the name.
    bob = await register(client, "alice", email="bob@example.com")
    assert (await client.get("/users/alice")).json()["id"] == bob.id


async def test_a_lapsed_reservation_not_yet_swept_does_not_block(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    await _rename(client, alice, "alicia")
    async with clean_runtime.db.session() as session:
        await session.execute(
            sa.update(UsernameReservation).values(
                until=clean_runtime.clock.now() - dt.timedelta(seconds=1)
            )
        )
        await session.commit()
    bob = await register(client, "bob")
    assert (await _rename(client, bob, "alice")).status_code == 200
    assert (await client.get("/users/alice")).json()["id"] == bob.id
