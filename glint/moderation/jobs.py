"""How moderation's consequences follow: reporters hear outcomes, authors hear of removals,
held comments reach the queue, and bans that ran out are lifted."""

from __future__ import annotations

import sqlalchemy as sa

from glint.infra.queue import JobContext
from glint.infra.runtime import Runtime
from glint.moderation import events, users
from glint.moderation import service as moderation_service
from glint.moderation.models import Action, Removal, Report
from glint.notifications import service as notifications_service
from glint.posts import events as posts_events

# What a reporter is told: the outcome, never who decided it.
OUTCOMES = {
    Action.DISMISS: "Thanks for your report. We reviewed it and found no breach of our rules.",
    Action.REMOVE_CONTENT: "Thanks for your report. We removed what you reported.",
    Action.BAN_USER: "Thanks for your report. We took action against the account.",
}
KIND_NAMES = {"post": "post", "comment": "comment", "message": "message", "story": "story"}


async def tell_reporters(ctx: JobContext, event: events.ReportsResolved) -> None:
    """Each reporter of the resolved reports hears the outcome (once per report)."""
    async with ctx.runtime.db.session() as session:
        rows = await session.execute(
            sa.select(Report.id, Report.reporter_id).where(Report.id.in_(event.report_ids))
        )
        for report_id, reporter_id in rows.all():
            if reporter_id is None:
                continue  # held by the guards: no one to tell
            await notifications_service.record_notice(
                session,
                ids=ctx.runtime.ids,
                kind="report_resolved",
                recipient_id=reporter_id,
                key=str(report_id),
                text=OUTCOMES[Action(event.action)],
            )
        await ctx.runtime.commit(session)


async def tell_author(ctx: JobContext, event: events.ContentRemoved) -> None:
    """The author hears what was taken down and why (the tombstone has it too)."""
    async with ctx.runtime.db.session() as session:
        removal = await session.get(Removal, event.removal_id)
        if removal is None:
            return
        what = KIND_NAMES.get(removal.target_type, removal.target_type)
        await notifications_service.record_notice(
            session,
            ids=ctx.runtime.ids,
            kind="content_removed",
            recipient_id=removal.author_id,
            key=str(removal.id),
            text=f"Your {what} was removed: {removal.reason}",
        )
        await ctx.runtime.commit(session)


async def queue_held_comment(ctx: JobContext, event: posts_events.CommentHeld) -> None:
    """A comment the guards held waits in the report queue."""
    async with ctx.runtime.db.session() as session:
        await moderation_service.hold_for_review(
            session, ids=ctx.runtime.ids, comment_id=event.comment_id
        )
        await session.commit()


async def lift_expired_bans(runtime: Runtime) -> None:
    """Bans whose end has come are lifted (and logged as the system's doing)."""
    async with runtime.db.session() as session:
        if await users.lift_expired_bans(session, ids=runtime.ids):
            await runtime.commit(session)
