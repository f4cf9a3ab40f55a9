"""Background work of data exports: building the ZIP, and removing exports whose time is up."""

from __future__ import annotations

from glint.infra.queue import JobContext
from glint.infra.runtime import Runtime
from glint.notifications import service as notifications_service
from glint.ownership import events, exports
from glint.ownership.export_build import ExportFailed
from glint.ownership.export_run import export_chunks

EXPIRE_BATCH = 100
READY_TEXT = "Your data export is ready. Download it from Settings within {days} days."
FAILED_TEXT = "The export could not be made: {reason}. Please try again."


async def build_export(ctx: JobContext, event: events.ExportRequested) -> None:
    """Write the member's ZIP straight into storage, then tell them it is ready. A failure
    leaves no object behind; the job's retries start over, its death marks the export failed."""
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        export = await exports.running(session, export_id=event.export_id)
        if export is None:
            return  # finished (or failed) by an earlier run
        key = exports.export_key(event.user_id, event.export_id)
        export.storage_key = key
        export.progress = 0.0
        await session.commit()

    async def report(progress: float) -> None:
        async with runtime.db.session() as progress_session:
            await exports.set_progress(
                progress_session, export_id=event.export_id, progress=progress
            )
            await progress_session.commit()

    chunks = export_chunks(
        runtime.db, runtime.storage, user_id=event.user_id, report=report, now=runtime.clock.now()
    )
    try:
        size = await runtime.storage.put_stream(
            key, chunks, content_type=exports.EXPORT_CONTENT_TYPE
        )
    except ExportFailed as exc:
        # Trying again would meet the same gap: the export fails now, with the reason.
        await _fail(runtime, event, str(exc))
        return
    finally:
        await chunks.aclose()
    async with runtime.db.session() as session:
        done = await exports.finish(
            session,
            export_id=event.export_id,
            size=size,
            now=runtime.clock.now(),
            ttl_days=runtime.settings.export_ttl_days,
        )
        if done is None:
            if not await exports.is_ready(session, export_id=event.export_id):
                await runtime.storage.delete_many([key])  # no longer wanted (the account went)
            return
        await notifications_service.record_notice(
            session,
            ids=runtime.ids,
            kind="export_ready",
            recipient_id=event.user_id,
            key=str(event.export_id),
            text=READY_TEXT.format(days=runtime.settings.export_ttl_days),
        )
        await runtime.commit(session)


async def export_not_built(ctx: JobContext, event: events.ExportRequested, error: str) -> None:
    """The build ran out of tries: the export fails, no object is left."""
    await _fail(ctx.runtime, event, "something went wrong on our side")


async def _fail(runtime: Runtime, event: events.ExportRequested, reason: str) -> None:
    await runtime.storage.delete_many([exports.export_key(event.user_id, event.export_id)])
    async with runtime.db.session() as session:
        await exports.fail(
            session,
            export_id=event.export_id,
            reason=FAILED_TEXT.format(reason=reason),
            now=runtime.clock.now(),
        )
        await session.commit()


async def expire_exports(runtime: Runtime) -> None:
    """Ready exports past their time lose their object first, then become expired."""
    while True:
        async with runtime.db.session() as session:
            due = await exports.due_to_expire(session, now=runtime.clock.now(), limit=EXPIRE_BATCH)
            if not due:
                return
            keys = [key for key in (exports.expire(export) for export in due) if key]
            # Objects go before the rows say so: a crash in between leaves a row to retry.
            await runtime.storage.delete_many(keys)
            await session.commit()
