"""Background work of media: removing stored objects of deleted content."""

from __future__ import annotations

from glint.infra.queue import JobContext, registry
from glint.media.service import DELETE_OBJECTS_JOB


@registry.job(DELETE_OBJECTS_JOB, max_attempts=8)
async def delete_objects(ctx: JobContext) -> None:
    """Remove the given objects and every object under the given folders (idempotent)."""
    await ctx.runtime.storage.delete_many(list(ctx.payload.get("keys", [])))
    for prefix in ctx.payload.get("prefixes", []):
        keys = await ctx.runtime.storage.list_keys(prefix)
        if keys:
            await ctx.runtime.storage.delete_many(keys)
