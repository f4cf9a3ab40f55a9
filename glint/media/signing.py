"""Signed, expiring media URLs, stable within a time window so browsers and CDNs can cache them.

The signature itself binds any message (a key, an export and its owner) to an expiry time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
from urllib.parse import quote


class InvalidSignature(Exception):
    """A media URL whose signature is missing, malformed, expired or tampered with."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(key: str, exp: int, secret: bytes) -> str:
    """The HMAC of a message and its expiry time, URL-safe."""
    digest = hmac.new(secret, f"{key}\n{exp}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_media_path(
    key: str,
    *,
    secret: bytes,
    ttl_seconds: int = 6 * 3600,
    window_seconds: int = 3600,
    now: float | None = None,
) -> str:
    """`/media/{key}?exp=..&sig=..`, the same for every call within one window."""
    current = time.time() if now is None else now
    exp = math.ceil(current / window_seconds) * window_seconds + ttl_seconds
    return f"/media/{quote(key)}?exp={exp}&sig={signature(key, exp, secret)}"


def verify_media_signature(
    key: str, exp: str | None, sig: str | None, *, secret: bytes, now: float | None = None
) -> None:
    """Raise InvalidSignature unless (key, exp, sig) is a live signature of ours."""
    if not exp or not sig:
        raise InvalidSignature("missing")
    if not (exp.isascii() and exp.isdigit() and len(exp) <= 12):
        raise InvalidSignature("malformed")
    expires = int(exp)
    expected = signature(key, expires, secret)
    if not hmac.compare_digest(sig.encode("utf-8", "replace"), expected.encode()):
        raise InvalidSignature("tampered")
    if expires <= (time.time() if now is None else now):
        raise InvalidSignature("expired")
