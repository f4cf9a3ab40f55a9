"""Media rules: judging uploads, naming renditions, and deciding who may fetch stored bytes."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.errors import (
    GlintError,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from glint.infra.storage import StorageUnavailable
from glint.media import imaging

if TYPE_CHECKING:
    from glint.infra.runtime import Runtime

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DELETE_OBJECTS_JOB = "media.delete_objects"
SIZES = ("thumbnail", "small", "medium", "large")
FORMATS = {"webp": "image/webp", "jpeg": "image/jpeg"}
EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}


def rejection_error(exc: imaging.ImageRejected) -> GlintError:
    """The API error for an image the pipeline refused."""
    by_status: dict[int, type[GlintError]] = {
        413: PayloadTooLarge,
        415: UnsupportedMediaType,
        422: ValidationFailed,
    }
    error_type = by_status.get(exc.status, ValidationFailed)
    return error_type(exc.message, code=exc.code)


def probe_upload(data: bytes) -> imaging.ImageInfo:
    """Judge one upload by its bytes (size, magic, header) without decoding the pixels."""
    try:
        return imaging.probe(data, max_bytes=MAX_UPLOAD_BYTES)
    except imaging.ImageRejected as exc:
        raise rejection_error(exc) from exc


async def set_avatar(session: AsyncSession, *, runtime: Runtime, user: User, data: bytes) -> None:
    """Process a new profile photo now (one small image), store it, and retire the old one."""
    probe_upload(data)
    try:
        result = await runtime.cpu.run(imaging.process, data)
    except imaging.ImageRejected as exc:
        raise rejection_error(exc) from exc
    base_key = f"a/{user.id}/{secrets.token_urlsafe(18)}"
    try:
        await asyncio.gather(
            *(
                runtime.storage.put(
                    rendition_key(base_key, item.size, item.format),
                    item.data,
                    content_type=item.mime,
                )
                for item in result.renditions
            )
        )
    except StorageUnavailable as exc:
        await runtime.storage.delete_many(await runtime.storage.list_keys(base_key))
        raise Unavailable("Media storage is unavailable.", headers={"Retry-After": "10"}) from exc
    old = user.avatar_key
    user.avatar_key = base_key
    if old:
        job_id = await runtime.jobs.enqueue(
            session, name=DELETE_OBJECTS_JOB, payload={"prefixes": [old], "keys": []}
        )
        await session.commit()
        await runtime.jobs.dispatch([job_id])
    else:
        await session.commit()


def rendition_key(base_key: str, size: str, fmt: str) -> str:
    """Where one rendition of a photo is stored."""
    return f"{base_key}/{size}.{EXTENSIONS[fmt]}"


@dataclass(frozen=True, slots=True)
class MediaAccess:
    """Whether a stored object may be served, and how long caches may keep it."""

    public: bool


async def check_access(session: AsyncSession, *, viewer: User | None, key: str) -> MediaAccess:
    """Who may fetch a rendition: its post's or avatar's visibility decides; else NotFound."""
    # Imported here: posts build on media, so media may only look back at posts lazily.
    from glint.posts import service as posts_service
    from glint.posts.models import Post, PostMedia

    parts = key.split("/")
    if len(parts) != 4 or parts[0] not in ("p", "a"):
        raise NotFound()  # originals and anything unknown are never served
    base_key = "/".join(parts[:3])
    if parts[0] == "a":
        owner = await session.scalar(sa.select(User).where(User.avatar_key == base_key))
        if owner is None or not owner.is_active_account:
            raise NotFound()
        return MediaAccess(public=True)
    row = (
        await session.execute(
            sa.select(Post, User)
            .join(PostMedia, PostMedia.post_id == Post.id)
            .join(User, User.id == Post.author_id)
            .where(PostMedia.base_key == base_key)
        )
    ).first()
    if row is None:
        raise NotFound()
    post, author = row
    await posts_service.get_post(session, viewer=viewer, post_id=post.id)
    return MediaAccess(public=not author.is_private)
