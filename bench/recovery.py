"""Crash recovery: kill -9 the process working the jobs with 8 uploads in flight, start it again,
and time until every accepted post is published. Both run modes, real processes:

- embedded: `glint serve` killed and started again (it re-queues what the dead one held);
- scale-out: a `glint worker` killed and a new one started, with no `glint scheduler` running
  (RabbitMQ redelivers; a job still leased by the dead worker is claimed when its lease ends).

    uv run --all-groups python -m bench.recovery [--mode both|embedded|scaleout] [--uploads 8]

The scale-out run needs the machine's PostgreSQL, Redis and RabbitMQ (tests/conftest.py URLs);
it makes a database and a queue of its own and removes them after. Results go to
bench/results/recovery.json. tests/posts/test_crash_recovery.py runs the same scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from glint.config import Settings
from glint.infra.db import Database, create_engine
from glint.infra.queue import Job
from tests.factories import images
from tests.live import GlintProcess, LiveServer, LiveWorker, settings_env

PHOTOS_PER_POST = 3
# Long enough to keep both worker slots busy while the uploads land, small enough to be quick.
PHOTO_SIZE = (1600, 1200)


@dataclass(frozen=True, slots=True)
class Recovery:
    """One kill-and-restart: what was in flight, and how long until every post was published."""

    mode: str
    uploads: int
    lease_seconds: float
    processing_at_kill: int
    running_jobs_at_kill: int
    restart_ready_seconds: float
    published_seconds: float
    statuses: list[str]


async def _register(http: httpx.AsyncClient) -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    response = await http.post(
        "/auth/register",
        json={"username": f"crash{tag}", "email": f"c{tag}@example.com", "password": "pw-crash-1"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _upload(http: httpx.AsyncClient, auth: dict[str, str], count: int) -> list[str]:
    """Post `count` photos at once; the IDs of the posts accepted with 202."""
    photo = images.jpeg(*PHOTO_SIZE)

    async def one() -> str:
        response = await http.post(
            "/posts",
            files=[("image", ("crash.jpg", photo, "image/jpeg"))] * PHOTOS_PER_POST,
            headers=auth,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _running_jobs(db: Database) -> int:
    async with db.session() as session:
        count = await session.scalar(
            sa.select(sa.func.count()).select_from(Job).where(Job.status == "running")
        )
    return int(count or 0)


async def _wait_for_running_job(db: Database, *, within: float = 60.0) -> None:
    """Return once a job is being worked: the kill must land mid-work."""
    deadline = time.monotonic() + within
    while await _running_jobs(db) == 0:
        if time.monotonic() > deadline:
            raise AssertionError("no job was ever running")
        await asyncio.sleep(0.01)


async def _statuses(base_url: str, auth: dict[str, str], ids: list[str]) -> list[str]:
    async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=30) as http:
        posts = [(await http.get(f"/posts/{post_id}", headers=auth)).json() for post_id in ids]
    return [str(post["status"]) for post in posts]


async def _wait_all_done(
    base_url: str, auth: dict[str, str], ids: list[str], *, within: float
) -> list[str]:
    """Poll until no post is processing any more (or the time is up); their statuses."""
    deadline = time.monotonic() + within
    while True:
        statuses = await _statuses(base_url, auth, ids)
        if "processing" not in statuses or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.1)


async def _ready(process: LiveServer) -> None:
    await asyncio.to_thread(process.wait_ready, 120.0)  # a busy machine starts slowly


async def _stop(*processes: GlintProcess | None, sig: int = signal.SIGTERM) -> None:
    for process in processes:
        if process is not None:
            await asyncio.to_thread(process.stop, sig)


async def run_embedded(settings: Settings, *, uploads: int = 8, within: float = 120.0) -> Recovery:
    """`glint serve` on SQLite: upload, kill -9 mid-work, start it again, time to published."""
    env = settings_env(settings)
    db = Database(create_engine(settings.effective_database_url))
    first = LiveServer(env)
    second: LiveServer | None = None
    try:
        await _ready(first)
        async with httpx.AsyncClient(base_url=f"{first.url}/api/v1", timeout=60) as http:
            auth = await _register(http)
            ids = await _upload(http, auth, uploads)
        await _wait_for_running_job(db)
        await _stop(first, sig=signal.SIGKILL)
        running_at_kill = await _running_jobs(db)
        processing_at_kill = await _processing_posts(db, ids)
        restarted = time.monotonic()
        second = LiveServer(env)
        await _ready(second)
        ready = time.monotonic()
        statuses = await _wait_all_done(second.url, auth, ids, within=within)
        done = time.monotonic()
    finally:
        await _stop(first, second)
        await db.close()
    return Recovery(
        "embedded",
        uploads,
        settings.job_lease_seconds,
        processing_at_kill,
        running_at_kill,
        round(ready - restarted, 2),
        round(done - ready, 2),
        statuses,
    )


async def run_scaleout(settings: Settings, *, uploads: int = 8, within: float = 120.0) -> Recovery:
    """`glint serve` + one `glint worker`, no scheduler: kill -9 the worker, start another."""
    env = settings_env(settings)
    db = Database(create_engine(settings.effective_database_url))
    server = LiveServer(env)
    worker: LiveWorker | None = LiveWorker(env, "worker", "--threads", "2")
    replacement: LiveWorker | None = None
    try:
        await _ready(server)
        async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=60) as http:
            auth = await _register(http)
            ids = await _upload(http, auth, uploads)
        await _wait_for_running_job(db)
        await _stop(worker, sig=signal.SIGKILL)
        running_at_kill = await _running_jobs(db)
        processing_at_kill = await _processing_posts(db, ids)
        restarted = time.monotonic()
        replacement = LiveWorker(env, "worker", "--threads", "2")
        statuses = await _wait_all_done(server.url, auth, ids, within=within)
        done = time.monotonic()
    finally:
        await _stop(worker, replacement, server)
        await db.close()
    return Recovery(
        "scaleout",
        uploads,
        settings.job_lease_seconds,
        processing_at_kill,
        running_at_kill,
        0.0,  # a worker serves nothing: it is "ready" once it consumes, inside the figure below
        round(done - restarted, 2),
        statuses,
    )


async def _processing_posts(db: Database, ids: list[str]) -> int:
    """How many of the posts were still processing (read from the database: the API may be down)."""
    async with db.session() as session:
        query = sa.text(
            "SELECT count(*) FROM posts WHERE status = 'processing' AND id IN :ids"
        ).bindparams(sa.bindparam("ids", expanding=True))
        count = await session.scalar(query, {"ids": [int(post_id) for post_id in ids]})
    return int(count or 0)


async def _scaleout_settings(data_dir: Path) -> tuple[Settings, str]:
    """Settings on a database and queue of their own (created and migrated); the database."""
    import asyncpg

    from glint import migrate as migrate_mod
    from tests.conftest import BROKER_URL, PG_ADMIN_URL, REDIS_URL, base_settings

    name = f"glint_bench_recovery_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    settings = base_settings(
        data_dir,
        log_level="warning",
        database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}",
        redis_url=REDIS_URL,
        redis_prefix=f"{name}:",
        broker_url=BROKER_URL,
        job_queue_name=name,
    )
    await migrate_mod.upgrade_async(settings.effective_database_url)
    return settings, name


async def _drop_scaleout(settings: Settings, name: str) -> None:
    import asyncpg
    import redis.asyncio as aioredis

    from tests.conftest import PG_ADMIN_URL, delete_queue

    await asyncio.to_thread(delete_queue, settings.job_queue_name)
    client = aioredis.Redis.from_url(settings.redis_url)
    keys = [key async for key in client.scan_iter(match=f"{settings.redis_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def bench(modes: list[str], uploads: int) -> dict[str, Any]:
    """Run each mode once on fresh data; the figures by mode."""
    from tests.conftest import base_settings

    results: dict[str, Any] = {}
    for mode in modes:
        with tempfile.TemporaryDirectory() as data_dir:
            if mode == "embedded":
                settings = base_settings(Path(data_dir), log_level="warning")
                outcome = await run_embedded(settings, uploads=uploads)
            else:
                settings, name = await _scaleout_settings(Path(data_dir))
                try:
                    outcome = await run_scaleout(settings, uploads=uploads)
                finally:
                    await _drop_scaleout(settings, name)
        results[mode] = asdict(outcome)
        print(json.dumps(results[mode]), flush=True)
    return results


def main() -> None:
    """Run the scenarios and write bench/results/recovery.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("both", "embedded", "scaleout"), default="both")
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--out", default="bench/results/recovery.json")
    args = parser.parse_args()
    modes = ["embedded", "scaleout"] if args.mode == "both" else [args.mode]
    results = asyncio.run(bench(modes, args.uploads))
    report = {
        "scenario": f"kill -9 with {args.uploads} uploads in flight ({PHOTOS_PER_POST} photos of "
        f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} each), restart, seconds until all are published",
        "published_seconds_means": "embedded: from the restarted server answering; "
        "scale-out: from starting the replacement worker (no scheduler running)",
        "results": results,
        "targets": {"published_seconds": 60},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
