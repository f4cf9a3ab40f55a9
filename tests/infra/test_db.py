"""The database adapter on both backends: WAL on SQLite, UTC timestamps, unique violations."""

from __future__ import annotations

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
