"""Test data for two-factor sign-in: enrolment through the real API, and codes computed from
the secret the way an authenticator app would."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pyotp

from tests.factories.accounts import TestUser


@dataclass
class Enrolled:
    """A user's authenticator secret and the recovery codes shown at enrolment."""

    __test__ = False

    secret: str
    recovery_codes: list[str]

    def code(self, at: float) -> str:
        """The authenticator app's code at a moment (Unix seconds)."""
        return pyotp.TOTP(self.secret).at(at)


def wrong_code(secret: str, at: float) -> str:
    """Six digits that are none of the codes accepted around a moment."""
    taken = {pyotp.TOTP(secret).at(at + skew) for skew in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in taken)


async def enrol(client: httpx.AsyncClient, user: TestUser, *, at: float) -> Enrolled:
    """Turn 2FA on for a user through POST /auth/2fa/setup and /auth/2fa/enable; the code
    that confirms it is from one step before `at`, so the current step stays unused."""
    setup = await client.post("/auth/2fa/setup", headers=user.auth)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    enabled = await client.post(
        "/auth/2fa/enable",
        json={"code": pyotp.TOTP(secret).at(at - 30)},
        headers=user.auth,
    )
    assert enabled.status_code == 200, enabled.text
    return Enrolled(secret=secret, recovery_codes=enabled.json()["recovery_codes"])


async def first_step(client: httpx.AsyncClient, user: TestUser) -> str:
    """POST /auth/login for a 2FA account: its challenge (no session made)."""
    response = await client.post(
        "/auth/login", json={"login": user.username, "password": user.password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["two_factor_required"] is True and body["token"] is None, body
    challenge: str = body["challenge"]
    return challenge
