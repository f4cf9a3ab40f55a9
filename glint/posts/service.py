"""The rules of posts: create (originals stored, then the row and its event), read, edit, delete."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.errors import Forbidden, NotFound, Unavailable, ValidationFailed
from glint.infra.db import utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.storage import ObjectStore, StorageUnavailable
from glint.media import service as media_service
from glint.media.lifecycle import MediaStatus
from glint.posts import events, text
from glint.posts.models import Post, PostHashtag, PostMedia, PostMention, published_only
from glint.posts.schemas import MAX_IMAGES, PostPatchIn
from glint.social import service as social_service


@dataclass(frozen=True, slots=True)
class NewPhoto:
    """One uploaded file, already read into memory, with its alt text."""

    data: bytes
    alt_text: str | None


async def create_post(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    storage: ObjectStore,
    author: User,
    photos: Sequence[NewPhoto],
    caption: str = "",
    location_name: str | None = None,
    location_lat: float | None = None,
    location_lng: float | None = None,
    filter_name: str | None = None,
) -> Post:
    """Validate photos by content, store the originals, and add the post (flushed, not committed).

    Should the caller's commit fail after this, the originals stay behind unreferenced: never
    a post without its photos.
    """
    _check_post_fields(photos, location_name, location_lat, location_lng)
    infos = [media_service.probe_upload(photo.data) for photo in photos]
    post_id = ids.next_id()
    media_rows = [
        PostMedia(
            id=ids.next_id(),
            post_id=post_id,
            position=index,
            original_key=media_service.original_key(media_service.KIND_POST, post_id, index),
            base_key=media_service.new_base_key(media_service.KIND_POST, post_id),
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
                _store_original(storage, row.original_key, photo.data, info.mime, stored)
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
            status=MediaStatus.PROCESSING,
            like_count=0,
            comment_count=0,
            comments_disabled=False,
            created_at=utcnow(),
        )
        # One flush at commit: the unit of work orders the inserts by their foreign keys.
        session.add(post)
        session.add_all(media_rows)
        _set_caption_entities(session, post)
        await bus.emit(session, ids=ids, event=events.PostCreated(post_id, author.id))
        await session.flush()
    except StorageUnavailable as exc:
        await session.rollback()
        await _forget(storage, stored)
        raise Unavailable(
            "Media storage is unavailable; try again shortly.", headers={"Retry-After": "10"}
        ) from exc
    except BaseException:
        await session.rollback()
        await _forget(storage, stored)
        raise
    return post


def _check_post_fields(
    photos: Sequence[NewPhoto],
    location_name: str | None,
    location_lat: float | None,
    location_lng: float | None,
) -> None:
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


async def _store_original(
    storage: ObjectStore, key: str, data: bytes, mime: str, stored: list[str]
) -> None:
    await storage.put(key, data, content_type=mime)
    stored.append(key)


async def _forget(storage: ObjectStore, keys: list[str]) -> None:
    # Best effort: a failed clean-up leaves unreferenced originals, never a half-made post.
    if keys:
        with contextlib.suppress(StorageUnavailable):
            await storage.delete_many(keys)


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
    if post.status != MediaStatus.PUBLISHED and not is_author:
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
        query = query.where(published_only())
    if before_id is not None:
        query = query.where(Post.id < before_id)
    rows = await session.scalars(query.order_by(Post.id.desc()).limit(limit + 1))
    return list(rows)


async def update_post(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, post_id: int, changes: PostPatchIn
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
    await bus.emit(session, ids=ids, event=events.PostEdited(post.id, post.author_id))
    await session.flush()
    return post


async def delete_post(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, post_id: int
) -> None:
    """Its author deletes a post at once; its stored objects go after it, by its event (staff
    take others' posts down through moderation)."""
    post = await get_post(session, viewer=viewer, post_id=post_id)
    if post.author_id != viewer.id:
        raise Forbidden("Only the author can delete a post.")
    await remove_post(session, ids=ids, post=post)


async def remove_post(session: AsyncSession, *, ids: IdGenerator, post: Post) -> None:
    """The post's row goes at once (counts follow); its stored objects after it, by event."""
    media = list(await session.scalars(sa.select(PostMedia).where(PostMedia.post_id == post.id)))
    if post.status == MediaStatus.PUBLISHED:
        await session.execute(
            sa.update(User).where(User.id == post.author_id).values(post_count=User.post_count - 1)
        )
    # Renditions live in a folder per photo; originals are single keys.
    deleted = events.PostDeleted(
        post_id=post.id,
        author_id=post.author_id,
        object_keys=[row.original_key for row in media],
        object_prefixes=[row.base_key for row in media],
    )
    await session.delete(post)
    await bus.emit(session, ids=ids, event=deleted)
    await session.flush()


@dataclass(frozen=True, slots=True)
class MediaAccess:
    """Whether a stored object may be served, and whether shared caches may keep it."""

    public: bool


async def check_media_access(
    session: AsyncSession, *, viewer: User | None, key: str
) -> MediaAccess:
    """Who may fetch a rendition: its post's or avatar's visibility decides; else NotFound."""
    parsed = media_service.base_key_of(key)
    if parsed is None:
        raise NotFound()  # originals and anything unknown are never served
    kind, base_key = parsed
    if kind == media_service.KIND_AVATAR:
        owner = await session.scalar(sa.select(User).where(User.avatar_key == base_key))
        if owner is None or not owner.is_active_account:
            raise NotFound()
        return MediaAccess(public=True)
    row = (
        await session.execute(
            sa.select(Post.id, User.is_private)
            .join(PostMedia, PostMedia.post_id == Post.id)
            .join(User, User.id == Post.author_id)
            .where(PostMedia.base_key == base_key)
        )
    ).first()
    if row is None:
        raise NotFound()
    post_id, private = row
    await get_post(session, viewer=viewer, post_id=post_id)
    return MediaAccess(public=not private)
