"""A database connection lost under a request (server restart, failover) is a 503 the client may
retry, never a 500; any other database error stays a 500 (a bug)."""

from __future__ import annotations

import orjson
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request

from glint.http import errors


def _request() -> Request:
    return Request({"type": "http", "method": "GET", "path": "/api/v1/feed", "headers": []})


async def test_a_lost_connection_is_a_503_with_retry_after() -> None:
    lost = DBAPIError("SELECT 1", {}, ConnectionResetError("gone"), connection_invalidated=True)
    response = await errors._database_error(_request(), lost)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert orjson.loads(bytes(response.body))["error"]["code"] == "unavailable"


async def test_other_database_errors_stay_500s() -> None:
    broken = DBAPIError("SELECT nonsense", {}, ValueError("syntax"), connection_invalidated=False)
    response = await errors._database_error(_request(), broken)
    assert response.status_code == 500
    assert orjson.loads(bytes(response.body))["error"]["code"] == "internal_error"
