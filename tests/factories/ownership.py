"""Test data for data exports: start one, let it finish, download and open its ZIP."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser

SERVER = "http://testserver"


async def start_export(client: httpx.AsyncClient, user: TestUser) -> dict[str, Any]:
    """POST /users/me/export, which must be accepted."""
    answer = await client.post("/users/me/export", headers=user.auth)
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


async def export_state(client: httpx.AsyncClient, user: TestUser) -> dict[str, Any]:
    """GET /users/me/export."""
    answer = await client.get("/users/me/export", headers=user.auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def finished_export(
    client: httpx.AsyncClient, runtime: Runtime, user: TestUser
) -> dict[str, Any]:
    """Start an export and wait until its job has settled; the export's state then."""
    await start_export(client, user)
    await wait_for_jobs(runtime, within=120)
    return await export_state(client, user)


async def download(client: httpx.AsyncClient, user: TestUser | None, url: str) -> httpx.Response:
    """GET a download link (a path from the server's root) as this user (or no one)."""
    return await client.get(SERVER + url, headers=user.auth if user else {})


def export_id_of(url: str) -> str:
    """The export a download link names."""
    return url.split("/exports/", 1)[1].split("/", 1)[0]


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The archive, checked entry by entry (CRCs) before any test looks inside."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive
