"""E-mail flows end to end, in both run modes: what the API does, the message that arrives
(an .eml file in the outbox embedded, over SMTP to a real server scale-out), and the link in it
followed back to the API."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from glint.accounts.mail_messages import RESET_PATH, VERIFY_PATH
from glint.infra.queue import Job
from tests.factories.accounts import DEFAULT_PASSWORD, TestUser, register
from tests.factories.mail import MailApi, mail_api, smtp_stack

__all__ = ["mail_api", "smtp_stack"]  # fixtures, imported to be used here
NEW_PASSWORD = "a brand new password"


async def _verify(api: MailApi, user: TestUser) -> None:
    token = await api.last_token(user.email, VERIFY_PATH)
    response = await api.client.post("/auth/email/verify", json={"token": token})
    assert response.status_code == 200, response.text


async def test_sign_up_sends_a_link_that_verifies_the_address_once(mail_api: MailApi) -> None:
    alice = await register(mail_api.client, "alice")
    me = await mail_api.client.get("/auth/me", headers=alice.auth)
    assert me.json()["email_verified"] is False
    [message] = await mail_api.mail_to("alice@example.com")
    assert message["Subject"] == "Confirm your e-mail address"
    assert message["From"] == mail_api.runtime.settings.mail_from
    assert message.get_body(preferencelist=("html",)) is not None
    token = await mail_api.last_token(alice.email, VERIFY_PATH)
    verified = await mail_api.client.post("/auth/email/verify", json={"token": token})
    assert verified.status_code == 200
    assert verified.json()["email_verified"] is True
    me = await mail_api.client.get("/auth/me", headers=alice.auth)
    assert me.json()["email_verified"] is True
    again = await mail_api.client.post("/auth/email/verify", json={"token": token})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"


async def test_verification_can_be_asked_again_until_verified(mail_api: MailApi) -> None:
    alice = await register(mail_api.client, "alice")
    asked = await mail_api.client.post("/auth/email/verification", headers=alice.auth)
    assert asked.status_code == 202
    assert len(await mail_api.mail_to(alice.email)) == 2
    await _verify(mail_api, alice)
    refused = await mail_api.client.post("/auth/email/verification", headers=alice.auth)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "already_verified"
    anonymous = await mail_api.client.post("/auth/email/verification")
    assert anonymous.status_code == 401


async def test_a_verification_link_expires_after_a_day(mail_api: MailApi) -> None:
    alice = await register(mail_api.client, "alice")
    token = await mail_api.last_token(alice.email, VERIFY_PATH)
    mail_api.runtime.clock.advance(dt.timedelta(days=1, minutes=1))  # type: ignore[attr-defined]
    late = await mail_api.client.post("/auth/email/verify", json={"token": token})
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "invalid_token"
    me = await mail_api.client.get("/auth/me", headers=alice.auth)
    assert me.json()["email_verified"] is False


@pytest.mark.parametrize("token", ["", "x" * 129, "not-a-token-we-made"])
async def test_bad_tokens_are_4xx(mail_api: MailApi, token: str) -> None:
    for path in ("/auth/email/verify", "/auth/password/reset"):
        body = {"token": token, "new_password": NEW_PASSWORD}
        response = await mail_api.client.post(path, json=body)
        assert response.status_code in (400, 422), response.text
        assert "error" in response.json()


async def test_forgot_answers_the_same_for_every_address(mail_api: MailApi) -> None:
    alice = await register(mail_api.client, "alice")  # not verified yet
    for address in ("nobody@example.com", alice.email, "ALICE@example.com"):
        response = await mail_api.client.post("/auth/password/forgot", json={"email": address})
        assert response.status_code == 202
        assert response.content == b""
    assert await mail_api.mail_to("nobody@example.com") == []
    # An unverified address gets no reset: only its sign-up verification.
    subjects = [m["Subject"] for m in await mail_api.mail_to(alice.email)]
    assert subjects == ["Confirm your e-mail address"]


async def test_a_password_reset_end_to_end(mail_api: MailApi) -> None:
    api = mail_api
    alice = await register(api.client, "alice")
    await _verify(api, alice)
    assert (await api.client.post("/auth/password/forgot", json={"email": alice.email})).is_success
    token = await api.last_token(alice.email, RESET_PATH)
    reset = await api.client.post(
        "/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204
    # Every session ended; only the new password signs in.
    assert (await api.client.get("/auth/me", headers=alice.auth)).status_code == 401
    old = await api.client.post("/auth/login", json={"login": "alice", "password": alice.password})
    assert old.status_code == 401
    new = await api.client.post("/auth/login", json={"login": "alice", "password": NEW_PASSWORD})
    assert new.status_code == 200
    again = await api.client.post(
        "/auth/password/reset", json={"token": token, "new_password": "yet another password"}
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"
    subjects = [m["Subject"] for m in await api.mail_to(alice.email)]
    assert subjects[-2:] == ["Reset your password", "Your password was changed"]


async def test_changing_the_password_voids_reset_links_sent_before(mail_api: MailApi) -> None:
    api = mail_api
    alice = await register(api.client, "alice")
    await _verify(api, alice)
    await api.client.post("/auth/password/forgot", json={"email": alice.email})
    token = await api.last_token(alice.email, RESET_PATH)
    changed = await api.client.post(
        "/auth/password",
        json={"current_password": alice.password, "new_password": NEW_PASSWORD},
        headers=alice.auth,
    )
    assert changed.status_code == 204, changed.text
    stale = await api.client.post(
        "/auth/password/reset", json={"token": token, "new_password": "yet another password"}
    )
    assert stale.status_code == 400 and stale.json()["error"]["code"] == "invalid_token"
    login = await api.client.post("/auth/login", json={"login": "alice", "password": NEW_PASSWORD})
    assert login.status_code == 200


async def test_a_reset_link_expires_after_an_hour(mail_api: MailApi) -> None:
    api = mail_api
    alice = await register(api.client, "alice")
    await _verify(api, alice)
    await api.client.post("/auth/password/forgot", json={"email": alice.email})
    token = await api.last_token(alice.email, RESET_PATH)
    api.runtime.clock.advance(dt.timedelta(minutes=61))  # type: ignore[attr-defined]
    late = await api.client.post(
        "/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert late.status_code == 400
    # Nothing changed: the old password and the session still work.
    assert (await api.client.get("/auth/me", headers=alice.auth)).status_code == 200
    login = await api.client.post(
        "/auth/login", json={"login": "alice", "password": alice.password}
    )
    assert login.status_code == 200


async def test_a_newer_reset_leaves_older_links_dead(mail_api: MailApi) -> None:
    api = mail_api
    alice = await register(api.client, "alice")
    await _verify(api, alice)
    await api.client.post("/auth/password/forgot", json={"email": alice.email})
    first = await api.last_token(alice.email, RESET_PATH)
    await api.client.post("/auth/password/forgot", json={"email": alice.email})
    second = await api.last_token(alice.email, RESET_PATH)
    assert first != second
    body = {"token": second, "new_password": NEW_PASSWORD}
    assert (await api.client.post("/auth/password/reset", json=body)).status_code == 204
    body = {"token": first, "new_password": "yet another password"}
    assert (await api.client.post("/auth/password/reset", json=body)).status_code == 400


async def test_forgot_is_rate_limited_per_address_and_per_ip(mail_api: MailApi) -> None:
    api = mail_api
    await register(api.client, "alice")
    # The test clients' peers are trusted proxies here, so each request can name its own IP.
    api.use_settings(rate_limit_emails="2/hour", trusted_proxies=["127.0.0.1", "203.0.113.7"])
    api.runtime.limiter.enabled = True

    async def forgot(address: str, ip: str) -> int:
        response = await api.client.post(
            "/auth/password/forgot", json={"email": address}, headers={"X-Forwarded-For": ip}
        )
        return response.status_code

    try:
        # Per address, whoever asks and whether or not it has an account: the same answers.
        for address in ("nobody@example.com", "alice@example.com"):
            codes = [await forgot(address, f"198.51.100.{n}") for n in range(3)]
            assert codes == [202, 202, 429]
        # Per IP, whatever the address.
        codes = [await forgot(f"someone{n}@example.com", "192.0.2.1") for n in range(3)]
        assert codes == [202, 202, 429]
    finally:
        api.runtime.limiter.enabled = False


async def test_a_password_change_is_told_to_the_address(mail_api: MailApi) -> None:
    alice = await register(mail_api.client, "alice")
    changed = await mail_api.client.post(
        "/auth/password",
        headers=alice.auth,
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204
    subjects = [m["Subject"] for m in await mail_api.mail_to(alice.email)]
    assert "Your password was changed" in subjects


async def test_changing_the_address(mail_api: MailApi) -> None:
    api = mail_api
    alice = await register(api.client, "alice")
    await register(api.client, "bob")
    await _verify(api, alice)
    old_link = await api.last_token(alice.email, VERIFY_PATH)
    wrong = await api.client.put(
        "/users/me/email",
        headers=alice.auth,
        json={"email": "alice@new.example", "password": "not my password"},
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "wrong_password"
    taken = await api.client.put(
        "/users/me/email",
        headers=alice.auth,
        json={"email": "BOB@example.com", "password": alice.password},
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "email_taken"
    moved = await api.client.put(
        "/users/me/email",
        headers=alice.auth,
        json={"email": "Alice@New.example", "password": alice.password},
    )
    assert moved.status_code == 200
    assert moved.json()["email"] == "alice@new.example"
    assert moved.json()["email_verified"] is False
    [notice] = [m for m in await api.mail_to("alice@example.com") if "changed" in m["Subject"]]
    assert "alice@new.example" in notice.get_body(preferencelist=("plain",)).get_content()
    # The old address's link is dead; the new address's link verifies it.
    dead = await api.client.post("/auth/email/verify", json={"token": old_link})
    assert dead.status_code == 400
    token = await api.last_token("alice@new.example", VERIFY_PATH)
    verified = await api.client.post("/auth/email/verify", json={"token": token})
    assert verified.json()["email_verified"] is True
    login = await api.client.post(
        "/auth/login", json={"login": "alice@new.example", "password": alice.password}
    )
    assert login.status_code == 200


async def _first_failure(api: MailApi, job_name: str) -> str:
    """The error of the first failed attempt of a job (polled: it runs in the background, and a
    worker just started may take a while to take it)."""
    for _ in range(1200):
        async with api.runtime.db.session() as session:
            error = await session.scalar(
                sa.select(Job.last_error).where(Job.name == job_name, Job.attempts >= 1)
            )
        if error:
            return str(error)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job_name} never failed")


async def test_a_mail_server_outage_is_waited_out(mail_api: MailApi) -> None:
    with mail_api.outage():
        alice = await register(mail_api.client, "alice")
        error = await _first_failure(mail_api, "email.verification_requested:accounts.mail")
        assert error.startswith("MailUnavailable")
        assert mail_api.delivered() == []
    # The job retries (with backoff) until the server answers again; the link then works.
    for _ in range(200):
        if await mail_api.mail_to(alice.email):
            break
        await asyncio.sleep(0.1)
    await _verify(mail_api, alice)
