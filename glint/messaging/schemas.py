"""API shapes of direct messages: Conversation, Message and the request bodies."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from glint.accounts.schemas import UserSummary
from glint.media.lifecycle import MediaStatus
from glint.posts.schemas import MediaOut, PostOut
from glint.schemas import Id, InputSchema, Schema, Timestamp

MAX_TEXT = 1000
MAX_TITLE = 100
MAX_PARTICIPANTS = 32
MAX_CLIENT_ID = 64
MAX_EMOJI = 32
Folder = Literal["all", "inbox", "requests"]
SendableKind = Literal["text", "heart", "post_share"]
Username = Annotated[str, StringConstraints(min_length=1, max_length=30)]


class ReactionOut(Schema):
    """One emoji on a message."""

    emoji: str
    count: int
    me: bool


class MessageOut(Schema):
    """A message as API.md describes it; `status` says whether a photo is still sending."""

    id: Id
    conversation_id: Id
    sender: UserSummary
    kind: str
    text: str | None
    media: MediaOut | None
    story_id: Id | None
    post_id: Id | None
    # The shared post, when the viewer may see it; None (with post_unavailable) otherwise.
    post: PostOut | None = None
    post_unavailable: bool = False
    client_id: str | None
    status: MediaStatus
    reactions: list[ReactionOut]
    created_at: Timestamp


class ReadState(Schema):
    """How far one member has read."""

    user_id: Id
    last_read_message_id: Id | None


class ConversationOut(Schema):
    """A conversation as one member sees it."""

    id: Id
    participants: list[UserSummary]
    is_group: bool
    title: str | None
    last_message: MessageOut | None
    unread_count: int
    muted: bool
    is_request: bool
    updated_at: Timestamp
    read_states: list[ReadState]


class ConversationCounts(Schema):
    """GET /conversations/counts: what the navigation badges show."""

    unread_conversations: int
    requests: int


def _check_title(value: str | None) -> str | None:
    if value is not None and not value:
        return None
    return value


class ConversationIn(InputSchema):
    """POST /conversations: one person for a 1:1, several (and a title) for a group."""

    usernames: list[Username] = Field(min_length=1, max_length=MAX_PARTICIPANTS - 1)
    title: Annotated[str | None, StringConstraints(max_length=MAX_TITLE)] = None

    _title = field_validator("title")(_check_title)


class ParticipantsIn(InputSchema):
    """POST /conversations/{id}/participants."""

    usernames: list[Username] = Field(min_length=1, max_length=MAX_PARTICIPANTS - 1)


class ConversationPatchIn(InputSchema):
    """PATCH /conversations/{id}."""

    muted: bool | None = None
    title: Annotated[str | None, StringConstraints(max_length=MAX_TITLE)] = None


class MessageIn(InputSchema):
    """POST /conversations/{id}/messages as JSON (photos come as multipart)."""

    kind: SendableKind = "text"
    text: Annotated[str | None, StringConstraints(max_length=MAX_TEXT)] = None
    post_id: Id | None = None
    client_id: Annotated[str | None, StringConstraints(min_length=1, max_length=MAX_CLIENT_ID)] = (
        None
    )


class ReadIn(InputSchema):
    """POST /conversations/{id}/read."""

    message_id: Id


def check_emoji(value: str) -> str:
    """A reaction: a short run of pictographic characters, no letters, digits or spaces."""
    if not 1 <= len(value) <= 8:
        raise ValueError("must be one emoji")
    for char in value:
        category = unicodedata.category(char)
        if char.isascii() or (category[0] in ("L", "N", "Z", "C") and char not in "\u200d\ufe0f"):
            raise ValueError("must be an emoji")
    return value


class ReactionIn(InputSchema):
    """POST /messages/{id}/reactions."""

    emoji: Annotated[str, StringConstraints(min_length=1, max_length=MAX_EMOJI)]

    _emoji = field_validator("emoji")(check_emoji)
