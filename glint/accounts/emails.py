"""The rules of e-mail: confirming an address, resetting a forgotten password, changing the
address. No HTTP here, and no sending either: rules emit events in the caller's transaction, and
the jobs (accounts/jobs.py) make the single-use tokens and send the messages.

A token is random; only its HMAC under the deployment's secret is stored (`account_tokens`), so
neither a database leak nor a guess yields a working link. It works once, for the address it was
sent to, until it expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from limits.errors import StorageError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import events, passwords
from glint.accounts import sessions as accounts_sessions
from glint.accounts.models import AccountToken, User
from glint.config import Settings
from glint.errors import BadRequest, Conflict, Forbidden, RateLimited, ValidationFailed
from glint.infra.db import is_unique_violation
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.keys import derive_key
from glint.infra.ratelimit import RateLimiter

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a secret)
TOKEN_LIFETIMES = {VERIFY_EMAIL: dt.timedelta(days=1), RESET_PASSWORD: dt.timedelta(hours=1)}
MAX_TOKEN_LENGTH = 128
MAX_EMAIL_LENGTH = 254  # the column's
INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code)


def _token_hash(token: str, *, secret: str) -> str:
    mac = hmac.new(derive_key(secret, "account-token"), token.encode(), hashlib.sha256)
    return mac.hexdigest()


def _invalid() -> BadRequest:
    return BadRequest("This link is invalid, used or expired.", code=INVALID_TOKEN)


async def require_password(user: User, password: str) -> None:
    """403 `wrong_password` unless this is the account's password (asked before a change)."""
    if not await passwords.verify_password(password, user.password_hash):
        raise Forbidden("The password is wrong.", code="wrong_password")


async def issue_token(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    secret: str,
    user: User,
    purpose: str,
    now: dt.datetime,
) -> str:
    """A new single-use token of this purpose for the user's current address (stored hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            id=ids.next_id(),
            user_id=user.id,
            purpose=purpose,
            token_hash=_token_hash(token, secret=secret),
            email=user.email,
            created_at=now,
            expires_at=now + TOKEN_LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


async def _consume(
    session: AsyncSession, *, secret: str, token: str, purpose: str, now: dt.datetime
) -> User:
    """Use a token once: the account it opens, or 400 `invalid_token` (unknown, used, expired,
    or sent to an address the account no longer has)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _invalid()
    row = await session.scalar(
        sa.select(AccountToken).where(
            AccountToken.token_hash == _token_hash(token, secret=secret),
            AccountToken.purpose == purpose,
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise _invalid()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active_account or user.email != row.email:
        raise _invalid()
    # Conditional, so two requests racing with one link cannot both use it.
    used = await session.execute(
        sa.update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(used, "rowcount", 0) != 1:
        raise _invalid()
    return user


async def _limit_emails(*, settings: Settings, limiter: RateLimiter, ip: str, address: str) -> None:
    """Count one e-mail asked for, per IP and per address (whether or not it has an account,
    so the answer tells nothing); refused past the limit. A broken limiter fails open."""
    limit = settings.rate_limit("emails")
    try:
        for key in (f"ip:{ip}", f"address:{address}"):
            verdict = await limiter.hit(limit, "emails", key)
            if not verdict.allowed:
                raise RateLimited(
                    "Too many e-mails asked for; try again later.", headers=verdict.headers()
                )
    except StorageError:
        pass


async def request_verification(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    settings: Settings,
    limiter: RateLimiter,
    ip: str,
    user: User,
) -> None:
    """Send (again) a link confirming the account's address; 409 when it is confirmed."""
    if user.email_verified_at is not None:
        raise Conflict("This address is already verified.", code="already_verified")
    await _limit_emails(settings=settings, limiter=limiter, ip=ip, address=user.email)
    await bus.emit(session, ids=ids, event=events.EmailVerificationRequested(user.id, user.email))


async def verify_email(session: AsyncSession, *, secret: str, token: str, now: dt.datetime) -> User:
    """Confirm the address a verification link was sent to."""
    user = await _consume(session, secret=secret, token=token, purpose=VERIFY_EMAIL, now=now)
    user.email_verified_at = now
    await session.flush()
    return user


async def forgot_password(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    settings: Settings,
    limiter: RateLimiter,
    ip: str,
    email: str,
) -> None:
    """Ask for a reset link. Only an active account's verified address gets one (the job
    decides), and the caller hears the same, as fast, either way."""
    address = email.strip().lower()
    await _limit_emails(settings=settings, limiter=limiter, ip=ip, address=address)
    await bus.emit(session, ids=ids, event=events.PasswordResetRequested(address))


async def void_reset_links(session: AsyncSession, *, user_id: int, now: dt.datetime) -> None:
    """Every reset link of the account not yet used stops working (its password changed)."""
    await session.execute(
        sa.update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == RESET_PASSWORD,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


async def reset_password(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    settings: Settings,
    token: str,
    new_password: str,
    now: dt.datetime,
) -> User:
    """Set a new password with a reset link: every session ends, every other reset link stops
    working, and the address hears of it."""
    secret = settings.effective_secret_key
    user = await _consume(session, secret=secret, token=token, purpose=RESET_PASSWORD, now=now)
    user.password_hash = await passwords.hash_password(
        new_password, memory_kib=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost
    )
    await void_reset_links(session, user_id=user.id, now=now)
    await accounts_sessions.revoke_all_sessions(session, ids=ids, user_id=user.id)
    await bus.emit(session, ids=ids, event=events.PasswordChanged(user.id, user.email))
    await session.flush()
    return user


async def change_email(
    session: AsyncSession, *, ids: IdGenerator, user: User, email: str, password: str
) -> User:
    """Move the account to another address (unverified until its link is followed); the old
    address hears of it. 403 `wrong_password`, 409 `email_taken`."""
    await require_password(user, password)
    address = email.strip().lower()
    if len(address) > MAX_EMAIL_LENGTH:  # lower-casing can lengthen some letters
        raise ValidationFailed("That e-mail address is too long.", fields={"email": "too long"})
    if address == user.email:
        return user
    taken = await session.scalar(sa.select(User.id).where(User.email == address))
    if taken is not None:
        raise Conflict("That e-mail address is already registered.", code="email_taken")
    old = user.email
    user.email = address
    user.email_verified_at = None
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another account took the address since the check; the constraint decides.
        await session.rollback()
        if not is_unique_violation(exc):
            raise
        # The rollback expired the account; reloaded here, so the page that shows the error
        # reads it without lazy I/O.
        await session.refresh(user)
        raise Conflict("That e-mail address is already registered.", code="email_taken") from exc
    await bus.emit(session, ids=ids, event=events.EmailChanged(user.id, old, address))
    await bus.emit(session, ids=ids, event=events.EmailVerificationRequested(user.id, address))
    return user
