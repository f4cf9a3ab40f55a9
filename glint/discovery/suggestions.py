"""Account suggestions: friends of friends first, then popular accounts; dismissing one.

The walk is bounded so its cost does not grow with the graph: each account the viewer follows
contributes only its `PER_FOLLOWEE` most recent follows, and only the `POOL` candidates with
the most mutuals are looked up as users. Popular accounts come from a short list kept in the
cache, because users have no index on follower_count and sorting all of them is a full scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from glint.accounts.models import User, active_accounts
from glint.discovery.models import DismissedSuggestion
from glint.errors import ValidationFailed
from glint.infra import cache as cache_mod
from glint.infra import db as db_mod
from glint.infra.cache import Cache
from glint.social.models import Block, Follow, FollowRequest

PER_FOLLOWEE = 50  # the most recent follows of each followed account that count as mutuals
POOL = 200  # candidates, by mutual count, looked up as users (room for inactive ones)
NAMED = 2  # mutuals a reason names at most
POPULAR_KEY = "suggestions:popular"
POPULAR_SIZE = 300  # room for the ones each viewer follows already
POPULAR_TTL = 300.0
POPULAR_REASON = "popular on Glint"


@dataclass(frozen=True)
class Suggestion:
    """An account suggested to a viewer, with how many accounts they follow follow it."""

    user: User
    mutual_count: int
    reason: str


def _excluded(viewer: sa.ColumnElement[int]) -> sa.CompoundSelect[int]:
    """SQL: the IDs never suggested to the viewer: followed, requested, dismissed, blocked
    either way. One small set, so each candidate is one hash probe on PostgreSQL (where the
    OR of `not_blocked_with` is a subquery run per candidate)."""
    return sa.union_all(
        sa.select(Follow.followee_id).where(Follow.follower_id == viewer),
        sa.select(FollowRequest.target_id).where(FollowRequest.requester_id == viewer),
        sa.select(DismissedSuggestion.dismissed_id).where(DismissedSuggestion.user_id == viewer),
        sa.select(Block.blocked_id).where(Block.blocker_id == viewer),
        sa.select(Block.blocker_id).where(Block.blocked_id == viewer),
    )


def _edges(dialect: str, viewer: sa.ColumnElement[int]) -> sa.CTE:
    """SQL: (via, via's follower count, candidate, edge id) for the newest `PER_FOLLOWEE`
    follows of each active account the viewer follows."""
    followees = (
        sa.select(Follow.followee_id.label("via_id"), User.follower_count.label("via_followers"))
        .join(User, User.id == Follow.followee_id)
        .where(Follow.follower_id == viewer, active_accounts())
        .cte("followees")
    )
    hop = aliased(Follow, name="hop")
    walk: sa.FromClause
    if dialect == "postgresql":
        # One short walk of each followee's (follower, id) index, as newest_ids_by_key does.
        walk = (
            sa.select(hop.followee_id.label("candidate_id"), hop.id.label("edge_id"))
            .where(hop.follower_id == followees.c.via_id)
            .order_by(hop.id.desc())
            .limit(PER_FOLLOWEE)
            .lateral("walk")
        )
        joined = followees.join(walk, sa.true())
    else:
        # SQLite has no LATERAL; numbering each followee's follows bounds the same rows.
        walk = (
            sa.select(
                hop.follower_id.label("via_id"),
                hop.followee_id.label("candidate_id"),
                hop.id.label("edge_id"),
                sa.func.row_number()
                .over(partition_by=hop.follower_id, order_by=hop.id.desc())
                .label("n"),
            )
            .where(hop.follower_id.in_(sa.select(followees.c.via_id)))
            .subquery("walk")
        )
        joined = followees.join(
            walk, sa.and_(walk.c.via_id == followees.c.via_id, walk.c.n <= PER_FOLLOWEE)
        )
    return (
        sa.select(followees.c.via_id, followees.c.via_followers, walk.c.candidate_id)
        .add_columns(walk.c.edge_id)
        .select_from(joined)
        .cte("edges")
    )


def _friends_of_friends(dialect: str) -> sa.Select[int, int, int, int, int]:
    """SQL: (candidate, mutual count, follower count, named mutual, its rank) rows of the
    `:limit` best friends of friends of `:viewer_id`, one per named mutual (at most `NAMED`)."""
    viewer = sa.bindparam("viewer_id", type_=sa.BigInteger)
    edges = _edges(dialect, viewer)
    mutuals = sa.func.count().label("mutual_count")
    counted = (
        sa.select(edges.c.candidate_id, mutuals)
        .where(edges.c.candidate_id != viewer, edges.c.candidate_id.not_in(_excluded(viewer)))
        .group_by(edges.c.candidate_id)
        # Ties at the cut go to whom the viewer's followees followed most recently.
        .order_by(mutuals.desc(), sa.func.max(edges.c.edge_id).desc())
        .limit(POOL)
        .cte("counted")
    )
    ranked = (
        sa.select(counted.c.candidate_id, counted.c.mutual_count, User.follower_count)
        .join(User, User.id == counted.c.candidate_id)
        .where(active_accounts())
        .order_by(counted.c.mutual_count.desc(), User.follower_count.desc(), User.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .cte("ranked")
    )
    # The mutuals named are the most-followed ones (then the oldest account), so a reason
    # names someone the viewer is likely to recognise, the same each time.
    order = sa.func.row_number().over(
        partition_by=edges.c.candidate_id,
        order_by=(edges.c.via_followers.desc(), edges.c.via_id),
    )
    named = (
        sa.select(edges.c.candidate_id, edges.c.via_id, order.label("n"))
        .where(edges.c.candidate_id.in_(sa.select(ranked.c.candidate_id)))
        .subquery("named")
    )
    return sa.select(
        ranked.c.candidate_id,
        ranked.c.mutual_count,
        ranked.c.follower_count,
        named.c.via_id,
        named.c.n,
    ).join(named, sa.and_(named.c.candidate_id == ranked.c.candidate_id, named.c.n <= NAMED))


def reason_for(names: list[str], mutual_count: int) -> str:
    """The reason text of a friend of friends: "followed by alice and 3 others"."""
    if mutual_count > NAMED:
        return f"followed by {names[0]} and {mutual_count - 1} others"
    return "followed by " + " and ".join(names[:mutual_count])


async def _users(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    rows = await session.scalars(sa.select(User).where(db_mod.among(session, User.id, ids)))
    return {user.id: user for user in rows}


async def _friends_suggestions(
    session: AsyncSession, *, viewer_id: int, limit: int
) -> list[Suggestion]:
    """The best friends of friends, most mutuals first, then most followed."""
    connection = await session.connection()
    statement = db_mod.prebuilt(session, _friends_of_friends)
    rows = await connection.execute(statement, {"viewer_id": viewer_id, "limit": limit})
    found: dict[int, tuple[int, int, dict[int, int]]] = {}
    for candidate_id, mutual_count, follower_count, via_id, rank in rows:
        found.setdefault(candidate_id, (mutual_count, follower_count, {}))[2][rank] = via_id
    wanted = set(found) | {via for _, _, vias in found.values() for via in vias.values()}
    users = await _users(session, wanted)
    ranked = sorted(found.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    suggestions = []
    for candidate_id, (mutual_count, _, vias) in ranked:
        names = [users[vias[rank]].username for rank in sorted(vias)]
        reason = reason_for(names, mutual_count)
        suggestions.append(Suggestion(users[candidate_id], mutual_count, reason))
    return suggestions


def _popular_pool_statement() -> sa.Select[int]:
    """SQL: the most-followed active accounts, before any viewer's exclusions."""
    return (
        sa.select(User.id)
        .where(active_accounts())
        .order_by(User.follower_count.desc(), User.id)
        .limit(POPULAR_SIZE)
    )


async def _popular_pool(session: AsyncSession, *, cache: Cache) -> list[int]:
    """The most-followed accounts, from the cache when it has them (they change slowly)."""
    cached = await cache_mod.load_json(cache, POPULAR_KEY)
    if isinstance(cached, list):
        return [int(item) for item in cached]
    ids = list(await session.scalars(_popular_pool_statement()))
    await cache_mod.store_json(cache, POPULAR_KEY, ids, ttl=POPULAR_TTL)  # down: sort again
    return ids


async def _popular_suggestions(
    session: AsyncSession, *, cache: Cache, viewer_id: int, skip: set[int], limit: int
) -> list[Suggestion]:
    """Popular accounts the viewer may be suggested, most followed first."""
    pool = [user_id for user_id in await _popular_pool(session, cache=cache) if user_id not in skip]
    if not pool or limit <= 0:
        return []
    viewer = sa.literal(viewer_id, type_=sa.BigInteger)
    query = (
        sa.select(User)
        .where(
            db_mod.among(session, User.id, pool),
            User.id != viewer_id,
            User.id.not_in(_excluded(viewer)),
            # Checked live too: the cached pool may be minutes old.
            active_accounts(),
        )
        .order_by(User.follower_count.desc(), User.id)
        .limit(limit)
    )
    users = await session.scalars(query)
    return [Suggestion(user, 0, POPULAR_REASON) for user in users]


async def suggest_users(
    session: AsyncSession, *, cache: Cache, viewer_id: int, limit: int
) -> list[Suggestion]:
    """Accounts to suggest to the viewer: friends of friends first, then popular ones."""
    found = await _friends_suggestions(session, viewer_id=viewer_id, limit=limit)
    if len(found) < limit:
        skip = {suggestion.user.id for suggestion in found}
        found += await _popular_suggestions(
            session, cache=cache, viewer_id=viewer_id, skip=skip, limit=limit - len(found)
        )
    return found


async def dismiss(session: AsyncSession, *, viewer: User, target: User) -> bool:
    """Never suggest this account to the viewer again; True when newly dismissed."""
    if viewer.id == target.id:
        raise ValidationFailed("You cannot dismiss yourself.", fields={"username": "is you"})
    values = {"user_id": viewer.id, "dismissed_id": target.id, "created_at": db_mod.utcnow()}
    return await db_mod.insert_ignore(session, DismissedSuggestion, values)
