"""`glint bench feed`: GET /feed against a real `glint serve` on seeded data, one run.

Measured in one run, against `glint serve --workers N` on the seeded database (rate limits off):
- under load, with wrk (a Lua script rotating the signed-in users' tokens), one after another:
  `/healthz` (the ceiling of any request on this box), `/api/v1/auth/me` (what authenticating
  and presenting one user costs) and `/api/v1/feed` with warmed timelines;
- one request at a time, per sampled user: a cold read (the user's timeline forgotten first,
  as after a long inactivity, so the read rebuilds it) then a warm one, by the Server-Timing
  header (time in the app);
then, with the server stopped, on the same data:
- the naive pull query (follows joined to posts, ORDER BY created_at DESC LIMIT 20), timed
  per sampled user;
- the fan-out of one post by the account with 10,000 active followers.
The figures go to bench/results/feed-<label>.json, the bars to feed-<label>.png.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlalchemy.ext.asyncio import AsyncSession

from bench import plot, wrk
from glint.accounts import sessions as accounts_sessions
from glint.accounts.models import AuthSession, User
from glint.config import Settings
from glint.infra.db import utcnow
from glint.infra.ids import IdGenerator
from tests.live import LiveServer, settings_env

SECRET = "bench-secret-" + "x" * 40
FEED_PATH = "/api/v1/feed"
NAIVE_QUERY = (
    "SELECT p.* FROM posts p JOIN follows f ON f.followee_id = p.author_id "
    "WHERE f.follower_id = :uid AND p.status = 'published' ORDER BY p.created_at DESC LIMIT 20"
)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    """p50, p90, p95, p99 and max, rounded."""
    return {
        "p50": round(percentile(values, 0.50), 2),
        "p90": round(percentile(values, 0.90), 2),
        "p95": round(percentile(values, 0.95), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2) if values else float("nan"),
    }


async def sign_in_users(settings: Settings, count: int) -> tuple[list[int], list[str]]:
    """Sessions for `count` recently active users, written straight to the database."""
    from glint.infra import runtime as runtime_mod

    runtime = await runtime_mod.start(settings)
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
            tokens = add_sessions(session, ids=runtime.ids, user_ids=ids)
            await session.commit()
    finally:
        await runtime.close()
    return ids, tokens


def forget_cached_state(settings: Settings) -> None:
    """Empty the deployment's Redis keys, so a run starts from cold caches and timelines."""
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        for key in client.scan_iter(match=f"{settings.redis_prefix}*", count=10_000):
            client.delete(key)


def add_sessions(session: AsyncSession, *, ids: IdGenerator, user_ids: list[int]) -> list[str]:
    """A day-long sign-in session for each user, added to the session; their tokens."""
    now = utcnow()
    tokens: list[str] = []
    for uid in user_ids:
        token = accounts_sessions.TOKEN_PREFIX + secrets.token_urlsafe(32)
        tokens.append(token)
        session.add(
            AuthSession(
                id=ids.next_id(),
                user_id=uid,
                token_hash=accounts_sessions.hash_token(token),
                created_at=now,
                last_used_at=now,
                expires_at=now + dt.timedelta(days=1),
            )
        )
    return tokens


async def warm(base_url: str, tokens: list[str], concurrency: int) -> float:
    """First read of every user (rebuilds their timelines); seconds taken."""
    started = time.monotonic()
    queue = list(tokens)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:

        async def worker() -> None:
            while queue:
                token = queue.pop()
                with contextlib.suppress(httpx.HTTPError):
                    await http.get(FEED_PATH, headers={"Authorization": f"Bearer {token}"})

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


async def cold_and_warm(
    base_url: str, settings: Settings, user_ids: list[int], tokens: list[str]
) -> dict[str, list[float]]:
    """Per user, one at a time: a cold read (timeline forgotten first), then a warm one;
    the server's milliseconds of each."""
    from glint.infra import runtime as runtime_mod

    runtime = await runtime_mod.start(settings)
    samples: dict[str, list[float]] = {"cold": [], "warm": []}
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            for user_id, token in zip(user_ids, tokens, strict=True):
                await runtime.timelines.forget(user_id)
                for kind in ("cold", "warm"):
                    response = await http.get(
                        FEED_PATH, headers={"Authorization": f"Bearer {token}"}
                    )
                    response.raise_for_status()
                    timing = response.headers.get("server-timing", "app;dur=nan")
                    samples[kind].append(float(timing.split("dur=")[-1]))
    finally:
        await runtime.close()
    return samples


def _ratio(top: float, bottom: float) -> float | None:
    return round(top / bottom, 2) if bottom else None


async def bench_feed(
    settings: Settings,
    *,
    label: str,
    seconds: float,
    connections: int,
    threads: int,
    users: int,
    cold_users: int,
    serve_workers: int,
    out_dir: Path,
) -> dict[str, Any]:
    """The whole feed benchmark against one seeded database."""
    wrk.require()
    forget_cached_state(settings)
    load_at_start = round(os.getloadavg()[0], 2)
    user_ids, tokens = await sign_in_users(settings, users)
    tokens_file = Path(tempfile.mkdtemp(prefix="glint-bench-feed-")) / "tokens.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    server = LiveServer(settings_env(settings), "--workers", str(serve_workers))
    load: dict[str, dict[str, Any]] = {}
    try:
        server.wait_ready(timeout=60)
        warm_s = await warm(server.url, tokens, 4)
        print(f"first reads of {len(tokens)} users: {warm_s:.1f} s", flush=True)
        wrk.run(
            server.url + FEED_PATH,
            seconds=3,
            connections=connections,
            threads=threads,
            tokens_file=tokens_file,
        )  # settles the pools and the post cache
        for name, path, tokens_for in (
            ("healthz", "/healthz", None),
            ("auth_me", "/api/v1/auth/me", tokens_file),
            ("feed", FEED_PATH, tokens_file),
        ):
            load[name] = wrk.run(
                server.url + path,
                seconds=seconds,
                connections=connections,
                threads=threads,
                tokens_file=tokens_for,
            )
            print(f"{name}: {load[name]}", flush=True)
        sequential = await cold_and_warm(
            server.url, settings, user_ids[:cold_users], tokens[:cold_users]
        )
    finally:
        server.stop()
        shutil.rmtree(tokens_file.parent, ignore_errors=True)
    naive = summary(await naive_pull(settings.effective_database_url, 200))
    cold, warm_ms = summary(sequential["cold"]), summary(sequential["warm"])
    result: dict[str, Any] = {
        "label": label,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_start": load_at_start,
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "serve_workers": serve_workers,
        "signed_in_users": len(tokens),
        "first_reads_s": round(warm_s, 1),
        "load_generator": (
            f"{wrk.version()}: {threads} threads, {connections} connections, {seconds:.0f} s "
            "per endpoint; tokens rotated by a Lua script; client-side latency"
        ),
        "healthz_load": load["healthz"],
        "auth_me_load": load["auth_me"],
        "feed_load": load["feed"],
        "feed_over_healthz_throughput": _ratio(
            load["feed"]["requests_per_s"], load["healthz"]["requests_per_s"]
        ),
        "auth_me_over_healthz_throughput": _ratio(
            load["auth_me"]["requests_per_s"], load["healthz"]["requests_per_s"]
        ),
        "sequential_server_ms": {
            "note": "one request at a time; per user a cold read (timeline forgotten first) "
            "then a warm one; the Server-Timing header",
            "cold": cold,
            "warm": warm_ms,
        },
        "naive_pull_ms": naive,
        "naive_query": " ".join(NAIVE_QUERY.split()),
        "naive_over_feed_p50": _ratio(naive["p50"], warm_ms["p50"]),
        "naive_over_feed_p99": _ratio(naive["p99"], warm_ms["p99"]),
        "fan_out": await fan_out_time(settings),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"feed-{label}.json").write_text(json.dumps(result, indent=2) + "\n")
    bars_png(out_dir / f"feed-{label}.png", result)
    return result


def bars_png(path: Path, result: dict[str, Any]) -> None:
    """p50 / p90 / p99 of every variant: under load (wrk) on the left, one at a time right."""
    loaded = [
        ("healthz", wrk.latency_ms(result["healthz_load"])),
        ("auth/me", wrk.latency_ms(result["auth_me_load"])),
        ("feed", wrk.latency_ms(result["feed_load"])),
    ]
    single = [
        ("feed warm", result["sequential_server_ms"]["warm"]),
        ("feed cold", result["sequential_server_ms"]["cold"]),
        ("naive SQL", result["naive_pull_ms"]),
    ]
    image = Image.new("RGB", (plot.WIDTH, plot.HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text(
        (plot.MARGIN, 10),
        f"GET /feed, {result['label']}, {result['serve_workers']} serve workers; ms, bars "
        "p50 / p90 / p99",
        fill=plot.TEXT,
    )
    split = plot.WIDTH // 2
    plot.bar_panel(
        draw,
        (plot.MARGIN, 70, split - 20, plot.HEIGHT - plot.MARGIN),
        f"under load, wrk: feed {result['feed_load']['requests_per_s']}, auth/me "
        f"{result['auth_me_load']['requests_per_s']}, healthz "
        f"{result['healthz_load']['requests_per_s']} req/s",
        loaded,
    )
    plot.bar_panel(
        draw,
        (split + 40, 70, plot.WIDTH - 20, plot.HEIGHT - plot.MARGIN),
        "one at a time: server time of /feed, and the naive query",
        single,
    )
    image.save(path)


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
