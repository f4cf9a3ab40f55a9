"""Routes of members' side of moderation: reporting, and what was taken down of theirs."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from glint.http.deps import CurrentUser, PageParamsDep, RuntimeDep, SessionDep
from glint.moderation import presenter
from glint.moderation import service as moderation_service
from glint.moderation.schemas import RemovalOut, ReportIn, ReportOut
from glint.paging import Page, page_by_id

router = APIRouter(tags=["moderation"])


@router.post("/reports", status_code=status.HTTP_201_CREATED)
async def report(
    body: ReportIn, user: CurrentUser, runtime: RuntimeDep, session: SessionDep, response: Response
) -> ReportOut:
    """Report a post, comment, account, message or story (200 with the open one on a repeat)."""
    filed, created = await moderation_service.file_report(
        session,
        ids=runtime.ids,
        reporter=user,
        target_type=body.target_type,
        target_id=body.target_id,
        reason=body.reason,
        text=body.text,
    )
    await runtime.commit(session)
    if not created:
        response.status_code = status.HTTP_200_OK
    return presenter.report_out(filed)


@router.get("/users/me/removals")
async def removals(user: CurrentUser, session: SessionDep, page: PageParamsDep) -> Page[RemovalOut]:
    """What moderators took down of yours, and why, newest first."""
    rows = await moderation_service.removals_of(
        session, user=user, before_id=page.before_id(), limit=page.limit
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda row: row.id)
    return Page[RemovalOut](items=[presenter.removal_out(row) for row in items], next_cursor=cursor)
