"""The e-mail and name pages, in both run modes: forms without JavaScript, with their CSRF
tokens, calling the same rules as the API. Mail is read from the data folder's outbox (the
suite's worker writes there in both modes; the SMTP half is tests/accounts/test_email_flows)."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from glint.accounts.mail_messages import RESET_PATH, VERIFY_PATH
from glint.infra.mail import OUTBOX_FOLDER
from glint.infra.queue import Job
from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.mail import link_token, read_outbox
from tests.web.conftest import WebFactory, form_token

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def outbox(clean_runtime: Runtime) -> Path:
    """The outbox folder, emptied."""
    folder = clean_runtime.settings.data_dir / OUTBOX_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    return folder


async def _token(runtime: Runtime, outbox: Path, address: str, path: str) -> str:
    await wait_for_jobs(runtime)
    mine = [m for m in read_outbox(outbox) if m["To"] == address]
    return link_token([m for m in mine if path in m.get_body(("plain",)).get_content()][-1], path)


async def _verify(
    client: httpx.AsyncClient, runtime: Runtime, outbox: Path, user: TestUser
) -> None:
    token = await _token(runtime, outbox, user.email, VERIFY_PATH)
    assert (await client.post("/auth/email/verify", json={"token": token})).status_code == 200


async def test_forgot_and_reset_through_the_pages(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime, outbox: Path
) -> None:
    alice = await register(client, "alice")
    await _verify(client, clean_runtime, outbox, alice)
    browser = web()
    login = await browser.get("/login")
    assert 'href="/password/forgot"' in login.text
    form = await browser.get("/password/forgot")
    assert form.status_code == 200
    sent = await browser.post(
        "/password/forgot", data={"csrf_token": form_token(form.text), "email": alice.email}
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/password/forgot?sent=1"
    assert "Check your e-mail" in (await browser.get(sent.headers["location"])).text
    token = await _token(clean_runtime, outbox, alice.email, RESET_PATH)
    page = await browser.get("/password/reset", params={"token": token})
    assert page.status_code == 200 and f'value="{token}"' in page.text
    fields = {"csrf_token": form_token(page.text), "token": token}
    mismatch = await browser.post(
        "/password/reset",
        data={**fields, "new_password": NEW_PASSWORD, "confirm_password": "something else"},
    )
    assert mismatch.status_code == 422
    done = await browser.post(
        "/password/reset",
        data={**fields, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert "Password changed" in (await browser.get(done.headers["location"])).text
    signed_in = await client.post("/auth/login", json={"login": "alice", "password": NEW_PASSWORD})
    assert signed_in.status_code == 200
    again = await browser.post(
        "/password/reset",
        data={**fields, "new_password": "another password", "confirm_password": "another password"},
    )
    assert again.status_code == 400
    assert "invalid, used or expired" in again.text


async def test_forgot_page_says_the_same_for_unknown_addresses(
    web: WebFactory, clean_runtime: Runtime, outbox: Path
) -> None:
    browser = web()
    form = await browser.get("/password/forgot")
    sent = await browser.post(
        "/password/forgot",
        data={"csrf_token": form_token(form.text), "email": "nobody@example.com"},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/password/forgot?sent=1"
    await wait_for_jobs(clean_runtime)
    assert read_outbox(outbox) == []
    bad = await browser.post(
        "/password/forgot", data={"csrf_token": form_token(form.text), "email": "not an address"}
    )
    assert bad.status_code == 422
    forged = await browser.post("/password/forgot", data={"email": "nobody@example.com"})
    assert forged.status_code == 403


async def test_the_verify_link_confirms_with_a_button(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime, outbox: Path
) -> None:
    alice = await register(client, "alice")
    token = await _token(clean_runtime, outbox, alice.email, VERIFY_PATH)
    browser = web(alice)  # opened where alice is signed in: the form carries her session's token
    landing = await browser.get("/verify-email", params={"token": token})
    assert landing.status_code == 200
    me = await client.get("/auth/me", headers=alice.auth)
    assert me.json()["email_verified"] is False  # opening the link alone changes nothing
    confirmed = await browser.post(
        "/verify-email", data={"csrf_token": form_token(landing.text), "token": token}
    )
    assert confirmed.status_code == 303
    assert "Address confirmed" in (await browser.get(confirmed.headers["location"])).text
    me = await client.get("/auth/me", headers=alice.auth)
    assert me.json()["email_verified"] is True
    reused = await browser.post(
        "/verify-email", data={"csrf_token": form_token(landing.text), "token": token}
    )
    assert reused.status_code == 400


async def test_settings_email_page(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime, outbox: Path
) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    browser = web(alice)
    page = await browser.get("/settings/email")
    assert page.status_code == 200
    assert "alice@example.com" in page.text and "not confirmed yet" in page.text
    assert 'href="/settings/email"' in (await browser.get("/accounts/password")).text
    token = form_token(page.text)
    resent = await browser.post("/settings/email/verification", data={"csrf_token": token})
    assert resent.status_code == 303
    wrong = await browser.post(
        "/settings/email",
        data={"csrf_token": token, "email": "alice@new.example", "password": "not it at all"},
    )
    assert wrong.status_code == 403 and "The password is wrong." in wrong.text
    taken = await browser.post(
        "/settings/email",
        data={"csrf_token": token, "email": "bob@example.com", "password": alice.password},
    )
    assert taken.status_code == 409
    moved = await browser.post(
        "/settings/email",
        data={"csrf_token": token, "email": "alice@new.example", "password": alice.password},
    )
    assert moved.status_code == 303
    me = await client.get("/auth/me", headers=alice.auth)
    assert me.json()["email"] == "alice@new.example"
    await wait_for_jobs(clean_runtime)
    to_old = [m["Subject"] for m in read_outbox(outbox) if m["To"] == "alice@example.com"]
    assert to_old.count("Confirm your e-mail address") == 2  # sign-up, then the resend
    assert "Your e-mail address was changed" in to_old


async def test_settings_username_page_and_the_old_profile_url(
    client: httpx.AsyncClient, web: WebFactory
) -> None:
    alice = await register(client, "alice")
    browser = web(alice)
    page = await browser.get("/settings/username")
    assert page.status_code == 200 and "14 days" in page.text
    token = form_token(page.text)
    bad = await browser.post(
        "/settings/username",
        data={"csrf_token": token, "username": "no spaces", "password": alice.password},
    )
    assert bad.status_code == 422
    renamed = await browser.post(
        "/settings/username",
        data={"csrf_token": token, "username": "alicia", "password": alice.password},
    )
    assert renamed.status_code == 303
    old = await web().get("/alice")
    assert old.status_code == 301
    assert old.headers["location"] == "/alicia"
    assert (await web().get("/alicia")).status_code == 200
    assert (await web().get("/nobody-here")).status_code == 404


async def _jobs_of(runtime: Runtime, action: Callable[[], Awaitable[object]]) -> list[str]:
    """The kinds of the jobs an action wrote, once they have settled."""
    await wait_for_jobs(runtime)
    async with runtime.db.session() as session:
        before = set(await session.scalars(sa.select(Job.id)))
    await action()
    await wait_for_jobs(runtime)
    async with runtime.db.session() as session:
        rows = await session.execute(sa.select(Job.id, Job.name, Job.status))
    return sorted(f"{name} {status}" for job_id, name, status in rows if job_id not in before)


async def _change(
    via: str, client: httpx.AsyncClient, browser: httpx.AsyncClient, user: TestUser, field: str
) -> None:
    """Change the e-mail or the username through the API or through its settings page."""
    value = f"{via}@new.example" if field == "email" else f"{via}_renamed"
    if via == "api":
        body = {field: value, "password": user.password}
        response = await client.put(f"/users/me/{field}", headers=user.auth, json=body)
        assert response.status_code == 200, response.text
        return
    token = form_token((await browser.get(f"/settings/{field}")).text)
    form = {"csrf_token": token, field: value, "password": user.password}
    response = await browser.post(f"/settings/{field}", data=form)
    assert response.status_code == 303, response.text


async def test_the_pages_and_the_api_change_the_same_things(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """A rename and a change of address leave the same behind by either path."""
    outcomes = {}
    for via in ("api", "web"):
        user = await register(client, f"{via}_user")
        browser = web(user)
        jobs: list[str] = []
        for field in ("email", "username"):
            jobs += await _jobs_of(
                clean_runtime, partial(_change, via, client, browser, user, field)
            )
        me = (await client.get("/auth/me", headers=user.auth)).json()
        old = await client.get(f"/users/{via}_user")
        outcomes[via] = (
            jobs,
            me["email"].replace(via, "X"),
            me["username"].replace(via, "X"),
            me["email_verified"],
            old.status_code,
        )
    assert outcomes["web"] == outcomes["api"]
    assert outcomes["api"][0] == [
        "email.changed:accounts.mail done",
        "email.verification_requested:accounts.mail done",
        "profile.changed:discovery.index done",
    ]
