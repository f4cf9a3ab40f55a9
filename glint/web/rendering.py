"""What every page route shares: who is looking, HTML responses with security headers, and
errors shown as pages (not the API's JSON envelope)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import sessions as accounts_sessions
from glint.accounts.models import User
from glint.config import RateLimitAction
from glint.errors import Forbidden, GlintError
from glint.http.deps import (
    SESSION_COOKIE,
    MediaUrlsDep,
    RuntimeDep,
    SessionDep,
    count_action,
    resolve_session,
)
from glint.infra.eventlog import EventLogUnavailable
from glint.infra.logging import get_logger
from glint.infra.runtime import Runtime
from glint.media.urls import MediaUrls
from glint.messaging import service as messaging_service
from glint.notifications import service as notifications_service
from glint.web import csrf
from glint.web.templating import render_template

log = get_logger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Pages hold CSRF tokens and private data: never in a shared cache, always revalidated.
    "Cache-Control": "private, no-cache",
}


class SignInRequired(Exception):
    """A page for signed-in people only; the route answers with a redirect to /login."""


def with_security_headers(response: Response) -> Response:
    """The response with the page security headers (CSP first of all)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def html(body: str, *, status: int = 200) -> HTMLResponse:
    """An HTML response with the security headers."""
    response = HTMLResponse(body, status_code=status)
    with_security_headers(response)
    return response


def redirect(url: str, *, status: int = 303) -> RedirectResponse:
    """A redirect after a form post (303: the browser follows with a GET)."""
    response = RedirectResponse(url, status_code=status)
    with_security_headers(response)
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go to after signing in; anything else becomes the default."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


async def _resolve(request: Request, runtime: Runtime, session: AsyncSession) -> Any:
    if hasattr(request.state, "web_viewer"):
        return request.state.web_viewer
    token = request.cookies.get(SESSION_COOKIE)
    signed = None
    if token:
        signed = await resolve_session(runtime, session, token)
    request.state.web_viewer = signed
    return signed


@dataclass
class PageCtx:
    """One page request: the request, the adapters, and the signed-in viewer (if any)."""

    request: Request
    runtime: Runtime
    urls: MediaUrls
    session: AsyncSession
    signed: accounts_sessions.SignedIn | None
    # Where this page's stream client starts (js/stream.js): taken before the page reads
    # anything, so every event the page does not show yet is replayed to it.
    stream_since: str | None = None

    @property
    def user(self) -> User | None:
        """The viewer, or None when signed out."""
        return self.signed.user if self.signed else None

    @property
    def me(self) -> User:
        """The viewer of a page that requires signing in."""
        if self.signed is None:
            raise SignInRequired
        return self.signed.user

    @property
    def csrf_token(self) -> str | None:
        """The session's CSRF token (for <meta> and forms); None when signed out."""
        if self.signed is None:
            return None
        return csrf.session_token(self.signed, secret=self.runtime.secret_key)

    async def base_context(self) -> dict[str, Any]:
        """What the layout needs: viewer, CSRF token, unread badges, stream start, current path."""
        unread = unread_messages = 0
        if self.signed is not None:
            _, unread = await notifications_service.list_for(
                self.session, user=self.signed.user, before_activity=None, limit=0
            )
            unread_messages, _ = await messaging_service.counts(self.session, user=self.signed.user)
        return {
            "viewer": self.user,
            "csrf_token": self.csrf_token,
            "unread_count": unread,
            "unread_messages": unread_messages,
            "stream_since": self.stream_since,
            "path": self.request.url.path,
            "urls": self.urls,
        }

    async def render(
        self, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
    ) -> HTMLResponse:
        """A whole page: the layout's context plus the page's own."""
        full = await self.base_context()
        full.update(context or {})
        return html(render_template(template, full), status=status)

    def fragment(self, template: str, context: Mapping[str, Any]) -> HTMLResponse:
        """A piece of a page (infinite scroll), rendered with the same macros as the page."""
        full = {"viewer": self.user, "csrf_token": self.csrf_token, "urls": self.urls}
        full.update(context)
        return html(render_template(template, full))

    async def verify_form(self) -> dict[str, str]:
        """The posted form's text fields, after its CSRF token has been checked (403 if not)."""
        form = await self.request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        given = fields.get(csrf.FORM_FIELD, "")
        if self.signed is not None:
            expected = csrf.session_token(self.signed, secret=self.runtime.secret_key)
        else:
            nonce = self.request.cookies.get(csrf.ANON_COOKIE, "")
            expected = csrf.anonymous_token(nonce, secret=self.runtime.secret_key) if nonce else ""
        if not csrf.tokens_match(given, expected):
            raise Forbidden(
                "This form has expired or did not come from this site. Reload and try again.",
                code="csrf_failed",
            )
        return fields

    async def count_action(self, action: RateLimitAction) -> None:
        """One hit of a rate-limited action by the viewer, as the API counts it (429 if over)."""
        if self.signed is None:
            raise SignInRequired
        user = self.signed.user
        await count_action(self.runtime, action, f"user:{user.id}", created_at=user.created_at)


async def get_page(
    request: Request, runtime: RuntimeDep, urls: MediaUrlsDep, session: SessionDep
) -> PageCtx:
    """A page anyone may see; the viewer is whoever the session cookie names."""
    signed = await _resolve(request, runtime, session)
    since = None
    if signed is not None and request.method == "GET":
        since = await _stream_start(runtime, signed.user.id)
    return PageCtx(
        request=request,
        runtime=runtime,
        urls=urls,
        session=session,
        signed=signed,
        stream_since=since,
    )


async def _stream_start(runtime: Runtime, user_id: int) -> str | None:
    """The viewer's newest stream event ID; None when the event log does not answer."""
    try:
        return await runtime.eventlog.latest_id(user_id)
    except EventLogUnavailable:
        log.warning("stream_start_unavailable", user_id=user_id)
        return None


async def get_member_page(page: Annotated[PageCtx, Depends(get_page)]) -> PageCtx:
    """A page for signed-in people; others are sent to /login."""
    if page.signed is None:
        raise SignInRequired
    return page


PageDep = Annotated[PageCtx, Depends(get_page)]
MemberPageDep = Annotated[PageCtx, Depends(get_member_page)]

_TITLES = {
    400: "Something is wrong with that link",
    401: "Sign in first",
    403: "You can't do that",
    404: "Sorry, this page isn't available",
    409: "That clashes with something",
    413: "That file is too large",
    415: "That isn't a photo we can use",
    422: "Some of that doesn't look right",
    429: "Slow down a little",
    503: "We're having trouble right now",
}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error as a page, with the layout (and the viewer's nav when the cookie resolved)."""
    viewer = getattr(request.state, "web_viewer", None)
    body = render_template(
        "error.html",
        {
            "viewer": viewer.user if viewer is not None else None,
            "csrf_token": None,
            "unread_count": 0,
            "unread_messages": 0,
            "stream_since": None,
            "path": request.url.path,
            "urls": request.app.state.media_urls,
            "status": status,
            "title": _TITLES.get(status, "Something went wrong"),
            "message": message,
        },
    )
    return html(body, status=status)


def login_redirect(request: Request) -> RedirectResponse:
    """Where a signed-out visitor of a members' page goes: /login, and back afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/login?next=" + quote(target, safe="/"), status=303)


class WebRoute(APIRoute):
    """A page route: failures become HTML pages, signed-out visitors go to /login."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The usual handler, wrapped so errors come back as pages."""
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return login_redirect(request)
            except GlintError as exc:
                response = error_page(request, exc.status, exc.message)
                for name, value in (exc.headers or {}).items():
                    response.headers[name] = value
                return response
            except RequestValidationError:
                return error_page(request, 400, "The address or the form has a value we can't use.")

        return page_handler
