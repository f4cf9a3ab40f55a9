"""Staff actions on accounts: ban and unban (with reason and an optional end), roles, and the
admin's user list. A ban ends every session at once (their sockets close with them) and hides
the account everywhere, since everyone else reads only `active_accounts()`."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import events as accounts_events
from glint.accounts import service as accounts_service
from glint.accounts import sessions as accounts_sessions
from glint.accounts.models import ROLES, User
from glint.errors import Conflict, NotFound, ValidationFailed
from glint.infra.db import utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.moderation import audit


async def find(session: AsyncSession, *, username: str) -> User:
    """Any account that is not deleted (banned ones too), by username; NotFound otherwise."""
    user = await session.scalar(
        sa.select(User).where(User.username == username.strip().lower().lstrip("@"))
    )
    if user is None or user.deleted_at is not None:
        raise NotFound("No such user.")
    return user


async def ban(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    actor: User,
    user: User,
    reason: str,
    until: dt.datetime | None,
) -> User:
    """Ban an account now (again: new reason and end); its sessions end at once."""
    if user.id == actor.id:
        raise ValidationFailed("You cannot ban yourself.")
    if user.role == "admin":
        raise ValidationFailed("Take the admin role away before banning an admin.")
    if until is not None and until <= utcnow():
        raise ValidationFailed("The ban must end in the future.", fields={"until": "future"})
    user.banned_at = utcnow()
    user.ban_reason, user.banned_until = reason[:500] or None, until
    await accounts_sessions.revoke_all_sessions(session, ids=ids, user_id=user.id)
    await bus.emit(session, ids=ids, event=accounts_events.ProfileChanged(user.id))
    label = user.username + (f" until {until.isoformat()}" if until else "")
    await audit.record(
        session,
        ids=ids,
        actor=actor,
        action="user.banned",
        target_type="user",
        target_id=user.id,
        target_label=label,
        reason=reason,
    )
    return user


async def unban(
    session: AsyncSession, *, ids: IdGenerator, actor: User | None, user: User, reason: str = ""
) -> User:
    """Lift a ban (actor None: it ran out); the account shows again everywhere."""
    if user.banned_at is None:
        return user
    user.banned_at = user.ban_reason = user.banned_until = None
    await bus.emit(session, ids=ids, event=accounts_events.ProfileChanged(user.id))
    await audit.record(
        session,
        ids=ids,
        actor=actor,
        action="user.unbanned",
        target_type="user",
        target_id=user.id,
        target_label=user.username,
        reason=reason,
    )
    return user


async def lift_expired_bans(session: AsyncSession, *, ids: IdGenerator) -> int:
    """Unban every account whose ban has run out; how many."""
    expired = list(
        await session.scalars(
            sa.select(User).where(User.banned_at.is_not(None), User.banned_until <= utcnow())
        )
    )
    for user in expired:
        await unban(session, ids=ids, actor=None, user=user, reason="The ban ran out.")
    return len(expired)


async def set_role(
    session: AsyncSession, *, ids: IdGenerator, actor: User, user: User, role: str
) -> User:
    """Give an account a role; the last admin cannot give theirs away."""
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", fields={"role": f"one of {ROLES}"})
    if user.role == "admin" and role != "admin":
        admins = await session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.role == "admin")
        )
        if (admins or 0) <= 1:
            raise Conflict("The last admin cannot give up the role.", code="last_admin")
    before = user.role
    await accounts_service.set_role(session, user=user, role=role)
    await audit.record(
        session,
        ids=ids,
        actor=actor,
        action="user.role",
        target_type="user",
        target_id=user.id,
        target_label=f"{user.username}: {before} → {role}",
    )
    return user


async def search(
    session: AsyncSession, *, query: str, before_id: int | None, limit: int
) -> list[User]:
    """Accounts (banned ones included, deleted ones not) by username or e-mail prefix, or all;
    newest first, limit+1."""
    statement = sa.select(User).where(User.deleted_at.is_(None))
    text = query.strip().lower().lstrip("@")
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(
            sa.or_(
                User.username.like(escaped + "%", escape="\\"),
                User.email.like(escaped + "%", escape="\\"),
            )
        )
    if before_id is not None:
        statement = statement.where(User.id < before_id)
    return list(await session.scalars(statement.order_by(User.id.desc()).limit(limit + 1)))
