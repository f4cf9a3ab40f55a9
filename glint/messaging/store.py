"""Where messages and their reactions live, behind one small interface.

Every operation is addressed by conversation ID (the partition) and message ID (the clustering
key, time-ordered), except `find`, which routes a bare message ID to its conversation. The SQL
implementation serves both SQLite and PostgreSQL; `docs/architecture.md` says how a wide-column
store (Cassandra/ScyllaDB) would implement the same Protocol at internet scale. `store_for` is
the one place that chooses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra.db import insert_ignore, utcnow
from glint.media.lifecycle import MediaStatus
from glint.messaging.models import Message, MessageReaction


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as the store keeps it."""

    conversation_id: int
    id: int
    sender_id: int
    kind: str
    created_at: dt.datetime
    text: str | None = None
    post_id: int | None = None
    story_id: int | None = None
    client_id: str | None = None
    status: str = MediaStatus.PUBLISHED
    failure_reason: str | None = None
    original_key: str | None = None
    base_key: str | None = None
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None

    @property
    def is_published(self) -> bool:
        """Visible to everyone in the conversation (not only its sender)."""
        return self.status == MediaStatus.PUBLISHED


@dataclass(frozen=True, slots=True)
class ReactionCount:
    """One emoji on one message: how many, and whether the viewer is among them."""

    emoji: str
    count: int
    me: bool


class MessageStore(Protocol):
    """Messages by conversation, newest first, with reactions."""

    async def insert(self, message: StoredMessage) -> tuple[StoredMessage, bool]:
        """Add a message; with a client_id already used by its sender there, the existing one
        and False (also under concurrent duplicates)."""
        ...

    async def get(self, conversation_id: int, message_id: int) -> StoredMessage | None:
        """One message of a conversation."""
        ...

    async def get_many(self, keys: Collection[tuple[int, int]]) -> dict[int, StoredMessage]:
        """Messages by (conversation ID, message ID), keyed by message ID."""
        ...

    async def find(self, message_id: int) -> StoredMessage | None:
        """A message by its ID alone."""
        ...

    async def by_client_id(
        self, conversation_id: int, *, sender_id: int, client_id: str
    ) -> StoredMessage | None:
        """The message a sender's client_id made in a conversation."""
        ...

    async def page(
        self,
        conversation_id: int,
        *,
        viewer_id: int,
        after_id: int,
        before_id: int | None,
        limit: int,
        hidden_senders: Collection[int] = (),
    ) -> list[StoredMessage]:
        """Newest first: published messages and the viewer's own, with after_id < id < before_id."""
        ...

    async def update(self, conversation_id: int, message_id: int, **values: Any) -> bool:
        """Change fields of a message (its status and photo once processed); False if gone.

        With `expect_status`, only a message in that status changes (two movers cannot both win).
        """
        ...

    async def delete(self, conversation_id: int, message_id: int) -> StoredMessage | None:
        """Remove a message and its reactions; the removed message, None if it was not there."""
        ...

    async def newest_published_id(self, conversation_id: int) -> int | None:
        """The ID of the newest published message."""
        ...

    async def count_unread(self, conversation_id: int, *, reader_id: int, after_id: int) -> int:
        """Published messages from others with IDs above after_id."""
        ...

    async def react(self, message: StoredMessage, *, user_id: int, emoji: str | None) -> None:
        """Set (or with None remove) one person's reaction to a message."""
        ...

    async def reactions(
        self, message_ids: Sequence[int], *, viewer_id: int
    ) -> dict[int, list[ReactionCount]]:
        """Reactions per message, most used first."""
        ...


_FIELDS = [field.name for field in dataclasses.fields(StoredMessage)]


def _stored(row: Message) -> StoredMessage:
    return StoredMessage(**{name: getattr(row, name) for name in _FIELDS})


class SqlMessageStore:
    """Messages in the relational database (SQLite or PostgreSQL), in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert(self, message: StoredMessage) -> tuple[StoredMessage, bool]:
        """Add a message, or find the one its client_id already made."""
        values = {name: getattr(message, name) for name in _FIELDS}
        if await insert_ignore(self._session, Message, values):
            return message, True
        if message.client_id is None:
            raise RuntimeError("a message without client_id collided on its ID")
        existing = await self.by_client_id(
            message.conversation_id, sender_id=message.sender_id, client_id=message.client_id
        )
        if existing is None:  # it was unsent between the collision and this read
            raise RuntimeError("a message collided on client_id and then vanished")
        return existing, False

    async def get(self, conversation_id: int, message_id: int) -> StoredMessage | None:
        """One message of a conversation."""
        row = await self._session.get(Message, (conversation_id, message_id))
        return _stored(row) if row is not None else None

    async def get_many(self, keys: Collection[tuple[int, int]]) -> dict[int, StoredMessage]:
        """Messages by (conversation ID, message ID)."""
        if not keys:
            return {}
        rows = await self._session.scalars(
            sa.select(Message).where(sa.tuple_(Message.conversation_id, Message.id).in_(list(keys)))
        )
        return {row.id: _stored(row) for row in rows}

    async def find(self, message_id: int) -> StoredMessage | None:
        """A message by its ID alone."""
        row = await self._session.scalar(sa.select(Message).where(Message.id == message_id))
        return _stored(row) if row is not None else None

    async def by_client_id(
        self, conversation_id: int, *, sender_id: int, client_id: str
    ) -> StoredMessage | None:
        """The message a sender's client_id made in a conversation."""
        row = await self._session.scalar(
            sa.select(Message).where(
                Message.conversation_id == conversation_id,
                Message.sender_id == sender_id,
                Message.client_id == client_id,
            )
        )
        return _stored(row) if row is not None else None

    async def page(
        self,
        conversation_id: int,
        *,
        viewer_id: int,
        after_id: int,
        before_id: int | None,
        limit: int,
        hidden_senders: Collection[int] = (),
    ) -> list[StoredMessage]:
        """Newest first, visible to the viewer."""
        query = sa.select(Message).where(
            Message.conversation_id == conversation_id,
            Message.id > after_id,
            sa.or_(Message.status == MediaStatus.PUBLISHED, Message.sender_id == viewer_id),
        )
        if before_id is not None:
            query = query.where(Message.id < before_id)
        if hidden_senders:
            query = query.where(Message.sender_id.not_in(list(hidden_senders)))
        rows = await self._session.scalars(query.order_by(Message.id.desc()).limit(limit))
        return [_stored(row) for row in rows]

    async def update(self, conversation_id: int, message_id: int, **values: Any) -> bool:
        """Change fields of a message."""
        expect = values.pop("expect_status", None)
        statement = sa.update(Message).where(
            Message.conversation_id == conversation_id, Message.id == message_id
        )
        if expect is not None:
            statement = statement.where(Message.status == expect)
        result = await self._session.execute(
            statement.values(**values).execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete(self, conversation_id: int, message_id: int) -> StoredMessage | None:
        """Remove a message and its reactions."""
        found = await self.get(conversation_id, message_id)
        if found is None:
            return None
        await self._session.execute(
            sa.delete(MessageReaction).where(MessageReaction.message_id == message_id)
        )
        result = await self._session.execute(
            sa.delete(Message).where(
                Message.conversation_id == conversation_id, Message.id == message_id
            )
        )
        return found if getattr(result, "rowcount", 0) else None

    async def newest_published_id(self, conversation_id: int) -> int | None:
        """The newest published message's ID."""
        return await self._session.scalar(
            sa.select(sa.func.max(Message.id)).where(
                Message.conversation_id == conversation_id,
                Message.status == MediaStatus.PUBLISHED,
            )
        )

    async def count_unread(self, conversation_id: int, *, reader_id: int, after_id: int) -> int:
        """Published messages from others after the marker."""
        count = await self._session.scalar(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.id > after_id,
                Message.sender_id != reader_id,
                Message.status == MediaStatus.PUBLISHED,
            )
        )
        return int(count or 0)

    async def react(self, message: StoredMessage, *, user_id: int, emoji: str | None) -> None:
        """Replace one person's reaction (delete then insert, in the caller's transaction)."""
        await self._session.execute(
            sa.delete(MessageReaction).where(
                MessageReaction.message_id == message.id, MessageReaction.user_id == user_id
            )
        )
        if emoji is not None:
            await insert_ignore(
                self._session,
                MessageReaction,
                {
                    "message_id": message.id,
                    "user_id": user_id,
                    "conversation_id": message.conversation_id,
                    "emoji": emoji,
                    "created_at": utcnow(),
                },
            )

    async def reactions(
        self, message_ids: Sequence[int], *, viewer_id: int
    ) -> dict[int, list[ReactionCount]]:
        """Reactions per message, most used first."""
        if not message_ids:
            return {}
        rows = await self._session.execute(
            sa.select(MessageReaction.message_id, MessageReaction.emoji, MessageReaction.user_id)
            .where(MessageReaction.message_id.in_(list(message_ids)))
            .order_by(MessageReaction.created_at)
        )
        counts: dict[int, dict[str, list[int]]] = defaultdict(dict)
        for message_id, emoji, user_id in rows:
            counts[message_id].setdefault(emoji, []).append(user_id)
        return {
            message_id: sorted(
                (
                    ReactionCount(emoji=emoji, count=len(users), me=viewer_id in users)
                    for emoji, users in by_emoji.items()
                ),
                key=lambda reaction: -reaction.count,
            )
            for message_id, by_emoji in counts.items()
        }


def store_for(session: AsyncSession) -> MessageStore:
    """The message store of this deployment, working in the session's transaction."""
    return SqlMessageStore(session)
