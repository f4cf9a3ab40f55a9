"""API shapes of posts: Post, Media and the edit body."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from glint.accounts.schemas import UserSummary
from glint.media.lifecycle import MediaStatus
from glint.schemas import Id, InputSchema, Schema, Timestamp

FilterName = Literal["none", "clarendon", "gingham", "juno", "lark", "moon", "reyes", "valencia"]
MAX_CAPTION = 2200
MAX_ALT_TEXT = 1000
MAX_IMAGES = 10


class SizeUrls(Schema):
    """One URL per rendition size: 150² crop, 320, 640 and 1080 px wide."""

    thumbnail: str
    small: str
    medium: str
    large: str


class MediaOut(Schema):
    """A processed photo."""

    width: int
    height: int
    aspect_ratio: float
    blurhash: str
    alt_text: str | None
    urls: SizeUrls
    jpeg_urls: SizeUrls


class LocationOut(Schema):
    """Where a photo was taken, as the author named it."""

    name: str
    lat: float | None
    lng: float | None


class PostViewer(Schema):
    """The viewer's own relation to a post."""

    liked: bool
    saved: bool


class PostOut(Schema):
    """A post as API.md describes it."""

    id: Id
    author: UserSummary
    caption: str
    location: LocationOut | None
    status: MediaStatus
    failure_reason: str | None
    media: list[MediaOut]
    filter: str | None
    hashtags: list[str]
    mentions: list[str]
    like_count: int
    comment_count: int
    comments_disabled: bool
    created_at: Timestamp
    edited_at: Timestamp | None
    viewer: PostViewer | None = Field(default=None, exclude_if=lambda v: v is None)
    # In the home feed only: the followed hashtag that brought a post of an unfollowed account.
    via_hashtag: str | None = Field(default=None, exclude_if=lambda v: v is None)


AltText = Annotated[str, StringConstraints(max_length=MAX_ALT_TEXT)]


class PostPatchIn(InputSchema):
    """PATCH /posts/{id}: only the fields given change."""

    caption: Annotated[str, StringConstraints(max_length=MAX_CAPTION)] | None = None
    comments_disabled: bool | None = None
    alt_text: Annotated[list[AltText], Field(max_length=MAX_IMAGES)] | None = None


class LikeOut(Schema):
    """The answer to liking or unliking."""

    liked: bool
    like_count: int


class SaveOut(Schema):
    """The answer to saving or unsaving."""

    saved: bool


class CommentViewer(Schema):
    """The viewer's own relation to a comment."""

    liked: bool


class CommentOut(Schema):
    """A comment as API.md describes it."""

    id: Id
    post_id: Id
    parent_id: Id | None
    author: UserSummary
    text: str
    like_count: int
    created_at: Timestamp
    viewer: CommentViewer | None = Field(default=None, exclude_if=lambda v: v is None)
    # Only its author ever sees a held comment: waiting for a moderator, shown to no one else.
    held: bool = Field(default=False, exclude_if=lambda v: not v)


class CommentIn(InputSchema):
    """POST /posts/{id}/comments."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CAPTION)]
    parent_id: Id | None = None
