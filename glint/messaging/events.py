"""What happens in conversations, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class MessagePhotoReceived(Event):
    """A photo message was accepted with its original stored; the photo awaits processing."""

    name = "message.photo_received"
    conversation_id: int
    message_id: int
    sender_id: int


@dataclass(frozen=True, slots=True)
class MessageSent(Event):
    """A message is visible to everyone in its conversation (text at once, photos processed)."""

    name = "message.sent"
    conversation_id: int
    message_id: int
    sender_id: int


@dataclass(frozen=True, slots=True)
class MessageFailed(Event):
    """A photo message could not be processed; its sender sees it failed."""

    name = "message.failed"
    conversation_id: int
    message_id: int
    sender_id: int


@dataclass(frozen=True, slots=True)
class MessageUnsent(Event):
    """A sender removed a message for everyone; its photo (if any) leaves storage."""

    name = "message.unsent"
    conversation_id: int
    message_id: int
    sender_id: int
    object_keys: list[str]
    object_prefixes: list[str]


@dataclass(frozen=True, slots=True)
class MessageReacted(Event):
    """Someone set, replaced or removed their reaction to a message."""

    name = "message.reacted"
    conversation_id: int
    message_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class ConversationRead(Event):
    """A member's read marker moved forward."""

    name = "conversation.read"
    conversation_id: int
    user_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class MembersChanged(Event):
    """People joined or left a group, or its title changed."""

    name = "conversation.members_changed"
    conversation_id: int
    actor_id: int
