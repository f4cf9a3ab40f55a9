"""The sections of an export that carry photos (profile, posts, stories, messages), and the
whole run: `export_chunks` yields the ZIP's bytes piece by piece, for a streamed upload."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson
import sqlalchemy as sa

from glint.accounts.models import User, active_accounts
from glint.infra.db import Database
from glint.infra.storage import ObjectStore
from glint.messaging import service as messaging_service
from glint.messaging.models import Conversation, ConversationMember, Message, present_members
from glint.ownership import export_build as build
from glint.ownership import export_content as content
from glint.posts.models import Post, PostMedia
from glint.schemas import format_timestamp
from glint.social import service as social_service
from glint.stories.models import Story

SECTIONS = (
    ("posts", "Posts"),
    ("stories", "Stories"),
    ("messages", "Messages"),
    *((table.file.removesuffix(".json"), table.title) for table in content.TABLES),
)


async def _profile(writer: build.ExportWriter, *, now: dt.datetime) -> AsyncIterator[bytes]:
    async with writer.db.session() as session:
        user = await session.get(User, writer.user_id)
    if user is None:
        raise LookupError("the account is gone")
    profile = content.profile_item(user)
    key = await build.avatar_key(writer.storage, user.avatar_key)
    profile["avatar"] = None
    if key is not None:
        profile["avatar"], piece = await writer.photo(key, "media/avatar")
        yield piece
    yield writer.zip.add(
        "profile.json", orjson.dumps(profile, option=orjson.OPT_INDENT_2), compress=True
    )
    writer.page(build.macros().head(profile, SECTIONS, format_timestamp(now)))
    await writer.tick()


async def _posts(writer: build.ExportWriter) -> AsyncIterator[bytes]:
    macros = build.macros()
    array = build.JsonArray()
    writer.page(macros.section("posts", "Posts", "posts.json"))
    query = sa.select(Post.id, Post).where(Post.author_id == writer.user_id)
    async for rows in content.keyset_pages(writer.db, query, size=content.PAGE_ROWS // 4):
        async with writer.db.session() as session:
            media = list(
                await session.scalars(
                    sa.select(PostMedia)
                    .where(PostMedia.post_id.in_([row[0] for row in rows]))
                    .order_by(PostMedia.post_id, PostMedia.position)
                )
            )
        photos: dict[int, list[dict[str, Any]]] = {}
        for row in media:
            path, piece = await writer.photo(
                row.original_key, f"media/posts/{row.post_id}/{row.position}"
            )
            yield piece
            photos.setdefault(row.post_id, []).append(
                {
                    "position": row.position,
                    "alt_text": row.alt_text,
                    "width": row.width,
                    "height": row.height,
                    "file": path,
                }
            )
            await writer.tick()
        items = [build.post_item(post, photos.get(post.id, [])) for _, post in rows]
        array.extend(items)
        writer.page("".join(macros.post(item) for item in items))
    for piece in writer.json_file("posts.json", array):
        yield piece


async def _stories(writer: build.ExportWriter) -> AsyncIterator[bytes]:
    macros = build.macros()
    array = build.JsonArray()
    writer.page(macros.section("stories", "Stories", "stories.json"))
    query = sa.select(Story.id, Story).where(Story.author_id == writer.user_id)
    async for rows in content.keyset_pages(writer.db, query, size=content.PAGE_ROWS // 4):
        items = []
        for _, story in rows:
            path, piece = await writer.photo(story.original_key, f"media/stories/{story.id}")
            yield piece
            items.append(build.story_item(story, path))
            await writer.tick()
        array.extend(items)
        writer.page("".join(macros.story(item) for item in items))
    for piece in writer.json_file("stories.json", array):
        yield piece


async def _members(db: Database, conversation_ids: list[int]) -> dict[int, list[str]]:
    async with db.session() as session:
        rows = await session.execute(
            sa.select(ConversationMember.conversation_id, User.username)
            .join(User, User.id == ConversationMember.user_id)
            .where(
                ConversationMember.conversation_id.in_(conversation_ids),
                present_members(),
                active_accounts(),
            )
            .order_by(ConversationMember.conversation_id, User.username)
        )
        members: dict[int, list[str]] = {}
        for conversation_id, username in rows.all():
            members.setdefault(conversation_id, []).append(username)
    return members


async def _conversations(writer: build.ExportWriter) -> AsyncIterator[bytes]:
    macros = build.macros()
    array = build.JsonArray()
    writer.page(macros.section("messages", "Messages", "conversations.json"))
    query = (
        sa.select(
            ConversationMember.conversation_id,
            ConversationMember.joined_after_id,
            ConversationMember.state,
            Conversation.is_group,
            Conversation.title,
            Conversation.created_at,
        )
        .join(Conversation, Conversation.id == ConversationMember.conversation_id)
        # A group the member left is no longer theirs to read (as in the app).
        .where(ConversationMember.user_id == writer.user_id, present_members())
    )
    async for rows in content.keyset_pages(writer.db, query):
        members = await _members(writer.db, [row[0] for row in rows])
        for row in rows:
            item = {
                "id": str(row.conversation_id),
                "is_group": row.is_group,
                "title": row.title,
                "state": row.state,
                "created_at": format_timestamp(row.created_at),
                "members": members.get(row.conversation_id, []),
                "messages_file": f"messages/{row.conversation_id}.json",
            }
            array.extend([item])
            writer.page(macros.conversation(item))
            hidden = await _hidden_senders(writer, row.conversation_id)
            async for piece in _messages(writer, row.conversation_id, row.joined_after_id, hidden):
                yield piece
    for piece in writer.json_file("conversations.json", array):
        yield piece


async def _hidden_senders(writer: build.ExportWriter, conversation_id: int) -> set[int]:
    """Whose messages the member does not see in the app: blocked either way, banned, or
    awaiting deletion (the same rule as `messaging.messages.page`)."""
    async with writer.db.session() as session:
        members = await messaging_service.member_ids(session, conversation_id=conversation_id)
        others = [member for member in members if member != writer.user_id]
        blocked = await social_service.blocked_either_way_among(
            session, user_id=writer.user_id, others=others
        )
        return blocked | await messaging_service.gone_among(session, user_ids=others)


async def _messages(
    writer: build.ExportWriter, conversation_id: int, after_id: int, hidden: set[int]
) -> AsyncIterator[bytes]:
    macros = build.macros()
    array = build.JsonArray()
    query = (
        sa.select(
            Message.id,
            Message.sender_id,
            User.username.label("sender"),
            Message.kind,
            Message.text,
            Message.post_id,
            Message.story_id,
            Message.status,
            Message.original_key,
            Message.created_at,
        )
        .outerjoin(User, User.id == Message.sender_id)
        # What the member may read: nothing sent before they joined.
        .where(
            Message.conversation_id == conversation_id,
            Message.id > after_id,
            # A purged sender's placeholder has no sender: not hidden by anyone.
            sa.or_(Message.sender_id.is_(None), Message.sender_id.not_in(hidden))
            if hidden
            else sa.true(),
        )
    )
    async for rows in content.keyset_pages(writer.db, query):
        items = []
        for row in rows:
            item = content.item_of(row)
            key = item.pop("original_key")
            item["file"] = None
            if key:
                item["file"], piece = await writer.photo(
                    key, f"media/messages/{conversation_id}/{row.id}"
                )
                yield piece
                await writer.tick()
            items.append(item)
        array.extend(items)
        writer.page(macros.messages(items))
    for piece in writer.json_file(f"messages/{conversation_id}.json", array):
        yield piece


async def export_chunks(
    db: Database,
    storage: ObjectStore,
    *,
    user_id: int,
    report: build.Report,
    now: dt.datetime,
    progress_every: int = build.PROGRESS_EVERY,
) -> AsyncGenerator[bytes]:
    """The bytes of one member's export ZIP, piece by piece (photos read one at a time)."""
    writer = build.ExportWriter(
        db, storage, user_id=user_id, report=report, progress_every=progress_every
    )
    try:
        writer.total = await build.count_work(db, user_id=user_id)
        async for piece in _profile(writer, now=now):
            yield piece
        for section in (_posts, _stories, _conversations):
            async for piece in section(writer):
                yield piece
            await writer.tick()
        for table in content.TABLES:
            async for piece in writer.table(table):
                yield piece
        writer.page(build.macros().tail())
        for piece in writer.zip.add_file("index.html", writer.html):
            yield piece
        yield writer.zip.close()
    except BaseException:
        writer.zip.abandon()
        raise
    finally:
        writer.html.close()
