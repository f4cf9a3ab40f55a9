"""`glint bench tray`: the story tray (GET /api/v1/stories/feed) for viewers who follow 7,500
accounts, on the database `glint bench seed` built.

Seeding (PostgreSQL COPY; every run first removes what an earlier run wrote, so it can be
repeated): 5% of accounts get 1-4 published stories from the last 23 hours, a fifth of them one
close-friends story with a few close friends; heavy viewers (`traybench0`, ...) follow
`following` accounts each, `live_share` of them with live stories, have seen some of those
stories, and get sessions. Other viewers' views give the story_views table some bulk.

Measured in one run, against one `glint serve --workers 2` in scale-out mode (PostgreSQL +
Redis, rate limits off), after a first read of every heavy viewer built their trays:
- `/healthz` and the warm tray under `wrk` (a Lua script rotating the viewers' tokens): the
  ceiling of any request on this box, and the tray's requests/s and latency;
- warm and cold tray reads one at a time over HTTP, interleaved per viewer (cold: the viewer's
  two Redis tray keys deleted first, as after a long inactivity, so the read rebuilds it);
Then, with the server stopped, in this process on the same data (no HTTP):
- `read_tray` with the Redis tray store warm, cold, and *unavailable* (a store that raises
  TrayUnavailable on every call, which is what the reader sees when Redis is down or its
  breaker is open: the database fallback), each also shaped into the response JSON;
- the naive alternative: one SQL query, follows ⋈ stories (live, audience, seen state),
  grouped by author and ordered, timed with asyncpg.

    uv run --all-groups glint bench tray [--viewers 100] [--following 7500] [--database glint_bench]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import random
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw

from bench import feed as feed_bench
from bench import plot, wrk
from bench import seed as seed_bench
from glint.accounts import sessions as accounts_sessions
from glint.config import Settings
from glint.infra import ids as ids_mod
from glint.paging import DEFAULT_LIMIT
from tests.live import LiveServer, settings_env

# Rows this benchmark writes carry this shard in their IDs (the app's allocator starts at 0).
BENCH_SHARD = ids_mod.MAX_SHARD
VIEWER_NAME = "traybench"
VIEWER_INDEX = 900_000_000  # heavy viewers' IDs: seed.user_id(VIEWER_INDEX + n)
KEY_PREFIX = "bench-tray/"
REDIS_PREFIX = "glint-bench-tray:"
LIVE_WINDOW = dt.timedelta(hours=23)
TRAY_PATH = "/api/v1/stories/feed"

STORY_COLUMNS = [
    "id",
    "author_id",
    "status",
    "failure_reason",
    "audience",
    "caption",
    "alt_text",
    "original_key",
    "base_key",
    "width",
    "height",
    "blurhash",
    "view_count",
    "created_at",
    "published_at",
    "expires_at",
]
VIEW_COLUMNS = ["story_id", "viewer_id", "id", "viewed_at"]
CLOSE_FRIEND_COLUMNS = ["owner_id", "friend_id", "id", "created_at"]
SESSION_COLUMNS = [
    "id",
    "user_id",
    "token_hash",
    "created_at",
    "last_used_at",
    "expires_at",
    "user_agent",
    "ip",
]

# The naive tray: everything in one query over follows ⋈ stories, no tray store. (It leaves
# out the viewer's own entry, mutes and blocks, and the rows of stories and authors the
# response needs: it is cheaper than the real thing, not dearer.)
NAIVE_QUERY = """
SELECT s.author_id,
       max(s.published_at) AS latest_at,
       bool_or(v.story_id IS NULL) AS has_unseen,
       array_agg(s.id ORDER BY s.id) AS story_ids
FROM follows f
JOIN stories s ON s.author_id = f.followee_id
LEFT JOIN story_views v ON v.story_id = s.id AND v.viewer_id = $1
WHERE f.follower_id = $1
  AND s.status = 'published' AND s.expires_at > $2
  AND (s.audience = 'followers' OR EXISTS (
       SELECT 1 FROM close_friends c WHERE c.owner_id = s.author_id AND c.friend_id = $1))
GROUP BY s.author_id
ORDER BY bool_or(v.story_id IS NULL) DESC, max(s.published_at) DESC
LIMIT 150
"""


@dataclass(frozen=True)
class TrayPlan:
    """What to seed."""

    viewers: int = 100
    following: int = 7_500
    author_share: float = 0.05  # accounts with live stories
    live_share: float = 0.10  # of a heavy viewer's followees, accounts with live stories
    close_friends_share: float = 0.2  # of story authors, those with one close-friends story
    views_per_story: int = 5  # by random other accounts
    seed: int = 11


class IdMaker:
    """Time-ordered IDs in the app's layout, on BENCH_SHARD, unique within one run."""

    def __init__(self) -> None:
        self._next_seq: dict[int, int] = {}

    def at(self, moment: dt.datetime) -> int:
        """An ID for a row created at `moment` (a later millisecond when that one is full)."""
        ms = int((moment - ids_mod.EPOCH).total_seconds() * 1000)
        while self._next_seq.get(ms, 0) > ids_mod.MAX_SEQUENCE:
            ms += 1
        seq = self._next_seq.get(ms, 0)
        self._next_seq[ms] = seq + 1
        return (ms << ids_mod.TIME_SHIFT) | (BENCH_SHARD << ids_mod.SEQUENCE_BITS) | seq


def bench_row(column: str = "id") -> str:
    """SQL: the row's ID was made by IdMaker (this benchmark wrote it)."""
    return f"(({column} >> {ids_mod.SEQUENCE_BITS}) & {ids_mod.MAX_SHARD}) = {BENCH_SHARD}"


def viewer_id(number: int) -> int:
    """The user ID of heavy viewer `number`."""
    return seed_bench.user_id(VIEWER_INDEX + number)


# ---------------------------------------------------------------------------------------------
# Seeding


@dataclass
class Seeded:
    """What the seeding wrote and what the measurement needs."""

    viewer_ids: list[int]
    tokens: list[str]
    counts: dict[str, Any]
    timings: dict[str, float]


async def _copy(conn: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    for start in range(0, len(rows), seed_bench.CHUNK):
        chunk = rows[start : start + seed_bench.CHUNK]
        await conn.copy_records_to_table(table, records=chunk, columns=columns)


async def _clean(conn: Any) -> None:
    """Remove the stories, views, close friends and sessions of an earlier run."""
    ours = f"SELECT id FROM stories WHERE base_key LIKE '{KEY_PREFIX}%'"  # noqa: S608
    await conn.execute(f"DELETE FROM story_views WHERE story_id IN ({ours})")  # noqa: S608
    await conn.execute(f"DELETE FROM highlight_stories WHERE story_id IN ({ours})")  # noqa: S608
    await conn.execute(f"DELETE FROM stories WHERE base_key LIKE '{KEY_PREFIX}%'")  # noqa: S608
    await conn.execute(f"DELETE FROM close_friends WHERE {bench_row()}")  # noqa: S608
    await conn.execute(f"DELETE FROM sessions WHERE {bench_row()}")  # noqa: S608


async def _ensure_viewers(conn: Any, plan: TrayPlan, now: dt.datetime) -> list[int]:
    """The heavy viewers' accounts: kept from an earlier run, the missing ones added."""
    wanted = [viewer_id(n) for n in range(plan.viewers)]
    existing = {
        r["id"] for r in await conn.fetch("SELECT id FROM users WHERE id = ANY($1)", wanted)
    }
    password_hash = await conn.fetchval("SELECT password_hash FROM users LIMIT 1")
    if password_hash is None:
        raise SystemExit("the database has no users: run `glint bench seed` first")
    rows = []
    for n, uid in enumerate(wanted):
        if uid in existing:
            continue
        name = f"{VIEWER_NAME}{n}"
        row = (
            uid, name, f"{name}@bench.example", password_hash, f"Tray viewer {n}", "", "",
            False, "user", None, 0, 0, 0, now - dt.timedelta(days=400), now, None, None,
        )  # fmt: skip
        rows.append(row)
    await _copy(conn, "users", seed_bench.USER_COLUMNS, rows)
    await conn.execute("UPDATE users SET last_active_at = $2 WHERE id = ANY($1)", wanted, now)
    return wanted


async def _replace_follows(
    conn: Any, viewers: list[int], followees: dict[int, list[int]], now: dt.datetime, ids: IdMaker
) -> None:
    """The viewers' follows replaced, and the counters kept right (as seed.py computes them)."""
    counted = (
        "(SELECT followee_id AS id, count(*) AS n FROM follows "
        "WHERE follower_id = ANY($1) GROUP BY followee_id) c"
    )
    async with conn.transaction():
        await conn.execute(
            f"UPDATE users u SET follower_count = u.follower_count - c.n FROM {counted} "  # noqa: S608
            "WHERE u.id = c.id",
            viewers,
        )
        await conn.execute("DELETE FROM follows WHERE follower_id = ANY($1)", viewers)
        since = now - dt.timedelta(days=30)
        rows = [
            (viewer, followee, ids.at(since + dt.timedelta(seconds=k)), since)
            for viewer in viewers
            for k, followee in enumerate(followees[viewer])
        ]
        await _copy(conn, "follows", seed_bench.FOLLOW_COLUMNS, rows)
        await conn.execute(
            f"UPDATE users u SET follower_count = u.follower_count + c.n FROM {counted} "  # noqa: S608
            "WHERE u.id = c.id",
            viewers,
        )
        await conn.execute(
            "UPDATE users u SET following_count = c.n FROM (SELECT follower_id AS id, "
            "count(*) AS n FROM follows WHERE follower_id = ANY($1) GROUP BY follower_id) c "
            "WHERE u.id = c.id",
            viewers,
        )


def _story_rows(
    authors: Sequence[int],
    close_friend_authors: set[int],
    rng: random.Random,
    now: dt.datetime,
    ids: IdMaker,
) -> list[list[Any]]:
    """1-4 published stories per author from the last 23 hours (view_count filled in later)."""
    rows: list[list[Any]] = []
    window_ms = int(LIVE_WINDOW.total_seconds() * 1000)
    for author in authors:
        count = rng.randint(1, 4)
        published = sorted(
            now - dt.timedelta(minutes=1, milliseconds=rng.randrange(window_ms))
            for _ in range(count)
        )
        close_one = rng.randrange(count) if author in close_friend_authors else -1
        for k, published_at in enumerate(published):
            created = published_at - dt.timedelta(seconds=rng.uniform(2, 8))
            story_id = ids.at(created)
            base = f"{KEY_PREFIX}{story_id}"
            audience = "close_friends" if k == close_one else "followers"
            row = [
                story_id, author, "published", None, audience, None, None, f"originals/{base}",
                base, 1080, 1920, seed_bench.BLURHASH, 0,
                created, published_at, published_at + dt.timedelta(hours=24),
            ]  # fmt: skip
            rows.append(row)
    return rows


async def seed_stories(dsn: str, plan: TrayPlan) -> Seeded:
    """Everything the tray benchmark reads, written with COPY after removing earlier runs'."""
    import asyncpg

    now = dt.datetime.now(dt.UTC)
    rng = random.Random(plan.seed)
    ids = IdMaker()
    timings: dict[str, float] = {}
    started = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        await _clean(conn)
        timings["clean_s"] = round(time.monotonic() - started, 1)
        phase = time.monotonic()
        viewers = await _ensure_viewers(conn, plan, now)
        users = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM users WHERE banned_at IS NULL AND deleted_at IS NULL "
                "AND NOT (id = ANY($1)) ORDER BY id",
                viewers,
            )
        ]
        if plan.following > len(users):
            raise SystemExit(f"--following {plan.following} > the {len(users)} accounts seeded")
        authors = rng.sample(users, max(1, round(len(users) * plan.author_share)))
        author_set = set(authors)
        others = [u for u in users if u not in author_set]
        live_n = min(round(plan.following * plan.live_share), len(authors))
        followees = {
            viewer: rng.sample(authors, live_n) + rng.sample(others, plan.following - live_n)
            for viewer in viewers
        }
        await _replace_follows(conn, viewers, followees, now, ids)
        timings["viewers_and_follows_s"] = round(time.monotonic() - phase, 1)
        phase = time.monotonic()
        close_authors = set(rng.sample(authors, round(len(authors) * plan.close_friends_share)))
        # Half the heavy viewers have a story of their own (their entry comes first).
        own = [v for v in viewers if rng.random() < 0.5]
        stories = _story_rows(authors + own, close_authors, rng, now, ids)
        by_author: dict[int, list[list[Any]]] = {}
        for row in stories:
            by_author.setdefault(row[1], []).append(row)
        # Close friends: a few random accounts each; and some of the heavy viewers who follow
        # a close-friends author are on that author's list.
        close: set[tuple[int, int]] = set()
        for author in close_authors:
            close.update((author, friend) for friend in rng.sample(users, 3) if friend != author)
        views: set[tuple[int, int]] = set()
        for viewer in viewers:
            for author in followees[viewer][:live_n]:
                if author in close_authors and rng.random() < 0.3:
                    close.add((author, viewer))
                # Seen state: a third watched everything, some only the first story.
                chance = rng.random()
                watched = by_author[author] if chance < 0.35 else by_author[author][:1]
                if chance < 0.5:
                    views.update((row[0], viewer) for row in watched)
        for row in stories:
            views.update((row[0], u) for u in rng.sample(users, plan.views_per_story))
        view_counts: dict[int, int] = {}
        view_rows = []
        published_at = {row[0]: row[14] for row in stories}
        for story_id, viewer in sorted(views):
            seen_at = min(now, published_at[story_id] + dt.timedelta(minutes=rng.uniform(1, 600)))
            view_rows.append((story_id, viewer, ids.at(seen_at), seen_at))
            view_counts[story_id] = view_counts.get(story_id, 0) + 1
        for row in stories:
            row[12] = view_counts.get(row[0], 0)
        close_rows = [(o, f, ids.at(now - dt.timedelta(days=3)), now) for o, f in sorted(close)]
        # Foreign-key triggers off for the bulk load, as seed.py does (the rows are whole).
        await conn.execute("SET session_replication_role = replica")
        await _copy(conn, "stories", STORY_COLUMNS, [tuple(row) for row in stories])
        await _copy(conn, "story_views", VIEW_COLUMNS, view_rows)
        await _copy(conn, "close_friends", CLOSE_FRIEND_COLUMNS, close_rows)
        await conn.execute("SET session_replication_role = DEFAULT")
        tokens = [accounts_sessions.TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in viewers]
        expires = now + dt.timedelta(days=1)
        session_rows = [
            (ids.at(now), viewer, accounts_sessions.hash_token(t), now, now, expires, "bench", "")
            for viewer, t in zip(viewers, tokens, strict=True)
        ]
        await _copy(conn, "sessions", SESSION_COLUMNS, session_rows)
        timings["stories_s"] = round(time.monotonic() - phase, 1)
        phase = time.monotonic()
        # VACUUM too: freshly COPYed rows have no visibility map yet, so index-only scans would
        # visit the heap for every row; a live database's autovacuum keeps the map set.
        for table in ("users", "follows", "stories", "story_views", "close_friends", "sessions"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        timings["analyze_s"] = round(time.monotonic() - phase, 1)
        timings["total_s"] = round(time.monotonic() - started, 1)
        counts = {
            "accounts": len(users) + len(viewers),
            "story_authors": len(authors) + len(own),
            "stories": len(stories),
            "close_friends_stories": sum(1 for row in stories if row[4] == "close_friends"),
            "close_friends_rows": len(close_rows),
            "story_views": len(view_rows),
            "heavy_viewers": len(viewers),
            "following_per_viewer": plan.following,
            "followed_story_authors_per_viewer": live_n,
        }
    finally:
        await conn.close()
    return Seeded(viewers, tokens, counts, timings)


# ---------------------------------------------------------------------------------------------
# Measuring


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile."""
    return feed_bench.percentile(list(values), share)


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, max and the sample count, in milliseconds."""
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return {"n": 0}
    return {
        "p50": round(percentile(clean, 0.50), 2),
        "p90": round(percentile(clean, 0.90), 2),
        "p99": round(percentile(clean, 0.99), 2),
        "max": round(max(clean), 2),
        "mean": round(statistics.fmean(clean), 2),
        "n": len(clean),
    }


def _tray_keys(viewer: int) -> list[str]:
    return [f"{REDIS_PREFIX}tray:{viewer}", f"{REDIS_PREFIX}tray:{viewer}:fresh"]


async def first_reads(
    base_url: str, tokens: list[str], concurrency: int
) -> tuple[float, list[float], list[dict[str, int]]]:
    """Every viewer's first read (builds the trays): seconds, server ms, and what came back."""
    started = time.monotonic()
    queue = list(tokens)
    server_ms: list[float] = []
    shapes: list[dict[str, int]] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:

        async def worker() -> None:
            while queue:
                token = queue.pop()
                response = await http.get(TRAY_PATH, headers={"Authorization": f"Bearer {token}"})
                response.raise_for_status()
                server_ms.append(_server_ms(response))
                items = response.json()["items"]
                shapes.append(
                    {
                        "items": len(items),
                        "stories": sum(len(item["stories"]) for item in items),
                        "unseen": sum(1 for item in items if item["has_unseen"]),
                        "close_friends": sum(1 for item in items if item["has_close_friends"]),
                        "bytes": len(response.content),
                    }
                )

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - started, server_ms, shapes


def _server_ms(response: httpx.Response) -> float:
    timing = response.headers.get("server-timing", "app;dur=nan")
    return float(timing.split("dur=")[-1])


async def sequential_http(
    base_url: str, redis_url: str, viewers: list[int], tokens: list[str], rounds: int
) -> dict[str, dict[str, list[float]]]:
    """One request at a time, per viewer a cold read (tray keys deleted first) then a warm one."""
    import redis.asyncio as aioredis

    samples: dict[str, dict[str, list[float]]] = {
        kind: {"client_ms": [], "server_ms": []} for kind in ("cold", "warm")
    }
    client = aioredis.Redis.from_url(redis_url)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            for _ in range(rounds):
                for viewer, token in zip(viewers, tokens, strict=True):
                    await client.delete(*_tray_keys(viewer))
                    for kind in ("cold", "warm"):
                        started = time.perf_counter()
                        response = await http.get(
                            TRAY_PATH, headers={"Authorization": f"Bearer {token}"}
                        )
                        elapsed = (time.perf_counter() - started) * 1000
                        response.raise_for_status()
                        samples[kind]["client_ms"].append(elapsed)
                        samples[kind]["server_ms"].append(_server_ms(response))
    finally:
        await client.aclose()
    return samples


class DownTrays:
    """A tray store that is down: every call raises TrayUnavailable, as the Redis store does
    while Redis does not answer or its breaker is open."""

    cap = 10_000

    async def read(self, user_id: int, *, now_ms: int, generation: int) -> None:
        """Down."""
        raise self._down()

    async def rebuild(self, user_id: int, entries: Any, *, generation: int) -> None:
        """Down."""
        raise self._down()

    async def push(self, author_id: int, score: int, user_ids: Any) -> None:
        """Down."""
        raise self._down()

    async def remove(self, author_id: int, user_ids: Any) -> None:
        """Down."""
        raise self._down()

    async def forget(self, user_id: int) -> None:
        """Down."""
        raise self._down()

    async def trim(self, *, now_ms: int) -> int:
        """Down."""
        raise self._down()

    @staticmethod
    def _down() -> Exception:
        from glint.infra.trays import TrayUnavailable

        return TrayUnavailable("benchmark: the tray store is down")


async def in_process(settings: Settings, viewers: list[int], rounds: int) -> dict[str, Any]:
    """read_tray in this process, warm / cold / tray store down; and shaped into JSON."""
    from glint.accounts.models import User
    from glint.infra import runtime as runtime_mod
    from glint.media.urls import MediaUrls
    from glint.stories import presenter
    from glint.stories.schemas import TrayOut
    from glint.stories.tray import read_tray

    runtime = await runtime_mod.start(settings)
    urls = MediaUrls(settings.effective_secret_key)
    down = DownTrays()
    assert runtime.redis is not None
    kinds = ("cold", "warm", "fallback")
    read_ms: dict[str, list[float]] = {kind: [] for kind in kinds}
    total_ms: dict[str, list[float]] = {kind: [] for kind in kinds}
    try:
        for _ in range(rounds):
            for viewer_id_ in viewers:
                await runtime.redis.delete(*_tray_keys(viewer_id_))
                for kind in kinds:
                    async with runtime.db.session() as session:
                        viewer = await session.get(User, viewer_id_)
                        assert viewer is not None
                        started = time.perf_counter()
                        entries = await read_tray(
                            session,
                            trays=down if kind == "fallback" else runtime.trays,
                            generations=runtime.generations,
                            viewer=viewer,
                            now=runtime.clock.now(),
                            limit=DEFAULT_LIMIT,  # the API's first page
                        )
                        read = time.perf_counter()
                        TrayOut(
                            items=presenter.tray_out(entries, viewer=viewer, urls=urls),
                            next_cursor=None,
                        ).model_dump_json()
                        done = time.perf_counter()
                    read_ms[kind].append((read - started) * 1000)
                    total_ms[kind].append((done - started) * 1000)
    finally:
        await runtime.close()
    return {
        kind: {"read_tray_ms": summary(read_ms[kind]), "with_json_ms": summary(total_ms[kind])}
        for kind in kinds
    }


async def naive(dsn: str, viewers: list[int], rounds: int) -> tuple[list[float], list[int]]:
    """Milliseconds of the naive one-query tray per viewer; authors it found."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    timings: list[float] = []
    found: list[int] = []
    try:
        statement = await conn.prepare(NAIVE_QUERY)
        for _ in range(rounds):
            for viewer in viewers:
                now = dt.datetime.now(dt.UTC)
                started = time.perf_counter()
                rows = await statement.fetch(viewer, now)
                timings.append((time.perf_counter() - started) * 1000)
                found.append(len(rows))
    finally:
        await conn.close()
    return timings, found


async def _forget_prefix(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"{REDIS_PREFIX}*", count=10_000):
            await client.delete(key)
    finally:
        await client.aclose()


def _spread(values: Sequence[int]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), 1) if values else 0,
        "min": min(values, default=0),
        "max": max(values, default=0),
    }


async def bench_tray(
    settings: Settings,
    plan: TrayPlan,
    *,
    seconds: float,
    concurrency: int,
    threads: int,
    rounds: int,
    serve_workers: int,
    out_dir: Path,
    label: str,
) -> dict[str, Any]:
    """Seed the stories, then measure the tray every way; the figures, also as JSON and PNG."""
    from glint import migrate

    assert settings.redis_url, "the tray benchmark is scale-out: it needs Redis"
    wrk.require()
    url = settings.effective_database_url
    dsn = url.replace("+asyncpg", "")
    await migrate.upgrade_async(url)  # a database seeded before the stories tables came
    load_at_start = round(os.getloadavg()[0], 2)
    seeded = await seed_stories(dsn, plan)
    print(f"seeded: {seeded.counts} in {seeded.timings}", flush=True)
    await _forget_prefix(settings.redis_url)
    tokens_file = Path(tempfile.mkdtemp(prefix="glint-bench-tray-")) / "tokens.txt"
    tokens_file.write_text("\n".join(seeded.tokens) + "\n")
    server = LiveServer(settings_env(settings), "--workers", str(serve_workers))
    load: dict[str, Any] = {}
    try:
        server.wait_ready(timeout=60)
        warm_s, first_ms, shapes = await first_reads(server.url, seeded.tokens, 4)
        print(f"first reads: {warm_s:.1f} s", flush=True)
        tray_url = server.url + TRAY_PATH
        wrk.run(
            tray_url, seconds=3, connections=concurrency, threads=threads, tokens_file=tokens_file
        )
        load["healthz"] = wrk.run(
            server.url + "/healthz",
            seconds=seconds,
            connections=concurrency,
            threads=threads,
            tokens_file=None,
        )
        print(f"healthz: {load['healthz']}", flush=True)
        load["tray_warm"] = wrk.run(
            tray_url,
            seconds=seconds,
            connections=concurrency,
            threads=threads,
            tokens_file=tokens_file,
        )
        print(f"tray warm: {load['tray_warm']}", flush=True)
        sequential = await sequential_http(
            server.url, settings.redis_url, seeded.viewer_ids, seeded.tokens, rounds
        )
    finally:
        server.stop()
        shutil.rmtree(tokens_file.parent, ignore_errors=True)
    print("in-process reads...", flush=True)
    inproc = await in_process(settings, seeded.viewer_ids, rounds)
    naive_ms, naive_found = await naive(dsn, seeded.viewer_ids, rounds)
    await _forget_prefix(settings.redis_url)
    http_runs = {
        kind: {name: summary(values) for name, values in runs.items()}
        for kind, runs in sequential.items()
    }
    warm_server = http_runs["warm"]["server_ms"]
    naive_summary = summary(naive_ms)
    result: dict[str, Any] = {
        "label": label,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_start": load_at_start,
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "seed": seeded.counts,
        "seed_timings_s": seeded.timings,
        "tray_response": {
            key: _spread([shape[key] for shape in shapes])
            for key in ("items", "stories", "unseen", "close_friends", "bytes")
        },
        "serve_workers": serve_workers,
        "load_generator": (
            f"{wrk.version()}: {threads} threads, {concurrency} connections, {seconds:.0f} s; "
            "tray tokens rotated by a Lua script; client-side latency"
        ),
        "first_read_server_ms": summary(first_ms),
        "first_reads_s": round(warm_s, 1),
        "healthz_load": load["healthz"],
        "tray_warm_load": load["tray_warm"],
        "tray_over_healthz_throughput": round(
            load["tray_warm"]["requests_per_s"] / load["healthz"]["requests_per_s"], 5
        ),
        "sequential_http": {
            "note": "one request at a time; per viewer a cold read (its Redis tray keys "
            "deleted first) then a warm one; server_ms is the Server-Timing header",
            **http_runs,
        },
        "in_process": {
            "note": "read_tray in one process, no HTTP, server stopped; per viewer cold "
            "(keys deleted), warm, then fallback: a tray store raising TrayUnavailable on "
            "every call (Redis down / breaker open); with_json_ms adds presenter + TrayOut JSON",
            **inproc,
        },
        "naive_sql_ms": naive_summary,
        "naive_authors_found": _spread(naive_found),
        "naive_query": " ".join(NAIVE_QUERY.split()),
        "naive_over_tray_p50": _ratio(naive_summary, warm_server, "p50"),
        "naive_over_tray_p99": _ratio(naive_summary, warm_server, "p99"),
        "naive_over_fallback_read_p50": _ratio(
            naive_summary, inproc["fallback"]["read_tray_ms"], "p50"
        ),
        "cold_over_warm_server_p50": _ratio(http_runs["cold"]["server_ms"], warm_server, "p50"),
        "fallback_over_warm_read_p50": _ratio(
            inproc["fallback"]["read_tray_ms"], inproc["warm"]["read_tray_ms"], "p50"
        ),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tray.json").write_text(json.dumps(result, indent=2) + "\n")
    bars_png(out_dir / "tray.png", result)
    return result


def _ratio(top: dict[str, float], bottom: dict[str, float], key: str) -> float | None:
    if not bottom.get(key) or key not in top:
        return None
    return round(top[key] / bottom[key], 2)


def bars_png(path: Path, result: dict[str, Any]) -> None:
    """p50 / p90 / p99 of every variant: under load (wrk) on the left, one at a time right."""
    loaded = [
        ("healthz", wrk.latency_ms(result["healthz_load"])),
        ("tray warm", wrk.latency_ms(result["tray_warm_load"])),
    ]
    single = [
        ("HTTP warm", result["sequential_http"]["warm"]["server_ms"]),
        ("HTTP cold", result["sequential_http"]["cold"]["server_ms"]),
        ("read warm", result["in_process"]["warm"]["read_tray_ms"]),
        ("read cold", result["in_process"]["cold"]["read_tray_ms"]),
        ("fallback", result["in_process"]["fallback"]["read_tray_ms"]),
        ("naive SQL", result["naive_sql_ms"]),
    ]
    image = Image.new("RGB", (plot.WIDTH, plot.HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    seed = result["seed"]
    title = (
        f"story tray, {result['label']}: {seed['heavy_viewers']} viewers following "
        f"{seed['following_per_viewer']:,} ({seed['followed_story_authors_per_viewer']} with "
        f"live stories); ms, bars p50 / p90 / p99"
    )
    draw.text((plot.MARGIN, 10), title, fill=plot.TEXT)
    split = plot.WIDTH * 2 // 7
    plot.bar_panel(
        draw,
        (plot.MARGIN, 70, split - 20, plot.HEIGHT - plot.MARGIN),
        f"under load, wrk, {result['tray_warm_load']['requests_per_s']} vs "
        f"{result['healthz_load']['requests_per_s']} req/s",
        loaded,
    )
    plot.bar_panel(
        draw,
        (split + 40, 70, plot.WIDTH - 20, plot.HEIGHT - plot.MARGIN),
        "one at a time: server time (HTTP), read_tray in-process, naive query",
        single,
    )
    image.save(path)
