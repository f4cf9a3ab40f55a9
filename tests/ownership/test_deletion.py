"""DELETE /users/me without a grace period: the purge leaves nothing of the account in any
table or in storage, fixes the counters it moved on others, and keeps the others' own
conversations, minus every word and photo of the account. Both run modes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra.runtime import Runtime
from glint.posts import jobs as posts_jobs
from glint.posts.models import Comment, CommentLike, Post, PostLike
from glint.social import jobs as social_jobs
from glint.social.models import Follow
from glint.stories.models import Story, StoryView
from tests.conftest import wait_for_jobs
from tests.factories.accounts import DEFAULT_PASSWORD, register
from tests.factories.deletion import (
    World,
    build_world,
    leftovers,
    made_by,
    pass_stream_windows,
)
from tests.factories.messaging import inbox, messages

LEAVER = "leaverqz"


@pytest.fixture
def no_grace(clean_runtime: Runtime) -> Iterator[Runtime]:
    """Deletions happen at once."""
    settings = clean_runtime.settings
    clean_runtime.settings = settings.model_copy(update={"account_deletion_grace_days": 0})
    yield clean_runtime
    clean_runtime.settings = settings


async def _counters_match_rows(runtime: Runtime, world: World) -> None:
    """Every counter of the bystander and their things equals its rows."""
    uid, post_id = int(world.bystander.id), int(world.bystander_post["id"])
    story_id = int(world.extras["bystander_story"]["id"])

    def count(*where: sa.ColumnElement[bool]) -> sa.Select[tuple[int]]:
        return sa.select(sa.func.count()).where(*where)

    async with runtime.db.session() as session:
        user = (await session.execute(sa.select(User).where(User.id == uid))).scalar_one()
        assert user.follower_count == await session.scalar(count(Follow.followee_id == uid))
        assert user.following_count == await session.scalar(count(Follow.follower_id == uid))
        assert user.post_count == await session.scalar(count(Post.author_id == uid))
        post = (await session.execute(sa.select(Post).where(Post.id == post_id))).scalar_one()
        assert post.like_count == await session.scalar(count(PostLike.post_id == post_id)) == 1
        comments = count(Comment.post_id == post_id, Comment.held.is_(False))
        # Her comment went with the bystander's reply to it; the bystander's own one stays.
        assert post.comment_count == await session.scalar(comments) == 1
        for comment in await session.scalars(sa.select(Comment).where(Comment.post_id == post_id)):
            likes = await session.scalar(count(CommentLike.comment_id == comment.id))
            assert comment.like_count == likes == 0
        story = (await session.execute(sa.select(Story).where(Story.id == story_id))).scalar_one()
        assert story.view_count == await session.scalar(count(StoryView.story_id == story_id)) == 0


async def _conversations_keep_only_the_others(client: httpx.AsyncClient, world: World) -> None:
    bystander = world.bystander
    rooms = {room["id"]: room for room in await inbox(client, bystander)}
    assert world.direct_id in rooms and world.group_id in rooms
    for room_id in (world.direct_id, world.group_id):
        shown = await messages(client, bystander, room_id)
        assert [m["text"] for m in shown] == ["the bystander answers"], shown
        assert all(m["media"] is None and m["reactions"] == [] for m in shown)
        people = [p["username"] for p in rooms[room_id]["participants"]]
        assert LEAVER not in people
        assert "secret" not in str(rooms[room_id])


async def test_deletion_without_grace_leaves_nothing_behind(
    client: httpx.AsyncClient, no_grace: Runtime
) -> None:
    runtime = no_grace
    world = await build_world(client, runtime, LEAVER)
    uid = int(world.leaver.id)
    theirs = await made_by(runtime, user_id=uid)
    keys_before = set(await runtime.storage.list_keys(""))
    assert any(key.startswith(tuple(theirs)) for key in keys_before)

    assert world.enrolled is not None
    code = world.enrolled.code(runtime.clock.now().timestamp())
    body = {"password": DEFAULT_PASSWORD, "code": code}
    response = await client.request("DELETE", "/users/me", json=body, headers=world.leaver.auth)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    await wait_for_jobs(runtime, within=60)

    await pass_stream_windows(runtime)
    found = await leftovers(runtime, user_id=uid, username=LEAVER)
    assert found == [], "\n".join(found)
    keys_after = set(await runtime.storage.list_keys(""))
    left = sorted(k for k in keys_after if k.startswith(tuple(theirs)) or f"/{uid}/" in k)
    assert left == []
    # Nothing of anyone else went with it: the bystander's photos are all still there.
    others = {k for k in keys_before if not k.startswith(tuple(theirs)) and f"/{uid}/" not in k}
    assert others <= keys_after
    if runtime.redis is not None:  # timelines, trays, stream logs, caches: nothing names it
        names = [key async for key in runtime.redis.scan_iter(match=f"*{uid}*", count=1000)]
        assert names == []
    await _counters_match_rows(runtime, world)
    # The hourly reconcile jobs find nothing to fix anywhere.
    assert await posts_jobs.reconcile_post_counts(runtime) == 0
    assert await social_jobs.reconcile_follow_counts(runtime) == 0
    await _conversations_keep_only_the_others(client, world)
    assert (await client.get(f"/users/{LEAVER}", headers=world.bystander.auth)).status_code == 404
    for words in (LEAVER, "farewelltag", "Leaving Soon"):  # the text index forgot it all
        found = await client.get("/search", params={"q": words}, headers=world.bystander.auth)
        assert found.json()["users"] == [] and found.json()["posts"] == [], words
    tag = await client.get("/hashtags/farewelltag", headers=world.bystander.auth)
    assert tag.status_code == 404 or tag.json()["post_count"] == 0, tag.text
    login = await client.post("/auth/login", json={"login": LEAVER, "password": DEFAULT_PASSWORD})
    assert login.status_code == 401
    # The name is free again.
    assert (await register(client, LEAVER)).username == LEAVER


async def test_a_second_purge_run_after_a_crash_finishes_the_job(
    client: httpx.AsyncClient, no_grace: Runtime
) -> None:
    from glint.infra.queue import JobContext
    from glint.ownership import deletion_jobs
    from glint.ownership.deletion_events import DeletionDue

    runtime = no_grace
    leaver = await register(client, LEAVER)
    friend = await register(client, "friendly")
    await client.post(f"/users/{friend.username}/follow", headers=leaver.auth)
    await client.post(f"/users/{LEAVER}/follow", headers=friend.auth)
    await wait_for_jobs(runtime)
    # Mark it purging by hand, as if a purge claimed it and its worker died at once.
    async with runtime.db.session() as session:
        await session.execute(
            sa.update(User)
            .where(User.id == int(leaver.id))
            .values(deleted_at=sa.func.now(), deletion_status="purging", purge_after=sa.func.now())
        )
        await session.commit()
    context = JobContext(0, "account.deletion_due:ownership.purge", 1, {}, runtime)
    for _ in range(2):  # the second run finds nothing left to do, and does no harm
        await deletion_jobs.purge(context, DeletionDue(int(leaver.id)))
    await wait_for_jobs(runtime)
    await pass_stream_windows(runtime)
    assert await leftovers(runtime, user_id=int(leaver.id), username=LEAVER) == []
    me = (await client.get("/auth/me", headers=friend.auth)).json()
    assert (me["follower_count"], me["following_count"]) == (0, 0)
