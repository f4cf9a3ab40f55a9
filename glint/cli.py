"""The `glint` command: serve, migrate and administer a Glint deployment."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import Annotated

import typer

from glint.config import Settings

app = typer.Typer(
    help="Glint, an open-source photo-sharing platform. Settings come from GLINT_* variables; "
    "with none set, everything runs embedded from ./data.",
    no_args_is_help=True,
    add_completion=False,
)
admin_app = typer.Typer(help="Administer accounts.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


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


@admin_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="3-30 of a-z 0-9 . _")],
    email: Annotated[str, typer.Option(help="E-mail address.")],
    role: Annotated[str, typer.Option(help="user, verified or admin.")] = "user",
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
            await session.commit()
            return user.id
    finally:
        await runtime.close()


def main() -> None:
    """Entry point of the `glint` script."""
    app(args=sys.argv[1:], prog_name="glint")
