"""API shapes of stories: Story, the tray, viewers, highlights and the request bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from glint.accounts.schemas import UserSummary
from glint.media.lifecycle import MediaStatus
from glint.messaging.schemas import MAX_TEXT
from glint.posts.schemas import MediaOut
from glint.schemas import Id, InputSchema, Schema, Timestamp

MAX_CAPTION = 500
MAX_ALT_TEXT = 1000
MAX_TITLE = 50
MAX_HIGHLIGHT_STORIES = 100
AudienceName = Literal["followers", "close_friends"]


class StoryViewerState(Schema):
    """The viewer's own relation to a story."""

    seen: bool


class StoryOut(Schema):
    """A story as API.md describes it (media is None until its photo is processed)."""

    id: Id
    author: UserSummary
    media: MediaOut | None
    caption: str | None
    audience: AudienceName
    status: MediaStatus
    failure_reason: str | None = None
    created_at: Timestamp
    # Set when it is published: it is live until then.
    expires_at: Timestamp | None
    viewer: StoryViewerState | None = None
    # Only for the owner.
    view_count: int | None = None


class StoriesOut(Schema):
    """An account's live stories, oldest first (the order they play in)."""

    items: list[StoryOut]


class TrayItemOut(Schema):
    """One account in the tray, with its live stories oldest first (the order they play in)."""

    user: UserSummary
    stories: list[StoryOut]
    has_unseen: bool
    # True when one of these stories is for close friends (the tray draws a green ring).
    has_close_friends: bool
    latest_at: Timestamp


class TrayOut(Schema):
    """One page of the story tray."""

    items: list[TrayItemOut]
    next_cursor: str | None


class StoryViewerOut(Schema):
    """Someone who viewed a story, and when."""

    user: UserSummary
    viewed_at: Timestamp


class StoryReplyIn(InputSchema):
    """A reply to a story: text, delivered into the 1:1 conversation with its author."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]


class HighlightIn(InputSchema):
    """A new highlight."""

    title: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE)]
    story_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_HIGHLIGHT_STORIES)]
    cover_story_id: Id | None = None


class HighlightPatch(InputSchema):
    """Changes to a highlight: any of title, cover and the list of stories."""

    title: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE)] | None = None
    story_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_HIGHLIGHT_STORIES)] | None = (
        None
    )
    cover_story_id: Id | None = None


class HighlightOut(Schema):
    """A highlight with the stories the viewer may see, in its order."""

    id: Id
    title: str
    cover: MediaOut | None
    cover_story_id: Id | None
    stories: list[StoryOut]
    created_at: Timestamp
    updated_at: Timestamp


class HighlightsOut(Schema):
    """A profile's highlights, newest first."""

    items: list[HighlightOut]
