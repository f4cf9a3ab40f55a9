"""Close friends: the list of people who see someone's close-friends stories."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.errors import NotFound, ValidationFailed
from glint.infra.db import insert_ignore, utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.social import service as social_service
from glint.stories import events
from glint.stories.models import CloseFriend


async def list_close_friends(
    session: AsyncSession, *, owner: User, before_id: int | None, limit: int
) -> list[tuple[CloseFriend, User]]:
    """The owner's close friends, most recently added first (limit+1 rows)."""
    query = (
        sa.select(CloseFriend, User)
        .join(User, User.id == CloseFriend.friend_id)
        .where(CloseFriend.owner_id == owner.id, active_accounts())
    )
    if before_id is not None:
        query = query.where(CloseFriend.id < before_id)
    rows = await session.execute(query.order_by(CloseFriend.id.desc()).limit(limit + 1))
    return [(entry, user) for entry, user in rows]


async def add(session: AsyncSession, *, ids: IdGenerator, owner: User, friend: User) -> None:
    """Put someone on the owner's list (again is no change); not yourself, not a blocked pair."""
    if friend.id == owner.id:
        raise ValidationFailed("You are always in your own audience.", fields={"username": "you"})
    if not friend.is_active_account or await social_service.is_blocked_either_way(
        session, a=owner.id, b=friend.id
    ):
        raise NotFound("No such user.")
    added = await insert_ignore(
        session,
        CloseFriend,
        {"owner_id": owner.id, "friend_id": friend.id, "id": ids.next_id(), "created_at": utcnow()},
    )
    if added:
        await bus.emit(session, ids=ids, event=events.CloseFriendAdded(owner.id, friend.id))
    await session.flush()


async def remove(session: AsyncSession, *, owner: User, friend: User) -> None:
    """Take someone off the list (idempotent): they stop seeing close-friends stories at once."""
    await session.execute(
        sa.delete(CloseFriend).where(
            CloseFriend.owner_id == owner.id, CloseFriend.friend_id == friend.id
        )
    )
    await session.flush()
