"""Admin routes: the dashboard figures, the audit log (and its CSV), and background jobs
(the dead-letter list, retrying)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from glint.errors import NotFound
from glint.http.deps import AdminUser, PageParamsDep, RuntimeDep, SessionDep
from glint.infra import queue
from glint.moderation import audit, presenter, stats
from glint.moderation.schemas import AuditEntryOut, DayCount, JobCountsOut, JobOut, StatsOut
from glint.paging import Page, page_by_id
from glint.schemas import parse_path_id

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/stats")
async def dashboard(admin: AdminUser, runtime: RuntimeDep, session: SessionDep) -> StatsOut:
    """The figures of the admin dashboard, with published posts per day for 30 days."""
    figures = dataclasses.asdict(await stats.gather(session))
    days = figures.pop("posts_per_day")
    return StatsOut(
        **figures,
        storage_bytes=await runtime.storage.total_bytes(),
        posts_per_day=[DayCount(day=day, posts=n) for day, n in days],
    )


@router.get("/audit")
async def audit_log(
    admin: AdminUser, session: SessionDep, page: PageParamsDep
) -> Page[AuditEntryOut]:
    """Every staff action, newest first."""
    rows = await audit.entries(session, before_id=page.before_id(), limit=page.limit)
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda entry: entry.id)
    return Page[AuditEntryOut](items=[presenter.audit_out(e) for e in items], next_cursor=cursor)


@router.get("/audit.csv", response_class=StreamingResponse)
async def audit_csv(admin: AdminUser, runtime: RuntimeDep) -> StreamingResponse:
    """The whole audit log as CSV, oldest first, streamed."""

    async def lines() -> AsyncIterator[str]:
        # Its own session: the response outlives the request's dependencies.
        async with runtime.db.session() as session:
            async for line in audit.csv_lines(session):
                yield line

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="glint-audit-log.csv"'},
    )


@router.get("/jobs")
async def jobs(
    admin: AdminUser,
    session: SessionDep,
    page: PageParamsDep,
    status: Annotated[Literal["queued", "running", "done", "dead"], Query()] = "dead",
) -> Page[JobOut]:
    """Background jobs in one state, newest first; `dead` is the dead-letter list."""
    rows = await queue.list_jobs(
        session, status=status, before_id=page.before_id(), limit=page.limit
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda job: job.id)
    return Page[JobOut](items=[JobOut.model_validate(job) for job in items], next_cursor=cursor)


@router.get("/jobs/counts")
async def job_counts(admin: AdminUser, session: SessionDep) -> JobCountsOut:
    """How many jobs are in each state."""
    return JobCountsOut(**await queue.counts_by_status(session))


@router.post("/jobs/{job_id}/retry")
async def retry(job_id: str, admin: AdminUser, runtime: RuntimeDep, session: SessionDep) -> JobOut:
    """Send a dead job back to the queue with a fresh set of attempts."""
    parsed = parse_path_id(job_id)
    job = await queue.retry_job(session, job_id=parsed) if parsed is not None else None
    if job is None:
        raise NotFound("No such dead job.")
    await session.commit()
    await runtime.jobs.dispatch([job.id])
    return JobOut.model_validate(job)
