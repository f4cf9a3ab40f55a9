"""The audit log: every staff action, appended, listed newest first, exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.infra.db import utcnow
from glint.infra.ids import IdGenerator
from glint.moderation.models import AuditEntry

SYSTEM = "system"  # the actor name of what no person did (a ban that ran out)
CSV_COLUMNS = (
    "id",
    "created_at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target",
    "reason",
)
CSV_BATCH = 500


async def record(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: int,
    target_label: str = "",
    reason: str = "",
) -> AuditEntry:
    """Append one entry (actor None: the system)."""
    entry = AuditEntry(
        id=ids.next_id(),
        actor_id=actor.id if actor is not None else None,
        actor_username=actor.username if actor is not None else SYSTEM,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:100],
        reason=reason[:500],
        created_at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(session: AsyncSession, *, before_id: int | None, limit: int) -> list[AuditEntry]:
    """Newest first, limit+1 (for the page cursor)."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(await session.scalars(query))


def _csv_line(values: tuple[object, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # A cell starting with = + - @ would run as a formula in a spreadsheet; quote it as text.
    writer.writerow(
        "'" + str(v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values
    )
    return buffer.getvalue()


async def csv_lines(session: AsyncSession) -> AsyncIterator[str]:
    """The whole log as CSV lines, oldest first, read in batches (never all in memory)."""
    yield _csv_line(CSV_COLUMNS)
    after = -1
    while True:
        rows = list(
            await session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.id > after)
                .order_by(AuditEntry.id)
                .limit(CSV_BATCH)
            )
        )
        for row in rows:
            yield _csv_line(
                (
                    str(row.id),
                    row.created_at.isoformat(),
                    row.actor_username,
                    row.action,
                    row.target_type,
                    str(row.target_id),
                    row.target_label,
                    row.reason,
                )
            )
        if len(rows) < CSV_BATCH:
            return
        after = rows[-1].id
