"""Settings → Two-factor: set up an authenticator app, see the recovery codes once, replace
them, turn it off. Plain forms with the session's CSRF token; the rules are the API's
(accounts/twofactor.py), called the same way.

The recovery codes are answered straight from the POST that made them (no redirect): they are
shown this once and never stored in clear, so there is nothing a GET could show again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from glint.accounts import twofactor
from glint.accounts.schemas import TwoFactorCodeIn, TwoFactorConfirmIn
from glint.errors import GlintError
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

BASE = "/settings/two-factor"
SETUP = BASE + "/setup"
SECTION = "two_factor"
NOTICES = {
    "off": "Two-factor sign-in is off. Your password alone signs you in again.",
}
CONFIRM_HINT = "Enter your password and a code from your app (or a recovery code)."


async def _status_page(
    page: PageCtx, *, error: str | None = None, status: int = 200, notice: str | None = None
) -> Response:
    state = await twofactor.status(page.session, user=page.me)
    context: dict[str, Any] = {"section": SECTION, "state": state, "error": error}
    return await page.render(
        "settings_two_factor.html", {**context, "notice": notice}, status=status
    )


async def _setup_page(page: PageCtx, *, error: str | None = None, status: int = 200) -> Response:
    enrolment = twofactor.pending_enrolment(page.me)
    if enrolment is None:
        return redirect(BASE)
    # Groups of four are easier to type into an app by hand; apps ignore the spaces.
    spaced = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
    context = {"section": SECTION, "enrolment": enrolment, "spaced_secret": spaced, "notice": None}
    return await page.render(
        "settings_two_factor_setup.html", {**context, "error": error}, status=status
    )


async def _codes_page(page: PageCtx, codes: list[str], *, fresh: bool) -> Response:
    await page.runtime.commit(page.session)
    context = {"section": SECTION, "codes": codes, "fresh": fresh, "notice": None}
    return await page.render("settings_two_factor_codes.html", context)


def _now(page: PageCtx) -> float:
    return page.runtime.clock.now().timestamp()


def _confirmation(fields: dict[str, str]) -> TwoFactorConfirmIn | None:
    try:
        return TwoFactorConfirmIn(password=fields.get("password", ""), code=fields.get("code", ""))
    except ValidationError:
        return None


@router.get(BASE)
async def overview(page: MemberPageDep, saved: str | None = Query(None, max_length=20)) -> Response:
    """Whether two-factor sign-in is on, and the forms that change it."""
    return await _status_page(page, notice=NOTICES.get(saved or ""))


@router.post(SETUP)
async def start_setup(page: MemberPageDep) -> Response:
    """A new secret for the authenticator app (pending until a first code confirms it)."""
    await page.verify_form()
    try:
        twofactor.begin_setup(page.me)
    except GlintError as exc:
        return await _status_page(page, error=exc.message, status=exc.status)
    await page.runtime.commit(page.session)
    return redirect(SETUP)


@router.get(SETUP)
async def setup(page: MemberPageDep) -> Response:
    """The QR code and the secret as text, and the form for the first code."""
    return await _setup_page(page)


@router.post(BASE + "/enable")
async def enable(page: MemberPageDep) -> Response:
    """Confirm the setup with a first code; the recovery codes, shown this once."""
    fields = await page.verify_form()
    try:
        body = TwoFactorCodeIn(code=fields.get("code", ""))
        codes = await twofactor.enable(
            page.session,
            ids=page.runtime.ids,
            user=page.me,
            code=body.code,
            limiter=page.runtime.limiter,
            settings=page.runtime.settings,
            now=_now(page),
        )
    except ValidationError:
        return await _setup_page(page, error="Enter the six-digit code from your app.", status=422)
    except GlintError as exc:
        if exc.status >= 500:
            raise
        return await _setup_page(page, error=exc.message, status=exc.status)
    return await _codes_page(page, codes, fresh=True)


async def _confirmed(
    page: PageCtx, act: Callable[[TwoFactorConfirmIn], Awaitable[Response]]
) -> Response:
    """Run a change that needs the password and a code; a refusal shows the overview again."""
    body = _confirmation(await page.verify_form())
    if body is None:
        return await _status_page(page, error=CONFIRM_HINT, status=422)
    try:
        return await act(body)
    except GlintError as exc:
        if exc.status >= 500:
            raise
        return await _status_page(page, error=exc.message, status=exc.status)


@router.post(BASE + "/recovery-codes")
async def regenerate(page: MemberPageDep) -> Response:
    """Replace the recovery codes (password and a code); the old ones stop working."""

    async def act(body: TwoFactorConfirmIn) -> Response:
        codes = await twofactor.regenerate_recovery_codes(
            page.session,
            ids=page.runtime.ids,
            user=page.me,
            password=body.password,
            code=body.code,
            limiter=page.runtime.limiter,
            settings=page.runtime.settings,
            now=_now(page),
        )
        return await _codes_page(page, codes, fresh=False)

    return await _confirmed(page, act)


@router.post(BASE + "/disable")
async def disable(page: MemberPageDep) -> Response:
    """Turn two-factor sign-in off (password and a code)."""

    async def act(body: TwoFactorConfirmIn) -> Response:
        await twofactor.disable(
            page.session,
            user=page.me,
            password=body.password,
            code=body.code,
            limiter=page.runtime.limiter,
            settings=page.runtime.settings,
            now=_now(page),
        )
        await page.runtime.commit(page.session)
        return redirect(BASE + "?saved=off")

    return await _confirmed(page, act)
