"""HTTP routes of discovery: trends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from glint.discovery import trends
from glint.discovery.schemas import TrendsOut
from glint.http.deps import RuntimeDep, SessionDep

router = APIRouter(tags=["discovery"])

DEFAULT_TRENDS = 10


@router.get("/trends/hashtags")
async def trending_hashtags(
    runtime: RuntimeDep,
    session: SessionDep,
    limit: Annotated[
        int, Query(ge=1, le=trends.MAX_TRENDS, description="How many hashtags.")
    ] = DEFAULT_TRENDS,
) -> TrendsOut:
    """Hashtags used by more people than usual in the last 24 hours (anyone may ask)."""
    return await trends.current_trends(
        session, cache=runtime.cache, now=runtime.clock.now(), limit=limit
    )
