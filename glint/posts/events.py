"""What happens to posts, likes and comments, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class PostCreated(Event):
    """A post was accepted with its originals stored; its photos await processing."""

    name = "post.created"
    post_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class PostPublished(Event):
    """A post's photos are processed and it is visible."""

    name = "post.published"
    post_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class PostFailed(Event):
    """A post could not be processed; it stays visible to its author with the reason."""

    name = "post.failed"
    post_id: int
    author_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class PostEdited(Event):
    """A post's caption, comment switch or alt texts changed."""

    name = "post.edited"
    post_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class PostDeleted(Event):
    """A post is gone; its stored objects are listed so they can be removed after it."""

    name = "post.deleted"
    post_id: int
    author_id: int
    object_keys: list[str]
    object_prefixes: list[str]


@dataclass(frozen=True, slots=True)
class PostLikeChange(Event):
    """What a like or an unlike carries: whose like, of which post, by whom."""

    post_id: int
    post_author_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class PostLiked(PostLikeChange):
    """Someone liked a post."""

    name = "like.created"


@dataclass(frozen=True, slots=True)
class PostUnliked(PostLikeChange):
    """Someone took a like back."""

    name = "like.removed"


@dataclass(frozen=True, slots=True)
class CommentCreated(Event):
    """A comment (or a reply) was added to a post."""

    name = "comment.created"
    comment_id: int
    post_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class CommentHeld(Event):
    """The guards held a new comment for review (it counts and notifies once released)."""

    name = "comment.held"
    comment_id: int
    post_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class CommentDeleted(Event):
    """A comment and its replies are gone."""

    name = "comment.deleted"
    comment_id: int
    post_id: int


@dataclass(frozen=True, slots=True)
class CommentLikeChange(Event):
    """What a comment like or unlike carries."""

    comment_id: int
    post_id: int
    comment_author_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class CommentLiked(CommentLikeChange):
    """Someone liked a comment."""

    name = "comment_like.created"


@dataclass(frozen=True, slots=True)
class CommentUnliked(CommentLikeChange):
    """Someone took a comment like back."""

    name = "comment_like.removed"
