"""What can be reported, seen the way each domain sees it: whether the reporter may see it, whose
it is, a short excerpt for the queue, and how a moderator takes it down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.errors import NotFound
from glint.infra.db import utcnow
from glint.infra.ids import IdGenerator
from glint.messaging import messages as messaging_messages
from glint.messaging import store as messaging_store
from glint.posts import engagement as posts_engagement
from glint.posts import service as posts_service
from glint.posts.models import Comment, Post
from glint.social import service as social_service
from glint.stories import service as stories_service
from glint.stories.models import Story

EXCERPT = 300


@dataclass(frozen=True, slots=True)
class Target:
    """One reportable thing, as the queue shows it."""

    type: str
    id: int
    owner_id: int
    excerpt: str


def _post(post: Post) -> Target:
    return Target("post", post.id, post.author_id, (post.caption or "(a photo)")[:EXCERPT])


def _comment(comment: Comment) -> Target:
    return Target("comment", comment.id, comment.author_id, comment.text[:EXCERPT])


def _user(user: User) -> Target:
    label = f"@{user.username}" + (f" ({user.display_name})" if user.display_name else "")
    return Target("user", user.id, user.id, f"{label}: {user.bio}"[:EXCERPT])


def _message(message: messaging_store.StoredMessage) -> Target:
    text = message.text or f"({message.kind.replace('_', ' ')})"
    return Target("message", message.id, message.sender_id, text[:EXCERPT])


def _story(story: Story) -> Target:
    return Target("story", story.id, story.author_id, (story.caption or "(a story)")[:EXCERPT])


async def _visible_user(session: AsyncSession, viewer: User, user_id: int) -> Target:
    user = await accounts_service.get_by_id(session, user_id=user_id)
    if (
        user is None
        or not user.is_active_account
        or await social_service.is_blocked_either_way(session, a=viewer.id, b=user.id)
    ):
        raise NotFound("No such user.")
    return _user(user)


async def _visible(session: AsyncSession, viewer: User, target_type: str, target_id: int) -> Target:
    if target_type == "post":
        return _post(await posts_service.get_post(session, viewer=viewer, post_id=target_id))
    if target_type == "comment":
        comment = await posts_engagement.get_comment(session, viewer=viewer, comment_id=target_id)
        return _comment(comment)
    if target_type == "message":
        message = await messaging_messages.visible_message(
            session, viewer=viewer, message_id=target_id
        )
        return _message(message)
    if target_type == "story":
        story, _ = await stories_service.visible_story(
            session, viewer=viewer, story_id=target_id, now=utcnow()
        )
        return _story(story)
    return await _visible_user(session, viewer, target_id)


async def reported(
    session: AsyncSession, *, viewer: User, target_type: str, target_id: int
) -> Target:
    """The thing a member reports, if they may see it; NotFound otherwise (as everywhere)."""
    return await _visible(session, viewer, target_type, target_id)


async def current(session: AsyncSession, *, target_type: str, target_id: int) -> Target | None:
    """The thing as staff see it (whoever may see it), or None once it is gone."""
    if target_type == "post":
        post = await session.get(Post, target_id)
        return _post(post) if post is not None else None
    if target_type == "comment":
        comment = await session.get(Comment, target_id)
        return _comment(comment) if comment is not None else None
    if target_type == "message":
        message = await messaging_store.store_for(session).find(target_id)
        return _message(message) if message is not None else None
    if target_type == "story":
        story = await session.get(Story, target_id)
        return _story(story) if story is not None else None
    user = await accounts_service.get_by_id(session, user_id=target_id)
    return _user(user) if user is not None else None


async def _take_down_post(session: AsyncSession, ids: IdGenerator, target_id: int) -> bool:
    post = await session.get(Post, target_id)
    if post is not None:
        await posts_service.remove_post(session, ids=ids, post=post)
    return post is not None


async def _take_down_comment(session: AsyncSession, ids: IdGenerator, target_id: int) -> bool:
    comment = await session.get(Comment, target_id)
    if comment is not None:
        await posts_engagement.remove_comment(session, ids=ids, comment=comment)
    return comment is not None


async def _take_down_message(session: AsyncSession, ids: IdGenerator, target_id: int) -> bool:
    message = await messaging_store.store_for(session).find(target_id)
    if message is not None:
        await messaging_messages.remove_message(session, ids=ids, message=message)
    return message is not None


async def _take_down_story(session: AsyncSession, ids: IdGenerator, target_id: int) -> bool:
    story = await session.scalar(sa.select(Story).where(Story.id == target_id))
    if story is not None:
        await stories_service.remove(session, ids=ids, story=story)
    return story is not None


TAKE_DOWN: dict[str, Callable[[AsyncSession, IdGenerator, int], Awaitable[bool]]] = {
    "post": _take_down_post,
    "comment": _take_down_comment,
    "message": _take_down_message,
    "story": _take_down_story,
}


async def take_down(session: AsyncSession, *, ids: IdGenerator, target: Target) -> bool:
    """Remove a piece of content for everyone; False when it was already gone."""
    return await TAKE_DOWN[target.type](session, ids, target.id)
