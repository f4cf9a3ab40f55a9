"""`glint bench search`: discovery at the seeded data (`glint bench seed`), one run.

Measured in one run, against `glint serve --workers N` on the seeded database (rate limits off),
as `glint bench feed` does it (its settings, sign-in and server; bench/wrk.py's runner):
- one request at a time, right after the server started, each query twice: the first time
  this server is asked it (no post bodies cached, nothing of the query in the server's
  processes; PostgreSQL's own buffers are whatever earlier runs left) then again, by the
  Server-Timing header (time in the app):
  typeahead `GET /search?q=<3 letters>&type=users&limit=8` for realistic prefixes (first
  three letters of seeded names, drawn by the seed's name popularity), caption search
  `GET /search?q=<words>&type=posts` for the most common words, rare words and two-word
  queries, and `GET /suggestions/users` for seeded users following about 500 accounts;
- under load, with wrk (a Lua script rotating the request paths and the signed-in users'
  tokens), one after another: `/healthz` (the ceiling of any request on this box) and each
  of the above;
then, with the server stopped, on the same data:
- the naive alternative of each, timed per query: `ILIKE '%abc%'` over users' names,
  `caption ILIKE '%word%'` over posts, friends of friends by a plain GROUP BY;
- the slowest typeahead and caption queries of the application again in-process, with
  EXPLAIN (ANALYZE, BUFFERS) of the SQL it ran (PostgreSQL);
- indexing throughput: a few thousand fresh published posts inserted, then
  `indexing.post_published` for each in its own transaction, as the indexing job does
  (one at a time, and 4 at once), in posts/s; the posts are removed again afterwards.
The figures go to bench/results/search[-embedded].json, the bars to search[-embedded].png.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from PIL import Image, ImageDraw

from bench import feed as feed_bench
from bench import plot, wrk
from bench import seed as seed_bench
from glint.config import Settings
from glint.infra.db import utcnow
from tests.live import LiveServer, settings_env

SEARCH_PATH = "/api/v1/search"
SUGGESTIONS_PATH = "/api/v1/suggestions/users"
TYPEAHEAD_LIMIT = 8
FOLLOWING = (450, 550)  # "following about 500 accounts"
# The stemmer drops these: never a caption query on their own.
STOP_WORDS = {"the", "my", "with", "and", "in", "of", "a", "this", "to", "at", "so"}

NAIVE_PEOPLE = (
    "SELECT id, username, display_name FROM users "
    "WHERE (username ILIKE :pattern OR display_name ILIKE :pattern) "
    "AND banned_at IS NULL AND deleted_at IS NULL "
    "ORDER BY follower_count DESC, id DESC LIMIT 8"
)
NAIVE_POSTS = (
    "SELECT id FROM posts WHERE status = 'published' AND {conditions} ORDER BY id DESC LIMIT 20"
)
NAIVE_SUGGESTIONS = (
    "SELECT f2.followee_id, count(*) AS mutuals FROM follows f1 "
    "JOIN follows f2 ON f2.follower_id = f1.followee_id "
    "WHERE f1.follower_id = :uid AND f2.followee_id <> :uid AND NOT EXISTS "
    "(SELECT 1 FROM follows f3 WHERE f3.follower_id = :uid AND f3.followee_id = f2.followee_id) "
    "GROUP BY f2.followee_id ORDER BY mutuals DESC LIMIT 20"
)

# Rotates "path<TAB>token" lines (token optional) from the file given after `--`; the summary
# is bench/wrk.py's own (`done`), so its runner parses it.
PATHS_SCRIPT = r"""
local prepared = {}
local counter = 0

function setup(thread)
  thread:set("offset", math.random(1, 1000000))
end

function init(args)
  for line in io.lines(args[1]) do
    local path, token = line:match("^([^\t]+)\t?(.*)$")
    if path then
      local headers = {}
      if token and #token > 0 then
        headers["Authorization"] = "Bearer " .. token
      end
      prepared[#prepared + 1] = wrk.format("GET", path, headers)
    end
  end
  counter = offset or 0
end

function request()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end
"""


@contextlib.contextmanager
def _rotating_paths() -> Iterator[None]:
    """wrk.run with a script that rotates whole request paths, not only tokens."""
    original = wrk.WRK_SCRIPT
    wrk.WRK_SCRIPT = PATHS_SCRIPT + original[original.index("function done") :]
    try:
        yield
    finally:
        wrk.WRK_SCRIPT = original


def typeahead_path(prefix: str) -> str:
    """GET /search for people only, as a search box asks while typing."""
    return f"{SEARCH_PATH}?{urlencode({'q': prefix, 'type': 'users', 'limit': TYPEAHEAD_LIMIT})}"


def posts_path(words: str) -> str:
    """GET /search for posts only (the default page size)."""
    return f"{SEARCH_PATH}?{urlencode({'q': words, 'type': 'posts'})}"


def prefixes(count: int, seed: int = 11) -> list[str]:
    """Distinct 3-letter prefixes of seeded first and last names, the popular names' first
    (drawn with the seed's own name weights, as people look for the names that exist)."""
    texts = seed_bench.Texts()
    rng = random.Random(seed)
    found: dict[str, None] = {}
    names = len(seed_bench.FIRST_NAMES) + len(seed_bench.LAST_NAMES)
    for _ in range(50 * count):
        if len(found) >= min(count, names):
            break
        if rng.random() < 0.6:
            name = rng.choices(seed_bench.FIRST_NAMES, cum_weights=texts.first)[0]
        else:
            name = rng.choices(seed_bench.LAST_NAMES, cum_weights=texts.last)[0]
        found.setdefault(name[:3], None)
    return list(found)


def caption_queries() -> dict[str, list[str]]:
    """Caption searches: the most common content words, the rarest ones, and two words."""
    content = [word for word in seed_bench.CAPTION_WORDS if word not in STOP_WORDS]
    common, rare = content[:8], content[-12:]
    return {
        "posts_common": common,
        "posts_rare": rare,
        "posts_two_words": [f"{a} {b}" for a, b in zip(common[:4], content[20:24], strict=True)]
        + [f"{a} {b}" for a, b in zip(common[4:8], rare[:4], strict=True)],
    }


async def suggestion_viewers(settings: Settings, count: int) -> list[int]:
    """Active seeded users following about 500 accounts (the follows table's own count)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.scalars(
                sa.text(
                    "SELECT f.follower_id FROM follows f JOIN users u ON u.id = f.follower_id "
                    "WHERE u.following_count BETWEEN :low AND :high AND u.banned_at IS NULL "
                    "AND u.deleted_at IS NULL GROUP BY f.follower_id "
                    "HAVING count(*) BETWEEN :low AND :high ORDER BY f.follower_id LIMIT :n"
                ),
                {"low": FOLLOWING[0], "high": FOLLOWING[1], "n": count},
            )
            return list(rows)
    finally:
        await engine.dispose()


async def tokens_for(settings: Settings, user_ids: list[int]) -> list[str]:
    """A session for each of these users, written straight to the database."""
    from glint.infra import runtime as runtime_mod

    runtime = await runtime_mod.start(settings)
    try:
        async with runtime.db.session() as session:
            tokens = feed_bench.add_sessions(session, ids=runtime.ids, user_ids=user_ids)
            await session.commit()
    finally:
        await runtime.close()
    return tokens


def _server_ms(response: httpx.Response) -> float:
    return float(response.headers.get("server-timing", "app;dur=nan").split("dur=")[-1])


async def cold_and_warm(
    base_url: str, requests: list[tuple[str, str | None]]
) -> dict[str, list[float]]:
    """Each (path, token) one at a time: the first time this server is asked, then again; the
    server's milliseconds of each, and the client's round trip of the warm one."""
    samples: dict[str, list[float]] = {"cold": [], "warm": [], "warm_client": [], "items": []}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        for path, token in requests:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for kind in ("cold", "warm"):
                started = time.perf_counter()
                response = await http.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                samples[kind].append(_server_ms(response))
                if kind == "warm":
                    samples["warm_client"].append(elapsed)
                    body = response.json()
                    items = body.get("users") or body.get("posts") or body.get("items") or []
                    samples["items"].append(len(items))
    return samples


async def naive_times(
    database_url: str, statement: str, params: list[dict[str, Any]]
) -> list[float]:
    """Milliseconds of one statement per parameter set, one at a time, warm (run twice, the
    second timed)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    if database_url.startswith("sqlite"):
        statement = statement.replace(" ILIKE ", " LIKE ")  # SQLite's LIKE ignores ASCII case
    engine = create_async_engine(database_url)
    timings: list[float] = []
    try:
        async with engine.connect() as conn:
            for values in params:
                await conn.execute(sa.text(statement), values)
                started = time.perf_counter()
                await conn.execute(sa.text(statement), values)
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return timings


def naive_posts_statement(words: str) -> tuple[str, dict[str, str]]:
    """`caption ILIKE '%word%'` for every word of the query."""
    parts = words.split()
    conditions = " AND ".join(f"caption ILIKE :w{i}" for i in range(len(parts)))
    return NAIVE_POSTS.format(conditions=conditions), {
        f"w{i}": f"%{word}%" for i, word in enumerate(parts)
    }


async def explain_app_queries(
    settings: Settings, *, prefix: str, words: str, viewer_id: int
) -> dict[str, Any]:
    """The application's own typeahead and caption search in-process (the SQL captured as it
    runs), then EXPLAIN (ANALYZE, BUFFERS) of the statement that reads the text index."""
    from sqlalchemy import event

    from glint.discovery import service as discovery_service
    from glint.infra import runtime as runtime_mod

    runtime = await runtime_mod.start(settings)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "search_person_terms" in statement or "search_posts" in statement:
            captured.append((statement, parameters))

    sync_engine = runtime.db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", capture)
    plans: dict[str, Any] = {}
    try:
        for name, kind, text in (("typeahead", "users", prefix), ("posts", "posts", words)):
            captured.clear()
            async with runtime.db.session() as session:
                started = time.perf_counter()
                if kind == "users":
                    await discovery_service.find_people(
                        session,
                        cache=runtime.cache,
                        query=discovery_service.Query.parse(text),
                        viewer_id=viewer_id,
                        cursor=None,
                        limit=TYPEAHEAD_LIMIT,
                    )
                else:
                    await discovery_service.find_posts(
                        session,
                        query=discovery_service.Query.parse(text),
                        viewer_id=viewer_id,
                        cursor=None,
                        limit=20,
                    )
                elapsed = (time.perf_counter() - started) * 1000
            if not captured:
                continue
            statement, parameters = captured[0]
            async with runtime.db.engine.connect() as conn:
                result = await conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                )
                plan_lines = [row[0] for row in result]
            plans[name] = {
                "query": text,
                "in_process_ms": round(elapsed, 2),
                "sql": " ".join(statement.split()),
                "parameters": [str(value) for value in parameters],
                "plan": plan_lines,
            }
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
        await runtime.close()
    return plans


async def indexing_throughput(
    settings: Settings, *, posts: int, concurrency: int
) -> dict[str, Any]:
    """Fresh published posts (seed-like captions and hashtags), then
    `indexing.post_published` for each in its own transaction, `concurrency` at a time;
    posts/s. The posts and what indexing them added are removed afterwards."""
    from glint.discovery import indexing
    from glint.infra import runtime as runtime_mod
    from glint.posts.models import Post, PostHashtag

    runtime = await runtime_mod.start(settings)
    texts = seed_bench.Texts()
    rng = random.Random(concurrency)
    try:
        async with runtime.db.session() as session:
            authors = list(
                await session.scalars(
                    sa.text("SELECT id FROM users ORDER BY random() LIMIT :n"), {"n": posts}
                )
            )
            fresh: list[tuple[int, int]] = []
            tagged: list[PostHashtag] = []
            now = utcnow()
            for author, (caption, tags) in zip(
                authors, texts.captions(rng, len(authors)), strict=True
            ):
                post_id = runtime.ids.next_id()
                fresh.append((post_id, author))
                session.add(
                    Post(
                        id=post_id,
                        author_id=author,
                        caption=caption,
                        status="published",
                        created_at=now,
                        published_at=now,
                    )
                )
                tagged += [PostHashtag(post_id=post_id, tag=tag) for tag in tags]
            await session.flush()
            session.add_all(tagged)
            await session.commit()
        queue = list(fresh)

        async def index_one(post_id: int, author_id: int) -> None:
            async with runtime.db.session() as session:
                await indexing.post_published(
                    session, post_id=post_id, author_id=author_id, now=runtime.clock.now()
                )
                await session.commit()

        async def worker() -> None:
            while queue:
                post_id, author_id = queue.pop()
                await index_one(post_id, author_id)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        # Leave the seed as it was: the posts go, and the index follows (counts included).
        async with runtime.db.session() as session:
            await session.execute(sa.delete(Post).where(Post.id.in_([p for p, _ in fresh])))
            for post_id, _ in fresh:
                await indexing.sync_post(session, post_id=post_id)
            await session.commit()
    finally:
        await runtime.close()
    return {
        "posts": len(fresh),
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "posts_per_s": round(len(fresh) / elapsed, 1),
    }


def _ratio(top: float, bottom: float) -> float | None:
    return round(top / bottom, 2) if bottom else None


def _lines_file(folder: Path, name: str, requests: list[tuple[str, str | None]]) -> Path:
    path = folder / f"{name}.txt"
    path.write_text("".join(f"{p}\t{t or ''}\n" for p, t in requests))
    return path


async def bench_search(
    settings: Settings,
    *,
    label: str,
    seconds: float,
    connections: int,
    threads: int,
    searchers: int,
    suggestion_users: int,
    indexing_posts: int,
    serve_workers: int,
    out_dir: Path,
) -> dict[str, Any]:
    """The whole discovery benchmark against one seeded database."""
    wrk.require()
    feed_bench.forget_cached_state(settings)
    load_at_start = round(os.getloadavg()[0], 2)
    searcher_ids, searcher_tokens = await feed_bench.sign_in_users(settings, searchers)
    viewers = await suggestion_viewers(settings, suggestion_users)
    viewer_tokens = await tokens_for(settings, viewers)
    rng = random.Random(5)

    def signed(paths: list[str]) -> list[tuple[str, str | None]]:
        return [(path, rng.choice(searcher_tokens)) for path in paths]

    words = caption_queries()
    kinds: dict[str, list[tuple[str, str | None]]] = {
        "typeahead": signed([typeahead_path(prefix) for prefix in prefixes(60)]),
        **{name: signed([posts_path(q) for q in queries]) for name, queries in words.items()},
        "suggestions": [(SUGGESTIONS_PATH, token) for token in viewer_tokens],
    }
    if not viewer_tokens:
        del kinds["suggestions"]
    folder = Path(tempfile.mkdtemp(prefix="glint-bench-search-"))
    server = LiveServer(settings_env(settings), "--workers", str(serve_workers))
    sequential: dict[str, dict[str, list[float]]] = {}
    sizes: dict[str, list[int]] = {}
    load: dict[str, dict[str, Any]] = {}
    suggestions_error = None
    try:
        server.wait_ready(timeout=60)
        for name, requests in kinds.items():
            try:
                sequential[name] = await cold_and_warm(server.url, requests)
                sizes[name] = [int(n) for n in sequential[name]["items"]]
            except httpx.HTTPStatusError as exc:  # the endpoint may not exist yet
                if name != "suggestions":
                    raise
                suggestions_error = f"{exc.response.status_code}: {exc.response.text[:200]}"
            print(f"{name}: one at a time done", flush=True)
        if suggestions_error:
            del kinds["suggestions"]
        with _rotating_paths():
            files = {name: _lines_file(folder, name, reqs) for name, reqs in kinds.items()}
            wrk.run(
                server.url + "/",
                seconds=3,
                connections=connections,
                threads=threads,
                tokens_file=files["typeahead"],
            )  # settles the pools
            load["healthz"] = wrk.run(
                server.url + "/healthz",
                seconds=seconds,
                connections=connections,
                threads=threads,
                tokens_file=_lines_file(folder, "healthz", [("/healthz", None)]),
            )
            print(f"healthz: {load['healthz']}", flush=True)
            for name, file in files.items():
                load[name] = wrk.run(
                    server.url + "/",
                    seconds=seconds,
                    connections=connections,
                    threads=threads,
                    tokens_file=file,
                )
                print(f"{name}: {load[name]}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    database_url = settings.effective_database_url
    naive: dict[str, list[float]] = {
        "typeahead": await naive_times(
            database_url, NAIVE_PEOPLE, [{"pattern": f"%{p}%"} for p in prefixes(60)]
        )
    }
    for name, queries in words.items():
        timings: list[float] = []
        for query in queries:
            statement, values = naive_posts_statement(query)
            timings += await naive_times(database_url, statement, [values])
        naive[name] = timings
    if viewers:
        naive["suggestions"] = await naive_times(
            database_url, NAIVE_SUGGESTIONS, [{"uid": uid} for uid in viewers]
        )
    explained: dict[str, Any] = {}
    if not settings.effective_database_url.startswith("sqlite"):
        slowest_prefix = _slowest(kinds["typeahead"], sequential["typeahead"]["warm"])
        slowest_words = _slowest(kinds["posts_common"], sequential["posts_common"]["warm"], key="q")
        try:
            explained = await explain_app_queries(
                settings, prefix=slowest_prefix, words=slowest_words, viewer_id=searcher_ids[0]
            )
        except Exception as exc:  # the measured figures are kept regardless
            explained = {"error": repr(exc)}
    indexing: list[dict[str, Any]] = []
    for concurrency in (1, 4):
        try:
            indexing.append(
                await indexing_throughput(settings, posts=indexing_posts, concurrency=concurrency)
            )
        except Exception as exc:  # the measured figures are kept regardless
            indexing.append({"concurrency": concurrency, "error": repr(exc)})

    targets = {
        "typeahead": "p99 <= 20 ms",
        "posts_common": "p99 <= 100 ms",
        "posts_rare": "p99 <= 100 ms",
        "posts_two_words": "p99 <= 100 ms",
        "suggestions": "p99 <= 50 ms (users following ~500 accounts)",
    }
    results: dict[str, Any] = {}
    for name, requests in kinds.items():
        if name not in sequential:
            continue
        warm = feed_bench.summary(sequential[name]["warm"])
        entry: dict[str, Any] = {
            "target": targets[name],
            "distinct_requests": len(requests),
            "examples": [path for path, _ in requests[:4]],
            "first_page_items_median": statistics.median(sizes[name]) if sizes.get(name) else 0,
            "first_page_empty": sum(1 for size in sizes.get(name, []) if size == 0),
            "sequential_server_ms": {
                "cold": feed_bench.summary(sequential[name]["cold"]),
                "warm": warm,
            },
            "sequential_client_ms_warm": feed_bench.summary(sequential[name]["warm_client"]),
        }
        if name in load:
            entry["load"] = load[name]
            entry["over_healthz_throughput"] = _ratio(
                load[name]["requests_per_s"], load["healthz"]["requests_per_s"]
            )
        if name in naive:
            entry["naive_ms"] = feed_bench.summary(naive[name])
            entry["naive_over_glint_p50"] = _ratio(entry["naive_ms"]["p50"], warm["p50"])
            entry["naive_over_glint_p99"] = _ratio(entry["naive_ms"]["p99"], warm["p99"])
        results[name] = entry
    result: dict[str, Any] = {
        "label": label,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_start": load_at_start,
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "serve_workers": serve_workers,
        "signed_in_searchers": len(searcher_tokens),
        "suggestion_viewers": len(viewers),
        "suggestions_error": suggestions_error,
        "load_generator": (
            f"{wrk.version()}: {threads} threads, {connections} connections, {seconds:.0f} s "
            "per kind; request paths and tokens rotated by a Lua script; client-side latency"
        ),
        "sequential_note": (
            "one request at a time right after the server started: each query's first request "
            "(cold: nothing cached by the application) then a second (warm); Server-Timing"
        ),
        "healthz_load": load["healthz"],
        "queries": results,
        "naive_statements": {
            "typeahead": NAIVE_PEOPLE,
            "posts": NAIVE_POSTS.format(conditions="caption ILIKE '%word%' [AND ...]"),
            "suggestions": NAIVE_SUGGESTIONS,
        },
        "indexing": {
            "target": ">= 100 posts/s",
            "note": "indexing.post_published per fresh post, its own transaction, as the job",
            "runs": indexing,
        },
        "explain": explained,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "" if label == "scaleout" else f"-{label}"
    (out_dir / f"search{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    bars_png(out_dir / f"search{suffix}.png", result)
    return result


def _slowest(requests: list[tuple[str, str | None]], warm: list[float], key: str = "q") -> str:
    """The query text of the request with the slowest warm server time."""
    from urllib.parse import parse_qs, urlsplit

    path = max(zip(warm, (p for p, _ in requests), strict=True))[1]
    return parse_qs(urlsplit(path).query)[key][0]


SHORT = {
    "typeahead": "typeahead",
    "posts_common": "posts common",
    "posts_rare": "posts rare",
    "posts_two_words": "posts 2 words",
    "suggestions": "suggestions",
}


def bars_png(path: Path, result: dict[str, Any]) -> None:
    """p50 / p90 / p99: under load (wrk) on the left; one at a time, Glint warm against the
    naive SQL, on the right."""
    queries = result["queries"]
    loaded = [("healthz", wrk.latency_ms(result["healthz_load"]))] + [
        (SHORT[name], wrk.latency_ms(entry["load"]))
        for name, entry in queries.items()
        if "load" in entry
    ]
    single: list[tuple[str, dict[str, float]]] = []
    for name, entry in queries.items():
        single.append((SHORT[name], entry["sequential_server_ms"]["warm"]))
        if "naive_ms" in entry:
            single.append(("  naive", entry["naive_ms"]))
    image = Image.new("RGB", (plot.WIDTH + 400, plot.HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text(
        (plot.MARGIN, 10),
        f"search and suggestions, {result['label']}, {result['serve_workers']} serve workers; "
        "ms, bars p50 / p90 / p99",
        fill=plot.TEXT,
    )
    split = (plot.WIDTH + 400) * 2 // 5
    plot.bar_panel(
        draw,
        (plot.MARGIN, 70, split - 20, plot.HEIGHT - plot.MARGIN),
        "under load, wrk, client latency: "
        + ", ".join(
            f"{SHORT.get(name, name)} {entry['load']['requests_per_s']:.0f}"
            for name, entry in queries.items()
            if "load" in entry
        )[:90]
        + " req/s",
        loaded,
    )
    plot.bar_panel(
        draw,
        (split + 40, 70, plot.WIDTH + 400 - 20, plot.HEIGHT - plot.MARGIN),
        "one at a time: Glint's server time (warm) and the naive SQL beside it",
        single,
    )
    image.save(path)
