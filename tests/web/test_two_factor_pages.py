"""Two-factor pages without JavaScript (plain form posts, in-process, both run modes): the
settings pages drive the same rules as /auth/2fa, and sign-in takes a second step."""

from __future__ import annotations

import html
import re

import httpx
import pyotp
import pytest

from glint.infra.runtime import Runtime
from tests.factories.accounts import TestUser, register
from tests.factories.two_factor import enrol, wrong_code
from tests.web.conftest import WebFactory, form_token

pytestmark = pytest.mark.usefixtures("mode")

_SECRET = re.compile(r'data-secret="([A-Z2-7]+)"')
_CHALLENGE = re.compile(r'name="challenge" value="([^"]+)"')
_CODES_BLOCK = re.compile(r'<pre class="recovery-codes"[^>]*>([^<]*)</pre>')


def _codes(page: str) -> list[str]:
    found = _CODES_BLOCK.search(page)
    assert found is not None, "no recovery codes on the page"
    return found.group(1).split()


def _now(runtime: Runtime) -> float:
    return runtime.clock.now().timestamp()


async def _status(client: httpx.AsyncClient, user: TestUser) -> dict[str, object]:
    body: dict[str, object] = (await client.get("/auth/2fa", headers=user.auth)).json()
    return body


async def test_settings_pages_enrol_regenerate_and_disable(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    browser = web(alice)
    overview = await browser.get("/settings/two-factor")
    assert overview.status_code == 200 and "Set up two-factor sign-in" in overview.text
    started = await browser.post(
        "/settings/two-factor/setup", data={"csrf_token": alice.csrf_token}
    )
    assert (
        started.status_code == 303 and started.headers["location"] == "/settings/two-factor/setup"
    )
    setup = await browser.get("/settings/two-factor/setup")
    assert "<svg" in setup.text
    found = _SECRET.search(setup.text)
    assert found is not None
    secret = found.group(1)
    # Reloading shows the same pending secret (a new one only from the button).
    assert secret in (await browser.get("/settings/two-factor/setup")).text
    assert (await _status(client, alice))["pending"] is True

    now = _now(clean_runtime)
    refused = await browser.post(
        "/settings/two-factor/enable",
        data={"csrf_token": alice.csrf_token, "code": wrong_code(secret, now)},
    )
    assert refused.status_code == 403 and "Wrong password or code." in refused.text
    no_csrf = await browser.post(
        "/settings/two-factor/enable", data={"code": pyotp.TOTP(secret).at(now)}
    )
    assert no_csrf.status_code == 403 and (await _status(client, alice))["enabled"] is False
    enabled = await browser.post(
        "/settings/two-factor/enable",
        data={"csrf_token": alice.csrf_token, "code": pyotp.TOTP(secret).at(now - 30)},
    )
    assert enabled.status_code == 200
    codes = _codes(enabled.text)
    assert len(codes) == 10 and "shown only this once" in enabled.text
    assert await _status(client, alice) == {
        "enabled": True,
        "pending": False,
        "recovery_codes_left": 10,
    }

    # New recovery codes: the password and a code, else one message for either.
    wrong_password = await browser.post(
        "/settings/two-factor/recovery-codes",
        data={"csrf_token": alice.csrf_token, "password": "not my password", "code": codes[0]},
    )
    assert wrong_password.status_code == 403 and "Wrong password or code." in wrong_password.text
    fresh = await browser.post(
        "/settings/two-factor/recovery-codes",
        data={"csrf_token": alice.csrf_token, "password": alice.password, "code": codes[0]},
    )
    assert fresh.status_code == 200
    new_codes = _codes(fresh.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    empty = await browser.post(
        "/settings/two-factor/disable", data={"csrf_token": alice.csrf_token}
    )
    assert empty.status_code == 422
    off = await browser.post(
        "/settings/two-factor/disable",
        data={
            "csrf_token": alice.csrf_token,
            "password": alice.password,
            "code": pyotp.TOTP(secret).at(_now(clean_runtime)),
        },
    )
    assert off.status_code == 303 and off.headers["location"] == "/settings/two-factor?saved=off"
    assert (await _status(client, alice))["enabled"] is False
    assert "Two-factor sign-in is off" in (await browser.get(off.headers["location"])).text
    me = (await client.get("/auth/me", headers=alice.auth)).json()
    assert me["two_factor_enabled"] is False


async def _first_step(browser: httpx.AsyncClient, user: TestUser) -> httpx.Response:
    token = form_token((await browser.get("/login")).text)
    return await browser.post(
        "/login",
        data={
            "csrf_token": token,
            "login": user.username,
            "password": user.password,
            "next": "/explore",
        },
    )


async def test_sign_in_takes_a_second_step(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    alice = await register(client)
    enrolled = await enrol(client, alice, at=_now(clean_runtime))
    browser = web()
    first = await _first_step(browser, alice)
    assert first.status_code == 200 and "glint_session" not in browser.cookies
    found = _CHALLENGE.search(first.text)
    assert found is not None
    challenge = html.unescape(found.group(1))
    token = form_token(first.text)

    def second(code: str, challenge: str = challenge) -> dict[str, str]:
        return {"csrf_token": token, "challenge": challenge, "code": code, "next": "/explore"}

    wrong = await browser.post(
        "/login/2fa", data=second(wrong_code(enrolled.secret, _now(clean_runtime)))
    )
    assert wrong.status_code == 403 and "Wrong password or code." in wrong.text
    assert 'name="challenge"' in wrong.text  # the same step again, not back to the start
    blank = await browser.post("/login/2fa", data=second(""))
    assert blank.status_code == 422
    forged = await browser.post(
        "/login/2fa", data=second(enrolled.code(_now(clean_runtime)), challenge="1.2.abc")
    )
    assert forged.status_code == 401 and 'name="password"' in forged.text
    assert (await browser.get("/login/2fa")).headers["location"] == "/login"

    signed = await browser.post("/login/2fa", data=second(enrolled.code(_now(clean_runtime))))
    assert signed.status_code == 303 and signed.headers["location"] == "/explore"
    assert "glint_session" in browser.cookies
    devices = await browser.get("/accounts/sessions")
    assert "password + authenticator app" in devices.text

    # A recovery code signs another browser in, and the devices page says which way.
    other = web()
    first = await _first_step(other, alice)
    found = _CHALLENGE.search(first.text)
    assert found is not None
    data = {
        "csrf_token": form_token(first.text),
        "challenge": html.unescape(found.group(1)),
        "code": enrolled.recovery_codes[2],
    }
    assert (await other.post("/login/2fa", data=data)).status_code == 303
    assert "password + recovery code" in (await other.get("/accounts/sessions")).text
    spent = await web().post("/login/2fa", data=data)
    assert spent.status_code == 403  # a browser without the pre-session cookie: CSRF first
