"""What follows a committed change of the graph, outside its transaction: feeds and notifications.

One place for these, so every way of approving a follow (the API, going public, the web pages)
has the same consequences.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.accounts.schemas import ProfilePatchIn
from glint.feeds import timeline as feeds_timeline
from glint.infra.runtime import Runtime
from glint.notifications import service as notifications_service
from glint.social import service as social_service


async def follows_approved(
    runtime: Runtime, *, target_id: int, requester_ids: Sequence[int]
) -> None:
    """Approved requesters get the target's posts in their feeds and a notification."""
    for requester_id in requester_ids:
        await feeds_timeline.merge_author(runtime, user_id=requester_id, author_id=target_id)
        await notifications_service.announce(
            runtime, kind="follow_accepted", actor_id=target_id, recipient_id=requester_id
        )


async def save_profile(
    session: AsyncSession, *, runtime: Runtime, user: User, changes: ProfilePatchIn
) -> None:
    """Edit and commit a profile; going public approves every pending follow request."""
    was_private = user.is_private
    await accounts_service.update_profile(session, user=user, changes=changes)
    approved: list[int] = []
    if was_private and not user.is_private:
        approved = await social_service.approve_all_requests(session, ids=runtime.ids, user=user)
    await session.commit()
    await follows_approved(runtime, target_id=user.id, requester_ids=approved)
