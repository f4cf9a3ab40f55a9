"""Sign up, sign in and sign out: plain HTML forms posted to page routes (they work without JS).

Signing in here follows the API's rules (glint/accounts/router.py): the same failed-login limits
per IP and per account, the same session and the same HttpOnly, SameSite=Lax cookie. An account
with two-factor sign-in gets a second form instead of the cookie; the signed challenge of the
first step rides along in it, so no half-signed-in state is kept anywhere.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from glint.accounts import login_challenge, twofactor
from glint.accounts import service as accounts_service
from glint.accounts import sessions as accounts_sessions
from glint.accounts.models import User
from glint.accounts.schemas import LoginIn, RegisterIn, TwoFactorLoginIn
from glint.errors import Conflict, Forbidden, GlintError, Unauthenticated
from glint.http.deps import SESSION_COOKIE, client_ip, rate_limit
from glint.web import csrf, pages_deletion
from glint.web.rendering import PageCtx, PageDep, WebRoute, redirect, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def form_page(
    page: PageCtx, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    """A sign-in or sign-up form, with the pre-session CSRF token in it."""
    nonce = csrf.anonymous_nonce(page.request)
    token = csrf.anonymous_token(nonce, secret=page.runtime.secret_key)
    response = await page.render(template, {**context, "form_token": token}, status=status)
    if page.request.cookies.get(csrf.ANON_COOKIE) != nonce:
        csrf.set_anonymous_cookie(response, nonce, secure=page.request.url.scheme == "https")
    return response


async def _start_session(
    page: PageCtx, user: User, target: str, *, factor: str = twofactor.FACTOR_PASSWORD
) -> Response:
    if user.deletion_status is not None:  # create_session cancels it: tell the member
        target = pages_deletion.CANCELLED
    _, token = await accounts_sessions.create_session(
        page.session,
        ids=page.runtime.ids,
        settings=page.runtime.settings,
        user=user,
        user_agent=page.request.headers.get("user-agent", ""),
        ip=client_ip(page.request, page.runtime.settings),
        factor=factor,
    )
    await page.runtime.commit(page.session)  # a sign-up's events (search indexing) run now
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=page.runtime.settings.session_ttl_days * 86400,
        httponly=True,
        samesite="lax",
        secure=page.request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(csrf.ANON_COOKIE, path="/")
    return response


@router.get("/login")
async def login_form(
    page: PageDep, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """The sign-in form (the signed-in go straight on)."""
    if page.signed is not None:
        return redirect(safe_next(next), status=303)
    return await form_page(
        page, "login.html", {"next": safe_next(next), "error": None, "login": ""}
    )


@router.post("/login")
async def login(page: PageDep) -> Response:
    """Check the form, sign in, set the session cookie and go on to the page asked for."""
    fields = await page.verify_form()
    target = safe_next(fields.get("next"))
    login_name = fields.get("login", "").strip()
    try:
        body = LoginIn(login=login_name, password=fields.get("password", ""))
    except ValidationError:
        context = {"next": target, "error": "Enter your username or e-mail and your password."}
        return await form_page(page, "login.html", {**context, "login": login_name}, status=422)
    try:
        user = await accounts_service.authenticate_limited(
            page.session,
            settings=page.runtime.settings,
            limiter=page.runtime.limiter,
            ip=client_ip(page.request, page.runtime.settings),
            login=body.login,
            password=body.password,
        )
    except (Unauthenticated, Forbidden) as exc:
        context = {"next": target, "error": exc.message, "login": login_name}
        return await form_page(page, "login.html", context, status=exc.status)
    if twofactor.is_enabled(user):
        challenge = login_challenge.issue_challenge(
            user, secret_key=page.runtime.secret_key, now=page.runtime.clock.now().timestamp()
        )
        return await _code_page(page, challenge=challenge, target=target, error=None)
    return await _start_session(page, user, target)


async def _code_page(
    page: PageCtx, *, challenge: str, target: str, error: str | None, status: int = 200
) -> Response:
    """Sign-in's second step: the challenge rides along in the form, nothing is kept here."""
    context = {"challenge": challenge, "next": target, "error": error}
    return await form_page(page, "login_code.html", context, status=status)


@router.get("/login/2fa")
async def login_code_form() -> Response:
    """The second step exists only as the answer to the first: start there."""
    return redirect("/login")


@router.post("/login/2fa")
async def login_code(page: PageDep) -> Response:
    """Check the authenticator (or recovery) code against the first step's challenge."""
    fields = await page.verify_form()
    target = safe_next(fields.get("next"))
    challenge = fields.get("challenge", "")[:200]
    try:
        body = TwoFactorLoginIn(challenge=challenge, code=fields.get("code", ""))
    except ValidationError:
        error = "Enter the code from your authenticator app, or a recovery code."
        return await _code_page(page, challenge=challenge, target=target, error=error, status=422)
    try:
        user, factor = await login_challenge.redeem_challenge(
            page.session,
            challenge=body.challenge,
            code=body.code,
            secret_key=page.runtime.secret_key,
            limiter=page.runtime.limiter,
            settings=page.runtime.settings,
            now=page.runtime.clock.now().timestamp(),
        )
    except Unauthenticated as exc:  # the challenge expired or was voided: from the top
        context = {"next": target, "error": exc.message, "login": ""}
        return await form_page(page, "login.html", context, status=exc.status)
    except GlintError as exc:  # a wrong or spent code, or too many wrong ones
        if exc.status >= 500:
            raise
        return await _code_page(
            page, challenge=challenge, target=target, error=exc.message, status=exc.status
        )
    return await _start_session(page, user, target, factor=factor)


@router.get("/signup")
async def signup_form(page: PageDep) -> Response:
    """The sign-up form."""
    if page.signed is not None:
        return redirect("/")
    return await form_page(page, "signup.html", {"errors": {}, "values": {}})


def field_errors(exc: ValidationError) -> dict[str, str]:
    """A form's validation failures as field name → message, to show beside each field."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "form"
        message = str(err["msg"]).removeprefix("Value error, ")
        errors.setdefault(field, message)
    return errors


@router.post(
    "/signup", dependencies=[Depends(rate_limit("registrations", only_done=True, per_ip=True))]
)
async def signup(page: PageDep) -> Response:
    """Create the account from the form and sign it in."""
    fields = await page.verify_form()
    values = {name: fields.get(name, "").strip() for name in ("username", "email", "display_name")}
    try:
        body = RegisterIn(**values, password=fields.get("password", ""))
    except ValidationError as exc:
        context = {"errors": field_errors(exc), "values": values}
        return await form_page(page, "signup.html", context, status=422)
    try:
        user = await accounts_service.register(
            page.session,
            ids=page.runtime.ids,
            settings=page.runtime.settings,
            username=body.username,
            email=str(body.email),
            password=body.password,
            display_name=body.display_name,
        )
    except Conflict as exc:
        if exc.code == "email_taken":
            errors = {"email": "is already registered"}
        else:
            errors = {"username": "is taken"}
        context = {"errors": errors, "values": values}
        return await form_page(page, "signup.html", context, status=409)
    return await _start_session(page, user, "/")


@router.post("/logout")
async def logout(page: PageDep, request: Request) -> Response:
    """End this session and forget the cookie."""
    if page.signed is None:
        return redirect("/login")
    await page.verify_form()
    await accounts_sessions.revoke_session(
        page.session, ids=page.runtime.ids, user=page.signed.user, session_id=page.signed.session.id
    )
    await page.runtime.commit(page.session)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
