"""Turns every failure into API.md's error envelope: {"error": {"code", "message", "fields"?}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
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


def install(app: FastAPI) -> None:
    """Register the envelope handlers on an app."""
    app.add_exception_handler(GlintError, _glint_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
