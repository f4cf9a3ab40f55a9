"""Media rules: judging uploads, where photos and their renditions are stored, and removing them."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence

from glint.errors import (
    GlintError,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from glint.infra.cpu import CpuPool
from glint.infra.storage import ObjectStore, StorageUnavailable
from glint.media import imaging

MAX_UPLOAD_BYTES = imaging.MAX_BYTES
SIZES = tuple(imaging.RENDITION_SIZES)
FORMATS = {"webp": "image/webp", "jpeg": "image/jpeg"}
EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}
# Key scheme: renditions under `{kind}/{owner}/{token}/{size}.{ext}`, which the media route parses;
# originals under `originals/...`, which it never serves.
KIND_POST = "p"
KIND_AVATAR = "a"
KIND_MESSAGE = "m"
KIND_STORY = "s"
KINDS = (KIND_POST, KIND_AVATAR, KIND_MESSAGE, KIND_STORY)


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


async def preview_jpeg(cpu: CpuPool, data: bytes) -> bytes:
    """A JPEG preview of an upload (judged as an upload is; 413/415/422 otherwise)."""
    probe_upload(data)
    try:
        return await cpu.run(imaging.preview_jpeg, data)
    except imaging.ImageRejected as exc:
        raise rejection_error(exc) from exc


def new_base_key(kind: str, owner_id: int) -> str:
    """An unguessable folder for one photo's renditions."""
    return f"{kind}/{owner_id}/{secrets.token_urlsafe(18)}"


def original_key(kind: str, owner_id: int, position: int) -> str:
    """Where one uploaded original is kept (private: never served)."""
    return f"originals/{kind}/{owner_id}/{position}-{secrets.token_urlsafe(12)}"


async def put_original(storage: ObjectStore, *, key: str, data: bytes, mime: str) -> None:
    """Store an uploaded original privately; 503 (retry shortly) while storage is down."""
    try:
        await storage.put(key, data, content_type=mime)
    except StorageUnavailable as exc:
        raise Unavailable(
            "Media storage is unavailable; try again shortly.", headers={"Retry-After": "10"}
        ) from exc


async def forget_objects(storage: ObjectStore, keys: Sequence[str]) -> None:
    """Best effort: originals of content that was not made are removed (a failure leaves them
    unreferenced, never content without its photos)."""
    if keys:
        with contextlib.suppress(StorageUnavailable):
            await storage.delete_many(list(keys))


def rendition_key(base_key: str, size: str, fmt: str) -> str:
    """Where one rendition of a photo is stored."""
    return f"{base_key}/{size}.{EXTENSIONS[fmt]}"


def base_key_of(key: str) -> tuple[str, str] | None:
    """(kind, base key) of a rendition's key; None for originals and anything unknown."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] not in KINDS:
        return None
    return parts[0], "/".join(parts[:3])


async def store_renditions(
    storage: ObjectStore, *, base_key: str, renditions: Sequence[imaging.Rendition]
) -> None:
    """Write every rendition of one photo under its folder, at once."""
    await asyncio.gather(
        *(
            storage.put(
                rendition_key(base_key, item.size, item.format), item.data, content_type=item.mime
            )
            for item in renditions
        )
    )


async def render_original(
    storage: ObjectStore,
    cpu: CpuPool,
    *,
    original_key: str,
    base_key: str,
    filter_name: str,
    tallest: float | None = None,
) -> imaging.Processed:
    """Process one stored original and store its renditions (ObjectNotFound if it is gone,
    ImageRejected if it is broken, which no retry mends)."""
    original = await storage.get(original_key)
    result = await cpu.run(imaging.process, original.data, filter_name=filter_name, tallest=tallest)
    await store_renditions(storage, base_key=base_key, renditions=result.renditions)
    return result


async def delete_objects(
    storage: ObjectStore, *, keys: Sequence[str], prefixes: Sequence[str]
) -> None:
    """Remove the given objects and every object under the given folders (idempotent)."""
    if keys:
        await storage.delete_many(list(keys))
    for prefix in prefixes:
        found = await storage.list_keys(prefix)
        if found:
            await storage.delete_many(found)
