"""Admin routes of accounts (search, ban, unban, roles) and posts (list, take down)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from glint.errors import NotFound
from glint.http.deps import (
    AdminUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    StaffUser,
)
from glint.moderation import content as moderation_content
from glint.moderation import presenter, targets, users
from glint.moderation import service as moderation_service
from glint.moderation.schemas import BanIn, RoleIn, StaffUserOut, UnbanIn, Why
from glint.paging import Page, page_by_id
from glint.posts import presenter as posts_presenter
from glint.posts.schemas import PostOut
from glint.schemas import path_id

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users")
async def list_users(
    admin: AdminUser,
    session: SessionDep,
    urls: MediaUrlsDep,
    page: PageParamsDep,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Page[StaffUserOut]:
    """Accounts by username or e-mail prefix (all when q is empty), newest first."""
    rows = await users.search(session, query=q, before_id=page.before_id(), limit=page.limit)
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda user: user.id)
    return Page[StaffUserOut](
        items=[presenter.staff_user_out(user, urls=urls) for user in items], next_cursor=cursor
    )


@router.get("/users/{username}")
async def get_user(
    username: str, admin: AdminUser, session: SessionDep, urls: MediaUrlsDep
) -> StaffUserOut:
    """One account, banned or not."""
    return presenter.staff_user_out(await users.find(session, username=username), urls=urls)


@router.post("/users/{username}/ban", status_code=status.HTTP_204_NO_CONTENT)
async def ban(
    username: str,
    admin: AdminUser,
    runtime: RuntimeDep,
    session: SessionDep,
    body: BanIn | None = None,
) -> None:
    """Ban an account at once: every session ends and its sockets close, its content hides."""
    user = await users.find(session, username=username)
    given = body or BanIn()
    await users.ban(
        session, ids=runtime.ids, actor=admin, user=user, reason=given.reason, until=given.until
    )
    await runtime.commit(session)


@router.post("/users/{username}/unban", status_code=status.HTTP_204_NO_CONTENT)
async def unban(
    username: str,
    admin: AdminUser,
    runtime: RuntimeDep,
    session: SessionDep,
    body: UnbanIn | None = None,
) -> None:
    """Lift a ban; the account and its content show again (it signs in anew)."""
    user = await users.find(session, username=username)
    reason = body.reason if body is not None else ""
    await users.unban(session, ids=runtime.ids, actor=admin, user=user, reason=reason)
    await runtime.commit(session)


@router.post("/users/{username}/role")
async def set_role(
    username: str,
    body: RoleIn,
    admin: AdminUser,
    runtime: RuntimeDep,
    session: SessionDep,
    urls: MediaUrlsDep,
) -> StaffUserOut:
    """Give an account a role (the last admin keeps theirs)."""
    user = await users.find(session, username=username)
    await users.set_role(session, ids=runtime.ids, actor=admin, user=user, role=body.role)
    await runtime.commit(session)
    return presenter.staff_user_out(user, urls=urls)


@router.get("/posts")
async def list_posts(
    staff: StaffUser,
    session: SessionDep,
    urls: MediaUrlsDep,
    page: PageParamsDep,
    status: Annotated[Literal["processing", "published", "failed"] | None, Query()] = None,
    username: Annotated[str | None, Query(max_length=30)] = None,
) -> Page[PostOut]:
    """Posts of any account in any state, newest first."""
    author = await users.find(session, username=username) if username else None
    rows = await moderation_content.staff_posts(
        session, status=status, author=author, before_id=page.before_id(), limit=page.limit
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda post: post.id)
    shaped = await posts_presenter.posts_out(session, posts=items, viewer=staff, urls=urls)
    return Page[PostOut](items=shaped, next_cursor=cursor)


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_post(
    post_id: str,
    staff: StaffUser,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Annotated[Why, Query()] = "",
) -> None:
    """Take a post down; its author sees a tombstone with the reason."""
    target = await targets.current(session, target_type="post", target_id=path_id(post_id, "post"))
    if target is None:
        raise NotFound("No such post.")
    await moderation_service.remove_content(
        session,
        ids=runtime.ids,
        actor=staff,
        target=target,
        reason=reason or "Removed by a moderator.",
    )
    await runtime.commit(session)
