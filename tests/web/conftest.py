"""Fixtures of the web app tests: page clients on the app of each run mode (in-process)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Playwright, sync_playwright

from glint.infra import runtime as runtime_mod
from tests.conftest import IN_CI, base_settings
from tests.factories import images
from tests.factories.accounts import TestUser
from tests.live import ROOT, LiveServer, settings_env

WebFactory = Callable[..., httpx.AsyncClient]
_HIDDEN_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{40})"')


@pytest.fixture
async def web(app: FastAPI, clean_runtime: runtime_mod.Runtime) -> AsyncIterator[WebFactory]:
    """Opens browser-like page clients (each with its own cookies), signed in as a user or not."""
    opened: list[httpx.AsyncClient] = []

    def open_client(user: TestUser | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 50000))
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        if user is not None:
            http.cookies.set("glint_session", user.token)
        opened.append(http)
        return http

    yield open_client
    for http in opened:
        await http.aclose()


def form_token(html: str) -> str:
    """The hidden CSRF token of the (first) form on a page."""
    match = _HIDDEN_TOKEN.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


# --- the browser tests' shared pieces (Debian's Chromium, driven by Playwright) ------------

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """Skip (fail under CI=true) when Debian's chromium is missing."""
    if CHROMIUM.exists():
        return
    if IN_CI:
        pytest.fail(
            "CI=true and Debian's chromium is missing at /usr/bin/chromium (make system-deps)"
        )
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make system-deps)")


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: the README's folder when asked for, else a temporary one."""
    if os.environ.get("GLINT_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (sync API)."""
    require_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, never a downloaded one."""
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JPEG on disk, for the browser tests' file pickers."""
    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    path.write_bytes(images.jpeg(1200, 900))
    return path


@contextlib.contextmanager
def live_server(
    tmp_path_factory: pytest.TempPathFactory, label: str, **env: str
) -> Iterator[LiveServer]:
    """`glint serve`, embedded, on a free port, with a data folder of its own (for the browser
    tests' module-scoped `live` fixtures)."""
    require_chromium()
    server = LiveServer(settings_env(base_settings(tmp_path_factory.mktemp(label)), **env))
    try:
        server.wait_ready(timeout=120)  # a busy machine can take a while to start it
        yield server
    finally:
        server.stop()
