"""What happens to the social graph, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class FollowCreated(Event):
    """A follow edge now exists; `approved` when it came from an approved request."""

    name = "follow.created"
    follower_id: int
    followee_id: int
    approved: bool


@dataclass(frozen=True, slots=True)
class FollowRequested(Event):
    """Someone asked to follow a private account."""

    name = "follow.requested"
    requester_id: int
    target_id: int


@dataclass(frozen=True, slots=True)
class FollowRemoved(Event):
    """A follow (or a pending request) ended; `by_follower` when they undid it themselves."""

    name = "follow.removed"
    follower_id: int
    followee_id: int
    by_follower: bool


@dataclass(frozen=True, slots=True)
class BlockCreated(Event):
    """Someone blocked someone: follows both ways are already gone."""

    name = "block.created"
    blocker_id: int
    blocked_id: int


@dataclass(frozen=True, slots=True)
class MuteChange(Event):
    """Who muted or unmuted whom."""

    muter_id: int
    muted_id: int


@dataclass(frozen=True, slots=True)
class MuteCreated(MuteChange):
    """Someone muted an account."""

    name = "mute.created"


@dataclass(frozen=True, slots=True)
class MuteRemoved(MuteChange):
    """Someone unmuted an account."""

    name = "mute.removed"
