"""The life cycle of anything made of uploaded photos: posts, stories, photo messages.

    processing ──▶ published
        │   ▲
        ▼   │ (an admin retries its dead job)
       failed

Accepted content starts `processing`; the pipeline publishes it or, after its last try, marks it
`failed` with a reason. Published is final (deletion removes the row). Every move goes through
`check`, so an illegal one is refused wherever it is attempted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.errors import Conflict


class MediaStatus(StrEnum):
    """Where a piece of photo content is in its life."""

    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"


TRANSITIONS: dict[MediaStatus, frozenset[MediaStatus]] = {
    MediaStatus.PROCESSING: frozenset({MediaStatus.PUBLISHED, MediaStatus.FAILED}),
    MediaStatus.FAILED: frozenset({MediaStatus.PROCESSING}),
    MediaStatus.PUBLISHED: frozenset(),
}


class IllegalTransition(Conflict):
    """A move the life cycle does not allow (a bug in the caller, refused rather than done)."""

    code = "illegal_transition"

    def __init__(self, current: MediaStatus, target: MediaStatus) -> None:
        super().__init__(f"Cannot move from {current.value} to {target.value}.")
        self.current = current
        self.target = target


def sources(target: MediaStatus) -> frozenset[MediaStatus]:
    """The states from which `target` may be reached."""
    return frozenset(state for state, allowed in TRANSITIONS.items() if target in allowed)


def check(current: MediaStatus, target: MediaStatus) -> None:
    """Refuse (IllegalTransition) a move the life cycle does not allow."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)


async def move(
    session: AsyncSession, model: Any, *, row_id: int, to: MediaStatus, **values: Any
) -> bool:
    """Move one row of `model` (with `id` and `status` columns) to `to`, setting `values` too.

    True when it moved; False when it is gone or already there (a job running twice); an
    IllegalTransition when its state does not lead to `to`. The state check is part of the
    UPDATE, so two movers racing cannot both win.
    """
    moved = await session.execute(
        sa.update(model)
        .where(model.id == row_id, model.status.in_(sources(to)))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0):
        return True
    current = await session.scalar(sa.select(model.status).where(model.id == row_id))
    if current is None or current == to:
        return False
    check(MediaStatus(current), to)
    return False  # unreachable: check() refuses every move sources() left out
