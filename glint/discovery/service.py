"""Search: people by name prefix, hashtags by prefix, posts by caption words.

The text index finds candidates; each query joins them with the live graph, so what a viewer
may not see (a private account's posts, a blocked account, a banned one, a deleted post) is
never found, however stale the index. Every list pages by keyset, like every other list.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.accounts.schemas import UserSummary
from glint.discovery.indexing import index_of
from glint.discovery.models import Hashtag
from glint.discovery.schemas import HashtagSummary, SearchCursors, SearchOut, SearchType
from glint.errors import BadRequest, ValidationFailed
from glint.infra import search
from glint.infra.cache import Cache
from glint.media.urls import MediaUrls
from glint.paging import cursor_int, decode_cursor, encode_cursor
from glint.posts import cache as posts_cache
from glint.posts import engagement
from glint.posts.models import Post, published_only
from glint.posts.schemas import PostOut
from glint.social import queries as social_queries
from glint.social.models import Follow

MAX_QUERY_LENGTH = 100
MIN_QUERY_LENGTH = 2


@dataclass(frozen=True, slots=True)
class Query:
    """A search as the engines see it: folded words only, never syntax."""

    words: list[str]
    username: str  # the query as a whole username (for the exact match that ranks first)
    typed: str  # lower-cased as typed, accents kept (hashtags are stored so)

    @property
    def empty(self) -> bool:
        """Too short to search (an empty result, not an error)."""
        return not self.words or sum(len(word) for word in self.words) < MIN_QUERY_LENGTH

    @classmethod
    def parse(cls, text: str) -> Query:
        """Words of a query; '@' and '#' in front of a name or tag are not part of it."""
        found = search.words(text)[: search.MAX_QUERY_WORDS]
        return cls(
            words=found,
            username=search.fold(text).strip().lstrip("@#"),
            typed=text.replace("\x00", "").strip().lstrip("@#").lower(),
        )


@dataclass(frozen=True, slots=True)
class Found:
    """One page of one list: the rows and where the next page starts."""

    rows: list[Any]
    next_cursor: str | None


def _bad_cursor() -> BadRequest:
    return BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")


def _cursor_flag(position: dict[str, Any], key: str) -> int:
    value = cursor_int(position, key)
    if value > 1:
        raise _bad_cursor()
    return value


async def find_people(
    session: AsyncSession, *, query: Query, viewer_id: int | None, cursor: str | None, limit: int
) -> Found:
    """Accounts with a name or username starting with the query's words: an exact username
    first, then people the viewer follows, then by followers."""
    if query.empty:
        return Found([], None)
    matching = index_of(session).people_matching(query.words).subquery()
    exact = sa.case((User.username == query.username, 1), else_=0)
    followed: sa.ColumnElement[int] = sa.literal(0)
    if viewer_id is not None:
        follows = sa.exists().where(Follow.follower_id == viewer_id, Follow.followee_id == User.id)
        followed = sa.case((follows, 1), else_=0)
    ranked = (
        sa.select(
            User.id.label("id"),
            exact.label("exact"),
            followed.label("followed"),
            User.follower_count.label("followers"),
        )
        .join(matching, matching.c.id == User.id)
        .where(active_accounts(), social_queries.not_blocked_with(viewer_id, User.id))
        .subquery()
    )
    order = (ranked.c.exact, ranked.c.followed, ranked.c.followers, ranked.c.id)
    page = sa.select(ranked)
    if cursor is not None:
        position = decode_cursor(cursor)
        after = (
            _cursor_flag(position, "e"),
            _cursor_flag(position, "f"),
            cursor_int(position, "c"),
            cursor_int(position, "id"),
        )
        page = page.where(sa.tuple_(*order) < sa.tuple_(*after))
    rows = list(
        await session.execute(page.order_by(*(column.desc() for column in order)).limit(limit + 1))
    )
    users = await _users_by_id(session, [row.id for row in rows[:limit]])
    found = [users[row.id] for row in rows[:limit] if row.id in users]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            {"e": last.exact, "f": last.followed, "c": last.followers, "id": last.id}
        )
    return Found(found, next_cursor)


async def _users_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {
        user.id: user for user in await session.scalars(sa.select(User).where(User.id.in_(ids)))
    }


def _tag_prefix(query: Query) -> list[str]:
    """The hashtag prefixes a query means: as typed (lower-cased), and folded when that
    differs (`#Café` is stored as `café`; `cafe` finds it too)."""
    joined = "".join(query.words)
    return [prefix for prefix in dict.fromkeys([query.typed.replace(" ", ""), joined]) if prefix]


async def find_hashtags(
    session: AsyncSession, *, query: Query, cursor: str | None, limit: int
) -> Found:
    """Hashtags in use starting with the query, most used first."""
    if query.empty:
        return Found([], None)
    prefixes = _tag_prefix(query)
    statement = sa.select(Hashtag.tag, Hashtag.post_count).where(
        Hashtag.post_count > 0,
        sa.or_(
            *(
                sa.and_(Hashtag.tag >= prefix, Hashtag.tag < prefix + search.TOP)
                for prefix in prefixes
            )
        ),
    )
    if cursor is not None:
        position = decode_cursor(cursor)
        tag = position.get("t")
        if not isinstance(tag, str) or len(tag) > 100:
            raise _bad_cursor()
        count = cursor_int(position, "c")
        statement = statement.where(
            sa.or_(
                Hashtag.post_count < count,
                sa.and_(Hashtag.post_count == count, Hashtag.tag > tag),
            )
        )
    rows = list(
        await session.execute(
            statement.order_by(Hashtag.post_count.desc(), Hashtag.tag).limit(limit + 1)
        )
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"c": last.post_count, "t": last.tag})
    return Found([(row.tag, row.post_count) for row in rows[:limit]], next_cursor)


async def find_posts(
    session: AsyncSession, *, query: Query, viewer_id: int | None, cursor: str | None, limit: int
) -> Found:
    """Published posts whose caption holds every word (stemmed) that the viewer may see, the
    most relevant first, then the newest."""
    if query.empty:
        return Found([], None)
    matching = index_of(session).posts_matching(query.words).subquery()
    statement = (
        sa.select(matching.c.id, matching.c.relevance)
        .join(Post, Post.id == matching.c.id)
        .join(User, User.id == Post.author_id)
        .where(published_only(), social_queries.posts_visible_to(viewer_id))
    )
    if cursor is not None:
        position = decode_cursor(cursor)
        relevance = position.get("r")
        if not isinstance(relevance, int | float) or isinstance(relevance, bool):
            raise _bad_cursor()
        after = cursor_int(position, "id")
        statement = statement.where(
            sa.or_(
                matching.c.relevance < relevance,
                sa.and_(matching.c.relevance == relevance, matching.c.id < after),
            )
        )
    rows = list(
        await session.execute(
            statement.order_by(matching.c.relevance.desc(), matching.c.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"r": last.relevance, "id": last.id})
    return Found([row.id for row in rows[:limit]], next_cursor)


async def posts_in_order(
    session: AsyncSession, *, cache: Cache, urls: MediaUrls, ids: Sequence[int], viewer: User | None
) -> list[PostOut]:
    """These published posts, in this order, with the viewer's flags."""
    posts = await posts_cache.published_posts(session, cache=cache, urls=urls, post_ids=ids)
    shown = [posts[post_id] for post_id in ids if post_id in posts]
    if viewer is None:
        return shown
    return await engagement.with_viewer_flags(session, viewer=viewer, posts=shown)


async def search_all(
    session: AsyncSession,
    *,
    cache: Cache,
    urls: MediaUrls,
    text: str,
    kinds: Collection[SearchType],
    viewer: User | None,
    cursor: str | None,
    limit: int,
) -> SearchOut:
    """GET /search: a page of each list asked for (`kinds`; all three when empty)."""
    query = Query.parse(text)
    viewer_id = viewer.id if viewer is not None else None
    wanted = set(kinds) or {"users", "hashtags", "posts"}
    if cursor is not None and len(wanted) != 1:
        raise ValidationFailed(
            "A cursor pages one list: give one `type`.", fields={"type": "one, with a cursor"}
        )
    empty = Found([], None)
    people = (
        await find_people(session, query=query, viewer_id=viewer_id, cursor=cursor, limit=limit)
        if "users" in wanted
        else empty
    )
    tags = (
        await find_hashtags(session, query=query, cursor=cursor, limit=limit)
        if "hashtags" in wanted
        else empty
    )
    posts = (
        await find_posts(session, query=query, viewer_id=viewer_id, cursor=cursor, limit=limit)
        if "posts" in wanted
        else empty
    )
    cursors = SearchCursors(
        users=people.next_cursor, hashtags=tags.next_cursor, posts=posts.next_cursor
    )
    (only,) = wanted if len(wanted) == 1 else (None,)
    return SearchOut(
        users=[UserSummary.of(user, urls=urls) for user in people.rows],
        hashtags=[HashtagSummary(name=tag, post_count=count) for tag, count in tags.rows],
        posts=await posts_in_order(session, cache=cache, urls=urls, ids=posts.rows, viewer=viewer),
        next_cursor=getattr(cursors, only) if only is not None else None,
        next_cursors=cursors,
    )
