"""Background work of account deletion: the periodic claim of accounts whose grace period is
over, and the purge each claim (or a deletion without grace) starts."""

from __future__ import annotations

from glint.accounts.deletion import DeletionStatus, move_deletion
from glint.accounts.models import User
from glint.infra.logging import get_logger
from glint.infra.queue import JobContext
from glint.infra.runtime import Runtime
from glint.ownership import deletion
from glint.ownership.deletion_events import DeletionDue
from glint.ownership.purge import STEPS, PurgeTools

log = get_logger(__name__)


async def claim_due_accounts(runtime: Runtime) -> None:
    """Periodic: accounts whose grace period is over move to purging, each with its job."""
    async with runtime.db.session() as session:
        claimed = await deletion.claim_due(session, ids=runtime.ids, now=runtime.clock.now())
        if claimed:
            await runtime.commit(session)
            log.info("account purges claimed", count=len(claimed))


async def _purging(runtime: Runtime, user_id: int) -> bool:
    """Whether the account is (now) being purged: a due pending one is claimed here."""
    async with runtime.db.session() as session:
        now = runtime.clock.now()
        await move_deletion(session, user_id=user_id, to=DeletionStatus.PURGING, now=now)
        await session.commit()
        user = await session.get(User, user_id)
        return user is not None and user.deletion_status == DeletionStatus.PURGING


async def purge(ctx: JobContext, event: DeletionDue) -> None:
    """Remove everything the account made, step by step, each batch committed (its events
    delivered); a run after a crash finishes what the last one began."""
    runtime = ctx.runtime
    if not await _purging(runtime, event.user_id):
        return  # cancelled by a sign-in, not due yet, or already gone
    tools = PurgeTools(
        ids=runtime.ids,
        storage=runtime.storage,
        timelines=runtime.timelines,
        trays=runtime.trays,
        eventlog=runtime.eventlog,
    )
    for step in STEPS:
        more = True
        while more:
            async with runtime.db.session() as session:
                more = await step(session, tools, event.user_id)
                await session.flush()
                await runtime.commit(session)
    log.info("account purged", user_id=event.user_id)
