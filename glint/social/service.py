"""The rules of the social graph: who follows whom, requests, blocks, mutes, and who sees what."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from glint.accounts import service as accounts_service
from glint.accounts.models import User, active_accounts
from glint.accounts.schemas import ProfilePatchIn, Relationship
from glint.errors import Forbidden, NotFound, ValidationFailed
from glint.infra.db import insert_ignore, utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.social import events
from glint.social.models import Block, Follow, FollowRequest, Mute

FollowStatus = Literal["following", "requested"]


async def _exists(session: AsyncSession, query: sa.Select[Any]) -> bool:
    return (await session.scalar(sa.select(query.exists()))) is True


async def is_following(session: AsyncSession, *, follower_id: int, followee_id: int) -> bool:
    """Whether an approved follow edge exists."""
    return await _exists(
        session,
        sa.select(Follow.follower_id).where(
            Follow.follower_id == follower_id, Follow.followee_id == followee_id
        ),
    )


async def is_blocked_either_way(session: AsyncSession, *, a: int, b: int) -> bool:
    """Whether either user blocks the other."""
    return await _exists(
        session,
        sa.select(Block.blocker_id).where(
            sa.or_(
                sa.and_(Block.blocker_id == a, Block.blocked_id == b),
                sa.and_(Block.blocker_id == b, Block.blocked_id == a),
            )
        ),
    )


def blocks_between(
    user_id: int, other: sa.ColumnElement[int] | QueryableAttribute[int]
) -> sa.ColumnElement[bool]:
    """SQL: the user blocks `other` (a column), or is blocked by them."""
    return sa.exists().where(
        sa.or_(
            sa.and_(Block.blocker_id == user_id, Block.blocked_id == other),
            sa.and_(Block.blocker_id == other, Block.blocked_id == user_id),
        )
    )


async def blocked_either_way_among(
    session: AsyncSession, *, user_id: int, others: Collection[int]
) -> set[int]:
    """Those among `others` who block the user or whom the user blocks."""
    if not others:
        return set()
    ids = list(others)
    blocked = set(
        await session.scalars(
            sa.select(Block.blocked_id).where(
                Block.blocker_id == user_id, Block.blocked_id.in_(ids)
            )
        )
    )
    return blocked | set(
        await session.scalars(
            sa.select(Block.blocker_id).where(
                Block.blocked_id == user_id, Block.blocker_id.in_(ids)
            )
        )
    )


async def can_view(session: AsyncSession, *, viewer: User | None, author: User) -> bool:
    """Whether the viewer may see the author's posts, stories, lists and media."""
    if not author.is_active_account:
        return False
    if viewer is None:
        return not author.is_private
    if viewer.id == author.id:
        return True
    if await is_blocked_either_way(session, a=viewer.id, b=author.id):
        return False
    if not author.is_private:
        return True
    return await is_following(session, follower_id=viewer.id, followee_id=author.id)


async def viewable_author_ids(
    session: AsyncSession, *, viewer: User | None, author_ids: Sequence[int]
) -> set[int]:
    """The authors among these whose content the viewer may see, in at most three queries."""
    ids = set(author_ids)
    if not ids:
        return set()
    authors = list(
        await session.execute(
            sa.select(User.id, User.is_private).where(User.id.in_(ids), active_accounts())
        )
    )
    if viewer is None:
        return {author_id for author_id, private in authors if not private}
    blocked = await blocked_either_way_among(session, user_id=viewer.id, others=ids)
    followed = set(
        await session.scalars(
            sa.select(Follow.followee_id).where(
                Follow.follower_id == viewer.id, Follow.followee_id.in_(ids)
            )
        )
    )
    return {
        author_id
        for author_id, private in authors
        if author_id == viewer.id
        or (author_id not in blocked and (not private or author_id in followed))
    }


async def ensure_visible_profile(session: AsyncSession, *, viewer: User | None, user: User) -> None:
    """NotFound when the user blocks the viewer: to them, the blocker does not exist.

    (A blocker still sees the profile they blocked, so that they can unblock it.)
    """
    if (
        viewer is not None
        and viewer.id != user.id
        and await _exists(
            session,
            sa.select(Block.blocker_id).where(
                Block.blocker_id == user.id, Block.blocked_id == viewer.id
            ),
        )
    ):
        raise NotFound("No such user.")


async def relationships(
    session: AsyncSession, *, viewer_id: int, other_ids: Sequence[int]
) -> dict[int, Relationship]:
    """The viewer's relationship to each of several users, in four queries."""
    ids = list(set(other_ids))
    if not ids:
        return {}
    following = set(
        await session.scalars(
            sa.select(Follow.followee_id).where(
                Follow.follower_id == viewer_id, Follow.followee_id.in_(ids)
            )
        )
    )
    followed_by = set(
        await session.scalars(
            sa.select(Follow.follower_id).where(
                Follow.followee_id == viewer_id, Follow.follower_id.in_(ids)
            )
        )
    )
    requested = set(
        await session.scalars(
            sa.select(FollowRequest.target_id).where(
                FollowRequest.requester_id == viewer_id, FollowRequest.target_id.in_(ids)
            )
        )
    )
    blocking = set(
        await session.scalars(
            sa.select(Block.blocked_id).where(
                Block.blocker_id == viewer_id, Block.blocked_id.in_(ids)
            )
        )
    )
    muting = set(
        await session.scalars(
            sa.select(Mute.muted_id).where(Mute.muter_id == viewer_id, Mute.muted_id.in_(ids))
        )
    )
    return {
        other: Relationship(
            following=other in following,
            followed_by=other in followed_by,
            requested=other in requested,
            blocking=other in blocking,
            muting=other in muting,
        )
        for other in ids
    }


async def _add_follow(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    follower_id: int,
    followee_id: int,
    approved: bool = False,
) -> bool:
    added = await insert_ignore(
        session,
        Follow,
        {
            "follower_id": follower_id,
            "followee_id": followee_id,
            "id": ids.next_id(),
            "created_at": utcnow(),
        },
    )
    if added:
        await _shift_counts(session, follower_id=follower_id, followee_id=followee_id, delta=1)
        await bus.emit(
            session, ids=ids, event=events.FollowCreated(follower_id, followee_id, approved)
        )
    return added


async def _remove_follow(session: AsyncSession, *, follower_id: int, followee_id: int) -> bool:
    result = await session.execute(
        sa.delete(Follow).where(
            Follow.follower_id == follower_id, Follow.followee_id == followee_id
        )
    )
    removed = bool(getattr(result, "rowcount", 0))
    if removed:
        await _shift_counts(session, follower_id=follower_id, followee_id=followee_id, delta=-1)
    return removed


async def _shift_counts(
    session: AsyncSession, *, follower_id: int, followee_id: int, delta: int
) -> None:
    # Atomic increments in the edge's own transaction: counters never drift under races.
    await session.execute(
        sa.update(User)
        .where(User.id == follower_id)
        .values(following_count=User.following_count + delta)
    )
    await session.execute(
        sa.update(User)
        .where(User.id == followee_id)
        .values(follower_count=User.follower_count + delta)
    )


async def follow(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, target: User
) -> tuple[FollowStatus, bool]:
    """Follow, or ask to follow a private account; (status, whether anything changed)."""
    if viewer.id == target.id:
        raise ValidationFailed("You cannot follow yourself.", fields={"username": "is you"})
    if await is_blocked_either_way(session, a=viewer.id, b=target.id):
        if await _exists(
            session,
            sa.select(Block.blocker_id).where(
                Block.blocker_id == viewer.id, Block.blocked_id == target.id
            ),
        ):
            raise Forbidden("Unblock this account before following it.")
        raise NotFound("No such user.")
    if await is_following(session, follower_id=viewer.id, followee_id=target.id):
        return "following", False
    if target.is_private:
        added = await insert_ignore(
            session,
            FollowRequest,
            {
                "requester_id": viewer.id,
                "target_id": target.id,
                "id": ids.next_id(),
                "created_at": utcnow(),
            },
        )
        if added:
            await bus.emit(session, ids=ids, event=events.FollowRequested(viewer.id, target.id))
        return "requested", added
    return "following", await _add_follow(
        session, ids=ids, follower_id=viewer.id, followee_id=target.id
    )


async def unfollow(session: AsyncSession, *, ids: IdGenerator, viewer: User, target: User) -> bool:
    """Stop following, or withdraw a pending request; True when something was undone."""
    removed = await _remove_follow(session, follower_id=viewer.id, followee_id=target.id)
    withdrawn = await session.execute(
        sa.delete(FollowRequest).where(
            FollowRequest.requester_id == viewer.id, FollowRequest.target_id == target.id
        )
    )
    changed = removed or bool(getattr(withdrawn, "rowcount", 0))
    if changed:
        ended = events.FollowRemoved(viewer.id, target.id, by_follower=True)
        await bus.emit(session, ids=ids, event=ended)
    return changed


async def approve_request(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, requester: User
) -> None:
    """Turn a pending request into a follow; NotFound when there is none."""
    result = await session.execute(
        sa.delete(FollowRequest).where(
            FollowRequest.requester_id == requester.id, FollowRequest.target_id == viewer.id
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("No such follow request.")
    await _add_follow(
        session, ids=ids, follower_id=requester.id, followee_id=viewer.id, approved=True
    )


async def reject_request(session: AsyncSession, *, viewer: User, requester: User) -> None:
    """Drop a pending request; NotFound when there is none."""
    result = await session.execute(
        sa.delete(FollowRequest).where(
            FollowRequest.requester_id == requester.id, FollowRequest.target_id == viewer.id
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("No such follow request.")


async def approve_all_requests(session: AsyncSession, *, ids: IdGenerator, user: User) -> list[int]:
    """Approve every pending request (an account turned public); the requesters' IDs."""
    requesters = list(
        await session.scalars(
            sa.select(FollowRequest.requester_id).where(FollowRequest.target_id == user.id)
        )
    )
    await session.execute(sa.delete(FollowRequest).where(FollowRequest.target_id == user.id))
    for requester_id in requesters:
        await _add_follow(
            session, ids=ids, follower_id=requester_id, followee_id=user.id, approved=True
        )
    return requesters


async def remove_follower(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, follower: User
) -> None:
    """Make someone stop following you."""
    if await _remove_follow(session, follower_id=follower.id, followee_id=viewer.id):
        ended = events.FollowRemoved(follower.id, viewer.id, by_follower=False)
        await bus.emit(session, ids=ids, event=ended)


async def block(session: AsyncSession, *, ids: IdGenerator, viewer: User, target: User) -> bool:
    """Block: follows and requests both ways are removed."""
    if viewer.id == target.id:
        raise ValidationFailed("You cannot block yourself.", fields={"username": "is you"})
    added = await insert_ignore(
        session, Block, {"blocker_id": viewer.id, "blocked_id": target.id, "created_at": utcnow()}
    )
    await _remove_follow(session, follower_id=viewer.id, followee_id=target.id)
    await _remove_follow(session, follower_id=target.id, followee_id=viewer.id)
    await session.execute(
        sa.delete(FollowRequest).where(
            sa.or_(
                sa.and_(
                    FollowRequest.requester_id == viewer.id, FollowRequest.target_id == target.id
                ),
                sa.and_(
                    FollowRequest.requester_id == target.id, FollowRequest.target_id == viewer.id
                ),
            )
        )
    )
    if added:
        await bus.emit(session, ids=ids, event=events.BlockCreated(viewer.id, target.id))
    return added


async def unblock(session: AsyncSession, *, viewer: User, target: User) -> None:
    """Lift a block (follows are not restored)."""
    await session.execute(
        sa.delete(Block).where(Block.blocker_id == viewer.id, Block.blocked_id == target.id)
    )


async def mute(session: AsyncSession, *, ids: IdGenerator, viewer: User, target: User) -> None:
    """Hide an account from the viewer's feeds and story tray."""
    if viewer.id == target.id:
        raise ValidationFailed("You cannot mute yourself.", fields={"username": "is you"})
    if await insert_ignore(
        session, Mute, {"muter_id": viewer.id, "muted_id": target.id, "created_at": utcnow()}
    ):
        await bus.emit(session, ids=ids, event=events.MuteCreated(viewer.id, target.id))


async def unmute(session: AsyncSession, *, ids: IdGenerator, viewer: User, target: User) -> None:
    """Show a muted account again."""
    result = await session.execute(
        sa.delete(Mute).where(Mute.muter_id == viewer.id, Mute.muted_id == target.id)
    )
    if getattr(result, "rowcount", 0):
        await bus.emit(session, ids=ids, event=events.MuteRemoved(viewer.id, target.id))


async def save_profile(
    session: AsyncSession, *, ids: IdGenerator, user: User, changes: ProfilePatchIn
) -> User:
    """Edit a profile; an account going public approves every pending follow request."""
    was_private = user.is_private
    await accounts_service.update_profile(session, ids=ids, user=user, changes=changes)
    if was_private and not user.is_private:
        await approve_all_requests(session, ids=ids, user=user)
    return user
