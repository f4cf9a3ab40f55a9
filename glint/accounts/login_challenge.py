"""The login challenge: what the first step of a two-factor sign-in (the password) hands the
second (the code). No HTTP here.

It names the account and its expiry, signed with a key of its own (derived for this purpose
only) and bound to the password hash, so it opens nothing else, dies in five minutes, and dies
at once when the password changes. It is not a session: it signs nobody in by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import twofactor
from glint.accounts.models import User
from glint.config import Settings
from glint.errors import Forbidden, Unauthenticated
from glint.infra.keys import derive_key
from glint.infra.ratelimit import RateLimiter

CHALLENGE_TTL_SECONDS = 300
CHALLENGE_KEY_PURPOSE = "login-challenge"


def _challenge_mac(*, secret_key: str, user_id: int, expires: int, password_hash: str) -> str:
    key = derive_key(secret_key, CHALLENGE_KEY_PURPOSE)
    message = f"{user_id}.{expires}.{password_hash}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_challenge(user: User, *, secret_key: str, now: float) -> str:
    """A signed, short-lived token saying this account's password was just right."""
    expires = int(now) + CHALLENGE_TTL_SECONDS
    mac = _challenge_mac(
        secret_key=secret_key, user_id=user.id, expires=expires, password_hash=user.password_hash
    )
    return f"{user.id}.{expires}.{mac}"


def _invalid_challenge() -> Unauthenticated:
    return Unauthenticated(
        "This sign-in has expired or is not valid; sign in again.", code="invalid_challenge"
    )


async def redeem_challenge(
    session: AsyncSession,
    *,
    challenge: str,
    code: str,
    secret_key: str,
    limiter: RateLimiter,
    settings: Settings,
    now: float,
) -> tuple[User, str]:
    """The account a valid challenge and second factor sign in, and the factor used."""
    parts = challenge.split(".")
    if len(parts) != 3 or not all(part.isascii() and part for part in parts):
        raise _invalid_challenge()
    raw_id, raw_expires, mac = parts
    if not (raw_id.isdigit() and raw_expires.isdigit() and len(raw_id) <= 19):
        raise _invalid_challenge()
    user_id, expires = int(raw_id), int(raw_expires)
    if expires < now or expires > now + CHALLENGE_TTL_SECONDS:
        raise _invalid_challenge()
    user = await session.get(User, user_id)
    if user is None or not twofactor.is_enabled(user):
        raise _invalid_challenge()
    expected = _challenge_mac(
        secret_key=secret_key, user_id=user.id, expires=expires, password_hash=user.password_hash
    )
    if not hmac.compare_digest(expected, mac):
        raise _invalid_challenge()
    if user.banned_at is not None:
        raise Forbidden("This account has been banned.", code="account_banned")
    factor = await twofactor.check_second_factor(
        session, user=user, code=code, limiter=limiter, settings=settings, now=now
    )
    assert factor is not None  # the account has 2FA: a factor or an error
    return user, factor
