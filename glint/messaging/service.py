"""The rules of conversations: who may talk to whom, requests, groups, the inbox, reading.

Sending, unsending and reacting are in `glint.messaging.messages`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from glint.accounts import service as accounts_service
from glint.accounts.models import User, active_accounts
from glint.errors import Forbidden, NotFound, ValidationFailed
from glint.infra.db import insert_ignore, utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.messaging import events
from glint.messaging.models import (
    Conversation,
    ConversationMember,
    MemberState,
    move_member,
    present_members,
)
from glint.messaging.schemas import MAX_PARTICIPANTS, Folder
from glint.messaging.store import store_for
from glint.social import service as social_service

NO_SUCH_CONVERSATION = "No such conversation."


@dataclass(frozen=True, slots=True)
class Membership:
    """A conversation as one of its present members sees it."""

    conversation: Conversation
    member: ConversationMember


def direct_key(a: int, b: int) -> str:
    """The key naming the one 1:1 conversation of two people."""
    low, high = sorted((a, b))
    return f"{low}:{high}"


async def member_ids(session: AsyncSession, *, conversation_id: int) -> list[int]:
    """Everyone present in a conversation (requests included, those who left not)."""
    return list(
        await session.scalars(
            sa.select(ConversationMember.user_id).where(
                ConversationMember.conversation_id == conversation_id, present_members()
            )
        )
    )


async def member_state(
    session: AsyncSession, *, conversation_id: int, user_id: int
) -> MemberState | None:
    """Where one person stands in a conversation (None when never in it)."""
    state = await session.scalar(
        sa.select(ConversationMember.state).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id == user_id,
        )
    )
    return MemberState(state) if state is not None else None


async def _other_in_direct(session: AsyncSession, *, conversation_id: int, user_id: int) -> int:
    other = await session.scalar(
        sa.select(ConversationMember.user_id).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id != user_id,
        )
    )
    return int(other or 0)


async def membership(session: AsyncSession, *, user: User, conversation_id: int) -> Membership:
    """The conversation if the user is present in it and may see it; NotFound otherwise.

    A 1:1 between two people of whom one blocks the other is gone for both of them.
    """
    row = (
        await session.execute(
            sa.select(Conversation, ConversationMember)
            .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .where(
                Conversation.id == conversation_id,
                ConversationMember.user_id == user.id,
                present_members(),
            )
        )
    ).first()
    if row is None:
        raise NotFound(NO_SUCH_CONVERSATION)
    conversation, member = row
    if not conversation.is_group:
        other = await _other_in_direct(session, conversation_id=conversation.id, user_id=user.id)
        if await social_service.is_blocked_either_way(session, a=user.id, b=other):
            raise NotFound(NO_SUCH_CONVERSATION)
        person = await accounts_service.get_by_id(session, user_id=other) if other else None
        if person is not None and not person.is_active_account:
            raise NotFound(NO_SUCH_CONVERSATION)
    return Membership(conversation, member)


async def _people(session: AsyncSession, *, me: User, usernames: Sequence[str]) -> list[User]:
    """The accounts named, without the asker and duplicates; NotFound for an unknown one."""
    people: dict[int, User] = {}
    for name in usernames:
        user = await accounts_service.get_by_username(session, username=name)
        if user.id != me.id:
            people[user.id] = user
    if not people:
        raise ValidationFailed(
            "Name at least one other person.", fields={"usernames": "someone other than you"}
        )
    blocked = await social_service.blocked_either_way_among(
        session, user_id=me.id, others=list(people)
    )
    if blocked:
        raise Forbidden("You cannot message this account.", code="forbidden")
    return list(people.values())


async def _initial_state(session: AsyncSession, *, member_id: int, inviter_id: int) -> MemberState:
    """Someone brought in by a person they do not follow gets a request (Instagram's rule)."""
    follows = await social_service.is_following(
        session, follower_id=member_id, followee_id=inviter_id
    )
    return MemberState.ACTIVE if follows else MemberState.REQUEST


async def _add_member(
    session: AsyncSession, *, conversation_id: int, user_id: int, state: MemberState, since: int
) -> None:
    await insert_ignore(
        session,
        ConversationMember,
        {
            "conversation_id": conversation_id,
            "user_id": user_id,
            "state": state,
            "muted": False,
            "last_read_message_id": None,
            "unread_count": 0,
            "activity_id": since,
            "joined_after_id": 0,
        },
    )


async def open_conversation(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    creator: User,
    usernames: Sequence[str],
    title: str | None,
) -> tuple[Membership, bool]:
    """A 1:1 (the existing one when there is one) or a new group; True when it was created."""
    others = await _people(session, me=creator, usernames=usernames)
    if len(others) + 1 > MAX_PARTICIPANTS:
        raise ValidationFailed(
            f"A conversation has at most {MAX_PARTICIPANTS} people.",
            fields={"usernames": f"at most {MAX_PARTICIPANTS - 1}"},
        )
    is_group = len(others) > 1 or title is not None
    key = direct_key(creator.id, others[0].id) if not is_group else None
    conversation_id = ids.next_id()
    created = await insert_ignore(
        session,
        Conversation,
        {
            "id": conversation_id,
            "is_group": is_group,
            "title": title if is_group else None,
            "created_by": creator.id,
            "direct_key": key,
            "last_message_id": None,
            "created_at": utcnow(),
        },
    )
    if not created:  # the 1:1 exists (maybe made a moment ago by the other person)
        existing = await session.scalar(
            sa.select(Conversation.id).where(Conversation.direct_key == key)
        )
        if existing is None:
            raise RuntimeError("a 1:1 collided on its key and then vanished")
        await _return_to(session, conversation_id=existing, user_id=creator.id)
        return await membership(session, user=creator, conversation_id=existing), False
    await _add_member(
        session,
        conversation_id=conversation_id,
        user_id=creator.id,
        state=MemberState.ACTIVE,
        since=conversation_id,
    )
    for other in others:
        state = await _initial_state(session, member_id=other.id, inviter_id=creator.id)
        await _add_member(
            session,
            conversation_id=conversation_id,
            user_id=other.id,
            state=state,
            since=conversation_id,
        )
    await session.flush()
    return await membership(session, user=creator, conversation_id=conversation_id), True


async def _return_to(session: AsyncSession, *, conversation_id: int, user_id: int) -> None:
    """A 1:1 asked for again: its asker is in it (a request they had not answered stays one)."""
    state = await session.scalar(
        sa.select(ConversationMember.state).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id == user_id,
        )
    )
    if state == MemberState.LEFT:
        await move_member(
            session, conversation_id=conversation_id, user_id=user_id, to=MemberState.ACTIVE
        )


def _in_folder(folder: Folder) -> sa.ColumnElement[bool]:
    if folder == "inbox":
        return ConversationMember.state == MemberState.ACTIVE
    if folder == "requests":
        return ConversationMember.state == MemberState.REQUEST
    return present_members()


def _shown(user_id: int) -> sa.ColumnElement[bool]:
    """An empty 1:1 shows only to whoever opened it; groups and anything with messages to all."""
    return sa.or_(
        Conversation.is_group.is_(True),
        Conversation.last_message_id.is_not(None),
        Conversation.created_by == user_id,
    )


def _not_lost_to_a_block(user_id: int) -> sa.ColumnElement[bool]:
    """SQL: not a 1:1 whose other person blocks the user, or is blocked by them."""
    other = aliased(ConversationMember)
    return sa.or_(
        Conversation.is_group.is_(True),
        ~sa.exists().where(
            other.conversation_id == Conversation.id,
            other.user_id != user_id,
            social_service.blocks_between(user_id, other.user_id),
        ),
    )


def _not_with_someone_gone(user_id: int) -> sa.ColumnElement[bool]:
    """SQL: not a 1:1 whose other person is banned or deleted (hidden like everything of
    theirs; once a deleted account is purged its row is gone and the 1:1 shows again, with
    only the user's own messages in it)."""
    other = aliased(ConversationMember)
    return sa.or_(
        Conversation.is_group.is_(True),
        ~sa.exists().where(
            other.conversation_id == Conversation.id,
            other.user_id != user_id,
            other.user_id.in_(sa.select(User.id).where(~active_accounts())),
        ),
    )


def _inbox_rows(user_id: int, folder: Folder) -> sa.Select[Conversation, ConversationMember]:
    return (
        sa.select(Conversation, ConversationMember)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(
            ConversationMember.user_id == user_id,
            _in_folder(folder),
            _shown(user_id),
            _not_lost_to_a_block(user_id),
            _not_with_someone_gone(user_id),
        )
    )


async def list_conversations(
    session: AsyncSession, *, user: User, folder: Folder, before_activity: int | None, limit: int
) -> list[Membership]:
    """The user's conversations, most recent activity first (limit+1 rows, for paging)."""
    query = _inbox_rows(user.id, folder)
    if before_activity is not None:
        query = query.where(ConversationMember.activity_id < before_activity)
    rows = await session.execute(
        query.order_by(ConversationMember.activity_id.desc()).limit(limit + 1)
    )
    return [Membership(conversation, member) for conversation, member in rows]


async def counts(session: AsyncSession, *, user: User) -> tuple[int, int]:
    """(inbox conversations with unread messages and not muted, pending requests)."""

    async def count(query: sa.Select[Conversation, ConversationMember]) -> int:
        total = await session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        return int(total or 0)

    unread = await count(
        _inbox_rows(user.id, "inbox").where(
            ConversationMember.unread_count > 0, ConversationMember.muted.is_(False)
        )
    )
    return unread, await count(_inbox_rows(user.id, "requests"))


async def accept(session: AsyncSession, *, user: User, conversation_id: int) -> None:
    """A message request becomes a normal conversation."""
    await membership(session, user=user, conversation_id=conversation_id)
    await move_member(
        session, conversation_id=conversation_id, user_id=user.id, to=MemberState.ACTIVE
    )


def _group_only(found: Membership, action: str) -> None:
    if not found.conversation.is_group:
        raise ValidationFailed(f"Only group conversations can {action}.", code="not_a_group")


async def add_participants(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    user: User,
    conversation_id: int,
    usernames: Sequence[str],
) -> Membership:
    """Members bring more people into a group (up to the limit)."""
    found = await membership(session, user=user, conversation_id=conversation_id)
    _group_only(found, "take new people")
    newcomers = await _people(session, me=user, usernames=usernames)
    present = set(await member_ids(session, conversation_id=conversation_id))
    joining = [person for person in newcomers if person.id not in present]
    if len(present) + len(joining) > MAX_PARTICIPANTS:
        raise ValidationFailed(
            f"A conversation has at most {MAX_PARTICIPANTS} people.",
            fields={"usernames": "too many people"},
        )
    # Someone (re)joining reads from now on, not the history from before.
    since = ids.next_id()
    for person in joining:
        state = await _initial_state(session, member_id=person.id, inviter_id=user.id)
        await _add_member(
            session, conversation_id=conversation_id, user_id=person.id, state=state, since=since
        )
        await move_member(session, conversation_id=conversation_id, user_id=person.id, to=state)
        await session.execute(
            sa.update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == person.id,
            )
            .values(joined_after_id=since, activity_id=since, unread_count=0)
        )
    if joining:
        await bus.emit(session, ids=ids, event=events.MembersChanged(conversation_id, user.id))
    await session.flush()
    return await membership(session, user=user, conversation_id=conversation_id)


async def leave(
    session: AsyncSession, *, ids: IdGenerator, user: User, conversation_id: int
) -> None:
    """Leave a group: it disappears from the inbox and its messages stop coming."""
    found = await membership(session, user=user, conversation_id=conversation_id)
    _group_only(found, "be left")
    if await move_member(
        session, conversation_id=conversation_id, user_id=user.id, to=MemberState.LEFT
    ):
        await bus.emit(session, ids=ids, event=events.MembersChanged(conversation_id, user.id))


async def update(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    user: User,
    conversation_id: int,
    muted: bool | None,
    title: str | None,
) -> Membership:
    """Mute or unmute for oneself; rename a group for everyone."""
    found = await membership(session, user=user, conversation_id=conversation_id)
    if muted is not None:
        found.member.muted = muted
    if title is not None:
        _group_only(found, "have a title")
        found.conversation.title = title or None
        await bus.emit(session, ids=ids, event=events.MembersChanged(conversation_id, user.id))
    await session.flush()
    return found


async def mark_read(
    session: AsyncSession, *, ids: IdGenerator, user: User, conversation_id: int, message_id: int
) -> None:
    """Move the reader's marker forward (never back) and recount what is left unread."""
    found = await membership(session, user=user, conversation_id=conversation_id)
    store = store_for(session)
    message = await store.get(conversation_id, message_id)
    if message is None or message.id <= found.member.joined_after_id:
        raise NotFound("No such message.")
    current = found.member.last_read_message_id or 0
    if message.id <= current:
        return
    found.member.last_read_message_id = message.id
    found.member.unread_count = await store.count_unread(
        conversation_id, reader_id=user.id, after_id=message.id
    )
    await bus.emit(
        session, ids=ids, event=events.ConversationRead(conversation_id, user.id, message.id)
    )
    await session.flush()


async def gone_among(session: AsyncSession, *, user_ids: Collection[int]) -> set[int]:
    """Which of these accounts are banned or deleted: their messages show to nobody else."""
    if not user_ids:
        return set()
    rows = await session.scalars(
        sa.select(User.id).where(User.id.in_(set(user_ids)), ~active_accounts())
    )
    return set(rows)


async def active_people(
    session: AsyncSession, *, conversation_ids: Sequence[int]
) -> dict[int, list[User]]:
    """The present members of each conversation whose accounts are active."""
    people: dict[int, list[User]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return people
    rows = await session.execute(
        sa.select(ConversationMember.conversation_id, User)
        .join(User, User.id == ConversationMember.user_id)
        .where(
            ConversationMember.conversation_id.in_(list(conversation_ids)),
            present_members(),
            active_accounts(),
        )
        .order_by(ConversationMember.user_id)
    )
    for conversation_id, person in rows:
        people[conversation_id].append(person)
    return people


async def read_states(
    session: AsyncSession, *, conversation_ids: Sequence[int]
) -> dict[int, list[tuple[int, int | None]]]:
    """(user ID, last read message ID) of every present member of each conversation."""
    states: dict[int, list[tuple[int, int | None]]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return states
    rows = await session.execute(
        sa.select(
            ConversationMember.conversation_id,
            ConversationMember.user_id,
            ConversationMember.last_read_message_id,
        ).where(ConversationMember.conversation_id.in_(list(conversation_ids)), present_members())
    )
    for conversation_id, user_id, last_read in rows:
        states[conversation_id].append((user_id, last_read))
    return states
