"""Asking for an account's deletion, and the periodic claim of those whose grace period is over.

The account stops working at once (every session revoked, its sockets closed) and everyone
else stops seeing it at once (every read goes through `active_accounts()`, which a set
`deleted_at` fails; search forgets it by `ProfileChanged`). What it made stays until the purge
(`glint.ownership.purge`), so signing in during the grace period brings it back as it was
(`accounts.service.create_session`). The states are `accounts.deletion.DeletionStatus`.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import events as accounts_events
from glint.accounts import passwords, twofactor
from glint.accounts import sessions as accounts_sessions
from glint.accounts.deletion import DeletionStatus, move_deletion
from glint.accounts.models import User, active_accounts
from glint.config import Settings
from glint.errors import Conflict, Forbidden
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.ratelimit import RateLimiter
from glint.ownership.deletion_events import DeletionDue

# How many due accounts one run of the periodic claim takes (the next run takes more).
CLAIM_BATCH = 100


async def request_deletion(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    settings: Settings,
    limiter: RateLimiter,
    user: User,
    password: str,
    code: str | None,
    now: dt.datetime,
) -> dt.datetime:
    """Delete the account after its grace period (password, and the second factor when it is
    on; 403 without saying which was wrong; 409 for the last admin); when everything it made
    will be gone."""
    if not await passwords.verify_password(password, user.password_hash):
        raise Forbidden(twofactor.WRONG_CREDENTIALS, code=twofactor.WRONG_CREDENTIALS_CODE)
    await twofactor.check_second_factor(
        session, user=user, code=code, limiter=limiter, settings=settings, now=now.timestamp()
    )
    if user.role == "admin":
        # Another admin who can still act: not banned, not awaiting deletion themselves.
        others = await session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(
                User.role == "admin",
                User.id != user.id,
                active_accounts(),
            )
        )
        if not others:  # nobody could give the role to anyone any more
            raise Conflict("Make someone else an admin first.", code="last_admin")
    purge_after = now + dt.timedelta(days=settings.account_deletion_grace_days)
    moved = await move_deletion(
        session, user_id=user.id, to=DeletionStatus.PENDING, now=now, purge_after=purge_after
    )
    if not moved:
        raise Conflict("This account is already being deleted.", code="deletion_pending")
    await accounts_sessions.revoke_all_sessions(session, ids=ids, user_id=user.id)
    await bus.emit(session, ids=ids, event=accounts_events.ProfileChanged(user.id))
    if purge_after <= now:
        await bus.emit(session, ids=ids, event=DeletionDue(user.id))
    await session.flush()
    return purge_after


async def claim_due(session: AsyncSession, *, ids: IdGenerator, now: dt.datetime) -> list[int]:
    """Move accounts whose grace period is over to purging, each with the event that purges
    it (in the same transaction, so a claim is never without its job); their IDs."""
    candidates = list(
        await session.scalars(
            sa.select(User.id)
            .where(User.deletion_status == DeletionStatus.PENDING, User.purge_after <= now)
            .order_by(User.purge_after)
            .limit(CLAIM_BATCH)
        )
    )
    claimed = []
    for user_id in candidates:
        # A sign-in may have cancelled it since the SELECT: then this move finds nothing.
        if await move_deletion(session, user_id=user_id, to=DeletionStatus.PURGING, now=now):
            await bus.emit(session, ids=ids, event=DeletionDue(user_id))
            claimed.append(user_id)
    await session.flush()
    return claimed
