"""Periodic tasks once per interval per deployment: each task has a lease row that one process
at a time takes when the task is due, whatever the number of `glint serve` or `glint scheduler`
processes sharing the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, Database, UTCDateTime, insert_ignore, utcnow
from glint.infra.leases import new_holder


class PeriodicLease(Base):
    """Who runs a periodic task right now, and when it last started, across every process."""

    __tablename__ = "periodic_leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


@dataclass(frozen=True, slots=True)
class PeriodicTurn:
    """The answer to "may I run this periodic task now?": a holder if yes; when to ask again."""

    holder: str | None
    next_due: dt.datetime


async def acquire_periodic(
    db: Database, *, name: str, every_seconds: float, lease_seconds: float
) -> PeriodicTurn:
    """Take the task's lease if it is due and nobody runs it; one winner among all processes."""
    holder = new_holder()
    for _ in range(2):
        now = utcnow()
        async with db.session() as session:
            result = await session.execute(
                sa.update(PeriodicLease)
                .where(
                    PeriodicLease.name == name,
                    sa.or_(PeriodicLease.locked_until.is_(None), PeriodicLease.locked_until < now),
                    sa.or_(
                        PeriodicLease.last_run_at.is_(None),
                        PeriodicLease.last_run_at <= now - dt.timedelta(seconds=every_seconds),
                    ),
                )
                .values(
                    holder=holder,
                    locked_until=now + dt.timedelta(seconds=lease_seconds),
                    last_run_at=now,
                )
            )
            if getattr(result, "rowcount", 0):
                await session.commit()
                return PeriodicTurn(holder, now + dt.timedelta(seconds=every_seconds))
            row = await session.get(PeriodicLease, name)
            if row is None:  # the task's first run anywhere: make its row, then race for it
                await insert_ignore(session, PeriodicLease, {"name": name})
                await session.commit()
                continue
            next_due = _next_due(row, every_seconds, now)
            await session.rollback()
        return PeriodicTurn(None, next_due)
    return PeriodicTurn(None, utcnow())


def _next_due(row: PeriodicLease, every_seconds: float, now: dt.datetime) -> dt.datetime:
    due = now
    if row.last_run_at is not None:
        due = max(due, row.last_run_at + dt.timedelta(seconds=every_seconds))
    if row.locked_until is not None:
        due = max(due, row.locked_until)
    return due


async def renew_periodic(db: Database, *, name: str, holder: str, lease_seconds: float) -> bool:
    """Extend a periodic task's lease; False when it is no longer this holder's."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(PeriodicLease)
            .where(PeriodicLease.name == name, PeriodicLease.holder == holder)
            .values(locked_until=utcnow() + dt.timedelta(seconds=lease_seconds))
        )
        await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def release_periodic(db: Database, *, name: str, holder: str) -> None:
    """Give a periodic task's lease back once its run ends (its interval still counts)."""
    async with db.session() as session:
        await session.execute(
            sa.update(PeriodicLease)
            .where(PeriodicLease.name == name, PeriodicLease.holder == holder)
            .values(holder=None, locked_until=None)
        )
        await session.commit()
