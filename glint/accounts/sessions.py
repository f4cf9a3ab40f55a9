"""Sign-in sessions: tokens, their resolution per request (cached per process), their use,
listing and revocation, and what creating one means for an account awaiting deletion."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import events
from glint.accounts.deletion import move_deletion
from glint.accounts.models import AuthSession, User
from glint.config import Settings
from glint.errors import NotFound, Unauthenticated
from glint.infra.db import utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.keys import derive_key
from glint.infra.sessioncache import SessionCache

TOKEN_PREFIX = "glt_"  # noqa: S105 (a marker, not a secret)


# Writing last_used_at on every request would turn reads into writes; once in a while is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a request needs of its sign-in session; kept a few seconds per process.

    Whatever makes a session stop working (sign-out, revoke, a password change, and a ban or
    deletion, which must revoke every session) emits SessionsRevoked, which evicts it from
    every process's cache at once.
    """

    id: int
    user_id: int
    token_hash: str
    expires_at: dt.datetime
    last_used_at: dt.datetime
    # When its account signed up: a new account's rate limits are tighter.
    user_created_at: dt.datetime

    @classmethod
    def of(cls, row: AuthSession, user: User) -> SessionInfo:
        """The record of a stored session of this user."""
        return cls(
            row.id, row.user_id, row.token_hash, row.expires_at, row.last_used_at, user.created_at
        )


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A resolved session: who is asking, and through which session."""

    user: User
    session: SessionInfo


@dataclass(frozen=True, slots=True)
class Identified:
    """A token's live session, and its user when the database was asked for it."""

    session: SessionInfo
    user: User | None


def hash_token(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(*, token_hash: str, secret: str) -> str:
    """The CSRF token bound to one session (cookie-authenticated writes must echo it)."""
    mac = hmac.new(derive_key(secret, "csrf"), token_hash.encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def wrong_credentials() -> Unauthenticated:
    return Unauthenticated("Wrong username or password.", code="invalid_credentials")


async def create_session(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    settings: Settings,
    user: User,
    user_agent: str = "",
    ip: str = "",
    factor: str = "password",
) -> tuple[AuthSession, str]:
    """A new session for a user and the token that opens it (shown once, stored hashed)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    auth_session = AuthSession(
        id=ids.next_id(),
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        last_used_at=now,
        expires_at=now + dt.timedelta(days=settings.session_ttl_days),
        user_agent=user_agent[:256],
        ip=ip[:64],
        factor=factor,  # how it signed in: "password", "totp" or "recovery"
    )
    if user.deletion_status is not None:
        await _cancel_deletion(session, ids=ids, user=user, now=now)
    session.add(auth_session)
    user.last_active_at = now
    await session.flush()
    return auth_session, token


async def _cancel_deletion(
    session: AsyncSession, *, ids: IdGenerator, user: User, now: dt.datetime
) -> None:
    """Signing in during the grace period brings the account back as it was; once its purge
    has claimed it (the same UPDATE decides), the sign-in fails like an unknown account's."""
    if not await move_deletion(session, user_id=user.id, to=None, now=now):
        raise wrong_credentials()
    await bus.emit(session, ids=ids, event=events.ProfileChanged(user.id))


async def resolve_token(
    session: AsyncSession, *, settings: Settings, token: str
) -> SignedIn | None:
    """The live session a token opens, or None. A read: `record_use` slides the expiry."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = (
        await session.execute(
            sa.select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == hash_token(token))
        )
    ).first()
    if row is None:
        return None
    auth_session, user = row
    if auth_session.expires_at <= utcnow() or not user.is_active_account:
        return None
    return SignedIn(user=user, session=SessionInfo.of(auth_session, user))


async def identify(
    session: AsyncSession, *, settings: Settings, cache: SessionCache[SessionInfo], token: str
) -> Identified | None:
    """The live session a token opens: from this process's cache when it has it (no user
    then), else from the database (and kept)."""
    token_hash = hash_token(token)
    cached = cache.get(token_hash)
    if cached is not None and cached.expires_at > utcnow():
        return Identified(session=cached, user=None)
    evictions_seen = cache.evictions  # a revocation landing during the read must win
    signed = await resolve_token(session, settings=settings, token=token)
    if signed is None:
        return None
    cache.put(
        token_hash,
        signed.session,
        session_id=signed.session.id,
        user_id=signed.user.id,
        evictions_seen=evictions_seen,
    )
    return Identified(session=signed.session, user=signed.user)


def use_is_due(info: SessionInfo) -> bool:
    """Whether this use of a session should be written down (at most every few minutes)."""
    return utcnow() - info.last_used_at > LAST_USED_RESOLUTION


async def record_use(
    session: AsyncSession, *, settings: Settings, info: SessionInfo
) -> SessionInfo | None:
    """Slide a session's expiry and mark its user active (the caller commits, on its own);
    the session as it now stands, or None when it is gone (revoked meanwhile)."""
    now = utcnow()
    expires_at = now + dt.timedelta(days=settings.session_ttl_days)
    result = await session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == info.id)
        .values(last_used_at=now, expires_at=expires_at)
    )
    if getattr(result, "rowcount", 1) == 0:
        return None
    await session.execute(sa.update(User).where(User.id == info.user_id).values(last_active_at=now))
    return dataclasses.replace(info, last_used_at=now, expires_at=expires_at)


async def list_sessions(session: AsyncSession, *, user: User) -> list[AuthSession]:
    """The user's live sessions, most recently used first."""
    rows = await session.scalars(
        sa.select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.expires_at > utcnow())
        .order_by(AuthSession.last_used_at.desc(), AuthSession.id.desc())
    )
    return list(rows)


async def revoke_session(
    session: AsyncSession, *, ids: IdGenerator, user: User, session_id: int
) -> None:
    """End one of the user's sessions (its sockets close); another user's is NotFound."""
    result = await session.execute(
        sa.delete(AuthSession).where(AuthSession.id == session_id, AuthSession.user_id == user.id)
    )
    if getattr(result, "rowcount", 0) == 0:
        raise NotFound("No such session.")
    await bus.emit(session, ids=ids, event=events.SessionsRevoked(user.id, [session_id]))


async def revoke_all_sessions(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    user_id: int,
    except_session_id: int | None = None,
) -> None:
    """End every session of a user (but one, when given); their sockets close."""
    query = sa.select(AuthSession.id).where(AuthSession.user_id == user_id)
    if except_session_id is not None:
        query = query.where(AuthSession.id != except_session_id)
    ended = list(await session.scalars(query))
    if not ended:
        return
    await session.execute(sa.delete(AuthSession).where(AuthSession.id.in_(ended)))
    await bus.emit(session, ids=ids, event=events.SessionsRevoked(user_id, ended))
