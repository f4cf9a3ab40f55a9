"""Tables of account data ownership: data exports and their state machine."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.errors import Conflict
from glint.infra.db import Base, UTCDateTime


class ExportStatus(enum.StrEnum):
    """Where a data export stands."""

    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


EXPORT_TRANSITIONS: dict[ExportStatus, frozenset[ExportStatus]] = {
    ExportStatus.RUNNING: frozenset({ExportStatus.READY, ExportStatus.FAILED}),
    ExportStatus.READY: frozenset({ExportStatus.EXPIRED}),
    ExportStatus.FAILED: frozenset(),
    ExportStatus.EXPIRED: frozenset(),
}


class DataExport(Base):
    """One ZIP of a member's data: built by a job, downloadable until it expires."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16), default=ExportStatus.RUNNING.value)
    progress: Mapped[float] = mapped_column(sa.Float, default=0.0)
    storage_key: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    error: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        sa.CheckConstraint("status IN ('running', 'ready', 'failed', 'expired')", name="status"),
        # One running export per member: a double click races on this and one loses.
        sa.Index(
            "uq_data_exports_running",
            "user_id",
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        ),
    )


def move_export(export: DataExport, to: ExportStatus) -> None:
    """Move an export to its next state; Conflict when that move is not allowed."""
    current = ExportStatus(export.status)
    if to not in EXPORT_TRANSITIONS[current]:
        raise Conflict(f"An export that is {current} cannot become {to}.", code="export_state")
    export.status = to.value
