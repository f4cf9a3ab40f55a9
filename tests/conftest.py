"""Fixtures: every API and adapter test runs twice, embedded and scale-out, each on clean state.

Scale-out uses the real PostgreSQL, Redis and RabbitMQ of the machine. Each test run gets its
own PostgreSQL database and Redis key prefix, so runs side by side never see each other. Under
CI=true a scale-out service that does not answer fails the run; elsewhere it is skipped, and
the summary says so.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from glint import migrate as migrate_mod
from glint import models_registry, wiring
from glint.app import create_app
from glint.config import Settings
from glint.infra import runtime as runtime_mod
from glint.infra import search
from glint.infra.clock import MovableClock
from glint.infra.db import utcnow
from tests.live import LiveWorker, free_port, settings_env

MODES = ("embedded", "scaleout")
PG_ADMIN_URL = os.environ.get(
    "GLINT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("GLINT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER_URL = os.environ.get("GLINT_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
S3_BUCKET = "glint-test-media"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_SECRET = "test-secret-" + "s3cr3t" * 6
_skipped: list[str] = []
# Subscriptions and schedules are declared before any runtime starts, as the entry points do.
wiring.install()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly what the scale-out half skipped, and why."""
    if _skipped:
        terminalreporter.section("scale-out services unreachable")
        for line in sorted(set(_skipped)):
            terminalreporter.write_line(f"SKIPPED the scale-out half: {line}")


async def _check_services() -> str | None:
    import asyncpg
    import redis.asyncio as aioredis

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
        await conn.close()
    except Exception as exc:
        return f"PostgreSQL at {dsn} did not answer ({type(exc).__name__}: {exc})"
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} did not answer ({type(exc).__name__}: {exc})"
    finally:
        await client.aclose()
    try:
        import pika

        connection = pika.BlockingConnection(
            pika.URLParameters(BROKER_URL + "?connection_attempts=1&socket_timeout=3")
        )
        connection.close()
    except Exception as exc:
        return f"RabbitMQ at {BROKER_URL} did not answer ({type(exc).__name__}: {exc})"
    return None


async def _create_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def own_app(
    settings: Settings,
) -> AsyncIterator[tuple[runtime_mod.Runtime, httpx.AsyncClient]]:
    """A migrated runtime of its own and a client of its app, for tests with odd settings."""
    await migrate_mod.upgrade_async(settings.effective_database_url)
    rt = await runtime_mod.start(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(runtime=rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as http:
            yield rt, http
    finally:
        await rt.close()


async def wait_for_jobs(rt: runtime_mod.Runtime, *, within: float = 30.0) -> None:
    """Block until no job is queued (and due) or running: background work has settled."""
    from glint.infra.queue import Job

    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with rt.db.session() as session:
            busy = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Job)
                .where(
                    sa.or_(
                        Job.status == "running",
                        sa.and_(Job.status == "queued", Job.run_after <= utcnow()),
                    )
                )
            )
        if not busy or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.05)


def base_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests: cheap password hashing, limits off unless a test turns them on."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "rate_limits_enabled": False,
        # Quota tests count the configured numbers with accounts made a moment ago; the new
        # account guard's own tests (tests/moderation/test_guards.py) turn the divisor on.
        "new_account_limit_divisor": 1,
        "log_level": "warning",
        "job_backoff_seconds": 0.2,
        "job_poll_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """The run mode a test is being run in."""
    return str(request.param)


@pytest.fixture(scope="session")
def run_id() -> str:
    """A token unique to this test run, naming its database and key prefix."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 API on loopback (moto, the one mock at the edge of the world), bucket created."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket=S3_BUCKET)
    yield endpoint
    server.stop()


def s3_url(endpoint: str, prefix: str = "") -> str:
    """A GLINT_STORAGE_URL for the moto bucket, under a prefix."""
    path = f"/{prefix}" if prefix else ""
    return f"s3://{S3_BUCKET}{path}?endpoint={endpoint}&access_key_id=test&secret_access_key=test"


@pytest.fixture(scope="session")
async def settings(
    mode: str, tmp_path_factory: pytest.TempPathFactory, run_id: str, moto_endpoint: str
) -> AsyncIterator[Settings]:
    """Settings of one run mode, with its database created and migrated."""
    data_dir = tmp_path_factory.mktemp(f"data-{mode}")
    if mode == "embedded":
        result = base_settings(data_dir)
        await migrate_mod.upgrade_async(result.effective_database_url)
        yield result
        return
    problem = await _check_services()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true and a scale-out service is unreachable: {problem}")
        _skipped.append(problem)
        pytest.skip(f"scale-out services unreachable: {problem}")
    database = f"glint_test_{run_id}"
    await _create_database(database)
    result = base_settings(
        data_dir,
        database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}",
        redis_url=REDIS_URL,
        redis_prefix=f"glint-test-{run_id}:",
        broker_url=BROKER_URL,
        job_queue_name=f"glint-test-{run_id}",
        storage_url=s3_url(moto_endpoint, run_id),
        db_pool_size=5,
    )
    try:
        await migrate_mod.upgrade_async(result.effective_database_url)
        yield result
    finally:
        await _drop_database(database)


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[runtime_mod.Runtime]:
    """The adapters of one run mode, shared by its tests, with its jobs being worked:
    embedded by the in-process worker, scale-out by a real `glint worker` process."""
    rt = await runtime_mod.start(settings)
    await rt.hub.listen_control()  # as `glint serve` does at start: the token cache is in use
    worker: LiveWorker | None = None
    if settings.broker_url:
        worker = LiveWorker(settings_env(settings))
    await rt.jobs.start()
    yield rt
    if worker is not None:
        worker.stop()
        delete_queue(settings.job_queue_name)
    if rt.redis is not None:
        await _delete_prefix(rt, settings.redis_prefix)
    await rt.close()


def delete_queue(name: str) -> None:
    """Remove a RabbitMQ queue (and Dramatiq's delay and dead-letter queues) of a test run."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
    try:
        channel = connection.channel()
        for queue_name in (name, f"{name}.DQ", f"{name}.XQ"):
            channel.queue_delete(queue=queue_name)
    finally:
        connection.close()


async def _delete_prefix(rt: runtime_mod.Runtime, prefix: str) -> None:
    assert rt.redis is not None
    keys = [key async for key in rt.redis.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await rt.redis.delete(*keys)


@pytest.fixture
async def clean_runtime(runtime: runtime_mod.Runtime) -> AsyncIterator[runtime_mod.Runtime]:
    """The runtime with every table emptied and every cache and counter forgotten."""
    await _wipe(runtime)
    runtime.limiter.enabled = False
    # Time rules read this clock: a test moves it forward instead of sleeping.
    runtime.clock = MovableClock()
    yield runtime
    runtime.limiter.enabled = False
    runtime.clock = MovableClock()


async def _wipe(rt: runtime_mod.Runtime) -> None:
    # Let the previous test's background jobs finish: wiping under a running job deadlocks.
    await wait_for_jobs(rt, within=15)
    tables = list(reversed(models_registry.metadata().sorted_tables))
    for attempt in range(5):
        try:
            async with rt.db.engine.begin() as conn:
                if rt.db.is_sqlite:
                    # Guard triggers (the append-only audit log) step aside while it empties;
                    # PostgreSQL's TRUNCATE fires no row triggers.
                    triggers = list(
                        await conn.scalars(
                            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
                        )
                    )
                    for name in await conn.scalars(
                        sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    ):
                        await conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
                    for table in tables:
                        await conn.execute(table.delete())
                    for trigger in triggers:
                        await conn.execute(sa.text(trigger))
                else:
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            break
        except sa.exc.DBAPIError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.2)
    async with rt.db.session() as session:  # the text index is not a model: clear it too
        await search.index_for(rt.db.engine.dialect.name).clear(session)
        await session.commit()
    await rt.storage.delete_many(await rt.storage.list_keys(""))
    if rt.redis is not None:
        await _delete_prefix(rt, rt.settings.redis_prefix)
    else:
        await rt.cache.close()
    await rt.limiter.clear_all()


@pytest.fixture(scope="session")
def app(runtime: runtime_mod.Runtime) -> FastAPI:
    """The app of one run mode."""
    return create_app(runtime=runtime)


@pytest.fixture
async def client(
    app: FastAPI, clean_runtime: runtime_mod.Runtime
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the API on clean state."""
    # Bearer tokens only: a cookie kept from one user's sign-in must not leak into the next
    # request of another (cookie tests use cookie_client).
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/api/v1", cookies=jar
    ) as http:
        yield http


@pytest.fixture
async def cookie_client(
    app: FastAPI, clean_runtime: runtime_mod.Runtime
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that keeps cookies, as a browser does."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1") as http:
        yield http
