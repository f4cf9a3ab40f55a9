"""What happens to stories, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class StoryCreated(Event):
    """A story was accepted with its original stored; its photo awaits processing."""

    name = "story.created"
    story_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class StoryPublished(Event):
    """A story's photo is processed: it is live for 24 hours from now."""

    name = "story.published"
    story_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class StoryFailed(Event):
    """A story could not be processed; its author sees it failed, with the reason."""

    name = "story.failed"
    story_id: int
    author_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class StoryDeleted(Event):
    """A story is gone (deleted, or its 24 hours and highlights are over): its objects go."""

    name = "story.deleted"
    story_id: int
    author_id: int
    object_keys: list[str]
    object_prefixes: list[str]


@dataclass(frozen=True, slots=True)
class StoryReplied(Event):
    """Someone answered a story; the reply is a message in their 1:1 with its author."""

    name = "story.replied"
    story_id: int
    author_id: int
    replier_id: int
    message_id: int
    # The reply opened (or landed in) a message request: no notification, as for messages.
    to_request: bool


@dataclass(frozen=True, slots=True)
class CloseFriendAdded(Event):
    """owner put friend on their close-friends list."""

    name = "close_friend.added"
    owner_id: int
    friend_id: int
