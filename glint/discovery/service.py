"""Search: people by name prefix, hashtags by prefix, posts by caption words.

The text index finds candidates; each query joins them with the live graph, so what a viewer
may not see (a private account's posts, a blocked account, a banned one, a deleted post) is
never found, however stale the index. Every list pages by keyset, like every other list.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from glint.accounts.models import User, active_accounts
from glint.accounts.schemas import UserSummary
from glint.discovery.indexing import index_of
from glint.discovery.models import Hashtag
from glint.discovery.schemas import HashtagSummary, SearchCursors, SearchOut, SearchType
from glint.errors import BadRequest, ValidationFailed
from glint.infra import cache as cache_mod
from glint.infra import search
from glint.infra.cache import Cache
from glint.media.urls import MediaUrls
from glint.paging import cursor_int, decode_cursor, encode_cursor
from glint.posts import cache as posts_cache
from glint.posts import engagement
from glint.posts.models import Post, published_only
from glint.posts.schemas import PostOut
from glint.schemas import MAX_ID
from glint.social import queries as social_queries
from glint.social.models import Follow

MAX_QUERY_LENGTH = 100
MIN_QUERY_LENGTH = 2
# Name terms from which a prefix counts as common (see _followers_order).
DENSE_PREFIX_TERMS = 20_000
# A query's most followed matches kept for every viewer's first page, and for how long.
TOP_MATCHES = 50
TOP_MATCHES_SECONDS = 60.0
# Caption search ranks the newest matches this many at a time (see find_posts), looking at
# up to MAX_WINDOWS windows to fill a page.
POST_WINDOW = 200
MAX_WINDOWS = 3


Ranking: TypeAlias = sa.ColumnElement[int] | QueryableAttribute[int]


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


def _people_cursor(cursor: str | None) -> tuple[int, int, int, int] | None:
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    return (
        _cursor_flag(position, "e"),
        _cursor_flag(position, "f"),
        cursor_int(position, "c"),
        cursor_int(position, "id"),
    )


async def find_people(
    session: AsyncSession,
    *,
    cache: Cache,
    query: Query,
    viewer_id: int | None,
    cursor: str | None,
    limit: int,
) -> Found:
    """Accounts with a name or username starting with the query's words: an exact username
    first, then people the viewer follows, then by followers.

    One query per group, from the top or from the cursor. The first page of the last group
    (everyone) starts from the query's most followed matches, kept in the cache for a minute
    for every viewer alike; each viewer's rules (blocks, follows) apply to them live.
    """
    if query.empty:
        return Found([], None)
    after = _people_cursor(cursor)
    matching = index_of(session).people_matching(query.words)
    matches = sa.exists(matching.where(matching.selected_columns[0] == User.id))
    followed: sa.ColumnElement[bool] = sa.false()
    if viewer_id is not None:
        followed = sa.exists().where(Follow.follower_id == viewer_id, Follow.followee_id == User.id)
    exact = User.username == query.username
    # (exact, followed, condition); the followed group joins the viewer's follows below.
    groups = ((1, 0, exact), (0, 1, ~exact), (0, 0, sa.and_(~exact, ~followed)))
    rows: list[tuple[int, int, int, int]] = []
    for is_exact, is_followed, condition in groups:
        if after is not None and (is_exact, is_followed) > after[:2]:
            continue  # the cursor is past this group
        if is_followed and viewer_id is None:
            continue
        statement: sa.Select[int, int] = sa.select(User.id, User.follower_count).where(
            condition, active_accounts(), social_queries.not_blocked_with(viewer_id, User.id)
        )
        if is_followed:
            # From the viewer's follows (a few hundred rows), never from the prefix's matches.
            statement = statement.join(
                Follow, sa.and_(Follow.followee_id == User.id, Follow.follower_id == viewer_id)
            )
        want = limit + 1 - len(rows)
        resuming = after is not None and (is_exact, is_followed) == after[:2]
        found: list[tuple[int, int]] = []
        settled = False  # whether the cached list answered for this group
        if is_followed == is_exact == 0 and not resuming:
            top = await _most_followed_matching(session, cache=cache, query=query)
            found = await _ranked(session, statement.where(User.id.in_(top)), want)
            # Enough of them, or they were every match: otherwise (the viewer's rules left
            # too few) rank every match.
            settled = len(found) == want or len(top) < TOP_MATCHES
        if not settled:
            statement = statement.where(matches)
            if resuming and after is not None:
                statement = statement.where(
                    sa.tuple_(User.follower_count, User.id) < sa.tuple_(after[2], after[3])
                )
            # The exact name is one account and the followed ones are few: rank them from
            # their rows; everyone else is ranked as the prefix's size says.
            order: Ranking = User.follower_count + 0
            if is_followed == is_exact == 0:
                order = await _followers_order(session, matching)
            found = await _ranked(session, statement, want, order=order)
        rows += [(is_exact, is_followed, count, user_id) for user_id, count in found]
        if len(rows) > limit:
            break
    users = await _users_by_id(session, [row[3] for row in rows[:limit]])
    next_cursor = None
    if len(rows) > limit:
        e, f, c, last_id = rows[limit - 1]
        next_cursor = encode_cursor({"e": e, "f": f, "c": c, "id": last_id})
    return Found([users[row[3]] for row in rows[:limit] if row[3] in users], next_cursor)


async def _ranked(
    session: AsyncSession,
    statement: sa.Select[int, int],
    limit: int,
    *,
    order: Ranking = User.follower_count,
) -> list[tuple[int, int]]:
    """(id, follower count) of a people statement's first rows, the most followed first."""
    ranked = statement.order_by(order.desc(), User.id.desc()).limit(limit)
    return [(user_id, count) for user_id, count in await session.execute(ranked)]


async def _followers_order(session: AsyncSession, matching: sa.Select[Any]) -> Ranking:
    """How to order a prefix's matches by followers. A common prefix (tens of thousands of
    people) walks down (follower_count, id) and stops at the page's end; any other is ranked
    from its matches (`+ 0` keeps the planner off the index): it would walk the index for
    those too, and when the few matches are not among the most followed the walk reads a
    quarter of all users before it fills a page (1 s at the 1M seed)."""
    common = await _at_least(session, matching, DENSE_PREFIX_TERMS)
    return User.follower_count if common else User.follower_count + 0


async def _most_followed_matching(
    session: AsyncSession, *, cache: Cache, query: Query
) -> list[int]:
    """The query's `TOP_MATCHES` most followed active matches (all of them when fewer), the
    same for every viewer; a full list comes from the cache when it was found in the last
    `TOP_MATCHES_SECONDS`."""
    key = "people-top:" + " ".join(query.words)
    cached = await cache_mod.load_json(cache, key)
    if isinstance(cached, list):
        return [int(user_id) for user_id in cached]
    matching = index_of(session).people_matching(query.words)
    matches = sa.exists(matching.where(matching.selected_columns[0] == User.id))
    statement: sa.Select[int, int] = sa.select(User.id, User.follower_count).where(
        matches, active_accounts()
    )
    order = await _followers_order(session, matching)
    ids = [user_id for user_id, _ in await _ranked(session, statement, TOP_MATCHES, order=order)]
    if len(ids) == TOP_MATCHES:
        # Only a common prefix's list is kept: a short one is cheap to find again, and kept it
        # would hide an account that just signed up from everyone for a minute.
        await cache_mod.store_json(cache, key, ids, ttl=TOP_MATCHES_SECONDS)
    return ids


async def _at_least(session: AsyncSession, matching: sa.Select[Any], count: int) -> bool:
    """Whether a selectable has at least `count` rows (reading no more than that)."""
    bounded = matching.limit(count).subquery()
    found = await session.scalar(sa.select(sa.func.count()).select_from(bounded))
    return (found or 0) >= count


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


def _posts_cursor(cursor: str | None) -> tuple[int, int]:
    """(the window's exclusive upper post ID, how many of its rows were shown)."""
    if cursor is None:
        return MAX_ID, 0
    position = decode_cursor(cursor)
    shown = cursor_int(position, "o")
    if shown > POST_WINDOW:
        raise _bad_cursor()
    return cursor_int(position, "w"), shown


async def find_posts(
    session: AsyncSession, *, query: Query, viewer_id: int | None, cursor: str | None, limit: int
) -> Found:
    """Published posts whose caption holds every word (stemmed) that the viewer may see: the
    newest matches a window of `POST_WINDOW` at a time, each window by relevance then recency.

    The first window is pinned below its newest match, so posts published while someone pages
    never shift the pages. Within a window the cursor counts rows rather than remembering a
    score: BM25 (SQLite) scores move as the collection grows, the order within one window
    does not.
    """
    if query.empty:
        return Found([], None)
    top, offset = _posts_cursor(cursor)
    index = index_of(session)
    picked: list[int] = []
    for _ in range(MAX_WINDOWS):
        window = index.posts_matching(query.words, below_id=top, window=POST_WINDOW).cte("window")
        bounds = sa.select(
            sa.func.min(window.c.id).label("low"),
            sa.func.max(window.c.id).label("high"),
            sa.func.count().label("size"),
        ).subquery("bounds")
        page = (
            sa.select(window.c.id, window.c.relevance)
            .join(Post, Post.id == window.c.id)
            .join(User, User.id == Post.author_id)
            .where(published_only(), social_queries.posts_visible_to(viewer_id))
            .order_by(window.c.relevance.desc(), window.c.id.desc())
            .offset(offset)
            .limit(limit + 1 - len(picked))
            .subquery("page")
        )
        # The window's bounds come with its rows (one row of bounds when none is left).
        rows = list(
            await session.execute(
                sa.select(bounds, page.c.id)
                .select_from(bounds.outerjoin(page, sa.true()))
                .order_by(page.c.relevance.desc(), page.c.id.desc())
            )
        )
        low, high, size = rows[0][:3]
        if top == MAX_ID and high is not None:
            top = high + 1  # the first window, pinned
        found = [post_id for *_, post_id in rows if post_id is not None]
        if len(picked) + len(found) > limit:
            taken = limit - len(picked)
            picked += found[:taken]
            return Found(picked, encode_cursor({"w": top, "o": offset + taken}))
        picked += found
        if size < POST_WINDOW:
            return Found(picked, None)  # the oldest window: the end
        top, offset = int(low), 0
    # A page left short by filtered windows: the next one starts at the next window.
    return Found(picked, encode_cursor({"w": top, "o": 0}))


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
        await find_people(
            session, cache=cache, query=query, viewer_id=viewer_id, cursor=cursor, limit=limit
        )
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
