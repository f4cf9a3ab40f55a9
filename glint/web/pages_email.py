"""E-mail and name pages: a forgotten password, the links e-mails carry (reset, verify), and
Settings → E-mail and Settings → Username.

Plain forms with the CSRF token (the pre-session one when signed out), redirect-after-post;
they call the same rules as the API (accounts/emails.py, accounts/usernames.py). The verify
link opens a page with a button rather than verifying on GET, so a mail scanner that fetches
links does not use the token up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from glint.accounts import emails, usernames
from glint.accounts.schemas import (
    EmailChangeIn,
    PasswordForgotIn,
    PasswordResetIn,
    UsernameChangeIn,
)
from glint.errors import BadRequest, GlintError
from glint.http.deps import client_ip
from glint.web import pages_auth
from glint.web.rendering import MemberPageDep, PageCtx, PageDep, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

Token = Annotated[str, Query(max_length=emails.MAX_TOKEN_LENGTH)]
Flag = Annotated[str | None, Query(max_length=20)]
NOTICES = {
    "sent": "We sent a new link. Check your inbox.",
    "email": "Address changed. We sent a link to confirm it; your old address has been told.",
    "username": "Username changed.",
}


async def _public_form(
    page: PageCtx, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    """A page an e-mailed link opens, for anyone: its form carries the session's CSRF token
    when the browser is signed in (that is what the form check expects then), else the
    pre-session one."""
    if page.signed is None:
        return await pages_auth.form_page(page, template, context, status=status)
    return await page.render(template, {**context, "form_token": page.csrf_token}, status=status)


def _ip(page: PageCtx) -> str:
    return client_ip(page.request, page.runtime.settings)


@router.get("/password/forgot")
async def forgot_form(page: PageDep, sent: Flag = None) -> Response:
    """Ask for a reset link by address; then "check your e-mail"."""
    context = {"sent": sent is not None, "error": None, "email": ""}
    return await _public_form(page, "password_forgot.html", context)


@router.post("/password/forgot")
async def forgot(page: PageDep) -> Response:
    """Send a reset link if the address belongs to a verified account; the page says the same
    either way."""
    fields = await page.verify_form()
    address = fields.get("email", "").strip()
    try:
        body = PasswordForgotIn(email=address)
    except ValidationError:
        context = {"sent": False, "error": "Enter a valid e-mail address.", "email": address}
        return await _public_form(page, "password_forgot.html", context, status=422)
    runtime = page.runtime
    await emails.forgot_password(
        page.session,
        ids=runtime.ids,
        settings=runtime.settings,
        limiter=runtime.limiter,
        ip=_ip(page),
        email=str(body.email),
    )
    await runtime.commit(page.session)
    return redirect("/password/forgot?sent=1")


@router.get("/password/reset")
async def reset_form(page: PageDep, token: Token = "", done: Flag = None) -> Response:
    """The new-password form a reset link opens."""
    context = {"token": token, "done": done is not None, "errors": {}}
    return await _public_form(page, "password_reset.html", context)


@router.post("/password/reset")
async def reset(page: PageDep) -> Response:
    """Set the new password; every device is signed out."""
    fields = await page.verify_form()
    token = fields.get("token", "")
    context: dict[str, Any] = {"token": token, "done": False, "errors": {}}
    try:
        body = PasswordResetIn(token=token, new_password=fields.get("new_password", ""))
    except ValidationError as exc:
        context["errors"] = pages_auth.field_errors(exc)
        return await _public_form(page, "password_reset.html", context, status=422)
    if fields.get("new_password") != fields.get("confirm_password"):
        context["errors"] = {"confirm_password": "does not match the new password"}
        return await _public_form(page, "password_reset.html", context, status=422)
    try:
        await emails.reset_password(
            page.session,
            ids=page.runtime.ids,
            settings=page.runtime.settings,
            token=body.token,
            new_password=body.new_password,
            now=page.runtime.clock.now(),
        )
    except BadRequest as exc:
        context["errors"] = {"token": exc.message}
        return await _public_form(page, "password_reset.html", context, status=exc.status)
    await page.runtime.commit(page.session)
    return redirect("/password/reset?done=1")


@router.get("/verify-email")
async def verify_form(page: PageDep, token: Token = "", done: Flag = None) -> Response:
    """The page a verification link opens: one button confirms."""
    context = {"token": token, "done": done is not None, "error": None}
    return await _public_form(page, "verify_email.html", context)


@router.post("/verify-email")
async def verify(page: PageDep) -> Response:
    """Confirm the address the link was sent to."""
    fields = await page.verify_form()
    token = fields.get("token", "")
    try:
        await emails.verify_email(
            page.session,
            secret=page.runtime.secret_key,
            token=token[: emails.MAX_TOKEN_LENGTH + 1],
            now=page.runtime.clock.now(),
        )
    except BadRequest as exc:
        context = {"token": token, "done": False, "error": exc.message}
        return await _public_form(page, "verify_email.html", context, status=exc.status)
    await page.runtime.commit(page.session)
    return redirect("/verify-email?done=1")


async def _settings_page(
    page: PageCtx,
    section: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """Settings → E-mail or → Username (`settings_<section>.html`)."""
    context = {
        "section": section,
        "errors": errors or {},
        "values": values or {},
        "notice": NOTICES.get(page.request.query_params.get("saved", "")),
        "reservation_days": usernames.RESERVATION_DAYS,
    }
    return await page.render(f"settings_{section}.html", context, status=status)


async def _change(
    page: PageCtx, section: str, change: Callable[[dict[str, str]], Awaitable[object]]
) -> Response:
    """A change confirmed by the password: the form shown again with what went wrong (the
    password or the field named like the section), or saved and redirected."""
    fields = await page.verify_form()
    values = {section: fields.get(section, "").strip()}
    try:
        await change({**fields, **values})
    except ValidationError as exc:
        errors = pages_auth.field_errors(exc)
        return await _settings_page(page, section, errors=errors, values=values, status=422)
    except GlintError as exc:
        if exc.status >= 500:
            raise
        errors = {"password" if exc.status == 403 else section: exc.message}
        return await _settings_page(page, section, errors=errors, values=values, status=exc.status)
    await page.runtime.commit(page.session)
    return redirect(f"/settings/{section}?saved={section}")


@router.get("/settings/email")
async def email_settings(page: MemberPageDep) -> Response:
    """The address, whether it is confirmed, a resend button and the change form."""
    return await _settings_page(page, "email")


@router.post("/settings/email/verification")
async def resend(page: MemberPageDep) -> Response:
    """Send the confirmation link again."""
    await page.verify_form()
    runtime = page.runtime
    await emails.request_verification(
        page.session,
        ids=runtime.ids,
        settings=runtime.settings,
        limiter=runtime.limiter,
        ip=_ip(page),
        user=page.me,
    )
    await runtime.commit(page.session)
    return redirect("/settings/email?saved=sent")


@router.post("/settings/email")
async def change_email(page: MemberPageDep) -> Response:
    """Move the account to another address (the password confirms it)."""

    async def change(fields: dict[str, str]) -> object:
        body = EmailChangeIn(email=fields["email"], password=fields.get("password", ""))
        return await emails.change_email(
            page.session,
            ids=page.runtime.ids,
            user=page.me,
            email=str(body.email),
            password=body.password,
        )

    return await _change(page, "email", change)


@router.get("/settings/username")
async def username_settings(page: MemberPageDep) -> Response:
    """The rename form, saying what happens to the old name."""
    return await _settings_page(page, "username")


@router.post("/settings/username")
async def change_username(page: MemberPageDep) -> Response:
    """Rename the account (the password confirms it)."""

    async def change(fields: dict[str, str]) -> object:
        body = UsernameChangeIn(username=fields["username"], password=fields.get("password", ""))
        return await usernames.change_username(
            page.session,
            ids=page.runtime.ids,
            user=page.me,
            username=body.username,
            password=body.password,
            now=page.runtime.clock.now(),
        )

    return await _change(page, "username", change)
