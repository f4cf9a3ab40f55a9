"""The rules of accounts: sign-up, sign-in, sessions, passwords and profiles. No HTTP here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from limits.errors import StorageError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import events, passwords
from glint.accounts.deletion import DeletionStatus, move_deletion
from glint.accounts.models import ROLES, AuthSession, User, UsernameReservation
from glint.accounts.schemas import ProfilePatchIn, normalize_username
from glint.config import Settings
from glint.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)
from glint.infra.cpu import CpuPool
from glint.infra.db import is_unique_violation, utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.keys import derive_key
from glint.infra.ratelimit import RateLimiter
from glint.infra.sessioncache import SessionCache
from glint.infra.storage import ObjectStore, StorageUnavailable
from glint.media import imaging
from glint.media import service as media_service

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


async def get_by_username(session: AsyncSession, *, username: str) -> User:
    """An active account by username (any case), or NotFound."""
    name = username.strip().lower()
    user = await session.scalar(sa.select(User).where(User.username == name))
    if user is None or not user.is_active_account:
        raise NotFound("No such user.")
    return user


async def get_by_id(session: AsyncSession, *, user_id: int) -> User | None:
    """Any account by ID, active or not."""
    return await session.get(User, user_id)


async def get_many(session: AsyncSession, *, user_ids: Sequence[int]) -> dict[int, User]:
    """Accounts by ID in one query."""
    if not user_ids:
        return {}
    rows = await session.scalars(sa.select(User).where(User.id.in_(set(user_ids))))
    return {user.id: user for user in rows}


async def register(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    settings: Settings,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    role: str = "user",
) -> User:
    """Create an account; 409 when the username or e-mail is taken in any case."""
    name = normalize_username(username)
    address = email.strip().lower()
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", fields={"role": f"must be one of {ROLES}"})
    await _ensure_free(session, username=name, email=address)
    now = utcnow()
    user = User(
        id=ids.next_id(),
        username=name,
        email=address,
        password_hash=await passwords.hash_password(
            password, memory_kib=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost
        ),
        display_name=display_name or "",
        bio="",
        website="",
        is_private=False,
        role=role,
        follower_count=0,
        following_count=0,
        post_count=0,
        created_at=now,
        last_active_at=now,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Two sign-ups raced past the check above; the constraint decides, we name the loser.
        await session.rollback()
        if not is_unique_violation(exc):
            raise
        await _ensure_free(session, username=name, email=address)
        raise Conflict("That username is taken.", code="username_taken") from exc
    await bus.emit(session, ids=ids, event=events.ProfileChanged(user.id))
    await bus.emit(session, ids=ids, event=events.EmailVerificationRequested(user.id, address))
    return user


async def _ensure_free(session: AsyncSession, *, username: str, email: str) -> None:
    taken = await session.execute(
        sa.select(User.username, User.email).where(
            sa.or_(User.username == username, User.email == email)
        )
    )
    for row in taken:
        if row.username == username:
            raise Conflict("That username is taken.", code="username_taken")
        if row.email == email:
            raise Conflict("That e-mail address is already registered.", code="email_taken")
    # A name given up by a rename stays its old owner's for a while (accounts/usernames.py).
    reserved = await session.scalar(
        sa.select(UsernameReservation.user_id).where(
            UsernameReservation.username == username, UsernameReservation.until > utcnow()
        )
    )
    if reserved is not None:
        raise Conflict("That username is taken.", code="username_taken")


def _wrong_credentials() -> Unauthenticated:
    return Unauthenticated("Wrong username or password.", code="invalid_credentials")


async def authenticate(
    session: AsyncSession, *, settings: Settings, login: str, password: str
) -> User:
    """The account a username-or-email and password belong to; one error for every miss."""
    key = login.strip().lower()
    column = User.email if "@" in key else User.username
    user = await session.scalar(sa.select(User).where(column == key))
    # An account in its grace period may sign in (create_session then cancels the deletion);
    # one being purged is as gone as an unknown one.
    gone = user is not None and user.deleted_at is not None
    if user is None or (gone and user.deletion_status != DeletionStatus.PENDING):
        await passwords.verify_password(
            password, passwords.dummy_hash(settings.argon2_memory_kib, settings.argon2_time_cost)
        )
        raise _wrong_credentials()
    if not await passwords.verify_password(password, user.password_hash):
        raise _wrong_credentials()
    if user.banned_at is not None:
        raise Forbidden("This account has been banned.", code="account_banned")
    return user


async def authenticate_limited(
    session: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    ip: str,
    login: str,
    password: str,
) -> User:
    """authenticate(), refused for a while after too many failures from this IP or account."""
    limit = settings.rate_limit("failed_logins")
    keys = (f"ip:{ip}", f"account:{login.strip().lower()}")
    try:
        for key in keys:
            verdict = await limiter.peek(limit, "failed_logins", key)
            if not verdict.allowed:
                raise RateLimited(
                    "Too many failed sign-ins; try again later.", headers=verdict.headers()
                )
    except StorageError:
        pass  # fail open: a broken limiter must not lock everyone out
    try:
        return await authenticate(session, settings=settings, login=login, password=password)
    except Unauthenticated:
        try:
            for key in keys:
                await limiter.hit(limit, "failed_logins", key)
        except StorageError:
            pass
        raise


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
        raise _wrong_credentials()
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


async def change_password(
    session: AsyncSession,
    *,
    settings: Settings,
    ids: IdGenerator,
    user: User,
    current_session_id: int,
    current_password: str,
    new_password: str,
) -> None:
    """Set a new password after checking the current one; every other session ends."""
    if not await passwords.verify_password(current_password, user.password_hash):
        raise Forbidden("The current password is wrong.", code="invalid_credentials")
    user.password_hash = await passwords.hash_password(
        new_password, memory_kib=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost
    )
    await revoke_all_sessions(
        session, ids=ids, user_id=user.id, except_session_id=current_session_id
    )
    await bus.emit(session, ids=ids, event=events.PasswordChanged(user.id, user.email))


async def update_profile(
    session: AsyncSession, *, ids: IdGenerator, user: User, changes: ProfilePatchIn
) -> User:
    """Apply the fields a PATCH gave; absent fields stay as they are."""
    given = changes.model_dump(exclude_unset=True)
    for field, value in given.items():
        if value is None:
            raise ValidationFailed("Fields may not be null.", fields={field: "may not be null"})
        setattr(user, field, value)
    if given.keys() & {"display_name", "is_private"}:
        await bus.emit(session, ids=ids, event=events.ProfileChanged(user.id))
    await session.flush()
    return user


async def set_role(session: AsyncSession, *, user: User, role: str) -> User:
    """Give a user one of the roles user, verified or admin."""
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", fields={"role": f"must be one of {ROLES}"})
    user.role = role
    await session.flush()
    return user


async def set_avatar(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    cpu: CpuPool,
    storage: ObjectStore,
    user: User,
    data: bytes,
) -> User:
    """Process a new profile photo now (one small image), store it, and retire the old one."""
    media_service.probe_upload(data)
    try:
        result = await cpu.run(imaging.process, data)
    except imaging.ImageRejected as exc:
        raise media_service.rejection_error(exc) from exc
    base_key = media_service.new_base_key(media_service.KIND_AVATAR, user.id)
    try:
        await media_service.store_renditions(
            storage, base_key=base_key, renditions=result.renditions
        )
    except StorageUnavailable as exc:
        await storage.delete_many(await storage.list_keys(base_key))
        raise Unavailable("Media storage is unavailable.", headers={"Retry-After": "10"}) from exc
    old = user.avatar_key
    user.avatar_key = base_key
    if old:
        await bus.emit(session, ids=ids, event=events.AvatarReplaced(user.id, old))
    await session.flush()
    return user
