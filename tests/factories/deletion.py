"""Test data for account deletion: an account with one of everything made through the real
API, a bystander it touched, and the scans that look for anything of it left behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint import models_registry
from glint.infra.eventlog import SqlEventLog
from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, send, wait_for_message
from tests.factories.moderation import report
from tests.factories.ownership import finished_export
from tests.factories.posts import published_post
from tests.factories.stories import published_story
from tests.factories.two_factor import Enrolled, enrol

# Kept on purpose (glint/ownership/purge.py says why): staff actions, and the job table, whose
# finished rows (the purge's own events among them) are cleared by jobs.purge_done.
KEPT_TABLES = frozenset({"audit_log", "jobs"})


@dataclass
class World:
    """The account to delete, the people it touched, and what they made."""

    __test__ = False

    leaver: TestUser
    bystander: TestUser
    carol: TestUser
    bystander_post: dict[str, Any]
    leaver_posts: list[dict[str, Any]]
    direct_id: str
    group_id: str
    enrolled: Enrolled | None = None
    extras: dict[str, Any] = field(default_factory=dict)


async def ok(response: httpx.Response, *codes: int) -> dict[str, Any]:
    """The body of a response that must have succeeded."""
    assert response.status_code in (codes or (200, 201, 202, 204)), response.text
    return dict(response.json()) if response.content else {}


async def _engage(client: httpx.AsyncClient, world: World) -> None:
    """The leaver's doings on the bystander's post, and the bystander's on the leaver's."""
    leaver, bystander, post = world.leaver, world.bystander, world.bystander_post
    comment = await ok(
        await client.post(
            f"/posts/{post['id']}/comments", json={"text": "lovely shot"}, headers=leaver.auth
        )
    )
    reply = {"text": "thanks!", "parent_id": comment["id"]}
    await ok(await client.post(f"/posts/{post['id']}/comments", json=reply, headers=bystander.auth))
    mine = await ok(
        await client.post(
            f"/posts/{post['id']}/comments", json={"text": "my own words"}, headers=bystander.auth
        )
    )
    await ok(await client.post(f"/comments/{mine['id']}/like", headers=leaver.auth))
    await ok(await client.post(f"/posts/{post['id']}/like", headers=leaver.auth))
    await ok(await client.post(f"/posts/{post['id']}/like", headers=world.carol.auth))
    await ok(await client.post(f"/posts/{post['id']}/save", headers=leaver.auth))
    theirs = world.leaver_posts[0]["id"]
    await ok(await client.post(f"/posts/{theirs}/like", headers=bystander.auth))
    await ok(
        await client.post(f"/posts/{theirs}/comments", json={"text": "wow"}, headers=bystander.auth)
    )
    await ok(await client.post(f"/posts/{theirs}/save", headers=bystander.auth))


async def _graph(client: httpx.AsyncClient, world: World) -> None:
    leaver, bystander, carol = world.leaver, world.bystander, world.carol
    for follower, followee in ((leaver, bystander), (bystander, leaver), (carol, leaver)):
        await ok(await client.post(f"/users/{followee.username}/follow", headers=follower.auth))
    shy = await register(client, "shyleaverfan")
    await ok(await client.patch("/users/me", json={"is_private": True}, headers=shy.auth))
    await ok(await client.post(f"/users/{shy.username}/follow", headers=leaver.auth))
    troll = await register(client, "trollish")
    await ok(await client.post(f"/users/{troll.username}/block", headers=leaver.auth))
    await ok(await client.post(f"/users/{carol.username}/mute", headers=leaver.auth))
    await ok(await client.put(f"/users/me/close-friends/{bystander.username}", headers=leaver.auth))


async def _stories(client: httpx.AsyncClient, runtime: Runtime, world: World) -> None:
    leaver, bystander = world.leaver, world.bystander
    story = await published_story(client, leaver)
    theirs = await published_story(client, bystander)
    await ok(await client.post(f"/stories/{story['id']}/view", headers=bystander.auth))
    await ok(await client.post(f"/stories/{theirs['id']}/view", headers=leaver.auth))
    body = {"title": "trips", "story_ids": [story["id"]]}
    await ok(await client.post("/highlights", json=body, headers=leaver.auth))
    world.extras["bystander_story"] = theirs


async def _messages(client: httpx.AsyncClient, world: World) -> None:
    leaver, bystander, carol = world.leaver, world.bystander, world.carol
    direct = await conversation(client, leaver, bystander)
    group = await conversation(client, leaver, bystander, carol, title="trio")
    world.direct_id, world.group_id = direct["id"], group["id"]
    for conversation_id in (direct["id"], group["id"]):
        await send(client, leaver, conversation_id, "a secret only the leaver wrote")
        photo = await client.post(
            f"/conversations/{conversation_id}/messages",
            files={"image": ("p.jpg", images.jpeg(320, 240), "image/jpeg")},
            headers=leaver.auth,
        )
        sent = await ok(photo)
        await wait_for_message(client, leaver, conversation_id, sent["id"])
        answer = await send(client, bystander, conversation_id, "the bystander answers")
        await ok(
            await client.post(
                f"/messages/{answer['id']}/reactions", json={"emoji": "❤️"}, headers=leaver.auth
            )
        )


async def build_world(client: httpx.AsyncClient, runtime: Runtime, leaver_name: str) -> World:
    """An account with one of everything, a bystander it touched, and carol, who follows it."""
    leaver = await register(client, leaver_name, display_name="Leaving Soon")
    bystander, carol = await register(client, "bystander"), await register(client, "carolyn")
    avatar = await client.put(
        "/users/me/avatar",
        files={"image": ("me.jpg", images.jpeg(400, 400), "image/jpeg")},
        headers=leaver.auth,
    )
    await ok(avatar)
    posts = [
        await published_post(
            client, leaver, caption=f"#farewelltag from {leaver_name} with @bystander"
        ),
        await published_post(
            client, leaver, files=[images.jpeg(640, 480), images.jpeg(480, 640)], caption="two"
        ),
    ]
    theirs = await published_post(client, bystander, caption="my breakfast")
    world = World(leaver, bystander, carol, theirs, posts, direct_id="", group_id="")
    await _engage(client, world)
    await _graph(client, world)
    await _stories(client, runtime, world)
    await _messages(client, world)
    await report(client, leaver, "post", theirs["id"], reason="spam", text="by the leaver")
    # Its data export (a ZIP in storage) and its second factor with recovery codes.
    export = await finished_export(client, runtime, leaver)
    assert export["status"] == "ready", export
    world.enrolled = await enrol(client, leaver, at=runtime.clock.now().timestamp())
    await wait_for_jobs(runtime)
    return world


def _id_columns(table: sa.Table) -> list[sa.Column[Any]]:
    """Columns that may hold an account's ID: foreign keys to users, and 64-bit *_id/*_by."""
    found = []
    for column in table.columns:
        to_users = any(fk.column.table.name == "users" for fk in column.foreign_keys)
        named = column.name == "id" or column.name.endswith(("_id", "_by"))
        if to_users or (named and isinstance(column.type, sa.BigInteger)):
            found.append(column)
    return found


def _text_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)]


async def leftovers(runtime: Runtime, *, user_id: int, username: str) -> list[str]:
    """Every row in any table that still names the account by ID or by username."""
    found = []
    async with runtime.db.session() as session:
        for table in models_registry.metadata().sorted_tables:
            if table.name in KEPT_TABLES:
                continue
            for column in _id_columns(table):
                count = await session.scalar(
                    sa.select(sa.func.count()).select_from(table).where(column == user_id)
                )
                if count:
                    found.append(f"{table.name}.{column.name} = id x{count}")
            for column in _text_columns(table):
                text = sa.cast(column, sa.Text)
                for needle in (username, str(user_id)):
                    count = await session.scalar(
                        sa.select(sa.func.count())
                        .select_from(table)
                        .where(text.contains(needle, autoescape=True))
                    )
                    if count:
                        found.append(f"{table.name}.{column.name} ∋ {needle!r} x{count}")
            found.extend(await _in_bytes(session, table, user_id=user_id, username=username))
    return found


async def pass_stream_windows(runtime: Runtime) -> None:
    """What the periodic realtime.trim_log does once GLINT_STREAM_WINDOW_SECONDS (10 min) have
    passed. Until then others' stream windows may hold references to what the account did (IDs,
    never content: the gateway shapes each event at delivery, and finds the thing gone)."""
    log = runtime.eventlog
    if isinstance(log, SqlEventLog):
        await SqlEventLog(runtime.db, ids=runtime.ids, window=0, cap=log.cap).trim()


async def _in_bytes(
    session: AsyncSession, table: sa.Table, *, user_id: int, username: str
) -> list[str]:
    """Binary columns (stream event payloads) read back and searched in Python."""
    found = []
    for column in table.columns:
        if not isinstance(column.type, sa.LargeBinary):
            continue
        for value in await session.scalars(sa.select(column)):
            for needle in (username, str(user_id)):
                if value and needle.encode() in bytes(value):
                    found.append(f"{table.name}.{column.name} holds {needle!r}")
    return found


async def made_by(runtime: Runtime, *, user_id: int) -> list[str]:
    """Storage keys (and folders) of everything the account made, read from the database."""
    statements = (
        "SELECT pm.original_key, pm.base_key FROM post_media pm JOIN posts p ON p.id = pm.post_id "
        "WHERE p.author_id = :uid",
        "SELECT original_key, base_key FROM stories WHERE author_id = :uid",
        "SELECT original_key, base_key FROM messages WHERE sender_id = :uid",
        "SELECT avatar_key, avatar_key FROM users WHERE id = :uid",
        "SELECT storage_key, storage_key FROM data_exports WHERE user_id = :uid",
    )
    keys: list[str] = []
    async with runtime.db.session() as session:
        for statement in statements:
            for row in await session.execute(sa.text(statement), {"uid": user_id}):
                keys.extend(key for key in row if key)
    return keys
