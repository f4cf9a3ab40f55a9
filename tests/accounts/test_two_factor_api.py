"""Two-factor sign-in: enrolment, the two-step login, recovery codes, and the shared check."""

from __future__ import annotations

import datetime as dt

import httpx
import pyotp
import pytest

from glint.accounts import service as accounts_service
from glint.accounts import twofactor
from glint.errors import BadRequest, Forbidden, RateLimited
from glint.infra.runtime import Runtime
from tests.factories.accounts import register

pytestmark = pytest.mark.usefixtures("mode")


def _now(runtime: Runtime) -> float:
    return runtime.clock.now().timestamp()


def wrong_code(secret: str, now: float) -> str:
    """Six digits that are none of the codes accepted around `now`."""
    taken = {pyotp.TOTP(secret).at(now + skew) for skew in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in taken)


async def _enable_in_db(runtime: Runtime, username: str) -> tuple[str, list[str]]:
    """Turn 2FA on through the service functions; the secret and the recovery codes."""
    async with runtime.db.session() as session:
        user = await accounts_service.get_by_username(session, username=username)
        enrolment = twofactor.begin_setup(user)
        code = pyotp.TOTP(enrolment.secret).at(_now(runtime) - 30)
        codes = await twofactor.enable(
            session,
            ids=runtime.ids,
            user=user,
            code=code,
            limiter=runtime.limiter,
            settings=runtime.settings,
            now=_now(runtime),
        )
        await session.commit()
    return enrolment.secret, codes


async def _check(runtime: Runtime, username: str, code: str | None) -> str | None:
    async with runtime.db.session() as session:
        user = await accounts_service.get_by_username(session, username=username)
        factor = await twofactor.check_second_factor(
            session,
            user=user,
            code=code,
            limiter=runtime.limiter,
            settings=runtime.settings,
            now=_now(runtime),
        )
        await session.commit()
    return factor


async def test_check_second_factor_without_2fa_is_none(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    assert await _check(clean_runtime, alice.username, None) is None
    assert await _check(clean_runtime, alice.username, "123456") is None


async def test_check_second_factor_totp_with_moved_clock_and_replay(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    secret, _ = await _enable_in_db(clean_runtime, alice.username)
    totp = pyotp.TOTP(secret)
    clock = clean_runtime.clock
    assert hasattr(clock, "advance")
    # Our clock moves 90 s ahead: the phone's current code is three steps old, refused.
    phone_now = _now(clean_runtime)
    clock.advance(dt.timedelta(seconds=90))
    with pytest.raises(Forbidden) as wrong:
        await _check(clean_runtime, alice.username, totp.at(phone_now))
    assert wrong.value.code == "invalid_credentials"
    # A code from 90 s ahead of our clock is refused as well.
    with pytest.raises(Forbidden):
        await _check(clean_runtime, alice.username, totp.at(_now(clean_runtime) + 90))
    # 30 s of skew either way is accepted; each code once.
    assert await _check(clean_runtime, alice.username, totp.at(_now(clean_runtime) - 30)) == "totp"
    assert await _check(clean_runtime, alice.username, totp.at(_now(clean_runtime) + 30)) == "totp"
    with pytest.raises(Forbidden):  # replay of the code just used
        await _check(clean_runtime, alice.username, totp.at(_now(clean_runtime) + 30))
    with pytest.raises(Forbidden):  # an older code after a newer one was used: also a replay
        await _check(clean_runtime, alice.username, totp.at(_now(clean_runtime)))
    clock.advance(dt.timedelta(seconds=60))
    assert await _check(clean_runtime, alice.username, totp.at(_now(clean_runtime))) == "totp"


async def test_check_second_factor_missing_wrong_and_recovery(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    secret, codes = await _enable_in_db(clean_runtime, alice.username)
    bad = wrong_code(secret, _now(clean_runtime))
    for code in (None, "", "   ", bad, "not-a-code", "x" * 500):
        with pytest.raises(Forbidden) as wrong:
            await _check(clean_runtime, alice.username, code)
        assert wrong.value.message == twofactor.WRONG_CREDENTIALS
    # Recovery codes: any case, with or without the hyphen, once.
    assert await _check(clean_runtime, alice.username, codes[0].upper()) == "recovery"
    assert await _check(clean_runtime, alice.username, codes[1].replace("-", "")) == "recovery"
    with pytest.raises(BadRequest) as used:
        await _check(clean_runtime, alice.username, codes[0])
    assert used.value.code == "code_used"


async def test_check_second_factor_rate_limited(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    secret, _ = await _enable_in_db(clean_runtime, alice.username)
    clean_runtime.limiter.enabled = True
    bad = wrong_code(secret, _now(clean_runtime))
    for _ in range(5):
        with pytest.raises(Forbidden):
            await _check(clean_runtime, alice.username, bad)
    # Even the right code is refused now, until the window passes.
    with pytest.raises(RateLimited):
        await _check(clean_runtime, alice.username, pyotp.TOTP(secret).at(_now(clean_runtime)))
