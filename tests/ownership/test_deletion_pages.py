"""Settings → Delete account through the pages (no JavaScript): the grace period explained,
CSRF required, wrong password refused, then signed out on a page that says how to cancel;
signing in again cancels with a notice. The form and the API leave the same state behind.
Both run modes."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import DEFAULT_PASSWORD, TestUser, register
from tests.web.conftest import WebFactory, form_token, web

__all__ = ["web"]  # the page-client fixture of the web tests


async def _state(runtime: Runtime, user: TestUser) -> tuple[str | None, bool, bool]:
    async with runtime.db.session() as session:
        row = (await session.execute(sa.select(User).where(User.id == int(user.id)))).scalar_one()
        return row.deletion_status, row.deleted_at is not None, row.purge_after is not None


async def test_delete_from_the_settings_page_then_cancel_by_signing_in(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    browser = web(alice)
    page = await browser.get("/settings/delete")
    assert page.status_code == 200
    assert "30 days" in page.text and 'href="/settings/delete" aria-current="page"' in page.text
    assert 'name="code"' not in page.text  # no second factor: no code asked for
    token = form_token(page.text)
    form = {"csrf_token": token, "password": DEFAULT_PASSWORD, "confirm": "yes"}

    forged = await browser.post("/settings/delete", data={**form, "csrf_token": "0" * 40})
    assert forged.status_code == 403
    unconfirmed = await browser.post("/settings/delete", data={**form, "confirm": ""})
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.text
    wrong = await browser.post("/settings/delete", data={**form, "password": "nope nope"})
    assert wrong.status_code == 403 and "Wrong password or code." in wrong.text
    assert await _state(clean_runtime, alice) == (None, False, False)

    done = await browser.post("/settings/delete", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/account-deleted"
    goodbye = await browser.get("/account-deleted")
    assert goodbye.status_code == 200 and "within\n    30 days" in goodbye.text
    assert (await client.get("/users/alice", headers=bob.auth)).status_code == 404
    assert (await browser.get("/settings/delete")).status_code in (303, 307)  # signed out
    assert await _state(clean_runtime, alice) == ("pending", True, True)

    visitor = web()
    login = await visitor.get("/login")
    back = await visitor.post(
        "/login",
        data={"csrf_token": form_token(login.text), "login": "alice", "password": alice.password},
    )
    assert (
        back.status_code == 303 and back.headers["location"] == "/settings/delete?notice=cancelled"
    )
    notice = await visitor.get(back.headers["location"])
    assert "Your account will not be deleted" in notice.text
    await wait_for_jobs(clean_runtime)
    assert await _state(clean_runtime, alice) == (None, False, False)
    assert (await client.get("/users/alice", headers=bob.auth)).status_code == 200


async def test_the_page_and_the_api_leave_the_same_state(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    by_page, by_api = await register(client, "paige"), await register(client, "apiary")
    browser = web(by_page)
    token = form_token((await browser.get("/settings/delete")).text)
    form = {"csrf_token": token, "password": DEFAULT_PASSWORD, "confirm": "yes"}
    assert (await browser.post("/settings/delete", data=form)).status_code == 303
    answer = await client.request(
        "DELETE", "/users/me", json={"password": DEFAULT_PASSWORD}, headers=by_api.auth
    )
    assert answer.status_code == 202
    assert await _state(clean_runtime, by_page) == await _state(clean_runtime, by_api)
    for user in (by_page, by_api):
        assert (await client.get("/auth/me", headers=user.auth)).status_code == 401
