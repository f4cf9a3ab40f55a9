"""The admin pages, part one: who may see them, the dashboard (figures and a posts-per-day chart
drawn here as SVG), the report queue and a report's detail page with its actions.

Moderators work the queue and take content down; admins also see the dashboard, ban, and give
roles (pages_admin_people.py). Anyone else signed in gets the 403 page, as the API answers 403;
signed-out visitors go to /login like on every members' page. Every action calls the service
the admin API calls (glint.moderation), so the rules and the audit log are the same."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Response

from glint.accounts import service as accounts_service
from glint.accounts.schemas import UserSummary
from glint.errors import Forbidden, ValidationFailed
from glint.messaging import store as messaging_store
from glint.moderation import presenter, stats
from glint.moderation import service as moderation_service
from glint.moderation.models import REASONS, Action, ReportStatus
from glint.paging import MAX_CURSOR_LENGTH, cursor_int, decode_cursor, encode_cursor
from glint.posts import presenter as posts_presenter
from glint.posts.models import Comment, Post
from glint.posts.schemas import PostOut
from glint.schemas import path_id
from glint.stories import presenter as stories_presenter
from glint.stories.models import Story
from glint.web.charts import bar_chart
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

QUEUE_PAGE = 20
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
NOTICES = {
    "dismiss": "Dismissed: the reports are closed and the content stays.",
    "remove_content": "Removed: its author sees why, the reporters hear the outcome.",
    "ban_user": "Banned: every session of the account has ended.",
}


async def get_staff_page(page: MemberPageDep) -> PageCtx:
    """A page for moderators and admins; 403 for other members."""
    if not page.me.is_staff:
        raise Forbidden("Moderators and administrators only.")
    return page


async def get_admin_page(page: MemberPageDep) -> PageCtx:
    """A page for admins only; 403 for everyone else signed in."""
    if page.me.role != "admin":
        raise Forbidden("Administrators only.")
    return page


StaffPageDep = Annotated[PageCtx, Depends(get_staff_page)]
AdminPageDep = Annotated[PageCtx, Depends(get_admin_page)]


def parse_until(value: str) -> dt.datetime | None:
    """A ban's end from a date field (YYYY-MM-DD, the start of that day in UTC); empty: none."""
    text = value.strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "The end date is not a date.", fields={"until": "YYYY-MM-DD"}
        ) from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def notice_of(key: str | None, notices: dict[str, str]) -> str | None:
    """The confirmation line of a redirect-after-post (?done=…)."""
    return notices.get(key or "")


@router.get("/admin")
async def dashboard(page: AdminPageDep) -> Response:
    """The figures of the deployment, and published posts per day for 30 days as a chart."""
    figures = await stats.gather(page.session)
    points = [(f"{day:%b} {day.day}", count) for day, count in figures.posts_per_day]
    chart = bar_chart(points, title=f"Posts published per day, last {len(points)} days (UTC)")
    context = {
        "section": "dashboard",
        "figures": figures,
        "storage_bytes": await page.runtime.storage.total_bytes(),
        "chart": chart,
    }
    return await page.render("admin_dashboard.html", context)


@router.get("/admin/reports")
async def reports(
    page: StaffPageDep,
    status: Annotated[Literal["open", "resolved"], Query()] = "open",
    cursor: Cursor = None,
) -> Response:
    """The queue: one row per reported thing, open ones oldest first, resolved latest first."""
    key = cursor_int(decode_cursor(cursor), "k") if cursor else None
    groups, next_key = await moderation_service.queue(
        page.session, status=ReportStatus(status), cursor=key, limit=QUEUE_PAGE
    )
    shaped = await presenter.groups_out(page.session, groups=groups, urls=page.urls)
    next_url = None
    if next_key is not None:
        query = {"status": status, "cursor": encode_cursor({"k": next_key})}
        next_url = "/admin/reports?" + urlencode(query)
    context = {"section": "reports", "status": status, "groups": shaped, "next_url": next_url}
    return await page.render("admin_reports.html", context)


@dataclass
class Reported:
    """The reported thing as the detail page shows it inline (whatever is left of it)."""

    post: PostOut | None = None
    comment: Comment | None = None
    person: UserSummary | None = None
    bio: str = ""
    text: str | None = None
    thumbnail: str | None = None


async def _reported(page: PageCtx, target_type: str, target_id: int) -> Reported:
    """Load the reported content as staff see it (any audience); empty when it is gone."""
    session, urls = page.session, page.urls
    if target_type == "post":
        post = await session.get(Post, target_id)
        if post is None:
            return Reported()
        (shaped,) = await posts_presenter.posts_out(
            session, posts=[post], viewer=page.me, urls=urls
        )
        return Reported(post=shaped)
    if target_type == "comment":
        return Reported(comment=await session.get(Comment, target_id))
    if target_type == "user":
        user = await accounts_service.get_by_id(session, user_id=target_id)
        if user is None:
            return Reported()
        return Reported(person=UserSummary.of(user, urls=urls), bio=user.bio)
    if target_type == "message":
        message = await messaging_store.store_for(session).find(target_id)
        if message is None:
            return Reported()
        return Reported(text=message.text or f"({message.kind.replace('_', ' ')})")
    story = await session.get(Story, target_id)
    if story is None:
        return Reported()
    media = stories_presenter.media_out(urls, story)
    return Reported(text=story.caption, thumbnail=media.jpeg_urls.small if media else None)


@router.get("/admin/reports/{report_id}")
async def report_detail(
    report_id: str, page: StaffPageDep, done: str | None = Query(None, max_length=20)
) -> Response:
    """Every report on one thing (who, why, what they wrote), the thing itself, and actions."""
    parsed = path_id(report_id, "report")
    group = await moderation_service.group_of(page.session, report_id=parsed)
    (shaped,) = await presenter.groups_out(page.session, groups=[group], urls=page.urls)
    context = {
        "section": "reports",
        "report_id": parsed,
        "group": shaped,
        "is_open": any(r.status == ReportStatus.OPEN for r in group.reports),
        "content": await _reported(page, group.target_type, group.target_id),
        "reasons": REASONS,
        "notice": notice_of(done, NOTICES),
        "today": dt.datetime.now(dt.UTC).date(),
    }
    return await page.render("admin_report.html", context)


@router.post("/admin/reports/{report_id}/resolve")
async def resolve(report_id: str, page: StaffPageDep) -> Response:
    """Dismiss, take the content down, or ban its owner (admins, with an optional end date);
    every open report on the same thing is resolved with it."""
    fields = await page.verify_form()
    try:
        action = Action(fields.get("action", ""))
    except ValueError:
        raise ValidationFailed(
            "Unknown action.", fields={"action": "dismiss, remove_content or ban_user"}
        ) from None
    report = await moderation_service.resolve(
        page.session,
        ids=page.runtime.ids,
        actor=page.me,
        report_id=path_id(report_id, "report"),
        action=action,
        reason=fields.get("reason", "").strip()[:500],
        until=parse_until(fields.get("until", "")) if action is Action.BAN_USER else None,
    )
    await page.runtime.commit(page.session)
    return redirect(f"/admin/reports/{report.id}?done={action.value}")
