"""Tables of direct messages: conversations, who is in them, their messages and reactions.

Messages are keyed by (conversation id, message id) so they partition by conversation; a
member row per (conversation, user) carries everything the inbox needs (activity, unread
count, read marker, mute), so the inbox reads one user's rows only.

A member's place in a conversation is a small state machine:

    request ──accept / answer──▶ active ──leave──▶ left
       │                           ▲                 │
       └──────────leave────────────┼─────────────────┤
                                   └────re-added─────┘

A conversation started by someone the member does not follow arrives as a `request`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from glint.errors import Conflict
from glint.infra.db import Base, UTCDateTime
from glint.media.lifecycle import MediaStatus

MESSAGE_KINDS = ("text", "image", "heart", "story_reply", "post_share")


class MemberState(StrEnum):
    """Where one person stands in one conversation."""

    REQUEST = "request"
    ACTIVE = "active"
    LEFT = "left"


MEMBER_TRANSITIONS: dict[MemberState, frozenset[MemberState]] = {
    MemberState.REQUEST: frozenset({MemberState.ACTIVE, MemberState.LEFT}),
    MemberState.ACTIVE: frozenset({MemberState.LEFT}),
    MemberState.LEFT: frozenset({MemberState.ACTIVE, MemberState.REQUEST}),
}


class IllegalMemberMove(Conflict):
    """A membership move the state machine does not allow."""

    code = "illegal_transition"


class Conversation(Base):
    """A 1:1 or group conversation."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    is_group: Mapped[bool] = mapped_column(sa.Boolean)
    title: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    created_by: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    # "lower id:higher id" for a 1:1: the unique key makes asking twice (even at once) safe.
    direct_key: Mapped[str | None] = mapped_column(sa.String(41), unique=True, default=None)
    last_message_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ConversationMember(Base):
    """One person in one conversation, with their inbox position, unread count and marker."""

    __tablename__ = "conversation_members"

    conversation_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(sa.String(10), default=MemberState.ACTIVE)
    muted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    last_read_message_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    unread_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The newest activity (creation or last message) as an ID: the inbox sorts on it.
    activity_id: Mapped[int] = mapped_column(sa.BigInteger)
    # Messages before this ID were sent before the member joined (a group): not theirs to read.
    joined_after_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    __table_args__ = (
        sa.CheckConstraint("state IN ('request', 'active', 'left')", name="state"),
        sa.CheckConstraint("unread_count >= 0", name="unread"),
        sa.Index("ix_conversation_members_user_id_activity_id", "user_id", "activity_id"),
    )


async def move_member(
    session: AsyncSession, *, conversation_id: int, user_id: int, to: MemberState
) -> bool:
    """Move one membership to `to` where the state machine allows; True when it moved."""
    current = await session.scalar(
        sa.select(ConversationMember.state).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id == user_id,
        )
    )
    if current is None or current == to:
        return False
    if to not in MEMBER_TRANSITIONS[MemberState(current)]:
        raise IllegalMemberMove(f"Cannot move a membership from {current} to {to.value}.")
    moved = await session.execute(
        sa.update(ConversationMember)
        .where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id == user_id,
            ConversationMember.state == current,
        )
        .values(state=to)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0))


def present_members() -> sa.ColumnElement[bool]:
    """SQL: the member has not left (requests included)."""
    return ConversationMember.state != MemberState.LEFT


class Message(Base):
    """One message; a photo message carries its photo's keys and, once processed, its shape."""

    __tablename__ = "messages"

    conversation_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    sender_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(sa.String(12))
    text: Mapped[str | None] = mapped_column(sa.Text, default=None)
    # No foreign keys: a shared post or story may go away; the message then shows it unavailable.
    post_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    story_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    client_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    status: Mapped[str] = mapped_column(sa.String(12), default=MediaStatus.PUBLISHED)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    original_key: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    base_key: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    width: Mapped[int | None] = mapped_column(sa.Integer, default=None)
    height: Mapped[int | None] = mapped_column(sa.Integer, default=None)
    blurhash: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('text', 'image', 'heart', 'story_reply', 'post_share')", name="kind"
        ),
        sa.CheckConstraint("status IN ('processing', 'published', 'failed')", name="status"),
        # The same client_id from the same sender is the same message, also under races.
        sa.UniqueConstraint("conversation_id", "sender_id", "client_id"),
        # Routes name a message by its ID alone (unsend, react).
        sa.UniqueConstraint("id"),
        sa.Index("ix_messages_base_key", "base_key"),
    )


class MessageReaction(Base):
    """One person's reaction to one message; a new one replaces it."""

    __tablename__ = "message_reactions"

    message_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[int] = mapped_column(sa.BigInteger)
    emoji: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
