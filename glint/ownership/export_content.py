"""What a data export holds, read from each domain's tables in pages (keyset by a key column),
each page in a short session of its own: nothing is loaded whole, no transaction stays open.

Items are JSON-ready dicts: IDs as strings (as the API speaks them), times in RFC 3339.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from glint.accounts.models import AuthSession, User, active_accounts
from glint.infra.db import Database
from glint.notifications.models import Notification, NotificationActor
from glint.posts.models import Comment, CommentLike, PostLike, Save
from glint.schemas import format_timestamp
from glint.social.models import Block, Follow, FollowRequest, Mute
from glint.stories.models import CloseFriend, Highlight, HighlightStory

PAGE_ROWS = 200
Item = dict[str, Any]
# Any select, any row: each section reads its own columns.
AnySelect = sa.Select[*tuple[Any, ...]]
AnyRow = sa.Row[*tuple[Any, ...]]
Rows = Sequence[AnyRow]


def json_value(name: str, value: Any) -> Any:
    """A column's value as the export's JSON has it."""
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if value is not None and (name == "id" or name.endswith("_id")) and isinstance(value, int):
        return str(value)  # 64-bit IDs overflow JavaScript numbers, as in the API
    return value


def item_of(row: AnyRow) -> Item:
    """A row of labelled columns as one JSON item (the keyset column included)."""
    return {name: json_value(name, value) for name, value in row._mapping.items()}


async def keyset_pages(
    db: Database, query: AnySelect, *, size: int = PAGE_ROWS
) -> AsyncIterator[Rows]:
    """The rows of a query in pages, ordered by its first selected column (unique per row)."""
    key = query.selected_columns[0]
    after: Any = None
    while True:
        page = query if after is None else query.where(key > after)
        async with db.session() as session:
            rows = (await session.execute(page.order_by(key).limit(size))).all()
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = rows[-1][0]


Enrich = Callable[[Database, list[Item]], Any]


@dataclass(frozen=True, slots=True)
class TableSection:
    """One JSON file of plain rows (no photos), shown as a table in index.html."""

    file: str
    title: str
    query: Callable[[int], AnySelect]
    enrich: Enrich | None = None


def _people(edge_id: Any, person: Any, created: Any, where: sa.ColumnElement[bool]) -> Any:
    """Other people on one kind of edge: keyed by the edge's ID, or by the person's when the
    edge has none."""
    key = [] if edge_id is None else [edge_id.label("id")]
    return (
        sa.select(*key, person.label("user_id"), User.username, created)
        .join(User, User.id == person)
        # Banned accounts and those awaiting deletion are hidden here as everywhere else.
        .where(where, active_accounts())
    )


async def _notification_actors(db: Database, items: list[Item]) -> None:
    ids = [int(item["id"]) for item in items]
    async with db.session() as session:
        rows = await session.execute(
            sa.select(NotificationActor.notification_id, User.username)
            .join(User, User.id == NotificationActor.actor_id)
            .where(NotificationActor.notification_id.in_(ids), active_accounts())
            .order_by(NotificationActor.activity_id)
        )
        actors: dict[str, list[str]] = {}
        for notification_id, username in rows.all():
            actors.setdefault(str(notification_id), []).append(username)
    for item in items:
        item["actors"] = actors.get(item["id"], [])


async def _highlight_stories(db: Database, items: list[Item]) -> None:
    ids = [int(item["id"]) for item in items]
    async with db.session() as session:
        rows = await session.execute(
            sa.select(HighlightStory.highlight_id, HighlightStory.story_id)
            .where(HighlightStory.highlight_id.in_(ids))
            .order_by(HighlightStory.highlight_id, HighlightStory.position)
        )
        stories: dict[str, list[str]] = {}
        for highlight_id, story_id in rows.all():
            stories.setdefault(str(highlight_id), []).append(str(story_id))
    for item in items:
        item["story_ids"] = stories.get(item["id"], [])


TABLES: tuple[TableSection, ...] = (
    TableSection(
        "comments.json",
        "Comments you wrote",
        lambda me: sa.select(
            Comment.id, Comment.post_id, Comment.parent_id, Comment.text, Comment.created_at
        ).where(Comment.author_id == me),
    ),
    TableSection(
        "likes.json",
        "Posts you liked",
        lambda me: sa.select(PostLike.id, PostLike.post_id, PostLike.created_at).where(
            PostLike.user_id == me
        ),
    ),
    TableSection(
        "comment_likes.json",
        "Comments you liked",
        lambda me: sa.select(CommentLike.comment_id, CommentLike.created_at).where(
            CommentLike.user_id == me
        ),
    ),
    TableSection(
        "saves.json",
        "Saved posts",
        lambda me: sa.select(Save.id, Save.post_id, Save.created_at).where(Save.user_id == me),
    ),
    TableSection(
        "following.json",
        "People you follow",
        lambda me: _people(
            Follow.id, Follow.followee_id, Follow.created_at, Follow.follower_id == me
        ),
    ),
    TableSection(
        "followers.json",
        "Your followers",
        lambda me: _people(
            Follow.id, Follow.follower_id, Follow.created_at, Follow.followee_id == me
        ),
    ),
    TableSection(
        "follow_requests_sent.json",
        "Follow requests you sent",
        lambda me: _people(
            FollowRequest.id,
            FollowRequest.target_id,
            FollowRequest.created_at,
            FollowRequest.requester_id == me,
        ),
    ),
    TableSection(
        "follow_requests_received.json",
        "Follow requests you received",
        lambda me: _people(
            FollowRequest.id,
            FollowRequest.requester_id,
            FollowRequest.created_at,
            FollowRequest.target_id == me,
        ),
    ),
    TableSection(
        "blocked.json",
        "People you blocked",
        lambda me: _people(None, Block.blocked_id, Block.created_at, Block.blocker_id == me),
    ),
    TableSection(
        "muted.json",
        "People you muted",
        lambda me: _people(None, Mute.muted_id, Mute.created_at, Mute.muter_id == me),
    ),
    TableSection(
        "close_friends.json",
        "Close friends",
        lambda me: _people(
            CloseFriend.id,
            CloseFriend.friend_id,
            CloseFriend.created_at,
            CloseFriend.owner_id == me,
        ),
    ),
    TableSection(
        "highlights.json",
        "Highlights",
        lambda me: sa.select(
            Highlight.id, Highlight.title, Highlight.cover_story_id, Highlight.created_at
        ).where(Highlight.owner_id == me),
        _highlight_stories,
    ),
    TableSection(
        "notifications.json",
        "Notifications",
        lambda me: sa.select(
            Notification.id,
            Notification.kind,
            Notification.text,
            Notification.post_id,
            Notification.comment_id,
            Notification.read,
            Notification.created_at,
        ).where(Notification.user_id == me),
        _notification_actors,
    ),
    TableSection(
        "sessions.json",
        "Devices signed in",
        lambda me: sa.select(
            AuthSession.id,
            AuthSession.created_at,
            AuthSession.last_used_at,
            AuthSession.expires_at,
            AuthSession.user_agent,
            AuthSession.ip,
            AuthSession.factor,
        ).where(AuthSession.user_id == me),
    ),
)


def profile_item(user: User) -> Item:
    """The member's own profile, as they may see it (no secrets: no hashes, no TOTP seed)."""
    fields = ("id", "username", "email", "display_name", "bio", "website", "is_private")
    item = {name: json_value(name, getattr(user, name)) for name in fields}
    item.update(
        created_at=format_timestamp(user.created_at),
        email_verified=user.email_verified_at is not None,
        two_factor_enabled=user.totp_enabled_at is not None,
        follower_count=user.follower_count,
        following_count=user.following_count,
        post_count=user.post_count,
    )
    return item
