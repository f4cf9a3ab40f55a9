"""The admin pages, part two: accounts (search, one account with its ban and role), the audit
log (with the link to its CSV), and posts of any account with a take-down form. Accounts and
the log are for admins; posts for moderators too (as in the admin API)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response

from glint.accounts.models import ROLES
from glint.errors import NotFound
from glint.moderation import audit, presenter, targets, users
from glint.moderation import content as moderation_content
from glint.moderation import service as moderation_service
from glint.paging import PageParams, page_by_id
from glint.posts import presenter as posts_presenter
from glint.schemas import path_id
from glint.web.pages_admin import AdminPageDep, Cursor, StaffPageDep, notice_of, parse_until
from glint.web.rendering import WebRoute, redirect, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE = 30
NOTICES = {
    "ban": "Banned: every session of the account has ended and its content is hidden.",
    "unban": "Ban lifted: the account and its content show again.",
    "role": "Role changed.",
    "removed": "Post removed: its author sees why.",
}


def _next_url(path: str, cursor: str | None, **query: str) -> str | None:
    """The "Older" link of a page, keeping its filters."""
    if cursor is None:
        return None
    return f"{path}?" + urlencode({**{k: v for k, v in query.items() if v}, "cursor": cursor})


@router.get("/admin/users")
async def user_list(
    page: AdminPageDep,
    q: Annotated[str, Query(max_length=100)] = "",
    cursor: Cursor = None,
) -> Response:
    """Accounts by username or e-mail prefix (all when empty), newest first, banned ones too."""
    params = PageParams(limit=PAGE, cursor=cursor)
    rows = await users.search(page.session, query=q, before_id=params.before_id(), limit=PAGE)
    items, next_cursor = page_by_id(rows, limit=PAGE, key=lambda user: user.id)
    context = {
        "section": "users",
        "q": q,
        "people": [presenter.staff_user_out(user, urls=page.urls) for user in items],
        "next_url": _next_url("/admin/users", next_cursor, q=q),
    }
    return await page.render("admin_users.html", context)


@router.get("/admin/users/{username}")
async def user_detail(
    username: str, page: AdminPageDep, done: str | None = Query(None, max_length=20)
) -> Response:
    """One account: its ban (with the forms to ban or lift it) and its role."""
    user = await users.find(page.session, username=username)
    context = {
        "section": "users",
        "person": presenter.staff_user_out(user, urls=page.urls),
        "roles": ROLES,
        "notice": notice_of(done, NOTICES),
    }
    return await page.render("admin_user.html", context)


@router.post("/admin/users/{username}/{action}")
async def user_action(
    username: str, action: Literal["ban", "unban", "role"], page: AdminPageDep
) -> Response:
    """Ban (reason, optional end date), lift a ban (reason), or give a role."""
    fields = await page.verify_form()
    user = await users.find(page.session, username=username)
    ids, reason = page.runtime.ids, fields.get("reason", "").strip()[:500]
    if action == "ban":
        until = parse_until(fields.get("until", ""))
        await users.ban(page.session, ids=ids, actor=page.me, user=user, reason=reason, until=until)
    elif action == "unban":
        await users.unban(page.session, ids=ids, actor=page.me, user=user, reason=reason)
    else:
        await users.set_role(
            page.session, ids=ids, actor=page.me, user=user, role=fields.get("role", "")
        )
    await page.runtime.commit(page.session)
    return redirect(f"/admin/users/{user.username}?done={action}")


@router.get("/admin/audit")
async def audit_log(page: AdminPageDep, cursor: Cursor = None) -> Response:
    """Every staff action, newest first; the whole log as CSV through the admin API."""
    params = PageParams(limit=PAGE, cursor=cursor)
    rows = await audit.entries(page.session, before_id=params.before_id(), limit=PAGE)
    items, next_cursor = page_by_id(rows, limit=PAGE, key=lambda entry: entry.id)
    context = {
        "section": "audit",
        "entries": [presenter.audit_out(entry) for entry in items],
        "next_url": _next_url("/admin/audit", next_cursor),
    }
    return await page.render("admin_audit.html", context)


@router.get("/admin/posts")
async def post_list(
    page: StaffPageDep,
    status: Annotated[Literal["", "processing", "published", "failed"], Query()] = "",
    username: Annotated[str, Query(max_length=30)] = "",
    cursor: Cursor = None,
    done: str | None = Query(None, max_length=20),
) -> Response:
    """Posts of any account in any state, newest first, filtered by state and author."""
    params = PageParams(limit=PAGE, cursor=cursor)
    author = await users.find(page.session, username=username) if username.strip() else None
    rows = await moderation_content.staff_posts(
        page.session,
        status=status or None,
        author=author,
        before_id=params.before_id(),
        limit=PAGE,
    )
    items, next_cursor = page_by_id(rows, limit=PAGE, key=lambda post: post.id)
    shaped = await posts_presenter.posts_out(
        page.session, posts=items, viewer=page.me, urls=page.urls
    )
    context = {
        "section": "posts",
        "posts": shaped,
        "status": status,
        "username": username,
        "notice": notice_of(done, NOTICES),
        "next_url": _next_url("/admin/posts", next_cursor, status=status, username=username),
        "here": "/admin/posts?" + urlencode({"status": status, "username": username}),
    }
    return await page.render("admin_posts.html", context)


@router.post("/admin/posts/{post_id}/remove")
async def remove_post(post_id: str, page: StaffPageDep) -> Response:
    """Take a post down with a reason; its author gets a tombstone and a notification."""
    fields = await page.verify_form()
    target = await targets.current(
        page.session, target_type="post", target_id=path_id(post_id, "post")
    )
    if target is None:
        raise NotFound("No such post.")
    await moderation_service.remove_content(
        page.session,
        ids=page.runtime.ids,
        actor=page.me,
        target=target,
        reason=fields.get("reason", "").strip()[:500] or "Removed by a moderator.",
    )
    await page.runtime.commit(page.session)
    back = safe_next(fields.get("next"), "/admin/posts")
    return redirect(back + ("&" if "?" in back else "?") + "done=removed")
