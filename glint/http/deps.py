"""FastAPI dependencies every router shares: runtime, DB session, viewer, client IP, rate limits."""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import lru_cache
from typing import Annotated, NoReturn

from fastapi import Depends, Query, Request
from limits.errors import StorageError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts import sessions as accounts_sessions
from glint.accounts.models import User
from glint.config import RateLimitAction, Settings
from glint.errors import Forbidden, RateLimited, Unauthenticated
from glint.http.middleware import COUNT_IF_DONE_KEY, RATE_LIMIT_HEADERS_KEY
from glint.infra.logging import get_logger
from glint.infra.ratelimit import RateLimitResult
from glint.infra.runtime import Runtime
from glint.media.urls import MediaUrls
from glint.paging import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, PageParams

log = get_logger(__name__)

SESSION_COOKIE = "glint_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_runtime(request: Request) -> Runtime:
    """The process's runtime, set on the app at start-up."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_media_urls(request: Request) -> MediaUrls:
    """The signer of the media URLs this app hands out."""
    urls: MediaUrls = request.app.state.media_urls
    return urls


MediaUrlsDep = Annotated[MediaUrls, Depends(get_media_urls)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    """The settings the runtime was built from."""
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A database session for one request; routers commit what they change. GET and HEAD
    only read (none commits), so theirs runs without a transaction where that saves round
    trips."""
    if request.method in SAFE_METHODS:
        async with runtime.db.read_session() as session:
            yield session
        return
    async with runtime.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("The Authorization header must be 'Bearer <token>'.")
    return value.strip()


async def resolve_identity(
    runtime: Runtime, session: AsyncSession, token: str
) -> accounts_sessions.Identified | None:
    """The session a token opens (cached per process); its use is written down in a
    transaction of its own.

    The request's own transaction stays a read (a GET never commits), and a failed write of
    "last used" never fails the request it came with.
    """
    found = await accounts_sessions.identify(
        session, settings=runtime.settings, cache=runtime.session_cache, token=token
    )
    if found is None or not accounts_sessions.use_is_due(found.session):
        return found
    evictions_seen = runtime.session_cache.evictions
    try:
        async with runtime.db.session() as writer:
            info = await accounts_sessions.record_use(
                writer, settings=runtime.settings, info=found.session
            )
            await writer.commit()
    except SQLAlchemyError:
        log.warning("session_use_not_recorded", session_id=found.session.id)
        return found
    if info is None:  # revoked since it was cached
        runtime.session_cache.evict(session_ids=[found.session.id])
        return None
    runtime.session_cache.put(
        info.token_hash,
        info,
        session_id=info.id,
        user_id=info.user_id,
        evictions_seen=evictions_seen,
    )
    return accounts_sessions.Identified(session=info, user=found.user)


async def resolve_session(
    runtime: Runtime, session: AsyncSession, token: str
) -> accounts_sessions.SignedIn | None:
    """The session a token opens, with its user (who must still be active)."""
    found = await resolve_identity(runtime, session, token)
    if found is None:
        return None
    user = found.user or await accounts_service.get_by_id(session, user_id=found.session.user_id)
    if user is None or not user.is_active_account:
        runtime.session_cache.evict(session_ids=[found.session.id])
        return None
    return accounts_sessions.SignedIn(user=user, session=found.session)


async def _identify_request(
    request: Request, runtime: Runtime, session: AsyncSession
) -> accounts_sessions.Identified | None:
    """Who is asking, by a Bearer token or the session cookie; None for anonymous requests
    (and for cookie writes without the page's CSRF token)."""
    token = _bearer_token(request)
    via_cookie = False
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        via_cookie = token is not None
    if token is None:
        return None
    found = await resolve_identity(runtime, session, token)
    if found is None:
        if via_cookie:
            return None  # a stale cookie just means signed out
        raise Unauthenticated("The token is invalid, expired or revoked.")
    if via_cookie and request.method not in SAFE_METHODS:
        expected = accounts_sessions.csrf_token_for(
            token_hash=found.session.token_hash, secret=runtime.secret_key
        )
        given = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            # Without the page's CSRF token the cookie proves nothing: the request goes on as
            # anonymous, and anything that needs a user refuses it (require_signed_in).
            request.state.csrf_failed = True
            return None
    return found


async def get_identity(
    request: Request, runtime: RuntimeDep, session: SessionDep
) -> accounts_sessions.Identified | None:
    """Who is asking, without their user row when the process knows the token already."""
    return await _identify_request(request, runtime, session)


IdentityDep = Annotated[accounts_sessions.Identified | None, Depends(get_identity)]


async def get_viewer(
    request: Request, runtime: RuntimeDep, session: SessionDep, found: IdentityDep
) -> accounts_sessions.SignedIn | None:
    """Who is asking, with their user row; None for anonymous requests."""
    cached: accounts_sessions.SignedIn | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    if found is None:
        return None
    user = found.user or await accounts_service.get_by_id(session, user_id=found.session.user_id)
    if user is None or not user.is_active_account:
        runtime.session_cache.evict(session_ids=[found.session.id])
        if _bearer_token(request) is None:
            return None  # a cookie of an account gone inactive just means signed out
        raise Unauthenticated("The token is invalid, expired or revoked.")
    signed = accounts_sessions.SignedIn(user=user, session=found.session)
    request.state.viewer = signed
    return signed


ViewerDep = Annotated[accounts_sessions.SignedIn | None, Depends(get_viewer)]


def _refuse_anonymous(request: Request) -> NoReturn:
    if getattr(request.state, "csrf_failed", False):
        raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    raise Unauthenticated("Sign in first.")


async def require_signed_in(request: Request, viewer: ViewerDep) -> accounts_sessions.SignedIn:
    """The viewer, who must be signed in."""
    if viewer is None:
        _refuse_anonymous(request)
    return viewer


SignedInDep = Annotated[accounts_sessions.SignedIn, Depends(require_signed_in)]


async def require_user(signed: SignedInDep) -> User:
    """The signed-in user."""
    return signed.user


async def require_session(request: Request, found: IdentityDep) -> accounts_sessions.SessionInfo:
    """The signed-in session without loading its user: the hot read paths that need only who
    is asking (the user row is not read when the process has the session cached)."""
    if found is None:
        _refuse_anonymous(request)
    return found.session


SignedInSession = Annotated[accounts_sessions.SessionInfo, Depends(require_session)]
CurrentUser = Annotated[User, Depends(require_user)]


async def require_admin(user: CurrentUser) -> User:
    """The signed-in user, who must be an admin."""
    if user.role != "admin":
        raise Forbidden("Administrators only.")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


async def require_staff(user: CurrentUser) -> User:
    """The signed-in user, who must be a moderator or an admin."""
    if not user.is_staff:
        raise Forbidden("Moderators and administrators only.")
    return user


StaffUser = Annotated[User, Depends(require_staff)]


@lru_cache(maxsize=16)
def _networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _is_trusted(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(proxies))


def _is_valid_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_ip(request: Request, settings: Settings) -> str:
    """The client's address; X-Forwarded-For counts only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    proxies = tuple(settings.trusted_proxies)
    forwarded = request.headers.get("x-forwarded-for")
    if not proxies or not forwarded or not _is_trusted(peer, proxies):
        return peer
    # Walk from the nearest hop outwards; the first address we do not trust is the client.
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        if not _is_valid_ip(hop):
            break  # a proxy we trust never writes junk; whoever did is not to be believed
        if not _is_trusted(hop, proxies):
            return hop
    return peer


async def get_client_ip(request: Request, settings: SettingsDep) -> str:
    """Dependency form of client_ip."""
    return client_ip(request, settings)


ClientIpDep = Annotated[str, Depends(get_client_ip)]


def _limit(settings: Settings, action: RateLimitAction, created_at: dt.datetime | None) -> str:
    """The limit that applies: tighter for an account that signed up recently."""
    new = created_at is not None and settings.is_new_account(created_at)
    return settings.rate_limit(action, new_account=new)


async def count_action(
    runtime: Runtime,
    action: RateLimitAction,
    key: str,
    *,
    created_at: dt.datetime | None = None,
) -> RateLimitResult | None:
    """One hit of an action for a key (a user's: `created_at` of the account): RateLimited when
    over the limit, None when the limiter is down (limits protect us; they must not take the
    site down with Redis: fail open)."""
    try:
        result = await runtime.limiter.hit(
            _limit(runtime.settings, action, created_at), action, key
        )
    except StorageError:
        log.warning("rate_limit_unavailable", action=action)
        return None
    if not result.allowed:
        raise RateLimited("Too many requests; try again later.", headers=result.headers())
    return result


async def count_action_if_done(
    request: Request,
    runtime: Runtime,
    action: RateLimitAction,
    key: str,
    *,
    created_at: dt.datetime | None = None,
) -> None:
    """A quota of things done (posts, stories, sign-ups): RateLimited now when it has no room
    left, and one hit counted only once the response shows the action was done (a status
    below 400, which the middleware reads as the response starts). A refused upload or sign-up
    (413, 415, 409, 422, …) uses nothing up.

    Requests racing each other may all pass the check before any of them is counted, so a burst
    can exceed the quota by its own size; one user uploading at once is a small burst.
    """
    limit = _limit(runtime.settings, action, created_at)
    try:
        room = await runtime.limiter.peek(limit, action, key)
    except StorageError:
        log.warning("rate_limit_unavailable", action=action)
        return
    if not room.allowed:
        raise RateLimited("Too many requests; try again later.", headers=room.headers())
    state = request.scope.setdefault("state", {})
    state[RATE_LIMIT_HEADERS_KEY] = room.headers()

    async def count(status: int) -> dict[str, str] | None:
        if status >= 400:
            return None
        try:
            done = await runtime.limiter.hit(limit, action, key)
        except StorageError:
            log.warning("rate_limit_unavailable", action=action)
            return None
        headers = done.headers()
        headers.pop("Retry-After", None)  # it was done: nothing to retry
        return headers

    state.setdefault(COUNT_IF_DONE_KEY, []).append(count)


def rate_limit(
    action: RateLimitAction, *, only_done: bool = False, per_ip: bool = False
) -> Callable[..., Awaitable[None]]:
    """A dependency counting one hit of an action per user (per IP when anonymous, or always
    with `per_ip`). Every request counts, unless `only_done`: then the request is refused when
    the quota is used up, and counted only when it succeeds (count_action_if_done)."""

    async def check(request: Request, runtime: RuntimeDep, found: IdentityDep) -> None:
        by_user = found is not None and not per_ip
        key = (
            f"user:{found.session.user_id}"
            if found is not None and by_user
            else f"ip:{client_ip(request, runtime.settings)}"
        )
        created_at = found.session.user_created_at if found is not None and by_user else None
        if only_done:
            await count_action_if_done(request, runtime, action, key, created_at=created_at)
            return
        result = await count_action(runtime, action, key, created_at=created_at)
        if result is not None:
            request.scope.setdefault("state", {})[RATE_LIMIT_HEADERS_KEY] = result.headers()

    return check


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="From the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor or None)


PageParamsDep = Annotated[PageParams, Depends(_page_params)]
