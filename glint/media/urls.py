"""Signed URLs for stored media: every URL the API hands out is signed and expires."""

from __future__ import annotations

from glint.infra.keys import derive_key
from glint.media import service as media_service
from glint.media import signing


class MediaUrls:
    """Signs media keys into `/media/...` URLs with the deployment's media key."""

    def __init__(self, secret: str, *, prefix: str = "") -> None:
        self._key = derive_key(secret, "media")
        self._prefix = prefix

    @property
    def key(self) -> bytes:
        """The HMAC key media signatures are made with."""
        return self._key

    def sign(self, object_key: str) -> str:
        """A signed, expiring URL for one stored object."""
        return self._prefix + signing.sign_media_path(object_key, secret=self._key)

    def avatar(self, base_key: str | None) -> str | None:
        """The URL of an avatar's small rendition, or None when the user has none."""
        if not base_key:
            return None
        return self.sign(media_service.rendition_key(base_key, "small", "webp"))
