"""The message store's contract, against SQLite and PostgreSQL (the two SQL databases)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.media.lifecycle import MediaStatus
from glint.messaging.models import Conversation
from glint.messaging.store import MessageStore, SqlMessageStore, StoredMessage


@pytest.fixture
async def world(clean_runtime: Runtime) -> tuple[Runtime, int, list[int]]:
    """A conversation and three users, written straight to the database."""
    rt = clean_runtime
    users = [rt.ids.next_id() for _ in range(3)]
    conversation_id = rt.ids.next_id()
    async with rt.db.session() as session:
        for n, user_id in enumerate(users):
            session.add(
                User(
                    id=user_id,
                    username=f"u{n}",
                    email=f"u{n}@example.com",
                    password_hash="x",
                    created_at=utcnow(),
                    last_active_at=utcnow(),
                )
            )
        await session.flush()
        session.add(
            Conversation(
                id=conversation_id, is_group=True, created_by=users[0], created_at=utcnow()
            )
        )
        await session.commit()
    return rt, conversation_id, users


def _message(rt: Runtime, conversation_id: int, sender: int, **fields: object) -> StoredMessage:
    values: dict[str, object] = {"kind": "text", "text": "hi", **fields}
    return StoredMessage(
        conversation_id=conversation_id,
        id=rt.ids.next_id(),
        sender_id=sender,
        created_at=utcnow(),
        **values,  # type: ignore[arg-type]
    )


async def _insert(rt: Runtime, message: StoredMessage) -> tuple[StoredMessage, bool]:
    async with rt.db.session() as session:
        store: MessageStore = SqlMessageStore(session)
        result = await store.insert(message)
        await session.commit()
    return result


async def test_insert_get_find_and_page_newest_first(
    world: tuple[Runtime, int, list[int]],
) -> None:
    rt, cid, (a, b, c) = world
    sent = [
        (await _insert(rt, _message(rt, cid, a if i % 2 else b, text=f"m{i}")))[0] for i in range(6)
    ]
    hidden = await _insert(rt, _message(rt, cid, c, text="from c"))
    processing = await _insert(
        rt, _message(rt, cid, a, kind="image", status=MediaStatus.PROCESSING)
    )
    async with rt.db.session() as session:
        store = SqlMessageStore(session)
        assert await store.get(cid, sent[0].id) == sent[0]
        assert await store.find(sent[3].id) == sent[3]
        assert await store.find(1) is None and await store.get(cid + 1, sent[0].id) is None
        as_b = await store.page(
            cid, viewer_id=b, after_id=0, before_id=None, limit=50, hidden_senders={c}
        )
        assert [m.id for m in as_b] == [m.id for m in reversed(sent)]
        as_a = await store.page(cid, viewer_id=a, after_id=0, before_id=None, limit=2)
        assert [m.id for m in as_a] == [processing[0].id, hidden[0].id]
        window = await store.page(
            cid, viewer_id=b, after_id=sent[1].id, before_id=sent[5].id, limit=10
        )
        assert [m.id for m in window] == [sent[4].id, sent[3].id, sent[2].id]
        assert await store.newest_published_id(cid) == hidden[0].id
        assert await store.count_unread(cid, reader_id=b, after_id=sent[2].id) == 3
        many = await store.get_many([(cid, sent[0].id), (cid, sent[1].id), (cid, 12345)])
        assert set(many) == {sent[0].id, sent[1].id}


async def test_client_id_makes_one_message_under_concurrent_inserts(
    world: tuple[Runtime, int, list[int]],
) -> None:
    rt, cid, (a, b, _c) = world
    attempts = [_message(rt, cid, a, client_id="same", text=f"try {i}") for i in range(10)]
    results = await asyncio.gather(*(_insert(rt, m) for m in attempts))
    assert sum(created for _, created in results) == 1
    assert len({message.id for message, _ in results}) == 1
    theirs, created = await _insert(rt, _message(rt, cid, b, client_id="same"))
    assert created and theirs.sender_id == b
    async with rt.db.session() as session:
        found = await SqlMessageStore(session).by_client_id(cid, sender_id=a, client_id="same")
    assert found is not None and found.id == results[0][0].id


async def test_update_with_expected_status_moves_once(
    world: tuple[Runtime, int, list[int]],
) -> None:
    rt, cid, (a, _b, _c) = world
    photo, _ = await _insert(rt, _message(rt, cid, a, kind="image", status=MediaStatus.PROCESSING))
    async with rt.db.session() as session:
        store = SqlMessageStore(session)
        first = await store.update(
            cid, photo.id, expect_status=MediaStatus.PROCESSING, status=MediaStatus.PUBLISHED
        )
        second = await store.update(
            cid, photo.id, expect_status=MediaStatus.PROCESSING, status=MediaStatus.FAILED
        )
        await session.commit()
        assert (first, second) == (True, False)
        assert (await store.get(cid, photo.id)).status == MediaStatus.PUBLISHED  # type: ignore[union-attr]


async def test_reactions_replace_count_and_go_with_their_message(
    world: tuple[Runtime, int, list[int]],
) -> None:
    rt, cid, (a, b, c) = world
    message, _ = await _insert(rt, _message(rt, cid, a))
    async with rt.db.session() as session:
        store = SqlMessageStore(session)
        await store.react(message, user_id=a, emoji="❤️")
        await store.react(message, user_id=b, emoji="❤️")
        await store.react(message, user_id=c, emoji="😂")
        await store.react(message, user_id=c, emoji="❤️")
        await store.react(message, user_id=b, emoji=None)
        await session.commit()
        counts = await store.reactions([message.id], viewer_id=c)
        assert [(r.emoji, r.count, r.me) for r in counts[message.id]] == [("❤️", 2, True)]
        assert await store.delete(cid, message.id) == message
        assert await store.delete(cid, message.id) is None
        await session.commit()
        assert await store.reactions([message.id], viewer_id=c) == {}
        left = await session.scalar(sa.text("SELECT count(*) FROM message_reactions"))
        assert left == 0
