"""The rules of accounts: sign-up, sign-in, passwords, profiles and avatars (sessions are in
sessions.py). No HTTP here."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from limits.errors import StorageError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import emails, events, passwords, sessions
from glint.accounts.deletion import DeletionStatus
from glint.accounts.models import ROLES, User, UsernameReservation
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
from glint.infra.ratelimit import RateLimiter
from glint.infra.storage import ObjectStore, StorageUnavailable
from glint.media import imaging
from glint.media import service as media_service


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
        raise sessions.wrong_credentials()
    if not await passwords.verify_password(password, user.password_hash):
        raise sessions.wrong_credentials()
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
    await sessions.revoke_all_sessions(
        session, ids=ids, user_id=user.id, except_session_id=current_session_id
    )
    # A reset link sent before the change would undo it: it stops working.
    await emails.void_reset_links(session, user_id=user.id, now=utcnow())
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
