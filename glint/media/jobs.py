"""Background work of media: removing the stored objects of whatever went away."""

from __future__ import annotations

from typing import Protocol

from glint.infra.queue import JobContext
from glint.media import service as media_service


class ListsObjects(Protocol):
    """An event naming stored objects to remove: single keys, and folders of renditions."""

    @property
    def object_keys(self) -> list[str]:
        """Objects to remove (originals)."""
        ...

    @property
    def object_prefixes(self) -> list[str]:
        """Folders whose every object goes (renditions)."""
        ...


async def delete_objects(ctx: JobContext, event: ListsObjects) -> None:
    """The objects of a deleted post, an unsent photo message or a removed story leave storage
    (idempotent: a second run finds nothing)."""
    await media_service.delete_objects(
        ctx.runtime.storage, keys=event.object_keys, prefixes=event.object_prefixes
    )
