"""The `glint` command: serve, migrate and administer a Glint deployment."""

from __future__ import annotations

import asyncio
import getpass
import importlib
import sys
from typing import Annotated, Any

import typer

from glint import wiring
from glint.config import Settings

app = typer.Typer(
    help="Glint, an open-source photo-sharing platform. Settings come from GLINT_* variables; "
    "with none set, everything runs embedded from ./data.",
    no_args_is_help=True,
    add_completion=False,
)
admin_app = typer.Typer(help="Administer accounts.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
search_app = typer.Typer(help="The search index.", no_args_is_help=True)
app.add_typer(search_app, name="search")


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        typer.echo(f"Invalid configuration:\n{exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the API and web pages. Embedded mode migrates the database first."""
    import uvicorn

    settings = _settings()
    if not settings.is_scale_out:
        from glint import migrate as migrate_mod

        migrate_mod.upgrade(settings.effective_database_url)
    uvicorn.run(
        "glint.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # X-Forwarded-For is judged by GLINT_TRUSTED_PROXIES instead
        log_config=None,
        access_log=False,
        ws_max_size=65536,  # client frames are pings and pongs; nothing large is ever sent up
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date."""
    from glint import migrate as migrate_mod

    settings = _settings()
    migrate_mod.upgrade(settings.effective_database_url, revision)
    typer.echo(f"Database at revision {revision}.")


@app.command()
def worker(
    threads: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once.")] = 4,
) -> None:
    """Work background jobs from RabbitMQ (scale-out; embedded `serve` works them itself)."""
    from glint.infra import queue_workers

    settings = _settings()
    if not settings.broker_url:
        typer.echo("GLINT_BROKER_URL is not set: `glint serve` works the jobs itself.", err=True)
        raise typer.Exit(2)
    from glint.infra import logging as glint_logging

    glint_logging.configure(level=settings.log_level, fmt=settings.log_format)
    wiring.install()
    queue_workers.run_worker(settings, threads=threads)


@app.command()
def scheduler() -> None:
    """Run periodic tasks: re-queue lost jobs, reconcile counters, … (one per deployment)."""
    from glint.infra import logging as glint_logging

    settings = _settings()
    glint_logging.configure(level=settings.log_level, fmt=settings.log_format)
    asyncio.run(_run_scheduler(settings))


async def _run_scheduler(settings: Settings) -> None:
    import signal

    from glint.infra import queue_workers
    from glint.infra import runtime as runtime_mod

    wiring.install()
    runtime = await runtime_mod.start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await queue_workers.run_scheduler(runtime, stop=stop)
    finally:
        await runtime.close()


@admin_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="3-30 of a-z 0-9 . _")],
    email: Annotated[str, typer.Option(help="E-mail address.")],
    role: Annotated[str, typer.Option(help="user, verified, moderator or admin.")] = "user",
    password: Annotated[
        str | None,
        typer.Option(help="Password (prompted for when omitted; avoid it in shell history)."),
    ] = None,
) -> None:
    """Create an account, for example the first admin."""
    settings = _settings()
    if password is None:
        password = getpass.getpass("Password: ")
    if len(password) < 8:
        typer.echo("The password must be at least 8 characters.", err=True)
        raise typer.Exit(2)
    if not settings.is_scale_out:
        from glint import migrate as migrate_mod

        migrate_mod.upgrade(settings.effective_database_url)
    try:
        user_id = asyncio.run(_create_user(settings, username, email, password, role))
    except Exception as exc:
        from glint.errors import GlintError

        if isinstance(exc, GlintError | ValueError):
            typer.echo(f"Could not create the user: {getattr(exc, 'message', exc)}", err=True)
            raise typer.Exit(1) from exc
        raise
    typer.echo(f"Created {role} {username} (id {user_id}).")


async def _create_user(
    settings: Settings, username: str, email: str, password: str, role: str
) -> int:
    from glint.accounts import service as accounts_service
    from glint.infra import runtime as runtime_mod

    wiring.install()  # a sign-up is announced (search indexes the account)
    runtime = await runtime_mod.start(settings)
    try:
        async with runtime.db.session() as session:
            user = await accounts_service.register(
                session,
                ids=runtime.ids,
                settings=settings,
                username=username,
                email=email,
                password=password,
                role=role,
            )
            await runtime.commit(session)
            return user.id
    finally:
        await runtime.close()


@search_app.command("reindex")
def search_reindex(
    batch: Annotated[int, typer.Option(min=1, max=50_000, help="Rows per transaction.")] = 2000,
) -> None:
    """Rebuild the search index and hashtag counts from the database (events keep it current;
    this is for a new index, a restored backup or a changed analyser)."""
    asyncio.run(_search_reindex(_settings(), batch=batch))


async def _search_reindex(settings: Settings, *, batch: int) -> None:
    from glint.discovery import indexing
    from glint.infra import runtime as runtime_mod

    runtime = await runtime_mod.start(settings)
    bars: dict[str, Any] = {}

    def show(what: str, done: int, total: int) -> None:
        if what not in bars:
            for bar in bars.values():
                bar.render_finish()
            bars[what] = typer.progressbar(length=total, label=f"{what:<7}", show_pos=True)
        bar = bars[what]
        bar.update(done - bar.pos)

    try:
        await indexing.rebuild_all(runtime.db, batch=batch, on_progress=show)
        for bar in bars.values():
            bar.render_finish()
    finally:
        await runtime.close()
    typer.echo("Search index rebuilt.")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Benchmarks, from a source checkout: `glint bench seed`, `glint bench feed` (--help)."""
    try:
        module = importlib.import_module("bench.cli")
    except ModuleNotFoundError as exc:
        typer.echo("The benchmarks live in the source checkout (bench/); run from there.", err=True)
        raise typer.Exit(2) from exc
    module.app(args=ctx.args, prog_name="glint bench")


def main() -> None:
    """Entry point of the `glint` script."""
    app(args=sys.argv[1:], prog_name="glint")
