"""Turns every failure into the API's error envelope, {"error": {"code", "message", "fields"?}}
(docs/api.md), or into the web app's HTML error page for paths that are not the API's.

The rule: `/api/…`, the API's signed media URLs (`/media/…`) and the operations endpoints answer
JSON; every other path is a page, so an unknown one (`/explore/search`, `/a/b/c`, a missing
file under `/static/`) gets the HTML "page not found". Page routes render their own errors
(glint.web.rendering.WebRoute); this covers what no page route handles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from glint.errors import GlintError
from glint.infra.logging import get_logger

log = get_logger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "file_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


# Paths whose clients are programs: their errors keep the JSON envelope.
JSON_PREFIXES = ("/api/", "/media/")
JSON_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})

ErrorPage = Callable[[Request, int, str], Response]
Handler = Callable[[Request, Exception], Awaitable[Response]]

_PAGE_MESSAGES = {
    404: "The link you followed may be broken, or the page may have been removed.",
    405: "That page can't be used this way.",
}


def is_json_path(path: str) -> bool:
    """Whether errors on this path are the API's JSON envelope (else an HTML page)."""
    return path.startswith(JSON_PREFIXES) or path in JSON_PATHS


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A response carrying the error envelope."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


async def _glint_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GlintError)
    return error_response(exc.status, exc.code, exc.message, fields=exc.fields, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    fields: dict[str, str] = {}
    for err in errors:
        fields.setdefault(_field_name(tuple(err.get("loc", ()))), str(err.get("msg", "invalid")))
    return error_response(
        422, "validation_error", "Some fields are missing or invalid.", fields=fields
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, message, headers=headers)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated:
        # The server went away (restart, failover): the pool is being replaced, and the
        # request may be retried in a moment. Anything else from the database is a bug.
        log.warning("database_connection_lost", path=request.url.path)
        return error_response(
            503,
            "unavailable",
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": "2"},
        )
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # A 500 is always a bug: log everything, show the client nothing of the internals.
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def _as_page(handler: Handler, error_page: ErrorPage) -> Handler:
    """The handler for API paths; on page paths its error as the HTML error page instead."""

    async def handle(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        if is_json_path(request.url.path) or response.status_code >= 500:
            return response
        if isinstance(exc, StarletteHTTPException):  # no route: Starlette's bare "Not Found"
            message = _PAGE_MESSAGES.get(exc.status_code, str(exc.detail))
        else:
            message = getattr(exc, "message", None) or _PAGE_MESSAGES.get(
                response.status_code, "Something about that request isn't right."
            )
        try:
            page = error_page(request, response.status_code, message)
        except Exception:
            log.exception("error_page_failed", path=request.url.path)
            return response
        for name in ("allow", "retry-after"):
            if name in response.headers:
                page.headers[name] = response.headers[name]
        return page

    return handle


def install(app: FastAPI, *, error_page: ErrorPage | None = None) -> None:
    """Register the envelope handlers on an app; with `error_page`, errors on paths that are
    not the API's (is_json_path) become that HTML page."""
    handlers: list[tuple[type[Exception], Handler]] = [
        (GlintError, _glint_error),
        (RequestValidationError, _validation_error),
        (StarletteHTTPException, _http_error),
        (DBAPIError, _database_error),
    ]
    for exc_class, handler in handlers:
        wrapped = _as_page(handler, error_page) if error_page is not None else handler
        app.add_exception_handler(exc_class, wrapped)
    app.add_exception_handler(Exception, _unexpected_error)
