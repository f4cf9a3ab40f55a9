"""API shapes of account data ownership: the state of a member's data export."""

from __future__ import annotations

from typing import Literal

from glint.schemas import Schema, Timestamp

ExportState = Literal["none", "running", "ready", "failed"]


class ExportOut(Schema):
    """The member's latest data export: its state, progress and, when ready, its download."""

    status: ExportState
    progress: float
    download_url: str | None
    expires_at: Timestamp | None
    error: str | None = None
    size_bytes: int | None = None
