"""The periodic reconciliation sets every denormalised counter back to the count of its rows."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra.runtime import Runtime
from glint.posts.jobs import reconcile_post_counts
from glint.posts.models import Comment, Post
from glint.social.jobs import reconcile_follow_counts
from tests.factories.accounts import register
from tests.factories.posts import published_post


async def test_drifted_counters_are_recounted(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post("/users/alice/follow", headers=bob.auth)
    post = await published_post(client, alice)
    await client.post(f"/posts/{post['id']}/like", headers=bob.auth)
    comment = await client.post(
        f"/posts/{post['id']}/comments", json={"text": "hi"}, headers=bob.auth
    )
    await client.post(f"/comments/{comment.json()['id']}/like", headers=alice.auth)
    # Drift every counter, as a crash between a row and its counter once might have.
    async with clean_runtime.db.session() as session:
        await session.execute(
            sa.update(User).values(follower_count=7, following_count=9, post_count=3)
        )
        await session.execute(sa.update(Post).values(like_count=40, comment_count=0))
        await session.execute(sa.update(Comment).values(like_count=5))
        await session.commit()
    assert await reconcile_follow_counts(clean_runtime) == 2
    assert await reconcile_post_counts(clean_runtime) == 4
    assert await reconcile_follow_counts(clean_runtime) == 0  # nothing left to fix
    alice_view = (await client.get("/users/alice")).json()
    bob_view = (await client.get("/users/bob")).json()
    assert (
        alice_view["follower_count"],
        alice_view["following_count"],
        alice_view["post_count"],
    ) == (1, 0, 1)
    assert (bob_view["follower_count"], bob_view["following_count"], bob_view["post_count"]) == (
        0,
        1,
        0,
    )
    fresh = (await client.get(f"/posts/{post['id']}")).json()
    assert (fresh["like_count"], fresh["comment_count"]) == (1, 1)
    comments = (await client.get(f"/posts/{post['id']}/comments")).json()["items"]
    assert comments[0]["like_count"] == 1
