"""Settings → Download your data, in both run modes: a form without JavaScript starts the
export, the page follows it, offers the signed download, and the notification points to it."""

from __future__ import annotations

import html
import re

import httpx

from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.ownership import exports
from tests.conftest import wait_for_jobs
from tests.factories.accounts import register
from tests.factories.ownership import open_zip
from tests.factories.posts import published_post
from tests.web import conftest as web_conftest
from tests.web.conftest import WebFactory, form_token

PAGE = "/settings/export"
web = web_conftest.web  # the page clients of the web tests, fixtures of this module too


async def test_start_follow_and_download_from_settings(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    await published_post(client, alice, caption="from the page")
    browser = web(alice)
    page = await browser.get(PAGE)
    assert page.status_code == 200
    assert 'href="/settings/export" aria-current="page"' in page.text
    assert "Request download" in page.text and "7 days" in page.text
    assert (await browser.post(PAGE, data={})).status_code == 403  # no CSRF token
    started = await browser.post(PAGE, data={"csrf_token": form_token(page.text)})
    assert started.status_code == 303 and started.headers["location"] == f"{PAGE}?done=started"
    following = await browser.get(started.headers["location"])
    assert "Your export has started" in following.text
    status = re.search(r'data-export-status="(\w+)"', following.text)
    assert status and status.group(1) in ("running", "ready")
    if status.group(1) == "running":
        assert 'http-equiv="refresh"' in following.text and "<progress" in following.text
    await wait_for_jobs(clean_runtime, within=120)
    ready = await browser.get(PAGE)
    assert "Your file is ready" in ready.text and 'http-equiv="refresh"' not in ready.text
    link = re.search(r'href="(/api/v1/exports/[^"]+)" download', ready.text)
    assert link
    got = await browser.get(html.unescape(link.group(1)))  # the page's cookie signs it in
    assert got.status_code == 200
    assert "posts.json" in open_zip(got.content).namelist()
    notices = await browser.get("/notifications")
    assert 'data-kind="export_ready"' in notices.text and 'href="/settings/export"' in notices.text


async def test_a_second_start_while_one_runs_is_refused_kindly(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    browser = web(alice)
    token = form_token((await browser.get(PAGE)).text)
    async with clean_runtime.db.session() as session:  # a run already going
        await exports.start(session, ids=clean_runtime.ids, user_id=int(alice.id), now=utcnow())
        await clean_runtime.commit(session)
    refused = await browser.post(PAGE, data={"csrf_token": token})
    assert refused.status_code == 303 and refused.headers["location"] == f"{PAGE}?done=running"
    assert "already being made" in (await browser.get(refused.headers["location"])).text
    assert (await web().get(PAGE)).status_code in (302, 303)  # signed out: to the login page
