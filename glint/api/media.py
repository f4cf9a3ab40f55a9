"""GET/HEAD /media/{key}: signed, expiring URLs to stored renditions, with ETag and Range."""

from __future__ import annotations

import datetime as dt
import re
import time

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.errors import Forbidden, GlintError, NotFound, Unavailable
from glint.http.deps import MediaUrlsDep, RuntimeDep, SessionDep, ViewerDep
from glint.infra.storage import ObjectNotFound, StorageUnavailable
from glint.media import service as media_service
from glint.media import signing
from glint.messaging import messages as messages_service
from glint.posts import service as posts_service
from glint.stories import service as stories_service

router = APIRouter(tags=["media"])

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(GlintError):
    """416: the asked byte range lies outside the object."""

    status = 416
    code = "range_not_satisfiable"


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a single byte range, None to send everything."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # multiple or malformed ranges: RFC 9110 lets us answer with the whole
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(
                "Empty suffix range.", headers={"Content-Range": f"bytes */{size}"}
            )
        return max(0, size - length), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable(
            "The range lies outside the object.", headers={"Content-Range": f"bytes */{size}"}
        )
    return start, end


@router.api_route("/media/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def media(
    key: str,
    request: Request,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    viewer: ViewerDep,
    exp: str | None = None,
    sig: str | None = None,
) -> Response:
    """The bytes of one rendition, if the URL is signed, live and the viewer may see it."""
    try:
        signing.verify_media_signature(key, exp, sig, secret=urls.key)
    except signing.InvalidSignature as exc:
        raise Forbidden(f"Media URL signature {exc.reason}.", code="invalid_signature") from exc
    access = await _check_access(
        session, viewer=viewer.user if viewer else None, key=key, now=runtime.clock.now()
    )
    try:
        meta = await runtime.storage.head(key)
        etag = f'"{meta.etag.strip(chr(34))}"' if meta.etag else None
        ttl = max(0, int(exp or 0) - int(time.time()))
        scope = "public" if access.public else "private"
        headers = {
            "Accept-Ranges": "bytes",
            "Cache-Control": f"{scope}, max-age={ttl}, immutable",
            "Content-Type": meta.content_type or _guess_type(key),
        }
        if etag:
            headers["ETag"] = etag
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers=headers)
        byte_range = _parse_range(request.headers.get("range", ""), meta.size)
        if request.method == "HEAD":
            headers["Content-Length"] = str(meta.size)
            return Response(status_code=200, headers=headers)
        if byte_range is None:
            body = (await runtime.storage.get(key)).data
            return Response(body, status_code=200, headers=headers)
        start, end = byte_range
        body = await runtime.storage.get_range(key, start, end)
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{meta.size}"
        return Response(body, status_code=206, headers=headers)
    except ObjectNotFound as exc:
        raise NotFound() from exc
    except StorageUnavailable as exc:
        raise Unavailable("Media storage is unavailable.", headers={"Retry-After": "10"}) from exc


async def _check_access(
    session: AsyncSession, *, viewer: User | None, key: str, now: dt.datetime
) -> posts_service.MediaAccess:
    """Who may fetch a rendition: the conversation's members for a message's photo, otherwise
    the story's viewers for a story's, otherwise the post's or avatar's visibility."""
    parsed = media_service.base_key_of(key)
    if parsed is not None and parsed[0] == media_service.KIND_MESSAGE:
        await messages_service.check_photo_access(session, viewer=viewer, base_key=parsed[1])
        return posts_service.MediaAccess(public=False)
    if parsed is not None and parsed[0] == media_service.KIND_STORY:
        await stories_service.check_photo_access(
            session, viewer=viewer, base_key=parsed[1], now=now
        )
        return posts_service.MediaAccess(public=False)
    return await posts_service.check_media_access(session, viewer=viewer, key=key)


def _guess_type(key: str) -> str:
    if key.endswith(".webp"):
        return "image/webp"
    if key.endswith(".jpg"):
        return "image/jpeg"
    return "application/octet-stream"
