"""The rules of data exports: one running per member, its progress, a signed download, expiry.

The ZIP itself is built by glint/ownership/export_build.py in a job; this module keeps the row's
state machine and the link. The download link is signed (HMAC, a key of its own) over the
export and its owner, and lives at most a day; the route also wants the owner signed in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.errors import Conflict, Forbidden, NotFound
from glint.infra.db import insert_ignore
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.keys import derive_key
from glint.media import signing
from glint.ownership import events
from glint.ownership.models import DataExport, ExportStatus, move_export
from glint.ownership.schemas import ExportOut

EXPORT_CONTENT_TYPE = "application/zip"
KEY_PURPOSE = "export-download"
DOWNLOAD_ROUTE = "download_export"
# A link is re-signed at each look at the export; one that leaks stops working within a day.
LINK_TTL_SECONDS = 24 * 3600
LINK_WINDOW_SECONDS = 3600
ERROR_LENGTH = 500


def exports_prefix(user_id: int) -> str:
    """The folder every export object of one member lives under (account deletion empties it)."""
    return f"exports/{user_id}/"


def export_key(user_id: int, export_id: int) -> str:
    """Where one export's ZIP is stored."""
    return f"{exports_prefix(user_id)}{export_id}.zip"


def download_key(secret_key: str) -> bytes:
    """The HMAC key of download links, derived from the deployment secret."""
    return derive_key(secret_key, KEY_PURPOSE)


def _signed_message(export_id: int, user_id: int) -> str:
    return f"export:{export_id}:{user_id}"


def download_url(
    export: DataExport | None, *, url_for: Callable[..., Any], secret_key: str, now: dt.datetime
) -> str | None:
    """The signed link to a ready export (None otherwise): its download route's path (found
    by `url_for`, a request's) with `?exp=..&sig=..`, ending with the export's life and a day
    at most, the same within one window (a polling page keeps its link)."""
    if export is None or export.status != ExportStatus.READY or export.expires_at is None:
        return None
    route_path = url_for(DOWNLOAD_ROUTE, export_id=str(export.id)).path
    key = download_key(secret_key)
    window = math.ceil(now.timestamp() / LINK_WINDOW_SECONDS) * LINK_WINDOW_SECONDS
    exp = min(int(export.expires_at.timestamp()), window + LINK_TTL_SECONDS)
    sig = signing.signature(_signed_message(export.id, export.user_id), exp, key)
    return f"{route_path}?" + urlencode({"exp": exp, "sig": sig})


async def start(
    session: AsyncSession, *, ids: IdGenerator, user_id: int, now: dt.datetime
) -> DataExport:
    """A new running export whose job is announced; Conflict while another one runs."""
    export_id = ids.next_id()
    values = {
        "id": export_id,
        "user_id": user_id,
        "status": ExportStatus.RUNNING.value,
        "progress": 0.0,
        "created_at": now,
    }
    # The partial unique index admits one running export per member: a double click loses here.
    if not await insert_ignore(session, DataExport, values):
        raise Conflict("An export of your data is already being made.", code="export_running")
    await bus.emit(
        session, ids=ids, event=events.ExportRequested(export_id=export_id, user_id=user_id)
    )
    export = await session.get(DataExport, export_id)
    assert export is not None
    return export


async def latest(session: AsyncSession, *, user_id: int) -> DataExport | None:
    """The member's newest export, whatever its state."""
    return await session.scalar(
        sa.select(DataExport)
        .where(DataExport.user_id == user_id)
        .order_by(DataExport.id.desc())
        .limit(1)
    )


def export_out(export: DataExport | None, *, download_url: str | None) -> ExportOut:
    """What the member is shown of their latest export (an expired one counts as none)."""
    if export is None or export.status == ExportStatus.EXPIRED:
        return ExportOut(status="none", progress=0.0, download_url=None, expires_at=None)
    ready = export.status == ExportStatus.READY
    return ExportOut(
        status="ready"
        if ready
        else "failed"
        if export.status == ExportStatus.FAILED
        else "running",
        progress=1.0 if ready else round(export.progress, 3),
        download_url=download_url if ready else None,
        expires_at=export.expires_at if ready else None,
        error=export.error,
        size_bytes=export.size_bytes if ready else None,
    )


def shown(
    export: DataExport | None, *, url_for: Callable[..., Any], secret_key: str, now: dt.datetime
) -> ExportOut:
    """The latest export as the API and the settings page show it, link signed."""
    link = download_url(export, url_for=url_for, secret_key=secret_key, now=now)
    return export_out(export, download_url=link)


async def downloadable(
    session: AsyncSession,
    *,
    export_id: int,
    user_id: int,
    exp: str | None,
    sig: str | None,
    key: bytes,
    now: dt.datetime,
) -> DataExport:
    """The ready export a signed link names for its signed-in owner; 403 for a bad or expired
    signature, 404 for anything else (another's export, an expired or unfinished one)."""
    message = _signed_message(export_id, user_id)
    try:
        signing.verify_media_signature(message, exp, sig, secret=key, now=now.timestamp())
    except signing.InvalidSignature as exc:
        raise Forbidden(f"Download link {exc.reason}.", code="invalid_signature") from exc
    export = await session.get(DataExport, export_id)
    if export is None or export.user_id != user_id or export.status != ExportStatus.READY:
        raise NotFound("No such export.", code="export_not_found")
    if export.expires_at is not None and export.expires_at <= now:
        raise NotFound("This export has expired.", code="export_not_found")
    return export


async def running(session: AsyncSession, *, export_id: int) -> DataExport | None:
    """The export if it is still running (a job run after the end finds nothing to do)."""
    export = await session.get(DataExport, export_id)
    return export if export is not None and export.status == ExportStatus.RUNNING else None


async def is_ready(session: AsyncSession, *, export_id: int) -> bool:
    """Whether the export is ready (another run of its job may have finished it)."""
    export = await session.get(DataExport, export_id)
    return export is not None and export.status == ExportStatus.READY


async def set_progress(session: AsyncSession, *, export_id: int, progress: float) -> None:
    """Record how far the build has come (0-1) on a running export."""
    await session.execute(
        sa.update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == ExportStatus.RUNNING.value)
        .values(progress=max(0.0, min(progress, 1.0)))
    )


async def finish(
    session: AsyncSession, *, export_id: int, size: int, now: dt.datetime, ttl_days: int
) -> DataExport | None:
    """The export is ready until now + ttl_days; None when it was no longer running."""
    export = await running(session, export_id=export_id)
    if export is None:
        return None
    move_export(export, ExportStatus.READY)
    export.progress = 1.0
    export.size_bytes = size
    export.finished_at = now
    export.expires_at = now + dt.timedelta(days=ttl_days)
    await session.flush()
    return export


async def fail(
    session: AsyncSession, *, export_id: int, reason: str, now: dt.datetime
) -> DataExport | None:
    """The export failed, with the reason; None when it was no longer running."""
    export = await running(session, export_id=export_id)
    if export is None:
        return None
    move_export(export, ExportStatus.FAILED)
    export.error = reason[:ERROR_LENGTH]
    export.finished_at = now
    await session.flush()
    return export


async def due_to_expire(session: AsyncSession, *, now: dt.datetime, limit: int) -> list[DataExport]:
    """Ready exports whose time is up, oldest first."""
    return list(
        await session.scalars(
            sa.select(DataExport)
            .where(DataExport.status == ExportStatus.READY.value, DataExport.expires_at <= now)
            .order_by(DataExport.id)
            .limit(limit)
        )
    )


def expire(export: DataExport) -> str | None:
    """Mark a ready export expired; the key of its object, to remove once this commits."""
    move_export(export, ExportStatus.EXPIRED)
    key, export.storage_key = export.storage_key, None
    return key
