"""Where an account's deletion stands, and the one function that moves it.

Kept with the users table it lives on, so that signing in (accounts) can cancel a pending
deletion without reaching up into the ownership layer that asks for and purges it:

    (none) ──ask, password (+ code)──▶ pending ──purge_after passed, claimed──▶ purging ──▶ row gone
       ▲                                  │
       └──────── sign in again ───────────┘

Every move is one `UPDATE … WHERE deletion_status = <source>`, so a sign-in and the purge's
claim cannot both win: whichever UPDATE lands first decides, the other finds no row.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User


class DeletionStatus(enum.StrEnum):
    """How far an account's deletion has gone (None in the column: not asked for)."""

    PENDING = "pending"
    PURGING = "purging"


# From where (None: an account nobody asked to delete) each state may be reached.
DELETION_SOURCES: dict[DeletionStatus | None, frozenset[DeletionStatus | None]] = {
    DeletionStatus.PENDING: frozenset({None}),
    DeletionStatus.PURGING: frozenset({DeletionStatus.PENDING}),
    None: frozenset({DeletionStatus.PENDING}),  # cancelled by signing in again
}


def _values(
    to: DeletionStatus | None, now: dt.datetime, purge_after: dt.datetime | None
) -> dict[str, object]:
    if to is None:
        return {"deletion_status": None, "deleted_at": None, "purge_after": None}
    if to is DeletionStatus.PENDING:
        if purge_after is None:
            raise ValueError("A pending deletion needs its purge time.")
        return {"deletion_status": to.value, "deleted_at": now, "purge_after": purge_after}
    return {"deletion_status": to.value}


async def move_deletion(
    session: AsyncSession,
    *,
    user_id: int,
    to: DeletionStatus | None,
    now: dt.datetime,
    purge_after: dt.datetime | None = None,
) -> bool:
    """Move an account's deletion to `to` (None: cancelled) from the state the table allows;
    True when this call moved it, False when it was elsewhere (someone else won)."""
    sources = DELETION_SOURCES[to]
    current = User.deletion_status
    known = [source.value for source in sources if source is not None]
    condition: sa.ColumnElement[bool] = current.in_(known) if known else sa.false()
    if None in sources:
        condition = sa.or_(condition, current.is_(None))
    where = sa.and_(User.id == user_id, condition)
    if to is DeletionStatus.PURGING:
        # Only once its grace period is over: the claim and the deadline are one statement.
        where = sa.and_(where, User.purge_after <= now)
    result = await session.execute(
        sa.update(User)
        .where(where)
        .values(_values(to, now, purge_after))
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))
