"""create_app(settings): the ASGI app with its routers, middleware and error envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.formparsers import MultiPartParser

from glint import wiring
from glint.api import (
    account_deletion,
    account_email,
    accounts,
    admin,
    admin_reports,
    admin_users,
    discovery,
    docs,
    engagement,
    exports,
    feeds,
    media,
    messaging,
    notifications,
    ops,
    posts,
    reports,
    social,
    stories,
    stream,
    suggestions,
    trends,
    two_factor,
)
from glint.config import Settings
from glint.http import errors as http_errors
from glint.http.deps import rate_limit
from glint.http.middleware import RequestContextMiddleware
from glint.infra import gc_tuning
from glint.infra import logging as glint_logging
from glint.infra import runtime as runtime_mod
from glint.infra.logging import get_logger
from glint.infra.metrics import Metrics
from glint.infra.pubsub import PubSubUnavailable
from glint.media.urls import MediaUrls
from glint.web import rendering as web_rendering
from glint.web import router as web_router

API_PREFIX = "/api/v1"
log = get_logger(__name__)

# Uploads up to the 10 MB limit stay in memory while the form is parsed: spilling each one to a
# temporary file costs a thread hop per 64 KB chunk, which dominated upload latency.
MultiPartParser.spool_max_size = 11 * 1024 * 1024


def create_app(
    settings: Settings | None = None, *, runtime: runtime_mod.Runtime | None = None
) -> FastAPI:
    """The Glint app. With a runtime given, the caller owns its lifetime (tests share one)."""
    wiring.install()
    settings = settings or (runtime.settings if runtime else Settings())
    metrics = runtime.metrics if runtime else Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            await _listen_for_evictions(runtime)
            yield
            return
        glint_logging.configure(level=settings.log_level, fmt=settings.log_format)
        owned = await runtime_mod.start(settings)
        owned.metrics = metrics
        app.state.runtime = owned
        await owned.jobs.start()  # embedded: the worker task; scale-out: nothing to start
        await _listen_for_evictions(owned)
        gc_tuning.tune_for_serving()
        try:
            yield
        finally:
            await owned.close()

    app = FastAPI(
        title="Glint",
        version="0.1.0",
        summary="An open-source photo-sharing platform.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # glint.api.docs serves /docs with Swagger UI's files from this server
        redoc_url=None,
    )
    if runtime is not None:
        app.state.runtime = runtime
    # Presentation, not an adapter: media URLs are signed here, at the edge, never in services.
    app.state.media_urls = MediaUrls(settings.effective_secret_key)
    # Errors keep the JSON envelope under /api/; elsewhere (an unknown page) they are pages.
    http_errors.install(app, error_page=web_rendering.error_page)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(rate_limit("default"))])
    for domain_router in (
        accounts.router,
        account_email.router,
        account_deletion.router,
        posts.router,
        engagement.router,
        social.router,
        feeds.router,
        notifications.router,
        exports.router,
        messaging.router,
        stories.router,
        admin.router,
        admin_reports.router,
        admin_users.router,
        reports.router,
        discovery.router,
        suggestions.router,
        trends.router,
        two_factor.router,
    ):
        api.include_router(domain_router)
    app.include_router(api)
    # The WebSocket sits outside `api`: its per-request rate limit dependency wants an HTTP
    # request; the gateway counts one `default` hit per connection itself.
    app.include_router(stream.router, prefix=API_PREFIX)
    app.include_router(media.router)
    # Operations endpoints answer at the root (for load balancers) and under the API prefix.
    app.include_router(ops.router)
    app.include_router(ops.router, prefix=API_PREFIX, include_in_schema=False)
    app.include_router(docs.router)
    app.include_router(web_router.router)  # the web pages; their /{username} catch-all is last
    return app


async def _listen_for_evictions(runtime: runtime_mod.Runtime) -> None:
    """Join the stream hub's control channel, so sign-outs elsewhere evict cached tokens here."""
    try:
        await runtime.hub.listen_control()
    except PubSubUnavailable:
        # The token cache serves nothing until a later subscription succeeds.
        log.warning("control_channel_unavailable")


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory`: settings from the environment."""
    return create_app(Settings())
