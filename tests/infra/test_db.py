"""The database adapter on both backends: WAL on SQLite, UTC timestamps, unique violations."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from glint.accounts.models import User
from glint.infra.db import is_unique_violation, utcnow
from glint.infra.runtime import Runtime


def _user(runtime: Runtime, name: str, when: dt.datetime) -> User:
    return User(
        id=runtime.ids.next_id(),
        username=name,
        email=f"{name}@example.com",
        password_hash="x",
        display_name="",
        bio="",
        website="",
        is_private=False,
        role="user",
        follower_count=0,
        following_count=0,
        post_count=0,
        created_at=when,
        last_active_at=when,
    )


async def test_backend_is_configured_as_we_rely_on(clean_runtime: Runtime) -> None:
    if not clean_runtime.db.is_sqlite:
        async with clean_runtime.db.engine.connect() as conn:
            assert (await conn.execute(sa.text("SHOW server_encoding"))).scalar() == "UTF8"
        return
    async with clean_runtime.db.engine.connect() as conn:
        assert (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar() == 1


async def test_timestamps_come_back_aware_utc(clean_runtime: Runtime) -> None:
    local = dt.datetime(2026, 5, 1, 14, 30, 15, 123000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    async with clean_runtime.db.session() as session:
        user = _user(clean_runtime, "tz_user", local)
        session.add(user)
        await session.commit()
    async with clean_runtime.db.session() as session:
        stored = await session.scalar(sa.select(User.created_at).where(User.username == "tz_user"))
    assert stored is not None
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored == local


async def test_naive_datetimes_are_refused(clean_runtime: Runtime) -> None:
    async with clean_runtime.db.session() as session:
        session.add(_user(clean_runtime, "naive", dt.datetime(2026, 1, 1)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            await session.flush()


async def test_unique_violations_are_recognised(clean_runtime: Runtime) -> None:
    now = utcnow()
    async with clean_runtime.db.session() as session:
        session.add(_user(clean_runtime, "twin", now))
        await session.commit()
    async with clean_runtime.db.session() as session:
        session.add(_user(clean_runtime, "twin", now))
        with pytest.raises(IntegrityError) as info:
            await session.flush()
    assert is_unique_violation(info.value)


async def test_sqlite_writers_line_up_in_the_order_they_asked(clean_runtime: Runtime) -> None:
    """A second writing transaction waits for the first to end (commit or rollback), and the
    waiters go in turn; readers never wait."""
    if not clean_runtime.db.is_sqlite:
        pytest.skip("PostgreSQL has row locks, not one writer")
    order: list[str] = []
    first_wrote = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with clean_runtime.db.session() as session:
            session.add(_user(clean_runtime, "gate_first", utcnow()))
            await session.flush()
            first_wrote.set()
            await release_first.wait()
            order.append("first")
            await session.rollback()  # a rollback lets the next one in, too

    async def later(name: str) -> None:
        async with clean_runtime.db.session() as session:
            session.add(_user(clean_runtime, name, utcnow()))
            await session.flush()
            order.append(name)
            await session.commit()

    holder = asyncio.create_task(first())
    await first_wrote.wait()
    second = asyncio.create_task(later("gate_second"))
    await asyncio.sleep(0.05)
    third = asyncio.create_task(later("gate_third"))
    await asyncio.sleep(0.05)
    async with clean_runtime.db.session() as reader:  # reads pass the queue
        assert await reader.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert not second.done() and not third.done()
    release_first.set()
    await asyncio.gather(holder, second, third)
    assert order == ["first", "gate_second", "gate_third"]
    async with clean_runtime.db.session() as session:
        names = set(await session.scalars(sa.select(User.username)))
    assert names == {"gate_second", "gate_third"}


async def test_read_sessions_run_outside_a_transaction_on_postgresql(
    clean_runtime: Runtime,
) -> None:
    """GET requests read without BEGIN/ROLLBACK: each statement is its own transaction, so two
    statements see two transaction start times (inside one transaction, now() stands still)."""
    if clean_runtime.db.is_sqlite:
        pytest.skip("SQLite reads outside a transaction anyway (no round trips to save)")
    query = sa.text("SELECT now()")
    async with clean_runtime.db.read_session() as session:
        first = await session.scalar(query)
        await asyncio.sleep(0.01)
        second = await session.scalar(query)
    assert first is not None and second is not None and second > first
    async with clean_runtime.db.session() as session:
        first = await session.scalar(query)
        await asyncio.sleep(0.01)
        assert await session.scalar(query) == first
