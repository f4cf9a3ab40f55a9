"""Admin routes of the report queue: grouped by target, resolved once for all."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from glint.http.deps import MediaUrlsDep, PageParamsDep, RuntimeDep, SessionDep, StaffUser
from glint.moderation import presenter
from glint.moderation import service as moderation_service
from glint.moderation.models import Action, ReportStatus
from glint.moderation.schemas import ReportGroupOut, ReportGroupPage, ResolveIn
from glint.paging import cursor_int, decode_cursor, encode_cursor
from glint.schemas import path_id

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/reports")
async def reports(
    staff: StaffUser,
    session: SessionDep,
    urls: MediaUrlsDep,
    page: PageParamsDep,
    status: Annotated[Literal["open", "resolved"], Query()] = "open",
) -> ReportGroupPage:
    """Reports grouped by what they are about: open ones oldest first, resolved latest first."""
    cursor = cursor_int(decode_cursor(page.cursor), "k") if page.cursor else None
    groups, next_key = await moderation_service.queue(
        session, status=ReportStatus(status), cursor=cursor, limit=page.limit
    )
    return ReportGroupPage(
        items=await presenter.groups_out(session, groups=groups, urls=urls),
        next_cursor=encode_cursor({"k": next_key}) if next_key is not None else None,
    )


@router.get("/reports/{report_id}")
async def report_group(
    report_id: str, staff: StaffUser, session: SessionDep, urls: MediaUrlsDep
) -> ReportGroupOut:
    """Every report on the target of one report, with the target as it is now."""
    group = await moderation_service.group_of(session, report_id=path_id(report_id, "report"))
    (shaped,) = await presenter.groups_out(session, groups=[group], urls=urls)
    return shaped


@router.post("/reports/{report_id}/resolve")
async def resolve(
    report_id: str,
    body: ResolveIn,
    staff: StaffUser,
    runtime: RuntimeDep,
    session: SessionDep,
    urls: MediaUrlsDep,
) -> ReportGroupOut:
    """Dismiss, take the content down, or ban its owner (admins); every open report on the
    target is resolved with it and each reporter hears the outcome."""
    report = await moderation_service.resolve(
        session,
        ids=runtime.ids,
        actor=staff,
        report_id=path_id(report_id, "report"),
        action=Action(body.action),
        reason=body.reason,
        until=body.until,
    )
    await runtime.commit(session)
    group = await moderation_service.group_of(session, report_id=report.id)
    (shaped,) = await presenter.groups_out(session, groups=[group], urls=urls)
    return shaped
