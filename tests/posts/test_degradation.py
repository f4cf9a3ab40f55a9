"""Dependencies down: storage down gives 503 and leaves nothing; a dead broker loses nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa

from glint.app import create_app
from glint.infra import runtime as runtime_mod
from glint.infra.queue import Job
from glint.posts.models import Post
from tests.accounts.test_auth_api import assert_error
from tests.conftest import base_settings, s3_url
from tests.factories.accounts import register
from tests.factories.posts import upload
from tests.live import free_port


async def test_storage_down_answers_503_and_leaves_nothing(tmp_path: Path) -> None:
    from glint import migrate

    dead_s3 = s3_url(f"http://127.0.0.1:{free_port()}")
    settings = base_settings(tmp_path, storage_url=dead_s3)
    await migrate.upgrade_async(settings.effective_database_url)
    rt = await runtime_mod.start(settings)
    try:
        app = create_app(runtime=rt)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as client:
            user = await register(client)
            response = await upload(client, user)
            ready = await client.get("http://t/readyz")
        assert_error(response, 503, "unavailable")
        assert int(response.headers["Retry-After"]) > 0
        assert ready.status_code == 503 and "storage" in ready.json()["error"]["fields"]
        async with rt.db.session() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
            assert await session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    finally:
        await rt.close()


async def test_broker_down_still_accepts_uploads(tmp_path: Path, moto_endpoint: str) -> None:
    from glint import migrate

    settings = base_settings(
        tmp_path,
        broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
        storage_url=s3_url(moto_endpoint, tmp_path.name),
    )
    await migrate.upgrade_async(settings.effective_database_url)
    rt = await runtime_mod.start(settings)
    try:
        app = create_app(runtime=rt)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as client:
            user = await register(client)
            response = await upload(client, user)
            ready = await client.get("http://t/readyz")
        assert response.status_code == 202, response.text
        assert ready.status_code == 503 and "broker" in ready.json()["error"]["fields"]
        # The job waits in the table (the outbox) for the broker and the sweep to come back.
        async with rt.db.session() as session:
            job = await session.scalar(sa.select(Job))
        assert job is not None and job.status == "queued" and job.name == "posts.process"
    finally:
        await rt.close()
