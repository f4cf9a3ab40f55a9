"""API shapes of administration."""

from __future__ import annotations

from typing import Any

from glint.schemas import Id, Schema, Timestamp


class JobOut(Schema):
    """A background job as an admin sees it."""

    id: Id
    name: str
    status: str
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    last_error: str | None
    run_after: Timestamp
    created_at: Timestamp
    finished_at: Timestamp | None


class JobCountsOut(Schema):
    """Jobs by state."""

    queued: int
    running: int
    done: int
    dead: int
