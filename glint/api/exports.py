"""HTTP routes of data exports: start one, see how it goes, download the ZIP (streamed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse

from glint.errors import NotFound, Unavailable
from glint.http.deps import CurrentUser, RuntimeDep, SessionDep
from glint.infra.storage import ObjectNotFound, StorageUnavailable
from glint.ownership import exports
from glint.ownership.schemas import ExportOut
from glint.schemas import path_id

router = APIRouter(tags=["exports"])

LinkParam = Annotated[str | None, Query(max_length=200)]


@router.post("/users/me/export", status_code=status.HTTP_202_ACCEPTED)
async def start_export(user: CurrentUser, runtime: RuntimeDep, session: SessionDep) -> ExportOut:
    """Start building a ZIP of all the member's data; 409 while one is being made."""
    now = runtime.clock.now()
    export = await exports.start(session, ids=runtime.ids, user_id=user.id, now=now)
    await runtime.commit(session)
    return exports.export_out(export, download_url=None)


@router.get("/users/me/export")
async def export_state(
    request: Request, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> ExportOut:
    """The member's latest export: its state, progress and signed download link when ready."""
    export = await exports.latest(session, user_id=user.id)
    return exports.shown(
        export, url_for=request.url_for, secret_key=runtime.secret_key, now=runtime.clock.now()
    )


@router.get(
    "/exports/{export_id}/download",
    name=exports.DOWNLOAD_ROUTE,
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
async def download_export(
    export_id: str,
    user: CurrentUser,
    runtime: RuntimeDep,
    session: SessionDep,
    exp: LinkParam = None,
    sig: LinkParam = None,
) -> StreamingResponse:
    """The ZIP, streamed, for its owner with a live signed link; 403 bad link, 404 no export."""
    export = await exports.downloadable(
        session,
        export_id=path_id(export_id, "export"),
        user_id=user.id,
        exp=exp,
        sig=sig,
        key=exports.download_key(runtime.secret_key),
        now=runtime.clock.now(),
    )
    key = export.storage_key or exports.export_key(export.user_id, export.id)
    try:
        size = (await runtime.storage.head(key)).size
    except ObjectNotFound as exc:
        raise NotFound("This export is no longer stored.", code="export_not_found") from exc
    except StorageUnavailable as exc:
        raise Unavailable("Storage is unavailable; try again shortly.") from exc
    filename = f"glint-{user.username}-{export.created_at:%Y-%m-%d}.zip"
    return StreamingResponse(
        _stream(runtime, key),
        media_type=exports.EXPORT_CONTENT_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(size),
            "Cache-Control": "private, no-store",
        },
    )


async def _stream(runtime: RuntimeDep, key: str) -> AsyncIterator[bytes]:
    async for chunk in runtime.storage.iter_bytes(key):
        yield chunk
