"""Notifications (grouped, with post thumbnails and the unread ones marked) and incoming follow
requests. Marking read and approving go through the JSON API from js/activity.js."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response

from glint.accounts.schemas import Relationship, UserSummary
from glint.errors import NotFound
from glint.infra.ids import created_at
from glint.notifications import service as notifications_service
from glint.paging import (
    MAX_CURSOR_LENGTH,
    PageParams,
    cursor_int,
    decode_cursor,
    encode_cursor,
    page_by_id,
)
from glint.posts import presenter as posts_presenter
from glint.posts import service as posts_service
from glint.posts.schemas import PostOut
from glint.social import queries as social_queries
from glint.social import service as social_service
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTIFICATIONS_PAGE = 30
REQUESTS_PAGE = 30
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]


@dataclass
class NotificationView:
    """One (possibly grouped) notification with what the list shows of it."""

    id: int
    kind: str
    actors: list[UserSummary]
    actor_count: int
    post: PostOut | None
    text: str | None
    read: bool
    created_at: dt.datetime
    # Follow notifications: the viewer's relationship to the follower (Follow back), and
    # whether a follow request is still waiting (else it was approved, or withdrawn).
    relationship: Relationship | None = None
    pending: bool = False


async def _with_follow_state(
    page: PageCtx, views: list[NotificationView], pending_ids: set[int]
) -> None:
    """Follow and follow-request notifications learn how things stand now."""
    follows = [v for v in views if v.kind in ("follow", "follow_request") and v.actors]
    if not follows:
        return
    relations = await social_service.relationships(
        page.session, viewer_id=page.me.id, other_ids=[v.actors[0].id for v in follows]
    )
    for view in follows:
        view.relationship = relations[view.actors[0].id]
        view.pending = view.kind == "follow_request" and view.actors[0].id in pending_ids


async def _posts_by_id(page: PageCtx, post_ids: set[int]) -> dict[int, PostOut]:
    """The posts notifications point at, shaped in one batch; hidden or deleted ones left out."""
    found = []
    for post_id in sorted(post_ids):
        try:
            found.append(
                await posts_service.get_post(page.session, viewer=page.user, post_id=post_id)
            )
        except NotFound:
            continue
    shaped = await posts_presenter.posts_out(
        page.session, posts=found, viewer=page.user, urls=page.urls
    )
    return {post.id: post for post in shaped}


@router.get("/notifications")
async def notifications(page: MemberPageDep, cursor: Cursor = None) -> Response:
    """The viewer's notifications, newest activity first; unread ones highlighted."""
    before = cursor_int(decode_cursor(cursor), "activity") if cursor else None
    rows, unread = await notifications_service.list_for(
        page.session, user=page.me, before_activity=before, limit=NOTIFICATIONS_PAGE
    )
    items = rows[:NOTIFICATIONS_PAGE]
    posts = await _posts_by_id(page, {row.post_id for row, _, _ in items if row.post_id})
    views = [
        NotificationView(
            id=row.id,
            kind=row.kind,
            actors=[UserSummary.of(actor, urls=page.urls) for actor in actors],
            actor_count=count,
            post=posts.get(row.post_id) if row.post_id else None,
            text=row.text,
            read=row.read,
            created_at=created_at(row.activity_id),
        )
        for row, actors, count in items
        if notifications_service.has_something_to_say((row, actors, count))
    ]
    next_url = None
    if len(rows) > NOTIFICATIONS_PAGE:
        token = encode_cursor({"activity": items[-1][0].activity_id})
        next_url = "/notifications?" + urlencode({"cursor": token})
    requests = await social_queries.incoming_requests(
        page.session, user_id=page.me.id, before_id=None, limit=REQUESTS_PAGE
    )
    await _with_follow_state(page, views, {user.id for _, user in requests})
    context = {
        "notifications": views,
        "unread": unread,
        "next_url": next_url,
        "request_count": len(requests),
        "request_more": len(requests) > REQUESTS_PAGE,
        "first_requester": (UserSummary.of(requests[0][1], urls=page.urls) if requests else None),
    }
    return await page.render("notifications.html", context)


@router.get("/notifications/requests")
async def follow_requests(page: MemberPageDep, cursor: Cursor = None) -> Response:
    """People asking to follow the viewer's private account."""
    params = PageParams(limit=REQUESTS_PAGE, cursor=cursor)
    rows = await social_queries.incoming_requests(
        page.session, user_id=page.me.id, before_id=params.before_id(), limit=params.limit
    )
    items, next_cursor = page_by_id(rows, limit=params.limit, key=lambda row: row[0])
    next_url = None
    if next_cursor:
        next_url = "/notifications/requests?" + urlencode({"cursor": next_cursor})
    context = {
        "requesters": [UserSummary.of(user, urls=page.urls) for _, user in items],
        "next_url": next_url,
    }
    return await page.render("requests.html", context)
