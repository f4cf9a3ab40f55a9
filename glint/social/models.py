"""Tables of the social graph: follows, follow requests, blocks and mutes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, UTCDateTime


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


class Follow(Base):
    """follower follows followee (an approved edge)."""

    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    followee_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    # Orders follower/following lists and pages them stably.
    id: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("follower_id <> followee_id", name="not_self"),
        sa.Index("ix_follows_followee_id_id", "followee_id", "id"),
        sa.Index("ix_follows_follower_id_id", "follower_id", "id"),
    )


class FollowRequest(Base):
    """A pending request to follow a private account."""

    __tablename__ = "follow_requests"

    requester_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    target_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    id: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_follow_requests_target_id_id", "target_id", "id"),)


class Block(Base):
    """blocker blocks blocked: neither sees the other."""

    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_blocks_blocked_id", "blocked_id"),)


class Mute(Base):
    """muter no longer sees muted in feeds and the story tray."""

    __tablename__ = "mutes"

    muter_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    muted_id: Mapped[int] = mapped_column(sa.BigInteger, _user_fk(), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
