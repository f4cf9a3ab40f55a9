"""Tables of the posts domain: posts, their photos, hashtags and mentions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, UTCDateTime
from glint.media import lifecycle
from glint.media.lifecycle import MediaStatus


class Post(Base):
    """A post; its life cycle is glint.media.lifecycle's, moved only by `move_post`."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    author_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    caption: Mapped[str] = mapped_column(sa.Text, default="")
    location_name: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    location_lat: Mapped[float | None] = mapped_column(sa.Float, default=None)
    location_lng: Mapped[float | None] = mapped_column(sa.Float, default=None)
    filter: Mapped[str | None] = mapped_column(sa.String(20), default=None)
    status: Mapped[str] = mapped_column(sa.String(12), default=MediaStatus.PROCESSING)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    like_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    comment_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    comments_disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        sa.CheckConstraint("status IN ('processing', 'published', 'failed')", name="status"),
        # Profile grids: one author's posts, newest first.
        sa.Index("ix_posts_author_id_id", "author_id", "id"),
        sa.Index("ix_posts_status_id", "status", "id"),
    )


async def move_post(session: AsyncSession, *, post_id: int, to: MediaStatus, **values: Any) -> bool:
    """Move a post to `to` where its life cycle allows (see `lifecycle.move`)."""
    return await lifecycle.move(session, Post, row_id=post_id, to=to, **values)


def published_only() -> sa.ColumnElement[bool]:
    """SQL: the post is published (the only state anyone but its author sees)."""
    return Post.status == MediaStatus.PUBLISHED


class PostMedia(Base):
    """One photo of a post: its private original and, once processed, its renditions."""

    __tablename__ = "post_media"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    post_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    original_key: Mapped[str] = mapped_column(sa.String(200))
    # Renditions live under this unguessable prefix: {base_key}/{size}.{webp|jpg}
    base_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    alt_text: Mapped[str | None] = mapped_column(sa.String(1000), default=None)
    width: Mapped[int | None] = mapped_column(sa.Integer, default=None)
    height: Mapped[int | None] = mapped_column(sa.Integer, default=None)
    blurhash: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (sa.UniqueConstraint("post_id", "position"),)


class PostHashtag(Base):
    """A hashtag used in a caption (lower-cased), for hashtag pages and search."""

    __tablename__ = "post_hashtags"

    post_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(100), primary_key=True)

    __table_args__ = (sa.Index("ix_post_hashtags_tag_post_id", "tag", "post_id"),)


class PostMention(Base):
    """A username mentioned in a caption, for notifications."""

    __tablename__ = "post_mentions"

    post_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(sa.String(30), primary_key=True)


class PostLike(Base):
    """user likes post; the primary key makes a like idempotent."""

    __tablename__ = "post_likes"

    post_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("ix_post_likes_post_id_id", "post_id", "id"),
        sa.Index("ix_post_likes_user_id", "user_id"),
    )


class Comment(Base):
    """A comment, or a reply to one (one level deep)."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    post_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE")
    )
    author_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("comments.id", ondelete="CASCADE"), default=None
    )
    text: Mapped[str] = mapped_column(sa.Text)
    like_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Held for review by the automatic guards: shown to its author only until released.
    held: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_comments_post_id_parent_id_id", "post_id", "parent_id", "id"),)


class CommentLike(Base):
    """user likes comment."""

    __tablename__ = "comment_likes"

    comment_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Save(Base):
    """user saved post to their private collection."""

    __tablename__ = "saves"

    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_saves_user_id_id", "user_id", "id"),)
