"""Changing a username: the old name stays the owner's for a while (nobody else may take it,
and its profile URL leads to the new name), then it is free again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import emails, events
from glint.accounts.models import User, UsernameReservation, active_accounts
from glint.errors import Conflict
from glint.infra.db import is_unique_violation
from glint.infra.events import bus
from glint.infra.ids import IdGenerator

RESERVATION_DAYS = 14


def _taken() -> Conflict:
    return Conflict("That username is taken.", code="username_taken")


async def change_username(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    user: User,
    username: str,
    password: str,
    now: dt.datetime,
) -> User:
    """Rename the account (a normalized name), keeping the old name reserved for it for
    RESERVATION_DAYS. 403 `wrong_password`; 409 `username_taken`, also for a name someone
    else gave up lately (its owner may take it back)."""
    await emails.require_password(user, password)
    if username == user.username:
        return user
    if await session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise _taken()
    wanted = await session.get(UsernameReservation, username)
    if wanted is not None:
        if wanted.until > now and wanted.user_id != user.id:
            raise _taken()
        await session.delete(wanted)  # taken back, or expired
    old = user.username
    kept = await session.get(UsernameReservation, old)  # an expired one, not yet swept
    if kept is None:
        session.add(UsernameReservation(username=old, user_id=user.id, until=_until(now)))
    else:
        kept.user_id, kept.until = user.id, _until(now)
    user.username = username
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()  # someone signed up with the name since the check
        if not is_unique_violation(exc):
            raise
        await session.refresh(user)  # expired by the rollback; the error page reads it
        raise _taken() from exc
    await bus.emit(session, ids=ids, event=events.ProfileChanged(user.id))
    return user


def _until(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=RESERVATION_DAYS)


async def renamed_to(session: AsyncSession, *, username: str, now: dt.datetime) -> str | None:
    """The current name of the active account that gave up `username` lately, if any."""
    current = await session.scalar(
        sa.select(User.username)
        .join(UsernameReservation, UsernameReservation.user_id == User.id)
        .where(
            UsernameReservation.username == username.strip().lower(),
            UsernameReservation.until > now,
            active_accounts(),
        )
    )
    return current


async def drop_expired(session: AsyncSession, *, now: dt.datetime) -> int:
    """Forget reservations that have run out (lookups already ignore them); how many."""
    result = await session.execute(
        sa.delete(UsernameReservation).where(UsernameReservation.until <= now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
