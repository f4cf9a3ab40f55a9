"""The life cycle of anything made of uploaded photos (posts now; stories and messages later).

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
