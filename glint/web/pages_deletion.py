"""Settings → Delete account: the grace period explained, the password (and the second
factor's code when it is on) and a confirmation; then signed out, on a page that says how to
change one's mind. The form works without JavaScript and calls the same rule as
DELETE /api/v1/users/me (ownership/deletion.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from glint.accounts import twofactor
from glint.errors import GlintError
from glint.http.deps import SESSION_COOKIE
from glint.ownership import deletion
from glint.web.rendering import MemberPageDep, PageDep, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE = "/settings/delete"
GOODBYE = "/account-deleted"
# Where signing in lands when it cancelled a pending deletion (pages_auth sends it here).
CANCELLED = f"{PAGE}?notice=cancelled"
NOTICES = {"cancelled": "Welcome back. Your account will not be deleted: everything is as it was."}
MAX_FIELD = 1024


async def _form(
    page: MemberPageDep, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "section": "delete",
        "grace_days": page.runtime.settings.account_deletion_grace_days,
        "two_factor": twofactor.is_enabled(page.me),
        "error": error,
        "notice": notice,
    }
    return await page.render("settings_delete.html", context, status=status)


@router.get(PAGE)
async def delete_form(
    page: MemberPageDep, notice: str | None = Query(None, max_length=20)
) -> Response:
    """What deleting removes and when, and the form that asks for it."""
    return await _form(page, notice=NOTICES.get(notice or ""))


@router.post(PAGE)
async def delete_account(page: MemberPageDep) -> Response:
    """Ask for the deletion; the account is signed out everywhere at once."""
    fields = await page.verify_form()
    if fields.get("confirm") != "yes":
        return await _form(page, error="Tick the box to confirm.", status=422)
    password, code = fields.get("password", ""), fields.get("code", "").strip()
    if not password or len(password) > MAX_FIELD or len(code) > MAX_FIELD:
        return await _form(page, error=twofactor.WRONG_CREDENTIALS, status=403)
    await page.count_action("failed_logins")
    runtime = page.runtime
    try:
        await deletion.request_deletion(
            page.session,
            ids=runtime.ids,
            settings=runtime.settings,
            limiter=runtime.limiter,
            user=page.me,
            password=password,
            code=code or None,
            now=runtime.clock.now(),
        )
    except GlintError as exc:
        if exc.status >= 500:
            raise
        return await _form(page, error=exc.message, status=exc.status)
    await runtime.commit(page.session)
    response = redirect(GOODBYE)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(GOODBYE)
async def goodbye(page: PageDep) -> Response:
    """Signed out: how long there is to change one's mind, and how."""
    days = page.runtime.settings.account_deletion_grace_days
    return await page.render("account_deleted.html", {"grace_days": days})
