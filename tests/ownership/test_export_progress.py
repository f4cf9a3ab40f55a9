"""An export's progress, both run modes: reported as the build goes, always rising and below
one until it is done, and what GET shows is what the job last committed."""

from __future__ import annotations

import io

import httpx

from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.ownership import exports
from glint.ownership.export_run import export_chunks
from glint.ownership.models import DataExport
from tests.factories.accounts import register
from tests.factories.ownership import export_state, open_zip
from tests.factories.posts import published_post
from tests.factories.stories import published_story


async def test_progress_rises_as_the_build_goes(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    for caption in ("one", "two"):
        await published_post(client, alice, caption=caption)
    await published_story(client, alice)
    seen: list[float] = []

    async def record(progress: float) -> None:
        seen.append(progress)

    written = io.BytesIO()  # a small account: the test may hold its ZIP
    async for piece in export_chunks(
        clean_runtime.db,
        clean_runtime.storage,
        user_id=int(alice.id),
        report=record,
        now=utcnow(),
        progress_every=1,
    ):
        written.write(piece)
    assert "stories.json" in open_zip(written.getvalue()).namelist()
    # Profile, three photos, the photo sections and every table: one report each.
    assert len(seen) >= 3 + 3
    assert seen == sorted(set(seen)) and seen[0] > 0 and seen[-1] < 1


async def test_get_shows_the_committed_progress(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    export_id = clean_runtime.ids.next_id()
    async with clean_runtime.db.session() as session:  # a build under way in some worker
        session.add(DataExport(id=export_id, user_id=int(alice.id), created_at=utcnow()))
        await session.commit()
    for progress in (0.25, 0.5):
        async with clean_runtime.db.session() as session:
            await exports.set_progress(session, export_id=export_id, progress=progress)
            await session.commit()
        state = await export_state(client, alice)
        assert (state["status"], state["progress"], state["download_url"]) == (
            "running",
            progress,
            None,
        )
