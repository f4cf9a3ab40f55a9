"""Keys derived from the deployment secret, one per purpose, so no two features share a key."""

from __future__ import annotations

import hashlib
import hmac


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose (csrf, media, ...) derived from the app secret."""
    return hmac.new(secret.encode(), b"glint:" + purpose.encode(), hashlib.sha256).digest()
