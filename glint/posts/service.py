"""The rules of posts: create (originals, row and job in one transaction), read, edit, delete."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.errors import Forbidden, NotFound, Unavailable, ValidationFailed
from glint.feeds import jobs as feeds_jobs
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.infra.storage import StorageUnavailable
from glint.media import service as media_service
from glint.posts import cache as posts_cache
from glint.posts import text
from glint.posts.models import Post, PostHashtag, PostMedia, PostMention
from glint.posts.schemas import MAX_IMAGES, PostPatchIn
from glint.social import service as social_service

PROCESS_JOB = "posts.process"


@dataclass(frozen=True, slots=True)
class NewPhoto:
    """One uploaded file, already read into memory, with its alt text."""

    data: bytes
    alt_text: str | None


async def create_post(
    session: AsyncSession,
    *,
    runtime: Runtime,
    author: User,
    photos: Sequence[NewPhoto],
    caption: str = "",
    location_name: str | None = None,
    location_lat: float | None = None,
    location_lng: float | None = None,
    filter_name: str | None = None,
) -> Post:
    """Validate photos by content, store the originals, and commit the post with its job."""
    if not 1 <= len(photos) <= MAX_IMAGES:
        raise ValidationFailed(
            f"A post has 1 to {MAX_IMAGES} photos.", fields={"image": "1 to 10 files"}
        )
    if (location_lat is None) != (location_lng is None):
        raise ValidationFailed(
            "Give both coordinates or neither.", fields={"location_lat": "needs location_lng"}
        )
    if location_lat is not None and not location_name:
        raise ValidationFailed(
            "Coordinates need a place name.", fields={"location_name": "required with coordinates"}
        )
    infos = [media_service.probe_upload(photo.data) for photo in photos]
    post_id = runtime.ids.next_id()
    now = utcnow()
    media_rows = [
        PostMedia(
            id=runtime.ids.next_id(),
            post_id=post_id,
            position=index,
            original_key=f"originals/p/{post_id}/{index}-{secrets.token_urlsafe(12)}",
            base_key=f"p/{post_id}/{secrets.token_urlsafe(18)}",
            alt_text=photo.alt_text or None,
            width=info.width,
            height=info.height,
        )
        for index, (photo, info) in enumerate(zip(photos, infos, strict=True))
    ]
    stored: list[str] = []
    try:
        await asyncio.gather(
            *(
                _store_original(runtime, row.original_key, photo.data, info.mime, stored)
                for row, photo, info in zip(media_rows, photos, infos, strict=True)
            )
        )
        post = Post(
            id=post_id,
            author_id=author.id,
            caption=caption,
            location_name=location_name or None,
            location_lat=location_lat,
            location_lng=location_lng,
            filter=filter_name if filter_name and filter_name != "none" else None,
            status="processing",
            like_count=0,
            comment_count=0,
            comments_disabled=False,
            created_at=now,
        )
        # One flush at commit: the unit of work orders the inserts by their foreign keys.
        session.add(post)
        session.add_all(media_rows)
        _set_caption_entities(session, post)
        job_id = await runtime.jobs.enqueue(session, name=PROCESS_JOB, payload={"post_id": post_id})
        await session.commit()
    except StorageUnavailable as exc:
        await session.rollback()
        await _forget(runtime, stored)
        raise Unavailable(
            "Media storage is unavailable; try again shortly.", headers={"Retry-After": "10"}
        ) from exc
    except BaseException:
        await session.rollback()
        await _forget(runtime, stored)
        raise
    await runtime.jobs.dispatch([job_id])
    return post


async def _store_original(
    runtime: Runtime, key: str, data: bytes, mime: str, stored: list[str]
) -> None:
    await runtime.storage.put(key, data, content_type=mime)
    stored.append(key)


async def _forget(runtime: Runtime, keys: list[str]) -> None:
    # Best effort: a failed clean-up leaves unreferenced originals, never a half-made post.
    if keys:
        with contextlib.suppress(StorageUnavailable):
            await runtime.storage.delete_many(keys)


def _set_caption_entities(session: AsyncSession, post: Post) -> None:
    for tag in text.hashtags(post.caption):
        session.add(PostHashtag(post_id=post.id, tag=tag))
    for name in text.mentions(post.caption):
        session.add(PostMention(post_id=post.id, username=name))


async def _replace_caption_entities(session: AsyncSession, post: Post) -> None:
    await session.execute(sa.delete(PostHashtag).where(PostHashtag.post_id == post.id))
    await session.execute(sa.delete(PostMention).where(PostMention.post_id == post.id))
    _set_caption_entities(session, post)


async def get_post(session: AsyncSession, *, viewer: User | None, post_id: int) -> Post:
    """A post the viewer may see, or NotFound (never telling hidden from missing)."""
    row = (
        await session.execute(
            sa.select(Post, User).join(User, User.id == Post.author_id).where(Post.id == post_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such post.")
    post, author = row
    is_author = viewer is not None and viewer.id == post.author_id
    if post.status != "published" and not is_author:
        raise NotFound("No such post.")
    if not await social_service.can_view(session, viewer=viewer, author=author):
        raise NotFound("No such post.")
    return post


async def list_user_posts(
    session: AsyncSession,
    *,
    viewer: User | None,
    author: User,
    before_id: int | None,
    limit: int,
) -> list[Post]:
    """One page of an author's posts, newest first; limit+1 rows so the caller can page."""
    await social_service.ensure_visible_profile(session, viewer=viewer, user=author)
    if not await social_service.can_view(session, viewer=viewer, author=author):
        raise Forbidden("This account is private.", code="account_private")
    query = sa.select(Post).where(Post.author_id == author.id)
    if viewer is None or viewer.id != author.id:
        query = query.where(Post.status == "published")
    if before_id is not None:
        query = query.where(Post.id < before_id)
    rows = await session.scalars(query.order_by(Post.id.desc()).limit(limit + 1))
    return list(rows)


async def update_post(
    session: AsyncSession, *, viewer: User, post_id: int, changes: PostPatchIn
) -> Post:
    """Edit caption, comment switch or alt texts; the author only."""
    post = await get_post(session, viewer=viewer, post_id=post_id)
    if post.author_id != viewer.id:
        raise Forbidden("Only the author can edit a post.")
    given = changes.model_dump(exclude_unset=True)
    if any(value is None for value in given.values()):
        raise ValidationFailed("Fields may not be null.")
    if "caption" in given:
        post.caption = given["caption"]
        await _replace_caption_entities(session, post)
    if "comments_disabled" in given:
        post.comments_disabled = given["comments_disabled"]
    if "alt_text" in given:
        media = list(
            await session.scalars(
                sa.select(PostMedia)
                .where(PostMedia.post_id == post.id)
                .order_by(PostMedia.position)
            )
        )
        if len(given["alt_text"]) > len(media):
            raise ValidationFailed(
                "More alt texts than photos.", fields={"alt_text": "one per photo at most"}
            )
        for row, alt in zip(media, given["alt_text"], strict=False):
            row.alt_text = alt or None
    post.edited_at = utcnow()
    await session.flush()
    return post


async def delete_post(
    session: AsyncSession, *, runtime: Runtime, viewer: User, post_id: int
) -> None:
    """Delete a post at once (author or admin); its stored objects go in a background job."""
    post = await get_post(session, viewer=viewer, post_id=post_id)
    if post.author_id != viewer.id and viewer.role != "admin":
        raise Forbidden("Only the author or an admin can delete a post.")
    media = list(await session.scalars(sa.select(PostMedia).where(PostMedia.post_id == post.id)))
    # Renditions live in a folder per photo; originals are single keys.
    prefixes = [row.base_key for row in media]
    keys = [row.original_key for row in media]
    if post.status == "published":
        await session.execute(
            sa.update(User).where(User.id == post.author_id).values(post_count=User.post_count - 1)
        )
    author_id = post.author_id
    await session.delete(post)
    job_ids = [
        await runtime.jobs.enqueue(
            session,
            name=media_service.DELETE_OBJECTS_JOB,
            payload={"prefixes": prefixes, "keys": keys},
        ),
        await feeds_jobs.enqueue_retract(
            session, runtime=runtime, post_id=post_id, author_id=author_id
        ),
    ]
    await session.commit()
    await posts_cache.forget(runtime, [post_id])
    await runtime.jobs.dispatch(job_ids)
