"""`glint bench feed`: signed-in users paging /feed against a real `glint serve` on seeded data.

Reports server latency (the Server-Timing header: time in the app) and client latency
percentiles, requests/s and errors, as JSON and a PNG; in the same run, the naive pull query
(follows joined to posts, ORDER BY created_at DESC LIMIT 20) on the same data, and the fan-out
time of one post by the account with 10,000 active followers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench import plot
from glint.accounts import service as accounts_service
from glint.accounts.models import AuthSession, User
from glint.config import Settings
from glint.infra.db import utcnow
from tests.live import LiveServer, settings_env

SECRET = "bench-secret-" + "x" * 40
NAIVE_QUERY = (
    "SELECT p.* FROM posts p JOIN follows f ON f.followee_id = p.author_id "
    "WHERE f.follower_id = :uid AND p.status = 'published' ORDER BY p.created_at DESC LIMIT 20"
)


@dataclass
class Sample:
    """One request."""

    at: float
    client_ms: float
    server_ms: float
    status: int


@dataclass
class Run:
    """Everything measured in one load run."""

    samples: list[Sample] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max, rounded."""
    return {
        "p50": round(percentile(values, 0.50), 2),
        "p95": round(percentile(values, 0.95), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2) if values else float("nan"),
    }


async def sign_in_users(settings: Settings, count: int) -> list[str]:
    """Sessions for `count` recently active users, written straight to the database."""
    from glint.infra import runtime as runtime_mod

    runtime = await runtime_mod.start(settings)
    tokens: list[str] = []
    try:
        async with runtime.db.session() as session:
            cutoff = utcnow() - dt.timedelta(days=settings.feed_active_days)
            ids = list(
                await session.scalars(
                    sa.select(User.id)
                    .where(User.last_active_at >= cutoff, User.following_count > 0)
                    .order_by(sa.func.random())
                    .limit(count)
                )
            )
            now = utcnow()
            for uid in ids:
                token = accounts_service.TOKEN_PREFIX + secrets.token_urlsafe(32)
                tokens.append(token)
                session.add(
                    AuthSession(
                        id=runtime.ids.next_id(),
                        user_id=uid,
                        token_hash=accounts_service.hash_token(token),
                        created_at=now,
                        last_used_at=now,
                        expires_at=now + dt.timedelta(days=1),
                    )
                )
            await session.commit()
    finally:
        await runtime.close()
    return tokens


async def _client_loop(
    http: httpx.AsyncClient, tokens: list[str], until: float, run: Run, rng: random.Random
) -> None:
    cursor: str | None = None
    token = rng.choice(tokens)
    while time.monotonic() < until:
        params: dict[str, Any] = {"limit": 20}
        if cursor and rng.random() < 0.3:
            params["cursor"] = cursor  # some users scroll to the next page
        else:
            token = rng.choice(tokens)
        started = time.perf_counter()
        try:
            response = await http.get(
                "/api/v1/feed", params=params, headers={"Authorization": f"Bearer {token}"}
            )
            status = response.status_code
            timing = response.headers.get("server-timing", "app;dur=nan")
            server_ms = float(timing.split("dur=")[-1])
            cursor = response.json().get("next_cursor") if status == 200 else None
        except httpx.HTTPError:
            status, server_ms = 599, float("nan")
        run.samples.append(
            Sample(time.monotonic(), (time.perf_counter() - started) * 1000, server_ms, status)
        )


async def load(base_url: str, tokens: list[str], *, seconds: float, concurrency: int) -> Run:
    """Drive the server with `concurrency` users for `seconds`."""
    run = Run()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(_client_loop(http, tokens, until, run, random.Random(n)) for n in range(concurrency))
        )
    return run


async def warm(base_url: str, tokens: list[str], concurrency: int) -> float:
    """First read of every user (rebuilds their timelines); seconds taken."""
    started = time.monotonic()
    queue = list(tokens)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:

        async def worker() -> None:
            while queue:
                token = queue.pop()
                with contextlib.suppress(httpx.HTTPError):
                    await http.get("/api/v1/feed", headers={"Authorization": f"Bearer {token}"})

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - started


async def naive_pull(database_url: str, samples: int) -> list[float]:
    """Milliseconds of the naive pull query for sampled active users."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    timings: list[float] = []
    try:
        async with engine.connect() as conn:
            users = list(
                await conn.scalars(
                    sa.text(
                        "SELECT id FROM users WHERE following_count > 0 ORDER BY random() LIMIT :n"
                    ),
                    {"n": samples},
                )
            )
            for uid in users:
                started = time.perf_counter()
                await conn.execute(sa.text(NAIVE_QUERY), {"uid": uid})
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return timings


async def fan_out_time(settings: Settings, repeats: int = 5) -> dict[str, Any]:
    """Seconds to fan out one post of `fanout10k` (threshold raised so it is pushed)."""
    from glint.feeds import timeline
    from glint.infra import runtime as runtime_mod
    from glint.posts.models import Post

    runtime = await runtime_mod.start(settings.model_copy(update={"fanout_threshold": 1_000_000}))
    timings: list[float] = []
    pushed = 0
    try:
        async with runtime.db.session() as session:
            author = await session.scalar(sa.select(User).where(User.username == "fanout10k"))
            assert author is not None, "seed first: no fanout10k account"
            followers = author.follower_count
        for _ in range(repeats):
            async with runtime.db.session() as session:
                post = Post(
                    id=runtime.ids.next_id(),
                    author_id=author.id,
                    caption="fan-out probe",
                    status="published",
                    created_at=utcnow(),
                    published_at=utcnow(),
                )
                session.add(post)
                await session.commit()
            started = time.perf_counter()
            pushed = await timeline.fan_out(runtime, post_id=post.id)
            timings.append(time.perf_counter() - started)
    finally:
        await runtime.close()
    return {
        "author_followers": followers,
        "timelines_written": pushed,
        "median_s": round(statistics.median(timings), 3),
        "runs_s": [round(t, 3) for t in timings],
    }


def report(run: Run, seconds: float) -> dict[str, Any]:
    """Latency percentiles, throughput and errors of a run."""
    ok = [s for s in run.samples if s.status == 200]
    return {
        "requests": len(run.samples),
        "errors": len(run.samples) - len(ok),
        "requests_per_s": round(len(run.samples) / seconds, 1),
        "server_ms": summary([s.server_ms for s in ok]),
        "client_ms": summary([s.client_ms for s in ok]),
    }


async def bench_feed(
    settings: Settings,
    *,
    label: str,
    seconds: float,
    concurrency: int,
    users: int,
    serve_workers: int,
    out_dir: Path,
) -> dict[str, Any]:
    """The whole feed benchmark against one seeded database."""
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        for key in client.scan_iter(match=f"{settings.redis_prefix}*", count=10_000):
            client.delete(key)
    tokens = await sign_in_users(settings, users)
    server = LiveServer(settings_env(settings), "--workers", str(serve_workers))
    try:
        server.wait_ready(timeout=60)
        warm_s = await warm(server.url, tokens, concurrency)
        await load(server.url, tokens, seconds=3, concurrency=concurrency)  # settle the pools
        run = await load(server.url, tokens, seconds=seconds, concurrency=concurrency)
    finally:
        server.stop()
    result: dict[str, Any] = {
        "label": label,
        "concurrency": concurrency,
        "signed_in_users": len(tokens),
        "serve_workers": serve_workers,
        "seconds": seconds,
        "warm_up_s": round(warm_s, 1),
        **report(run, seconds),
    }
    naive = await naive_pull(settings.effective_database_url, 200)
    result["naive_pull_ms"] = summary(naive)
    result["naive_over_feed_p50"] = round(
        result["naive_pull_ms"]["p50"] / result["server_ms"]["p50"], 1
    )
    result["fan_out"] = await fan_out_time(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"feed-{label}.json").write_text(json.dumps(result, indent=2) + "\n")
    start = run.samples[0].at if run.samples else 0.0
    plot.latency_png(
        out_dir / f"feed-{label}.png",
        title=f"GET /feed, {label}: {result['requests_per_s']} req/s",
        points=[(s.at - start, s.server_ms) for s in run.samples if s.status == 200],
    )
    return result


def bench_settings(database_url: str, redis_url: str | None) -> Settings:
    """Settings of the benchmarked deployment (rate limits off, quiet logs)."""
    values: dict[str, Any] = {
        "data_dir": Path(tempfile.mkdtemp(prefix="glint-bench-")),
        "database_url": database_url,
        "secret_key": SECRET,
        "rate_limits_enabled": False,
        "log_level": "warning",
        "db_pool_size": 20,
    }
    if redis_url:
        values.update(redis_url=redis_url, redis_prefix="glint-bench:")
    return Settings(**values)
