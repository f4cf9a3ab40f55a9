"""HTTP routes of notifications."""

from __future__ import annotations

from fastapi import APIRouter, status

from glint.http.deps import CurrentUser, MediaUrlsDep, PageParamsDep, SessionDep
from glint.notifications import presenter as notifications_presenter
from glint.notifications import service as notifications_service
from glint.notifications.schemas import MarkReadIn, NotificationPage
from glint.paging import cursor_int, decode_cursor, encode_cursor

router = APIRouter(tags=["notifications"])


@router.get("/notifications")
async def notifications(
    page: PageParamsDep, user: CurrentUser, urls: MediaUrlsDep, session: SessionDep
) -> NotificationPage:
    """The signed-in user's notifications, newest activity first, with the unread count."""
    before = cursor_int(decode_cursor(page.cursor), "activity") if page.cursor else None
    rows, unread = await notifications_service.list_for(
        session, user=user, before_activity=before, limit=page.limit
    )
    items = rows[: page.limit]
    cursor = (
        encode_cursor({"activity": items[-1][0].activity_id}) if len(rows) > page.limit else None
    )
    return NotificationPage(
        items=[
            notifications_presenter.notification_out(shown, urls=urls)
            for shown in items
            if notifications_service.has_something_to_say(shown)
        ],
        next_cursor=cursor,
        unread_count=unread,
    )


@router.post("/notifications/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(user: CurrentUser, session: SessionDep, body: MarkReadIn | None = None) -> None:
    """Mark notifications read (all of them when no up_to_id is given)."""
    up_to = body.up_to_id if body is not None else None
    await notifications_service.mark_read(session, user=user, up_to_id=up_to)
    await session.commit()
