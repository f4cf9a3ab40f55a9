"""Responses the hot paths build themselves, as bytes, instead of through a response model."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response


def ready_json(payload: Any, *, status_code: int = 200) -> Response:
    """A JSON response from data already in its wire form (str IDs, ISO timestamps).

    The route still declares its response model for the OpenAPI document; returning a
    Response skips FastAPI's validation and serialization of it, which on a feed page costs
    more than everything else the request does.
    """
    return Response(
        content=orjson.dumps(payload), status_code=status_code, media_type="application/json"
    )
