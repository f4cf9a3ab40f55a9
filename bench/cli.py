"""`glint bench seed`, `glint bench feed`, `glint bench tray` and `glint bench search`."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Annotated

import typer

from bench import feed as feed_bench
from bench import profile as profile_bench
from bench import search as search_bench
from bench import seed as seed_bench
from bench import tray as tray_bench
from glint.config import Settings

RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "glint_bench"
EMBEDDED_DIR = Path("bench-data")

REDIS_URL = "redis://127.0.0.1:6379/0"


def _seeded(*, embedded: bool, database: str, redis_url: str) -> tuple[Settings, str]:
    """The benchmark settings of a seeded deployment, and its label."""
    if embedded:
        url = f"sqlite+aiosqlite:///{(EMBEDDED_DIR / 'glint.db').resolve()}"
        return feed_bench.bench_settings(url, None), "embedded"
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return feed_bench.bench_settings(f"{url}/{database}", redis_url), "scaleout"


app = typer.Typer(help="Glint benchmarks.", no_args_is_help=True, add_completion=False)


@app.command()
def seed(
    users: Annotated[int, typer.Option(help="Accounts.")] = 1_000_000,
    posts: Annotated[int, typer.Option(help="Posts (each with one photo).")] = 10_000_000,
    likes: Annotated[int, typer.Option(help="Likes.")] = 5_000_000,
    comments: Annotated[int, typer.Option(help="Comments.")] = 1_000_000,
    embedded: Annotated[
        bool, typer.Option(help="Seed SQLite in ./bench-data (10,000 users / 100,000 posts).")
    ] = False,
    pg_admin: Annotated[str, typer.Option(help="PostgreSQL to create the database in.")] = PG_ADMIN,
    database: Annotated[str, typer.Option(help="Database name (dropped and created).")] = BENCH_DB,
) -> None:
    """Build a synthetic network: power-law follows, posts, likes and comments."""
    if embedded:
        plan = seed_bench.Plan(
            users=min(users, 10_000), posts=min(posts, 100_000), likes=50_000, comments=10_000
        )
        result = asyncio.run(seed_bench.seed_sqlite(str(EMBEDDED_DIR), plan))
        label = "embedded"
    else:
        plan = seed_bench.Plan(users=users, posts=posts, likes=likes, comments=comments)
        result = asyncio.run(seed_bench.seed_postgres(pg_admin, database, plan))
        label = "scaleout"
    result.update(users=plan.users, posts=plan.posts, likes=plan.likes, comments=plan.comments)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"seed-{label}.json").write_text(json.dumps(result, indent=2) + "\n")
    typer.echo(json.dumps(result, indent=2))


@app.command()
def feed(
    embedded: Annotated[bool, typer.Option(help="Run against the embedded seed.")] = False,
    seconds: Annotated[float, typer.Option(help="Length of each wrk run.")] = 20.0,
    connections: Annotated[int, typer.Option(help="wrk connections.")] = 8,
    threads: Annotated[int, typer.Option(help="wrk threads.")] = 2,
    users: Annotated[int, typer.Option(help="Signed-in users whose tokens rotate.")] = 500,
    cold_users: Annotated[int, typer.Option(help="Users read cold, then warm.")] = 200,
    workers: Annotated[int, typer.Option(help="`glint serve --workers`.")] = 2,
    redis_url: Annotated[str, typer.Option(help="Redis of the scale-out run.")] = (
        "redis://127.0.0.1:6379/0"
    ),
    database: Annotated[str, typer.Option(help="Seeded database name.")] = BENCH_DB,
) -> None:
    """GET /feed on the seeded data beside /healthz, /auth/me, cold reads, the naive query and
    a 10,000-follower fan-out, in one run; JSON and PNG into bench/results/."""
    settings, label = _seeded(embedded=embedded, database=database, redis_url=redis_url)
    result = asyncio.run(
        feed_bench.bench_feed(
            settings,
            label=label,
            seconds=seconds,
            connections=connections,
            threads=threads,
            users=users,
            cold_users=cold_users,
            serve_workers=workers,
            out_dir=RESULTS,
        )
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    typer.echo(json.dumps(result, indent=2))


@app.command()
def profile(
    path: Annotated[str, typer.Option(help="The endpoint wrk drives.")] = "/api/v1/feed",
    embedded: Annotated[bool, typer.Option(help="Run against the embedded seed.")] = False,
    seconds: Annotated[float, typer.Option(help="Length of the recorded run.")] = 15.0,
    connections: Annotated[int, typer.Option(help="wrk connections.")] = 8,
    workers: Annotated[int, typer.Option(help="`glint serve --workers`.")] = 2,
    database: Annotated[str, typer.Option(help="Seeded database name.")] = BENCH_DB,
) -> None:
    """A py-spy flame graph of the server under wrk load; SVG into bench/results/."""
    settings, label = _seeded(embedded=embedded, database=database, redis_url=REDIS_URL)
    name = path.strip("/").replace("/", "-") or "root"
    RESULTS.mkdir(exist_ok=True)
    result = profile_bench.profile(
        settings,
        path=path,
        seconds=seconds,
        connections=connections,
        serve_workers=workers,
        out=RESULTS / f"profile-{label}-{name}.svg",
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    typer.echo(json.dumps(result, indent=2))


@app.command()
def tray(
    viewers: Annotated[int, typer.Option(help="Heavy viewers (made once, reused).")] = 100,
    following: Annotated[int, typer.Option(help="Accounts each heavy viewer follows.")] = 7_500,
    author_share: Annotated[
        float, typer.Option(help="Share of accounts with live stories.")
    ] = 0.05,
    live_share: Annotated[
        float, typer.Option(help="Share of a heavy viewer's followees with live stories.")
    ] = 0.10,
    seconds: Annotated[float, typer.Option(help="Length of each wrk run.")] = 20.0,
    concurrency: Annotated[int, typer.Option(help="wrk connections.")] = 8,
    threads: Annotated[int, typer.Option(help="wrk threads.")] = 2,
    rounds: Annotated[int, typer.Option(help="Sequential reads per viewer and variant.")] = 3,
    workers: Annotated[int, typer.Option(help="`glint serve --workers`.")] = 2,
    redis_url: Annotated[str, typer.Option(help="Redis of the scale-out run.")] = (
        "redis://127.0.0.1:6379/0"
    ),
    pg_admin: Annotated[str, typer.Option(help="PostgreSQL server of the seed.")] = PG_ADMIN,
    database: Annotated[str, typer.Option(help="Seeded database name.")] = BENCH_DB,
) -> None:
    """Story tray latency for viewers following 7,500 accounts: warm, cold, database
    fallback, naive SQL and /healthz in one run; JSON and PNG into bench/results/tray.*."""
    url = pg_admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    settings = feed_bench.bench_settings(f"{url}/{database}", redis_url).model_copy(
        update={"redis_prefix": tray_bench.REDIS_PREFIX}
    )
    plan = tray_bench.TrayPlan(
        viewers=viewers, following=following, author_share=author_share, live_share=live_share
    )
    result = asyncio.run(
        tray_bench.bench_tray(
            settings,
            plan,
            seconds=seconds,
            concurrency=concurrency,
            threads=threads,
            rounds=rounds,
            serve_workers=workers,
            out_dir=RESULTS,
            label="scaleout",
        )
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)  # kept when a run fails: server logs
    typer.echo(json.dumps(result, indent=2))


@app.command()
def search(
    embedded: Annotated[bool, typer.Option(help="Run against the embedded seed.")] = False,
    seconds: Annotated[float, typer.Option(help="Length of each wrk run.")] = 20.0,
    connections: Annotated[int, typer.Option(help="wrk connections.")] = 8,
    threads: Annotated[int, typer.Option(help="wrk threads.")] = 2,
    searchers: Annotated[int, typer.Option(help="Signed-in users whose tokens rotate.")] = 200,
    suggestion_users: Annotated[
        int, typer.Option(help="Users following ~500 accounts asked for suggestions.")
    ] = 100,
    indexing_posts: Annotated[
        int, typer.Option(help="Fresh posts indexed for the throughput figure.")
    ] = 3000,
    workers: Annotated[int, typer.Option(help="`glint serve --workers`.")] = 2,
    redis_url: Annotated[str, typer.Option(help="Redis of the scale-out run.")] = REDIS_URL,
    database: Annotated[str, typer.Option(help="Seeded database name.")] = BENCH_DB,
) -> None:
    """Typeahead, caption search and suggestions on the seeded data beside /healthz and the
    naive SQL, plus indexing throughput, in one run; JSON and PNG into bench/results/search.*."""
    settings, label = _seeded(embedded=embedded, database=database, redis_url=redis_url)
    result = asyncio.run(
        search_bench.bench_search(
            settings,
            label=label,
            seconds=seconds,
            connections=connections,
            threads=threads,
            searchers=searchers,
            suggestion_users=suggestion_users,
            indexing_posts=indexing_posts,
            serve_workers=workers,
            out_dir=RESULTS,
        )
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    typer.echo(json.dumps(result, indent=2))
