"""`glint bench seed`: a synthetic network for the feed benchmarks.

Scale-out: PostgreSQL binary COPY (asyncpg) in two processes side by side (graph; posts and
engagement), secondary indexes and foreign-key checks off during the load, then indexes built
and counters computed in SQL. Embedded: the same generator into SQLite with executemany.

Follows are power-law: followees drawn with weight 1/(rank + 3), so a handful of accounts pass
100,000 followers and ~80 pass the fan-out threshold; each user follows Pareto-many accounts
(mean about 10). One account, `fanout10k`, has exactly 10,000 followers, all active, for the
fan-out measurement.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from glint.infra import ids as ids_mod

PASSWORD = "bench-password-1"
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
DAYS = 60
ACTIVE_SHARE = 0.3
FANOUT_FOLLOWERS = 10_000
CHUNK = 50_000


@dataclass(frozen=True)
class Plan:
    """What to build."""

    users: int
    posts: int
    likes: int
    comments: int
    seed: int = 7

    @property
    def fanout_author(self) -> int:
        """Index of the account with exactly FANOUT_FOLLOWERS active followers."""
        return self.users - 1


def user_id(index: int) -> int:
    """Users' IDs: time-ordered like real ones, 1 ms apart from the epoch on."""
    return ((index + 1) << ids_mod.TIME_SHIFT) | 1


def username(index: int) -> str:
    """user0, user1, ...; the fan-out account has its own name."""
    return f"user{index}"


def is_active(index: int) -> bool:
    """About 30% of accounts signed in lately (deterministic, so every process agrees)."""
    return (index * 2654435761) % 1000 < ACTIVE_SHARE * 1000


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = time.monotonic()
        self._shown = 0.0

    def add(self, count: int) -> None:
        """Count rows done and redraw at most a few times a second."""
        self.done += count
        now = time.monotonic()
        if now - self._shown > 0.5 or self.done >= self.total:
            self._shown = now
            share = self.done / max(self.total, 1)
            bar = "#" * int(share * 30)
            rate = self.done / max(now - self.started, 1e-6)
            sys.stderr.write(
                f"\r{self.label:<10} [{bar:<30}] {self.done:>11,}/{self.total:,} {rate:>9,.0f}/s"
            )
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _popularity(users: int) -> list[float]:
    """Cumulative followee weights 1/(rank + 3) over user indexes (index = rank)."""
    total, cumulative = 0.0, []
    for rank in range(users):
        total += 1.0 / (rank + 3)
        cumulative.append(total)
    return cumulative


def follow_rows(plan: Plan, now: dt.datetime) -> Iterator[tuple[Any, ...]]:
    """(follower_id, followee_id, id, created_at) rows."""
    rng = random.Random(plan.seed)
    cumulative = _popularity(plan.users - 1)  # the fan-out account gets only its own followers
    top = cumulative[-1]
    edge = 0
    base = ids_mod.min_id_at(now - dt.timedelta(days=DAYS + 30))
    created = now - dt.timedelta(days=DAYS)
    active = [i for i in range(plan.users - 1) if is_active(i)]
    wanted = min(FANOUT_FOLLOWERS, len(active))
    fanout_followers = set(rng.sample(active, wanted))
    for follower in range(plan.users):
        count = min(int(rng.paretovariate(1.5) * 3.4), 2000, plan.users - 2)
        followees: set[int] = set()
        while len(followees) < count:
            pick = bisect.bisect_left(cumulative, rng.random() * top)
            if pick != follower:
                followees.add(pick)
        if follower in fanout_followers:
            followees.add(plan.fanout_author)
        for followee in followees:
            edge += 1
            yield (user_id(follower), user_id(followee), base + edge, created)


def user_rows(plan: Plan, now: dt.datetime, password_hash: str) -> Iterator[tuple[Any, ...]]:
    """Rows of the users table (counts are computed in SQL after the load)."""
    long_ago = now - dt.timedelta(days=400)
    for index in range(plan.users):
        last_active = now - dt.timedelta(hours=1) if is_active(index) else long_ago
        name = "fanout10k" if index == plan.fanout_author else username(index)
        yield (
            user_id(index),
            name,
            f"{name}@bench.example",
            password_hash,
            f"User {index}",
            "",
            "",
            index % 20 == 7,  # 5% private
            "user",
            None,
            0,
            0,
            0,
            long_ago,
            last_active,
            None,
            None,
        )


USER_COLUMNS = [
    "id",
    "username",
    "email",
    "password_hash",
    "display_name",
    "bio",
    "website",
    "is_private",
    "role",
    "avatar_key",
    "follower_count",
    "following_count",
    "post_count",
    "created_at",
    "last_active_at",
    "banned_at",
    "deleted_at",
]


def post_id(index: int, plan: Plan, now: dt.datetime) -> int:
    """Posts spread evenly over the last DAYS days, oldest first; IDs unique and time-ordered."""
    start_ms = int((now - dt.timedelta(days=DAYS) - ids_mod.EPOCH).total_seconds() * 1000)
    span_ms = DAYS * 86_400_000
    ms = start_ms + index * span_ms // plan.posts
    return (ms << ids_mod.TIME_SHIFT) | (index & ((1 << ids_mod.TIME_SHIFT) - 1))


def engagement(plan: Plan) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(post index, user index) of likes and of comments, newer posts favoured."""
    rng = random.Random(plan.seed + 1)

    def pick_post() -> int:
        # Skewed towards recent posts: most engagement happens in a post's first days.
        return plan.posts - 1 - int(rng.expovariate(1.0) * plan.posts / 6) % plan.posts

    likes: set[tuple[int, int]] = set()
    while len(likes) < plan.likes:
        likes.add((pick_post(), rng.randrange(plan.users)))
    comments = [(pick_post(), rng.randrange(plan.users)) for _ in range(plan.comments)]
    return sorted(likes), comments


def post_author(index: int, plan: Plan, rng: random.Random) -> int:
    """Authors: mostly anyone, somewhat more often the popular ones."""
    if rng.random() < 0.2:
        return min(int(rng.paretovariate(1.1)) - 1, plan.users - 1)
    return rng.randrange(plan.users)


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = CHUNK) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def content_tables(
    plan: Plan, now: dt.datetime
) -> list[tuple[str, list[str], Callable[[], Iterator[tuple[Any, ...]]], int]]:
    """(table, columns, row generator, count) of posts, media, likes and comments."""
    likes, comments = engagement(plan)
    like_counts = [0] * plan.posts
    comment_counts = [0] * plan.posts
    for post, _ in likes:
        like_counts[post] += 1
    for post, _ in comments:
        comment_counts[post] += 1
    fanout_every = max(plan.posts // 50, 1)

    def posts() -> Iterator[tuple[Any, ...]]:
        rng = random.Random(plan.seed + 2)
        for index in range(plan.posts):
            pid = post_id(index, plan, now)
            created = ids_mod.created_at(pid)
            author = post_author(index, plan, rng)
            if index % fanout_every == 0:
                author = plan.fanout_author
            yield (
                pid, user_id(author), f"Post {index} #bench", None, None, None, None,
                "published", None, like_counts[index], comment_counts[index], False,
                created, None, created,
            )  # fmt: skip

    def media() -> Iterator[tuple[Any, ...]]:
        for index in range(plan.posts):
            pid = post_id(index, plan, now)
            yield (
                pid, pid, 0, f"originals/bench/{pid}", f"bench/{pid}", None, 1080, 1080,
                BLURHASH, ids_mod.created_at(pid),
            )  # fmt: skip

    def like_rows() -> Iterator[tuple[Any, ...]]:
        base = ids_mod.min_id_at(now) + (1 << 41)
        for number, (post, user) in enumerate(likes):
            pid = post_id(post, plan, now)
            yield (pid, user_id(user), base + number, ids_mod.created_at(pid))

    def comment_rows() -> Iterator[tuple[Any, ...]]:
        base = ids_mod.min_id_at(now) + (1 << 40)
        for number, (post, user) in enumerate(comments):
            pid = post_id(post, plan, now)
            yield (base + number, pid, user_id(user), None, "nice", 0, ids_mod.created_at(pid))

    return [
        ("posts", POST_COLUMNS, posts, plan.posts),
        ("post_media", MEDIA_COLUMNS, media, plan.posts),
        ("post_likes", ["post_id", "user_id", "id", "created_at"], like_rows, len(likes)),
        ("comments", COMMENT_COLUMNS, comment_rows, len(comments)),
    ]


POST_COLUMNS = [
    "id",
    "author_id",
    "caption",
    "location_name",
    "location_lat",
    "location_lng",
    "filter",
    "status",
    "failure_reason",
    "like_count",
    "comment_count",
    "comments_disabled",
    "created_at",
    "edited_at",
    "published_at",
]
MEDIA_COLUMNS = [
    "id",
    "post_id",
    "position",
    "original_key",
    "base_key",
    "alt_text",
    "width",
    "height",
    "blurhash",
    "processed_at",
]
COMMENT_COLUMNS = ["id", "post_id", "author_id", "parent_id", "text", "like_count", "created_at"]
FOLLOW_COLUMNS = ["follower_id", "followee_id", "id", "created_at"]


def graph_tables(
    plan: Plan, now: dt.datetime, password_hash: str
) -> list[tuple[str, list[str], Callable[[], Iterator[tuple[Any, ...]]], int]]:
    """(table, columns, row generator, count) of users and follows."""
    return [
        ("users", USER_COLUMNS, lambda: user_rows(plan, now, password_hash), plan.users),
        ("follows", FOLLOW_COLUMNS, lambda: follow_rows(plan, now), plan.users * 10),
    ]


async def _copy_tables(dsn: str, tables: list[Any]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        # Foreign-key triggers off for the bulk load (the generator keeps references whole).
        await conn.execute("SET session_replication_role = replica")
        for table, columns, rows, total in tables:
            progress = Progress(table, total)
            for chunk in _chunks(rows()):
                await conn.copy_records_to_table(table, records=chunk, columns=columns)
                progress.add(len(chunk))
            if progress.done < progress.total:
                progress.total = progress.done
                progress.add(0)
    finally:
        await conn.close()


def _load_part(dsn: str, part: str, plan: Plan, now: dt.datetime, password_hash: str) -> None:
    tables = (
        graph_tables(plan, now, password_hash) if part == "graph" else content_tables(plan, now)
    )
    asyncio.run(_copy_tables(dsn, tables))


def load_postgres(dsn: str, plan: Plan, now: dt.datetime, password_hash: str) -> None:
    """COPY both halves at once, one process each (the generator is the slow part)."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_load_part, dsn, part, plan, now, password_hash)
            for part in ("graph", "content")
        ]
        for future in futures:
            future.result()


COUNTER_SQL = [
    "UPDATE users u SET follower_count = c.n FROM (SELECT followee_id AS id, count(*) AS n "
    "FROM follows GROUP BY followee_id) c WHERE u.id = c.id",
    "UPDATE users u SET following_count = c.n FROM (SELECT follower_id AS id, count(*) AS n "
    "FROM follows GROUP BY follower_id) c WHERE u.id = c.id",
    "UPDATE users u SET post_count = c.n FROM (SELECT author_id AS id, count(*) AS n "
    "FROM posts GROUP BY author_id) c WHERE u.id = c.id",
]
SQLITE_COUNTER_SQL = [
    "UPDATE users SET follower_count = (SELECT count(*) FROM follows WHERE followee_id = users.id)",
    "UPDATE users SET following_count = "
    "(SELECT count(*) FROM follows WHERE follower_id = users.id)",
    "UPDATE users SET post_count = (SELECT count(*) FROM posts WHERE author_id = users.id)",
]
LOADED = ("users", "follows", "posts", "post_media", "post_likes", "comments")


def _secondary_indexes() -> list[Any]:
    from glint import models_registry

    metadata = models_registry.metadata()
    return [index for name in LOADED for index in metadata.tables[name].indexes if not index.unique]


async def prepare_postgres(admin_dsn: str, database: str) -> str:
    """A fresh, migrated database without its secondary indexes; its SQLAlchemy URL."""
    import asyncpg

    from glint import migrate

    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    url = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{url}/{database}"
    await migrate.upgrade_async(url)
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        for index in _secondary_indexes():
            await conn.execute(f'DROP INDEX IF EXISTS "{index.name}"')
    finally:
        await conn.close()
    return url


async def finish_postgres(dsn: str) -> None:
    """Build the indexes, compute the counters, analyze."""
    import asyncpg
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute("SET max_parallel_maintenance_workers = 2")
        for index in _secondary_indexes():
            started = time.monotonic()
            await conn.execute(str(CreateIndex(index).compile(dialect=postgresql.dialect())))
            print(f"index {index.name}: {time.monotonic() - started:.1f} s", file=sys.stderr)
        for statement in COUNTER_SQL:
            await conn.execute(statement)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def seed_postgres(admin_dsn: str, database: str, plan: Plan) -> dict[str, Any]:
    """The whole scale-out seed; timings by phase."""
    from glint.accounts import passwords

    now = dt.datetime.now(dt.UTC)
    password_hash = await passwords.hash_password(PASSWORD, memory_kib=1024, time_cost=1)
    timings: dict[str, Any] = {}
    started = time.monotonic()
    url = await prepare_postgres(admin_dsn, database)
    timings["prepare_s"] = round(time.monotonic() - started, 1)
    phase = time.monotonic()
    dsn = url.replace("+asyncpg", "")
    await asyncio.to_thread(load_postgres, dsn, plan, now, password_hash)
    timings["copy_s"] = round(time.monotonic() - phase, 1)
    phase = time.monotonic()
    await finish_postgres(dsn)
    timings["index_and_counters_s"] = round(time.monotonic() - phase, 1)
    timings["total_s"] = round(time.monotonic() - started, 1)
    return {"database_url": url, **timings}


async def seed_sqlite(data_dir: str, plan: Plan) -> dict[str, Any]:
    """The embedded seed: the same rows into the data folder's SQLite database."""
    import pathlib

    import aiosqlite

    from glint import migrate
    from glint.accounts import passwords

    folder = pathlib.Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "glint.db"
    for suffix in ("", "-wal", "-shm"):
        pathlib.Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    started = time.monotonic()
    await migrate.upgrade_async(url)
    now = dt.datetime.now(dt.UTC)
    password_hash = await passwords.hash_password(PASSWORD, memory_kib=1024, time_cost=1)
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=OFF")
        await db.execute("PRAGMA foreign_keys=OFF")
        for table, columns, rows, total in graph_tables(plan, now, password_hash) + content_tables(
            plan, now
        ):
            progress = Progress(table, total)
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            for chunk in _chunks(rows()):
                await db.executemany(statement, [tuple(map(_sqlite_value, row)) for row in chunk])
                progress.add(len(chunk))
            if progress.done < progress.total:
                progress.total = progress.done
                progress.add(0)
        for statement in SQLITE_COUNTER_SQL:
            await db.execute(statement)
        await db.commit()
        await db.execute("ANALYZE")
    return {"database_url": url, "total_s": round(time.monotonic() - started, 1)}


def _sqlite_value(value: Any) -> Any:
    # The app stores timestamps as ISO text in SQLite (SQLAlchemy's DateTime format).
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value
