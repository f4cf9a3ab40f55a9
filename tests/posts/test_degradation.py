"""Dependencies down: storage down gives 503 and leaves nothing; a dead broker loses nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from glint.infra.queue import Job
from glint.posts.models import Post
from tests.accounts.test_auth_api import assert_error
from tests.conftest import base_settings, own_app, s3_url
from tests.factories.accounts import register
from tests.factories.posts import upload
from tests.live import free_port


async def test_storage_down_answers_503_and_leaves_nothing(tmp_path: Path) -> None:
    dead_s3 = s3_url(f"http://127.0.0.1:{free_port()}")
    async with own_app(base_settings(tmp_path, storage_url=dead_s3)) as (rt, client):
        user = await register(client)
        response = await upload(client, user)
        ready = await client.get("http://t/readyz")
        async with rt.db.session() as session:
            posts = await session.scalar(sa.select(sa.func.count()).select_from(Post))
            jobs = await session.scalar(
                sa.select(sa.func.count()).select_from(Job).where(Job.name.startswith("post."))
            )
    assert_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) > 0
    assert ready.status_code == 503
    assert "storage" in ready.json()["error"]["fields"]
    assert posts == jobs == 0


async def test_broker_down_still_accepts_uploads(tmp_path: Path, moto_endpoint: str) -> None:
    settings = base_settings(
        tmp_path,
        broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
        storage_url=s3_url(moto_endpoint, tmp_path.name),
    )
    async with own_app(settings) as (rt, client):
        user = await register(client)
        response = await upload(client, user)
        ready = await client.get("http://t/readyz")
        async with rt.db.session() as session:
            job = await session.scalar(sa.select(Job).where(Job.name.startswith("post.")))
    assert response.status_code == 202, response.text
    assert ready.status_code == 503
    assert "broker" in ready.json()["error"]["fields"]
    # The job waits in the table (the outbox) for the broker and the sweep to come back.
    assert job is not None
    assert (job.status, job.name) == ("queued", "post.created:posts.process")
