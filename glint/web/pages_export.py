"""Settings → Download your data: start an export, watch it, download the ZIP.

A plain form with its CSRF token starts it (no JavaScript needed); while it runs the page
reloads itself every few seconds; once ready it offers the signed link the API gives too.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from glint.errors import Conflict
from glint.ownership import exports
from glint.web.rendering import MemberPageDep, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE = "/settings/export"
REFRESH_SECONDS = 3
NOTICES = {
    "started": "Your export has started. You may leave this page: we'll tell you when it's ready.",
    "running": "An export is already being made. It will be ready soon.",
}


@router.get(PAGE)
async def export_page(
    page: MemberPageDep, done: str | None = Query(None, max_length=20)
) -> Response:
    """What the latest export is doing, and the button to start a new one."""
    runtime = page.runtime
    export = await exports.latest(page.session, user_id=page.me.id)
    state = exports.shown(
        export,
        url_for=page.request.url_for,
        secret_key=runtime.secret_key,
        now=runtime.clock.now(),
    )
    context = {
        "section": "export",
        "export": state,
        "percent": int(state.progress * 100),
        "size_mb": round((state.size_bytes or 0) / 1_000_000, 1),
        "ttl_days": runtime.settings.export_ttl_days,
        "refresh_seconds": REFRESH_SECONDS,
        "notice": NOTICES.get(done or ""),
    }
    return await page.render("settings_export.html", context)


@router.post(PAGE)
async def start_export(page: MemberPageDep) -> Response:
    """Start an export (the same rule as POST /api/v1/users/me/export: one at a time)."""
    await page.verify_form()
    runtime = page.runtime
    try:
        await exports.start(
            page.session, ids=runtime.ids, user_id=page.me.id, now=runtime.clock.now()
        )
    except Conflict:
        return redirect(f"{PAGE}?done=running")
    await runtime.commit(page.session)
    return redirect(f"{PAGE}?done=started")
