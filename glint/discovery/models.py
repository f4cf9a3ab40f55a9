"""Tables of discovery: hashtags and who follows them, trend counters, dismissed suggestions.

The text index itself (users by name, posts by caption words) lives behind
`glint.infra.search.SearchIndex`; these are the tables discovery keeps for itself.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, UTCDateTime

TAG_LENGTH = 100


def tag_column_type() -> sa.types.TypeEngine[str]:
    """A hashtag: byte order on PostgreSQL (collation C) so a prefix is one index range."""
    return sa.String(TAG_LENGTH).with_variant(sa.String(TAG_LENGTH, collation="C"), "postgresql")


class Hashtag(Base):
    """A hashtag in use, with the number of published posts that carry it."""

    __tablename__ = "hashtags"

    tag: Mapped[str] = mapped_column(tag_column_type(), primary_key=True)
    post_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("post_count >= 0", name="post_count"),)


class HashtagPost(Base):
    """A published post carrying a hashtag, as indexed (its own table, so counts move once:
    a retried indexing job finds its rows already there)."""

    __tablename__ = "hashtag_posts"

    tag: Mapped[str] = mapped_column(tag_column_type(), primary_key=True)
    # No foreign key: a deleted post's rows stay until its de-indexing job counts them out.
    post_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.Index("ix_hashtag_posts_post_id", "post_id"),)


class HashtagFollow(Base):
    """user follows a hashtag: posts carrying it join their home feed."""

    __tablename__ = "hashtag_follows"

    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(tag_column_type(), primary_key=True)
    id: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_hashtag_follows_tag", "tag"),)


class HashtagPoster(Base):
    """The last hour (since the epoch) an account posted with a hashtag: distinct posters in
    the last 24 hours are the rows with a recent hour, kept current one upsert per use."""

    __tablename__ = "hashtag_posters"

    tag: Mapped[str] = mapped_column(tag_column_type(), primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    last_hour: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.Index("ix_hashtag_posters_last_hour", "last_hour"),)


class HashtagDay(Base):
    """Distinct posters of a hashtag on one UTC day (days since the epoch): its usual rate."""

    __tablename__ = "hashtag_days"

    tag: Mapped[str] = mapped_column(tag_column_type(), primary_key=True)
    day: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    posters: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.Index("ix_hashtag_days_day", "day"),)


class DismissedSuggestion(Base):
    """user asked not to be suggested this account again."""

    __tablename__ = "dismissed_suggestions"

    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    dismissed_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
