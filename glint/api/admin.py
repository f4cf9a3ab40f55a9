"""Admin routes: the dead-letter list of background jobs, and retrying them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from glint.errors import NotFound
from glint.http.deps import AdminUser, PageParamsDep, RuntimeDep, SessionDep
from glint.infra import queue
from glint.moderation.schemas import JobCountsOut, JobOut
from glint.paging import Page, page_by_id
from glint.schemas import parse_path_id

router = APIRouter(prefix="/admin", tags=["admin"])


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
