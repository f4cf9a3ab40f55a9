"""Cursor pagination: `limit` and an opaque `cursor` in, `{items, next_cursor}` out. No HTTP here
(the request dependency that reads them lives in glint.http.deps).

Cursors are keyset positions (never offsets), so items created while a client pages can
neither repeat nor skip an item.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel

from glint.errors import BadRequest
from glint.schemas import MAX_ID

T = TypeVar("T")
ItemT = TypeVar("ItemT")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 512


class Page(BaseModel, Generic[ItemT]):
    """One page of a list endpoint."""

    items: list[ItemT]
    next_cursor: str | None


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque cursor for a keyset position."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The keyset position inside a cursor; a cursor we did not make is a 400."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest(
            "The cursor is not one this server gave out.", code="invalid_cursor"
        ) from exc
    if not isinstance(position, dict):
        raise BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")
    return position


def cursor_int(position: dict[str, Any], key: str) -> int:
    """An integer field of a decoded cursor, or a 400 (IDs and offsets fit a signed 64-bit int)."""
    value = position.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")
    return value


@dataclass(frozen=True, slots=True)
class PageParams:
    """The paging query parameters of a request."""

    limit: int
    cursor: str | None

    def before_id(self) -> int | None:
        """For newest-first ID keysets: only items with IDs below this."""
        if self.cursor is None:
            return None
        return cursor_int(decode_cursor(self.cursor), "id")


def page_by_id(
    rows: Sequence[T], *, limit: int, key: Callable[[T], int]
) -> tuple[list[T], str | None]:
    """Cut rows fetched with limit+1 into a page and the cursor of the next one."""
    items = list(rows[:limit])
    if len(rows) > limit and items:
        return items, encode_cursor({"id": key(items[-1])})
    return items, None
