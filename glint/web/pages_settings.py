"""Account settings: edit profile and avatar, change password, signed-in devices.

HTML forms posted to page routes, each with its hidden CSRF token, then redirect-after-post.
The rules live in the services the API uses too (social/service.py, accounts/service.py):
going public approves pending follow requests and tells the requesters; a new password signs
every other device out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from glint.accounts import service as accounts_service
from glint.accounts import sessions as accounts_sessions
from glint.accounts.schemas import PasswordChangeIn, ProfilePatchIn, SessionOut
from glint.errors import GlintError, NotFound
from glint.http import uploads
from glint.moderation import service as moderation_service
from glint.paging import MAX_CURSOR_LENGTH, PageParams, page_by_id
from glint.schemas import parse_path_id
from glint.social import service as social_service
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

REMOVALS_PAGE = 30

NOTICES = {
    "profile": "Profile saved.",
    "avatar": "Profile photo updated.",
    "password": "Password changed. Your other devices have been signed out.",
    "session": "That device has been signed out.",
}


def _notice(key: str | None) -> str | None:
    return NOTICES.get(key or "")


async def _profile_page(
    page: PageCtx,
    *,
    errors: dict[str, str],
    values: dict[str, Any],
    status: int = 200,
    notice: str | None = None,
) -> Response:
    return await page.render(
        "settings_profile.html",
        {"section": "profile", "errors": errors, "values": values, "notice": notice},
        status=status,
    )


def _current_values(page: PageCtx) -> dict[str, Any]:
    user = page.me
    return {
        "display_name": user.display_name,
        "bio": user.bio,
        "website": user.website,
        "is_private": user.is_private,
    }


@router.get("/accounts/edit")
async def edit_profile(
    page: MemberPageDep, saved: str | None = Query(None, max_length=20)
) -> Response:
    """The profile form: name, bio, website, private account, photo."""
    return await _profile_page(page, errors={}, values=_current_values(page), notice=_notice(saved))


@router.post("/accounts/edit")
async def save_profile(page: MemberPageDep) -> Response:
    """Save the profile form."""
    fields = await page.verify_form()
    user = page.me
    values: dict[str, Any] = {
        "display_name": fields.get("display_name", "").strip(),
        "bio": fields.get("bio", "").strip(),
        "website": fields.get("website", "").strip(),
        "is_private": fields.get("is_private") == "on",
    }
    try:
        changes = ProfilePatchIn(**values)
    except ValidationError as exc:
        errors = {
            str(err["loc"][0]): str(err["msg"]).removeprefix("Value error, ")
            for err in exc.errors()
        }
        return await _profile_page(page, errors=errors, values=values, status=422)
    await social_service.save_profile(
        page.session, ids=page.runtime.ids, user=user, changes=changes
    )
    await page.runtime.commit(page.session)
    return redirect("/accounts/edit?saved=profile")


@router.post("/accounts/avatar")
async def save_avatar(page: MemberPageDep) -> Response:
    """Replace the profile photo from the form's file (processed like post photos)."""
    await page.verify_form()
    form = await page.request.form()
    upload = form.get("image")
    if upload is None or isinstance(upload, str) or not upload.filename:
        errors = {"image": "Choose a photo first."}
        return await _profile_page(page, errors=errors, values=_current_values(page), status=422)
    try:
        data = await uploads.read_photo(upload)
        runtime = page.runtime
        await accounts_service.set_avatar(
            page.session,
            ids=runtime.ids,
            cpu=runtime.cpu,
            storage=runtime.storage,
            user=page.me,
            data=data,
        )
        await runtime.commit(page.session)
    except GlintError as exc:
        if exc.status >= 500:
            raise
        errors = {"image": exc.message}
        return await _profile_page(
            page, errors=errors, values=_current_values(page), status=exc.status
        )
    return redirect("/accounts/edit?saved=avatar")


@router.get("/accounts/password")
async def password_form(
    page: MemberPageDep, saved: str | None = Query(None, max_length=20)
) -> Response:
    """The change-password form."""
    context: dict[str, Any] = {"section": "password", "errors": {}, "notice": _notice(saved)}
    return await page.render("settings_password.html", context)


@router.post("/accounts/password")
async def change_password(page: MemberPageDep) -> Response:
    """Change the password; every other device is signed out."""
    fields = await page.verify_form()
    signed = page.signed
    assert signed is not None
    errors: dict[str, str] = {}
    try:
        body = PasswordChangeIn(
            current_password=fields.get("current_password", ""),
            new_password=fields.get("new_password", ""),
        )
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0])
            errors[field] = str(err["msg"]).removeprefix("Value error, ")
    else:
        if fields.get("new_password") != fields.get("confirm_password"):
            errors["confirm_password"] = "does not match the new password"  # noqa: S105
        else:
            try:
                await accounts_service.change_password(
                    page.session,
                    settings=page.runtime.settings,
                    ids=page.runtime.ids,
                    user=signed.user,
                    current_session_id=signed.session.id,
                    current_password=body.current_password,
                    new_password=body.new_password,
                )
            except GlintError as exc:
                errors["current_password"] = "is wrong" if exc.status == 403 else exc.message
            else:
                await page.runtime.commit(page.session)
                return redirect("/accounts/password?saved=password")
    context: dict[str, Any] = {"section": "password", "errors": errors, "notice": None}
    return await page.render("settings_password.html", context, status=422)


@router.get("/accounts/sessions")
async def sessions(page: MemberPageDep, saved: str | None = Query(None, max_length=20)) -> Response:
    """Where the account is signed in."""
    signed = page.signed
    assert signed is not None
    rows = await accounts_sessions.list_sessions(page.session, user=signed.user)
    items = [SessionOut.of(row, current=row.id == signed.session.id) for row in rows]
    context = {"section": "sessions", "sessions": items, "notice": _notice(saved)}
    return await page.render("settings_sessions.html", context)


@router.post("/accounts/sessions/{session_id}/revoke")
async def revoke(session_id: str, page: MemberPageDep) -> Response:
    """Sign one device out (this one: back to the sign-in page)."""
    await page.verify_form()
    signed = page.signed
    assert signed is not None
    parsed = parse_path_id(session_id)
    if parsed is None:
        raise NotFound("No such session.")
    await accounts_sessions.revoke_session(
        page.session, ids=page.runtime.ids, user=signed.user, session_id=parsed
    )
    await page.runtime.commit(page.session)
    if parsed == signed.session.id:
        return redirect("/login")
    return redirect("/accounts/sessions?saved=session")


@router.get("/settings/removed")
async def removed_content(
    page: MemberPageDep, cursor: str | None = Query(None, max_length=MAX_CURSOR_LENGTH)
) -> Response:
    """What moderators took down of the viewer's, with their reason and when (tombstones)."""
    params = PageParams(limit=REMOVALS_PAGE, cursor=cursor)
    rows = await moderation_service.removals_of(
        page.session, user=page.me, before_id=params.before_id(), limit=params.limit
    )
    items, next_cursor = page_by_id(rows, limit=params.limit, key=lambda row: row.id)
    next_url = "/settings/removed?" + urlencode({"cursor": next_cursor}) if next_cursor else None
    context = {"section": "removed", "removals": items, "next_url": next_url, "notice": None}
    return await page.render("settings_removed.html", context)
