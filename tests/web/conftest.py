"""Fixtures of the web app tests: page clients on the app of each run mode (in-process)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from glint.infra import runtime as runtime_mod
from tests.factories.accounts import TestUser

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
