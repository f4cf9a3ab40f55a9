"""Test data for discovery: posts published and indexed (indexing follows publication)."""

from __future__ import annotations

from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser
from tests.factories.posts import published_post


async def indexed_post(
    client: httpx.AsyncClient, runtime: Runtime, user: TestUser, **kwargs: Any
) -> dict[str, Any]:
    """Upload, wait until published, then until its indexing (a job after it) has run."""
    post = await published_post(client, user, **kwargs)
    await wait_for_jobs(runtime)
    return post
