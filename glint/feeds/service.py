"""The read side of feeds: the home timeline, the ranked feed and explore, one page at a time.

Every page is checked against the live graph before it is shown (followed, not muted, not
blocked, author active, post published), so a stale timeline can only make a page shorter to
assemble, never show what it should not.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.errors import BadRequest
from glint.feeds import ranking, timeline
from glint.feeds.models import ExploreCandidate
from glint.infra import cache as cache_mod
from glint.infra.runtime import Runtime
from glint.media.urls import MediaUrls
from glint.paging import Page, PageParams, cursor_int, decode_cursor, encode_cursor
from glint.posts import cache as posts_cache
from glint.posts import engagement
from glint.posts.schemas import PostOut
from glint.social import queries as social_queries
from glint.social.models import Follow, Mute

# Rounds of fetch-and-filter before a page is returned short (with a cursor to go on).
MAX_ROUNDS = 5
RANKED_SNAPSHOT_SECONDS = 900.0


@dataclass(frozen=True)
class DocPage:
    """One page of posts in their wire form, the viewer's flags included."""

    items: list[posts_cache.PostDoc]
    next_cursor: str | None


async def _home_posts(
    session: AsyncSession, *, runtime: Runtime, urls: MediaUrls, viewer_id: int, ids: list[int]
) -> list[posts_cache.PostDoc]:
    """These candidates in order, as the viewer may see them in a home feed: cached bodies,
    then one query for the live graph and the viewer's liked and saved flags."""
    docs = await posts_cache.published_post_docs(
        session, cache=runtime.cache, urls=urls, post_ids=ids
    )
    checks = await timeline.home_checks(
        session,
        viewer_id=viewer_id,
        author_ids={posts_cache.author_id(doc) for doc in docs.values()},
        post_ids=list(docs),
    )
    outside = [pid for pid, doc in docs.items() if posts_cache.author_id(doc) not in checks.authors]
    brought = await timeline.followed_tag_reasons(session, viewer_id=viewer_id, post_ids=outside)
    shown: list[posts_cache.PostDoc] = []
    for post_id in ids:
        doc = docs.get(post_id)
        if doc is None:
            continue
        if posts_cache.author_id(doc) not in checks.authors:
            if post_id not in brought:
                continue
            doc["via_hashtag"] = brought[post_id]
        doc["viewer"] = {"liked": post_id in checks.liked, "saved": post_id in checks.saved}
        shown.append(doc)
    return shown


async def home_feed_docs(
    session: AsyncSession,
    *,
    runtime: Runtime,
    urls: MediaUrls,
    viewer_id: int,
    params: PageParams,
) -> DocPage:
    """One page of the home feed in wire form: own and followed accounts' posts, newest first.

    The hot path of the service: per round, the timeline (and the pulled authors' posts, one
    query), cached post bodies, and one query for the live graph and the viewer's flags.
    """
    before_id = params.before_id()
    want = params.limit + 1
    items: list[posts_cache.PostDoc] = []
    exhausted = False
    for _ in range(MAX_ROUNDS):
        fetch = want - len(items) + 10
        ids = await timeline.candidate_ids(
            session, runtime=runtime, user_id=viewer_id, before_id=before_id, limit=fetch
        )
        if not ids:
            exhausted = True
            break
        items.extend(
            await _home_posts(session, runtime=runtime, urls=urls, viewer_id=viewer_id, ids=ids)
        )
        before_id = ids[-1]
        if len(items) >= want:
            break
        if len(ids) < fetch:
            exhausted = True
            break
    page = items[: params.limit]
    more = len(items) > params.limit or not exhausted
    cursor_id = int(page[-1]["id"]) if len(items) > params.limit else before_id
    next_cursor = encode_cursor({"id": cursor_id}) if more and cursor_id is not None else None
    return DocPage(items=page, next_cursor=next_cursor)


async def home_feed(
    session: AsyncSession,
    *,
    runtime: Runtime,
    urls: MediaUrls,
    viewer: User,
    params: PageParams,
) -> Page[PostOut]:
    """One page of the home feed as models (the web pages)."""
    page = await home_feed_docs(
        session, runtime=runtime, urls=urls, viewer_id=viewer.id, params=params
    )
    return Page(
        items=[PostOut.model_validate(doc) for doc in page.items], next_cursor=page.next_cursor
    )


async def ranked_feed(
    session: AsyncSession,
    *,
    runtime: Runtime,
    urls: MediaUrls,
    viewer: User,
    params: PageParams,
) -> Page[PostOut]:
    """One page of the ranked feed; the order is fixed when the first page is asked for."""
    snapshot, offset = None, 0
    if params.cursor is not None:
        position = decode_cursor(params.cursor)
        snapshot_key = position.get("s")
        if not isinstance(snapshot_key, str) or len(snapshot_key) > 40:
            raise BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")
        offset = cursor_int(position, "o")
        snapshot = await _load_snapshot(runtime, viewer.id, snapshot_key)
        key = snapshot_key
    if snapshot is None:
        # First page, or the snapshot is gone (expired, cache down): rank afresh.
        snapshot = await ranking.rank_home(session, runtime=runtime, viewer=viewer)
        key = secrets.token_urlsafe(9)
        await _store_snapshot(runtime, viewer.id, key, snapshot)
    page_ids = snapshot[offset : offset + params.limit]
    shown = await _home_posts(
        session, runtime=runtime, urls=urls, viewer_id=viewer.id, ids=page_ids
    )
    end = offset + len(page_ids)
    next_cursor = encode_cursor({"s": key, "o": end}) if end < len(snapshot) else None
    return Page(items=[PostOut.model_validate(doc) for doc in shown], next_cursor=next_cursor)


def _snapshot_key(viewer_id: int, key: str) -> str:
    return f"ranked:{viewer_id}:{key}"


async def _load_snapshot(runtime: Runtime, viewer_id: int, key: str) -> list[int] | None:
    value = await cache_mod.load_json(runtime.cache, _snapshot_key(viewer_id, key))
    return None if not isinstance(value, list) else [int(item) for item in value]


async def _store_snapshot(runtime: Runtime, viewer_id: int, key: str, ids: list[int]) -> None:
    # Cache down: the next page ranks afresh.
    await cache_mod.store_json(
        runtime.cache, _snapshot_key(viewer_id, key), ids, ttl=RANKED_SNAPSHOT_SECONDS
    )


async def explore(
    session: AsyncSession,
    *,
    runtime: Runtime,
    urls: MediaUrls,
    viewer: User,
    params: PageParams,
) -> Page[PostOut]:
    """One page of explore: scored public posts of accounts the viewer does not follow."""
    query = sa.select(ExploreCandidate.post_id, ExploreCandidate.score).where(
        ExploreCandidate.author_id != viewer.id,
        ~sa.exists().where(
            Follow.follower_id == viewer.id, Follow.followee_id == ExploreCandidate.author_id
        ),
        ~sa.exists().where(Mute.muter_id == viewer.id, Mute.muted_id == ExploreCandidate.author_id),
        social_queries.not_blocked_with(viewer.id, ExploreCandidate.author_id),
    )
    if params.cursor is not None:
        position = decode_cursor(params.cursor)
        score = position.get("score")
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")
        after = cursor_int(position, "id")
        query = query.where(
            sa.or_(
                ExploreCandidate.score < score,
                sa.and_(ExploreCandidate.score == score, ExploreCandidate.post_id < after),
            )
        )
    rows = list(
        await session.execute(
            query.order_by(ExploreCandidate.score.desc(), ExploreCandidate.post_id.desc()).limit(
                params.limit + 1
            )
        )
    )
    page_rows = rows[: params.limit]
    ids = [post_id for post_id, _ in page_rows]
    posts = await posts_cache.published_posts(session, cache=runtime.cache, urls=urls, post_ids=ids)
    public = await _public_active(session, author_ids=[post.author.id for post in posts.values()])
    items = [posts[pid] for pid in ids if pid in posts and posts[pid].author.id in public]
    next_cursor = None
    if len(rows) > params.limit and page_rows:
        last_id, last_score = page_rows[-1]
        next_cursor = encode_cursor({"score": last_score, "id": last_id})
    return Page(
        items=await engagement.with_viewer_flags(session, viewer=viewer, posts=items),
        next_cursor=next_cursor,
    )


async def _public_active(session: AsyncSession, *, author_ids: Sequence[int]) -> set[int]:
    if not author_ids:
        return set()
    rows = await session.scalars(
        sa.select(User.id).where(
            User.id.in_(set(author_ids)),
            User.is_private.is_(False),
            active_accounts(),
        )
    )
    return set(rows)
