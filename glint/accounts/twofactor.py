"""Two-factor sign-in (TOTP, RFC 6238): enrolment, recovery codes, the login challenge, and the
one check other domains call before a sensitive act. No HTTP here.

An account's second factor moves through three states, read from its columns:

    off ──setup──▶ pending (totp_pending_secret) ──enable + first code──▶ on (totp_secret)
     ▲                 │ setup again: a new pending secret                      │
     └─────────────────┴───────────── disable (password + code) ◀──────────────┘
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

import pyotp
import segno
import sqlalchemy as sa
from limits.errors import StorageError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from glint.accounts import passwords
from glint.accounts.models import RecoveryCode, User
from glint.config import RateLimitAction, Settings
from glint.errors import BadRequest, Conflict, Forbidden, RateLimited
from glint.infra.ids import IdGenerator
from glint.infra.ratelimit import RateLimiter

Factor = Literal["password", "totp", "recovery"]
FACTOR_PASSWORD: Factor = "password"  # noqa: S105 (a factor name, not a secret)
FACTOR_TOTP: Factor = "totp"
FACTOR_RECOVERY: Factor = "recovery"

ISSUER = "Glint"
STEP_SECONDS = 30
# Codes one step either side of now are accepted: phones' clocks drift.
SKEW_STEPS = 1
TOTP_DIGITS = 6
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: recovery codes are copied by hand from paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_HALF = 5
# One message for a wrong password and a wrong code alike: which one was wrong is a hint.
WRONG_CREDENTIALS = "Wrong password or code."
WRONG_CREDENTIALS_CODE = "invalid_credentials"
RATE_ACTION: RateLimitAction = "second_factor"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the person needs to add the account to an authenticator app."""

    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class Status:
    """Where an account's second factor stands."""

    enabled: bool
    pending: bool
    recovery_codes_left: int


def is_enabled(user: User) -> bool:
    """Whether signing in as this user needs a second factor."""
    return user.totp_secret is not None


def _wrong() -> Forbidden:
    return Forbidden(WRONG_CREDENTIALS, code=WRONG_CREDENTIALS_CODE)


def _already_on() -> Conflict:
    return Conflict("Two-factor sign-in is already on.", code="two_factor_enabled")


def _step_of(now: float) -> int:
    return int(now // STEP_SECONDS)


def _matching_step(secret: str, code: str, *, now: float, after: int | None) -> int | None:
    """The time step within the skew window whose code this is (and later than `after`)."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=STEP_SECONDS)
    current = _step_of(now)
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if after is not None and step <= after:
            continue  # that code (or an older one) was already used: a replay
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _as_totp_code(code: str) -> str | None:
    digits = "".join(code.split())
    return digits if len(digits) == TOTP_DIGITS and digits.isascii() and digits.isdigit() else None


def normalize_recovery_code(code: str) -> str:
    """A recovery code as stored: lower case, without hyphens or spaces."""
    return "".join(ch for ch in code.lower() if ch not in "- \t")


def _hash_recovery_code(code: str) -> str:
    # Ten random characters from 31 carry ~50 bits: a plain digest is safe to store.
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(2 * RECOVERY_HALF))
    return f"{chars[:RECOVERY_HALF]}-{chars[RECOVERY_HALF:]}"


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    # Drawn here as inline SVG: the secret never leaves for a QR service or a CDN.
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=5, border=4, dark="#111", light="#fff", title="QR code")
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=svg)


def begin_setup(user: User) -> Enrolment:
    """A new pending secret for the account (stored, unconfirmed) and its QR code."""
    if is_enabled(user):
        raise _already_on()
    user.totp_pending_secret = pyotp.random_base32()
    return _enrolment(user, user.totp_pending_secret)


def pending_enrolment(user: User) -> Enrolment | None:
    """The setup waiting for its first code (shown again on reload), if there is one."""
    if is_enabled(user) or user.totp_pending_secret is None:
        return None
    return _enrolment(user, user.totp_pending_secret)


async def status(session: AsyncSession, *, user: User) -> Status:
    """Whether the account has 2FA on, a setup waiting, and how many recovery codes remain."""
    left = await session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return Status(
        enabled=is_enabled(user),
        pending=user.totp_pending_secret is not None,
        recovery_codes_left=int(left or 0) if is_enabled(user) else 0,
    )


async def _replace_recovery_codes(
    session: AsyncSession, *, ids: IdGenerator, user: User, now: dt.datetime
) -> list[str]:
    """Ten new recovery codes (returned in clear this once); the old ones stop working."""
    await session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(
            id=ids.next_id(), user_id=user.id, code_hash=_hash_recovery_code(code), created_at=now
        )
        for code in codes
    )
    await session.flush()
    return codes


async def _attempt(limiter: RateLimiter, settings: Settings, *, user: User) -> None:
    """Count one attempt at a code before checking it, refusing past the limit: counted first,
    so parallel guesses cannot all slip past a check made before any of them is counted. A
    broken limiter store lets everyone through: it must not lock people out."""
    try:
        verdict = await limiter.hit(settings.rate_limit(RATE_ACTION), RATE_ACTION, _key(user))
    except StorageError:
        return
    if not verdict.allowed:
        raise RateLimited("Too many wrong codes; try again later.", headers=verdict.headers())


async def _succeeded(limiter: RateLimiter, settings: Settings, *, user: User) -> None:
    """A right code: the account's count starts again (only wrong guesses should add up)."""
    try:
        await limiter.reset(settings.rate_limit(RATE_ACTION), RATE_ACTION, _key(user))
    except StorageError:
        return


def _key(user: User) -> str:
    return f"account:{user.id}"


async def _accept_totp(session: AsyncSession, *, user: User, step: int) -> bool:
    """Record a TOTP step as used; False when a concurrent request used it (or a later) first."""
    result = await session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        return False
    set_committed_value(user, "totp_last_step", step)  # written already: no second UPDATE
    return True


async def _use_recovery_code(
    session: AsyncSession, *, user: User, code: str, now: dt.datetime
) -> bool:
    """Spend a recovery code; False when it is not one of the account's. A spent one is 400."""
    row = await session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery_code(code),
        )
    )
    if row is None:
        return False
    result = await session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise BadRequest("That recovery code has already been used.", code="code_used")
    return True


async def _verify(session: AsyncSession, *, user: User, code: str, now: float) -> Factor | None:
    assert user.totp_secret is not None
    totp_code = _as_totp_code(code)
    if totp_code is not None:
        step = _matching_step(user.totp_secret, totp_code, now=now, after=user.totp_last_step)
        if step is not None and await _accept_totp(session, user=user, step=step):
            return FACTOR_TOTP
        return None
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    if await _use_recovery_code(session, user=user, code=code, now=moment):
        return FACTOR_RECOVERY
    return None


async def _check_code(session: AsyncSession, *, user: User, code: str | None, now: float) -> str:
    """The factor a code proves; 403 when it is missing or wrong, 400 for a spent one."""
    if code is None or not code.strip() or len(code) > 64:
        raise _wrong()
    factor = await _verify(session, user=user, code=code, now=now)
    if factor is None:
        raise _wrong()
    return factor


async def check_second_factor(
    session: AsyncSession,
    *,
    user: User,
    code: str | None,
    limiter: RateLimiter,
    settings: Settings,
    now: float,
) -> str | None:
    """The factor a code proves ("totp"/"recovery"), or None when the account has no 2FA;
    403 when it is missing or wrong, 400 `code_used` for a spent recovery code."""
    if not is_enabled(user):
        return None
    await _attempt(limiter, settings, user=user)
    factor = await _check_code(session, user=user, code=code, now=now)
    await _succeeded(limiter, settings, user=user)
    return factor


async def enable(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    user: User,
    code: str,
    limiter: RateLimiter,
    settings: Settings,
    now: float,
) -> list[str]:
    """Confirm the pending secret with a first code; the ten recovery codes, shown this once."""
    if is_enabled(user):
        raise _already_on()
    pending = user.totp_pending_secret
    if pending is None:
        raise Conflict("Start the setup first.", code="two_factor_not_pending")
    await _attempt(limiter, settings, user=user)
    totp_code = _as_totp_code(code)
    step = None if totp_code is None else _matching_step(pending, totp_code, now=now, after=None)
    if step is None:
        raise _wrong()
    await _succeeded(limiter, settings, user=user)
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    # One UPDATE from "pending with this secret" to "on": of two racing confirmations (two
    # tabs), one wins and the other is told it is on already; no second set of codes.
    values = {
        "totp_secret": pending,
        "totp_pending_secret": None,
        "totp_enabled_at": moment,
        "totp_last_step": step,  # the confirming code may not sign anyone in afterwards
    }
    result = await session.execute(
        sa.update(User)
        .where(User.id == user.id, User.totp_secret.is_(None), User.totp_pending_secret == pending)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise _already_on()
    for name, value in values.items():
        set_committed_value(user, name, value)
    return await _replace_recovery_codes(session, ids=ids, user=user, now=moment)


async def _check_password_and_code(
    session: AsyncSession,
    *,
    user: User,
    password: str,
    code: str,
    limiter: RateLimiter,
    settings: Settings,
    now: float,
) -> None:
    """Both the password and a second factor, with one answer for either being wrong."""
    if not is_enabled(user):
        raise Conflict("Two-factor sign-in is off.", code="two_factor_disabled")
    await _attempt(limiter, settings, user=user)  # one count for the pair
    if not await passwords.verify_password(password, user.password_hash):
        raise _wrong()
    await _check_code(session, user=user, code=code, now=now)
    await _succeeded(limiter, settings, user=user)


async def regenerate_recovery_codes(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    user: User,
    password: str,
    code: str,
    limiter: RateLimiter,
    settings: Settings,
    now: float,
) -> list[str]:
    """A new set of ten recovery codes after password + code; the old set stops working."""
    await _check_password_and_code(
        session,
        user=user,
        password=password,
        code=code,
        limiter=limiter,
        settings=settings,
        now=now,
    )
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    return await _replace_recovery_codes(session, ids=ids, user=user, now=moment)


async def disable(
    session: AsyncSession,
    *,
    user: User,
    password: str,
    code: str,
    limiter: RateLimiter,
    settings: Settings,
    now: float,
) -> None:
    """Turn two-factor sign-in off after password + code; the recovery codes go with it."""
    await _check_password_and_code(
        session,
        user=user,
        password=password,
        code=code,
        limiter=limiter,
        settings=settings,
        now=now,
    )
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    await session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.flush()
