"""Shared API shapes: IDs as strings of digits, RFC 3339 UTC timestamps, strict input models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from glint.errors import NotFound

# The largest ID: 64-bit signed, what PostgreSQL's BIGINT holds (IDs, cursors, path segments).
MAX_ID = (1 << 63) - 1


def _parse_id(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("must be an ID: a string of digits")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        raise ValueError("must be an ID: a string of digits")
    if not 0 < number <= MAX_ID:
        raise ValueError("is not a valid ID")
    return number


def format_timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a Z suffix and millisecond precision."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# 64-bit IDs overflow JavaScript numbers, so the API speaks them as strings of digits.
Id = Annotated[
    int,
    BeforeValidator(_parse_id),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,19}$", "examples": ["123456789"]}),
]
Timestamp = Annotated[
    dt.datetime,
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Schema(BaseModel):
    """Base of every response shape."""

    model_config = ConfigDict(from_attributes=True)


def clean_text(value: str) -> str:
    """The text itself, or ValueError when a database could not store it (NUL, lone surrogates)."""
    if "\x00" in value:
        raise ValueError("may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("is not valid Unicode text") from exc
    return value


class InputSchema(BaseModel):
    """Base of every request body: unknown fields are refused, strings trimmed and storable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        if isinstance(value, str):
            return clean_text(value)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    clean_text(item)
        return value


def parse_path_id(value: str) -> int | None:
    """A path segment as an ID, or None when it cannot be one (the caller answers 404)."""
    try:
        return _parse_id(value)
    except ValueError:
        return None


def path_id(value: str, what: str) -> int:
    """A path segment as the ID of a `what`; NotFound ("No such post.") when it cannot be one."""
    parsed = parse_path_id(value)
    if parsed is None:
        raise NotFound(f"No such {what}.")
    return parsed
