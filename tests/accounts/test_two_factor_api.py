"""Two-factor sign-in: enrolment, the two-step login, recovery codes, and the shared check."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pyotp
import pytest
import sqlalchemy as sa

from glint.accounts import service as accounts_service
from glint.accounts import twofactor
from glint.accounts.models import RecoveryCode
from glint.errors import BadRequest, Forbidden, RateLimited
from glint.infra.clock import MovableClock
from glint.infra.runtime import Runtime
from tests.factories.accounts import TestUser, register
from tests.factories.two_factor import Enrolled, enrol, first_step, wrong_code

pytestmark = pytest.mark.usefixtures("mode")

NO_HINT = {"code": "invalid_credentials", "message": twofactor.WRONG_CREDENTIALS}


def _now(runtime: Runtime) -> float:
    return runtime.clock.now().timestamp()


def _clock(runtime: Runtime) -> MovableClock:
    assert isinstance(runtime.clock, MovableClock)
    return runtime.clock


def _error(response: httpx.Response) -> dict[str, str]:
    error: dict[str, str] = response.json()["error"]
    return {"code": error["code"], "message": error["message"]}


async def _check(runtime: Runtime, username: str, code: str | None) -> str | None:
    """check_second_factor as another domain calls it, in a transaction of its own."""
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


async def _enrolled_user(client: httpx.AsyncClient, runtime: Runtime) -> tuple[TestUser, Enrolled]:
    user = await register(client)
    return user, await enrol(client, user, at=_now(runtime))


async def _second_step(client: httpx.AsyncClient, challenge: str, code: str) -> httpx.Response:
    return await client.post("/auth/login/2fa", json={"challenge": challenge, "code": code})


# --- check_second_factor: the one function other domains call ---------------------------------


async def test_check_second_factor_without_2fa_is_none(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    assert await _check(clean_runtime, alice.username, None) is None
    assert await _check(clean_runtime, alice.username, "123456") is None


async def test_check_second_factor_totp_with_moved_clock_and_replay(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    clock = _clock(clean_runtime)
    # Our clock moves 90 s ahead: the phone's code of "now" is three steps old, refused.
    phone_now = _now(clean_runtime)
    clock.advance(dt.timedelta(seconds=90))
    with pytest.raises(Forbidden) as wrong:
        await _check(clean_runtime, alice.username, enrolled.code(phone_now))
    assert wrong.value.code == "invalid_credentials"
    # A code from 90 s ahead of our clock is refused as well.
    with pytest.raises(Forbidden):
        await _check(clean_runtime, alice.username, enrolled.code(_now(clean_runtime) + 90))
    # 30 s of skew either way is accepted; each code once.
    now = _now(clean_runtime)
    assert await _check(clean_runtime, alice.username, enrolled.code(now - 30)) == "totp"
    assert await _check(clean_runtime, alice.username, enrolled.code(now + 30)) == "totp"
    with pytest.raises(Forbidden):  # the code just used, again
        await _check(clean_runtime, alice.username, enrolled.code(now + 30))
    with pytest.raises(Forbidden):  # an older code after a newer one was used: also a replay
        await _check(clean_runtime, alice.username, enrolled.code(now))
    clock.advance(dt.timedelta(seconds=60))
    assert await _check(clean_runtime, alice.username, enrolled.code(_now(clean_runtime))) == "totp"


async def test_check_second_factor_missing_wrong_and_recovery(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    bad = wrong_code(enrolled.secret, _now(clean_runtime))
    fullwidth_digits = "\uff11\uff12\uff13\uff14\uff15\uff16"
    for code in (None, "", "   ", bad, "not-a-code", "x" * 500, fullwidth_digits):
        with pytest.raises(Forbidden) as wrong:
            await _check(clean_runtime, alice.username, code)
        assert wrong.value.message == twofactor.WRONG_CREDENTIALS
    # Recovery codes: any case, with or without the hyphen, once.
    codes = enrolled.recovery_codes
    assert await _check(clean_runtime, alice.username, codes[0].upper()) == "recovery"
    assert await _check(clean_runtime, alice.username, codes[1].replace("-", "")) == "recovery"
    with pytest.raises(BadRequest) as used:
        await _check(clean_runtime, alice.username, f" {codes[0]} ")
    assert used.value.code == "code_used"


async def test_check_second_factor_rate_limited(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    clean_runtime.limiter.enabled = True
    bad = wrong_code(enrolled.secret, _now(clean_runtime))
    for _ in range(5):
        with pytest.raises(Forbidden):
            await _check(clean_runtime, alice.username, bad)
    # Even the right code is refused now, until the window passes.
    with pytest.raises(RateLimited):
        await _check(clean_runtime, alice.username, enrolled.code(_now(clean_runtime)))


# --- enrolment ---------------------------------------------------------------------------------


async def test_enrol_shows_qr_and_secret_and_enable_gives_ten_codes(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    status = await client.get("/auth/2fa", headers=alice.auth)
    assert status.json() == {"enabled": False, "pending": False, "recovery_codes_left": 0}
    setup = await client.post("/auth/2fa/setup", headers=alice.auth)
    assert setup.status_code == 200
    body = setup.json()
    # The QR code is drawn here: an inline SVG that loads nothing from anywhere.
    assert body["qr_svg"].startswith("<svg") and "href" not in body["qr_svg"]
    assert body["otpauth_uri"].startswith("otpauth://totp/Glint:" + alice.username)
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    status = await client.get("/auth/2fa", headers=alice.auth)
    assert status.json() == {"enabled": False, "pending": True, "recovery_codes_left": 0}
    me = await client.get("/auth/me", headers=alice.auth)
    assert me.json()["two_factor_enabled"] is False

    bad = wrong_code(body["secret"], _now(clean_runtime))
    refused = await client.post("/auth/2fa/enable", json={"code": bad}, headers=alice.auth)
    assert refused.status_code == 403 and _error(refused) == NO_HINT
    code = pyotp.TOTP(body["secret"]).at(_now(clean_runtime))
    enabled = await client.post("/auth/2fa/enable", json={"code": code}, headers=alice.auth)
    assert enabled.status_code == 200
    codes = enabled.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    status = await client.get("/auth/2fa", headers=alice.auth)
    assert status.json() == {"enabled": True, "pending": False, "recovery_codes_left": 10}
    me = await client.get("/auth/me", headers=alice.auth)
    assert me.json()["two_factor_enabled"] is True
    # Setting up again or enabling twice is a conflict, not a new secret.
    again = await client.post("/auth/2fa/setup", headers=alice.auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "two_factor_enabled"
    twice = await client.post("/auth/2fa/enable", json={"code": code}, headers=alice.auth)
    assert twice.status_code == 409
    # The recovery codes are stored hashed: none appears in the database in clear.
    async with clean_runtime.db.session() as session:
        stored = set(await session.scalars(sa.select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not stored & {twofactor.normalize_recovery_code(c) for c in codes}


async def test_enable_without_setup_is_a_conflict_and_a_new_setup_replaces_the_secret(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    early = await client.post("/auth/2fa/enable", json={"code": "123456"}, headers=alice.auth)
    assert early.status_code == 409 and early.json()["error"]["code"] == "two_factor_not_pending"
    first = (await client.post("/auth/2fa/setup", headers=alice.auth)).json()["secret"]
    second = (await client.post("/auth/2fa/setup", headers=alice.auth)).json()["secret"]
    assert first != second
    stale = pyotp.TOTP(first).at(_now(clean_runtime))
    if stale != pyotp.TOTP(second).at(_now(clean_runtime)):
        refused = await client.post("/auth/2fa/enable", json={"code": stale}, headers=alice.auth)
        assert refused.status_code == 403


async def test_two_racing_confirmations_enable_once(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    secret = (await client.post("/auth/2fa/setup", headers=alice.auth)).json()["secret"]
    code = pyotp.TOTP(secret).at(_now(clean_runtime))
    answers = await asyncio.gather(
        *(client.post("/auth/2fa/enable", json={"code": code}, headers=alice.auth) for _ in "ab")
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    status = await client.get("/auth/2fa", headers=alice.auth)
    assert status.json() == {"enabled": True, "pending": False, "recovery_codes_left": 10}


# --- signing in in two steps -------------------------------------------------------------------


async def test_login_in_two_steps_and_sessions_list_the_factor(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    before = (await client.get("/auth/sessions", headers=alice.auth)).json()["items"]
    assert [item["factor"] for item in before] == ["password"]

    challenge = await first_step(client, alice)
    # The first step made no session.
    after_first = (await client.get("/auth/sessions", headers=alice.auth)).json()["items"]
    assert len(after_first) == 1
    signed = await _second_step(client, challenge, enrolled.code(_now(clean_runtime)))
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["two_factor_required"] is False and body["challenge"] is None
    assert body["user"]["username"] == alice.username and body["csrf_token"]
    token_auth = {"Authorization": f"Bearer {body['token']}"}
    sessions = (await client.get("/auth/sessions", headers=token_auth)).json()["items"]
    by_current = {item["current"]: item["factor"] for item in sessions}
    assert by_current == {True: "totp", False: "password"}

    # A recovery code works as the second factor, and the session says so.
    challenge = await first_step(client, alice)
    recovered = await _second_step(client, challenge, enrolled.recovery_codes[3])
    assert recovered.status_code == 200
    recovery_auth = {"Authorization": f"Bearer {recovered.json()['token']}"}
    sessions = (await client.get("/auth/sessions", headers=recovery_auth)).json()["items"]
    assert {item["factor"] for item in sessions if item["current"]} == {"recovery"}
    # A spent recovery code is 400 code_used.
    challenge = await first_step(client, alice)
    reused = await _second_step(client, challenge, enrolled.recovery_codes[3])
    assert reused.status_code == 400 and reused.json()["error"]["code"] == "code_used"


async def test_login_wrong_code_replay_and_moved_clock(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    challenge = await first_step(client, alice)
    wrong = await _second_step(client, challenge, wrong_code(enrolled.secret, _now(clean_runtime)))
    assert wrong.status_code == 403 and _error(wrong) == NO_HINT
    code = enrolled.code(_now(clean_runtime))
    assert (await _second_step(client, challenge, code)).status_code == 200
    replay = await _second_step(client, challenge, code)
    assert replay.status_code == 403 and _error(replay) == NO_HINT
    # Two minutes later a new challenge; the phone's code from two minutes ago is refused.
    _clock(clean_runtime).advance(dt.timedelta(seconds=120))
    challenge = await first_step(client, alice)
    assert (await _second_step(client, challenge, code)).status_code == 403
    fresh = enrolled.code(_now(clean_runtime) + 30)  # a phone 30 s fast is fine
    assert (await _second_step(client, challenge, fresh)).status_code == 200


async def test_challenge_expires_is_bound_to_password_and_cannot_be_forged(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    bob, bob_enrolled = await _enrolled_user(client, clean_runtime)
    challenge = await first_step(client, alice)
    user_id, expires, mac = challenge.split(".")
    forged = [
        f"{bob.id}.{expires}.{mac}",  # another account
        f"{user_id}.{int(expires) + 60}.{mac}",  # a later expiry
        f"{user_id}.{expires}.{mac[:-2]}AA",
        "garbage",
        "1.2",
        "..",
        "-1.-1.x",
        f"{user_id}.{'9' * 40}.{mac}",
    ]
    for bad in forged:
        response = await _second_step(client, bad, bob_enrolled.code(_now(clean_runtime)))
        assert response.status_code == 401, (bad, response.text)
        assert response.json()["error"]["code"] == "invalid_challenge"
    # The challenge is no session token.
    as_token = await client.get("/auth/me", headers={"Authorization": f"Bearer {challenge}"})
    assert as_token.status_code == 401
    # Five minutes and a second later it has expired.
    _clock(clean_runtime).advance(dt.timedelta(seconds=301))
    late = await _second_step(client, challenge, enrolled.code(_now(clean_runtime)))
    assert late.status_code == 401 and late.json()["error"]["code"] == "invalid_challenge"
    # A password change voids a live challenge.
    challenge = await first_step(client, alice)
    changed = await client.post(
        "/auth/password",
        json={"current_password": alice.password, "new_password": "a-whole-new-password"},
        headers=alice.auth,
    )
    assert changed.status_code == 204
    voided = await _second_step(client, challenge, enrolled.code(_now(clean_runtime)))
    assert voided.status_code == 401


async def test_second_step_rate_limited_per_account(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    clean_runtime.limiter.enabled = True
    challenge = await first_step(client, alice)
    bad = wrong_code(enrolled.secret, _now(clean_runtime))
    for _ in range(5):
        assert (await _second_step(client, challenge, bad)).status_code == 403
    limited = await _second_step(client, challenge, enrolled.code(_now(clean_runtime)))
    assert limited.status_code == 429 and "Retry-After" in limited.headers


async def test_second_factor_fails_open_when_the_limiter_store_is_down(
    client: httpx.AsyncClient, clean_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from limits.errors import StorageError

    alice, enrolled = await _enrolled_user(client, clean_runtime)
    clean_runtime.limiter.enabled = True

    async def broken(*args: object, **kwargs: object) -> None:
        raise StorageError(ConnectionError("limiter store down"))

    challenge = await first_step(client, alice)
    monkeypatch.setattr(clean_runtime.limiter, "peek", broken)
    monkeypatch.setattr(clean_runtime.limiter, "hit", broken)
    bad = await _second_step(client, challenge, wrong_code(enrolled.secret, _now(clean_runtime)))
    assert bad.status_code == 403
    good = await _second_step(client, challenge, enrolled.code(_now(clean_runtime)))
    assert good.status_code == 200


# --- recovery codes and turning it off ---------------------------------------------------------


async def test_regenerate_voids_old_codes_and_needs_password_and_code(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    now = _now(clean_runtime)
    for password, code in (
        ("wrong-password!", enrolled.code(now)),
        (alice.password, wrong_code(enrolled.secret, now)),
    ):
        refused = await client.post(
            "/auth/2fa/recovery-codes",
            json={"password": password, "code": code},
            headers=alice.auth,
        )
        assert refused.status_code == 403 and _error(refused) == NO_HINT
    fresh = await client.post(
        "/auth/2fa/recovery-codes",
        json={"password": alice.password, "code": enrolled.recovery_codes[0]},
        headers=alice.auth,
    )
    assert fresh.status_code == 200
    new_codes = fresh.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(enrolled.recovery_codes)
    status = await client.get("/auth/2fa", headers=alice.auth)
    assert status.json()["recovery_codes_left"] == 10
    challenge = await first_step(client, alice)
    old = await _second_step(client, challenge, enrolled.recovery_codes[5])
    assert old.status_code == 403
    assert (await _second_step(client, challenge, new_codes[5])).status_code == 200


async def test_disable_needs_password_and_code(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    now = _now(clean_runtime)
    cases = (
        ("wrong-password!", enrolled.code(now)),
        (alice.password, wrong_code(enrolled.secret, now)),
        ("wrong-password!", wrong_code(enrolled.secret, now)),
    )
    for password, code in cases:
        refused = await client.post(
            "/auth/2fa/disable", json={"password": password, "code": code}, headers=alice.auth
        )
        assert refused.status_code == 403 and _error(refused) == NO_HINT
    done = await client.post(
        "/auth/2fa/disable",
        json={"password": alice.password, "code": enrolled.code(now)},
        headers=alice.auth,
    )
    assert done.status_code == 204
    status = await client.get("/auth/2fa", headers=alice.auth)
    assert status.json() == {"enabled": False, "pending": False, "recovery_codes_left": 0}
    again = await client.post(
        "/auth/2fa/disable",
        json={"password": alice.password, "code": enrolled.code(now)},
        headers=alice.auth,
    )
    assert again.status_code == 409
    # Signing in is one step again.
    login = await client.post(
        "/auth/login", json={"login": alice.username, "password": alice.password}
    )
    assert login.status_code == 200 and login.json()["token"]
    assert login.json()["two_factor_required"] is False


async def test_cookie_sign_in_in_two_steps_sets_the_cookie(
    cookie_client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(cookie_client, clean_runtime)
    cookie_client.cookies.clear()
    challenge = await first_step(cookie_client, alice)
    assert "glint_session" not in cookie_client.cookies
    signed = await _second_step(cookie_client, challenge, enrolled.code(_now(clean_runtime)))
    assert signed.status_code == 200 and "glint_session" in cookie_client.cookies
    me = await cookie_client.get("/auth/me")
    assert me.status_code == 200 and me.json()["two_factor_enabled"] is True


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/login/2fa", {}),
        ("/auth/login/2fa", {"challenge": "x"}),
        ("/auth/login/2fa", {"challenge": "x" * 500, "code": "123456"}),
        ("/auth/login/2fa", {"challenge": ["a"], "code": 123456}),
        ("/auth/login/2fa", {"challenge": "1.2.3", "code": "1" * 100}),
        ("/auth/2fa/enable", {"code": None}),
        ("/auth/2fa/enable", {"code": "\u0000\u2603"}),
        ("/auth/2fa/disable", {"password": "", "code": ""}),
        ("/auth/2fa/recovery-codes", {"password": "x" * 5000, "code": "123456"}),
        ("/auth/2fa/recovery-codes", []),
    ],
)
async def test_garbage_is_a_clear_4xx(
    client: httpx.AsyncClient, clean_runtime: Runtime, path: str, body: object
) -> None:
    alice, _ = await _enrolled_user(client, clean_runtime)
    response = await client.post(path, json=body, headers=alice.auth)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"]


async def test_two_factor_routes_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/auth/2fa"),
        ("POST", "/auth/2fa/setup"),
        ("POST", "/auth/2fa/enable"),
        ("POST", "/auth/2fa/disable"),
        ("POST", "/auth/2fa/recovery-codes"),
    ):
        response = await client.request(method, path, json={"code": "1", "password": "x"})
        assert response.status_code == 401, (path, response.text)


async def test_parallel_guesses_are_counted_before_they_are_checked(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, enrolled = await _enrolled_user(client, clean_runtime)
    clean_runtime.limiter.enabled = True
    bad = wrong_code(enrolled.secret, _now(clean_runtime))

    async def guess() -> str:
        try:
            await _check(clean_runtime, alice.username, bad)
        except Forbidden:
            return "wrong"
        except RateLimited:
            return "limited"
        return "accepted"

    outcomes = await asyncio.gather(*(guess() for _ in range(12)))
    # However the twelve interleave, no more than the limit's five are ever checked.
    assert outcomes.count("wrong") == 5 and outcomes.count("limited") == 7, outcomes
