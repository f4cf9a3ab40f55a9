"""Turns post rows into API shapes in a fixed number of queries per page, never one per post."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.media import service as media_service
from glint.media.lifecycle import MediaStatus
from glint.media.urls import MediaUrls
from glint.posts import engagement, text
from glint.posts.models import Post, PostHashtag, PostMedia, PostMention
from glint.posts.schemas import LocationOut, MediaOut, PostOut, PostViewer, SizeUrls


def new_post_out(post: Post, *, author: User, urls: MediaUrls) -> PostOut:
    """A just-accepted post, shaped without a query: it has no media, likes or comments yet."""
    return PostOut(
        id=post.id,
        author=UserSummary.of(author, urls=urls),
        caption=post.caption,
        location=LocationOut(name=post.location_name, lat=post.location_lat, lng=post.location_lng)
        if post.location_name
        else None,
        status=MediaStatus.PROCESSING,
        failure_reason=None,
        media=[],
        filter=post.filter,
        hashtags=text.hashtags(post.caption),
        mentions=text.mentions(post.caption),
        like_count=0,
        comment_count=0,
        comments_disabled=post.comments_disabled,
        created_at=post.created_at,
        edited_at=None,
        viewer=PostViewer(liked=False, saved=False),
    )


def _size_urls(urls: MediaUrls, base_key: str, fmt: str) -> SizeUrls:
    return SizeUrls(
        **{
            size: urls.sign(media_service.rendition_key(base_key, size, fmt))
            for size in media_service.SIZES
        }
    )


def media_out(row: PostMedia, urls: MediaUrls) -> MediaOut | None:
    """A processed photo's shape; None while it has no renditions yet."""
    if row.processed_at is None:
        return None
    return photo_out(
        urls,
        base_key=row.base_key,
        width=row.width,
        height=row.height,
        blurhash=row.blurhash,
        alt_text=row.alt_text,
    )


def photo_out(
    urls: MediaUrls,
    *,
    base_key: str,
    width: int | None,
    height: int | None,
    blurhash: str | None,
    alt_text: str | None,
) -> MediaOut | None:
    """The Media shape of any processed photo (a post's, a message's), its URLs signed."""
    if not width or not height or blurhash is None:
        return None
    return MediaOut(
        width=width,
        height=height,
        aspect_ratio=round(width / height, 4),
        blurhash=blurhash,
        alt_text=alt_text,
        urls=_size_urls(urls, base_key, "webp"),
        jpeg_urls=_size_urls(urls, base_key, "jpeg"),
    )


async def posts_out(
    session: AsyncSession, *, posts: Sequence[Post], viewer: User | None, urls: MediaUrls
) -> list[PostOut]:
    """Posts with authors, media, hashtags and mentions, loaded in one query each."""
    if not posts:
        return []
    ids = [post.id for post in posts]
    authors = await accounts_service.get_many(session, user_ids=[p.author_id for p in posts])
    media: dict[int, list[PostMedia]] = defaultdict(list)
    for row in await session.scalars(
        sa.select(PostMedia).where(PostMedia.post_id.in_(ids)).order_by(PostMedia.position)
    ):
        media[row.post_id].append(row)
    tags: dict[int, list[str]] = defaultdict(list)
    for post_id, tag in await session.execute(
        sa.select(PostHashtag.post_id, PostHashtag.tag).where(PostHashtag.post_id.in_(ids))
    ):
        tags[post_id].append(tag)
    names: dict[int, list[str]] = defaultdict(list)
    for post_id, name in await session.execute(
        sa.select(PostMention.post_id, PostMention.username).where(PostMention.post_id.in_(ids))
    ):
        names[post_id].append(name)
    liked: set[int] = set()
    saved: set[int] = set()
    if viewer is not None:
        liked, saved = await engagement.viewer_flags(session, viewer_id=viewer.id, post_ids=ids)
    result = []
    for post in posts:
        author = authors[post.author_id]
        shaped = [media_out(row, urls) for row in media[post.id]]
        order = {tag: i for i, tag in enumerate(_caption_order(post.caption))}
        result.append(
            PostOut(
                id=post.id,
                author=UserSummary.of(author, urls=urls),
                caption=post.caption,
                location=LocationOut(
                    name=post.location_name, lat=post.location_lat, lng=post.location_lng
                )
                if post.location_name
                else None,
                status=post.status,
                failure_reason=post.failure_reason,
                media=[item for item in shaped if item is not None],
                filter=post.filter,
                hashtags=sorted(tags[post.id], key=lambda t: order.get(t, len(order))),
                mentions=sorted(names[post.id], key=lambda n: order.get(n, len(order))),
                like_count=post.like_count,
                comment_count=post.comment_count,
                comments_disabled=post.comments_disabled,
                created_at=post.created_at,
                edited_at=post.edited_at,
                viewer=PostViewer(liked=post.id in liked, saved=post.id in saved)
                if viewer is not None
                else None,
            )
        )
    return result


def _caption_order(caption: str) -> list[str]:
    return text.hashtags(caption) + text.mentions(caption)
