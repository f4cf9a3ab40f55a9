"""A hypothesis state machine against a reference model of who sees what in /feed.

Random sequences of register, follow, unfollow, going private or public, approving requests,
block, mute, post (with or without a hashtag), follow or unfollow a hashtag, delete and like
run against a real app — embedded (SQL timelines) and scale-out (Redis timelines, a real
worker) — with the fan-out threshold at 2 followers, so authors sit on both sides of it. After
every step, every user's whole /feed (all pages, small pages to exercise the cursors) must equal
the model's, posts a followed hashtag brought marked with it.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from glint import migrate as migrate_mod
from glint.app import create_app
from glint.config import Settings
from glint.infra import runtime as runtime_mod
from tests import conftest
from tests.factories import images
from tests.factories.accounts import TestUser, register
from tests.feeds.helpers import feed_ids
from tests.live import LiveWorker, settings_env

T = TypeVar("T")
NAMES = ("ann", "ben", "cat", "dan", "eve")
TAGS = ("sun", "sea")
PHOTO = images.jpeg(64, 48)


class LoopThread:
    """An event loop in a thread of its own: hypothesis drives the machine synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class Deployment:
    """An app of its own with a low fan-out threshold, in one run mode."""

    def __init__(self, mode: str, data_dir: Path, moto_endpoint: str) -> None:
        self.mode, self.data_dir, self.moto_endpoint = mode, data_dir, moto_endpoint
        self.worker: LiveWorker | None = None
        self.database: str | None = None

    async def start(self) -> None:
        """Create the database, start the runtime (and a worker), open a client."""
        overrides: dict[str, Any] = {"fanout_threshold": 2}
        if self.mode == "scaleout":
            problem = await conftest._check_services()
            if problem:
                if conftest.IN_CI:
                    pytest.fail(f"CI=true and a scale-out service is unreachable: {problem}")
                pytest.skip(f"scale-out services unreachable: {problem}")
            run = uuid.uuid4().hex[:8]
            self.database = f"glint_test_model_{run}"
            await conftest._create_database(self.database)
            overrides.update(
                database_url=conftest.PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.database}",
                redis_url=conftest.REDIS_URL,
                redis_prefix=f"glint-test-model-{run}:",
                broker_url=conftest.BROKER_URL,
                job_queue_name=f"glint-test-model-{run}",
                storage_url=conftest.s3_url(self.moto_endpoint, f"model-{run}"),
                db_pool_size=5,
            )
        self.settings: Settings = conftest.base_settings(self.data_dir, **overrides)
        await migrate_mod.upgrade_async(self.settings.effective_database_url)
        if self.settings.broker_url:
            self.worker = LiveWorker(settings_env(self.settings))
        self.runtime = await runtime_mod.start(self.settings)
        await self.runtime.jobs.start()
        transport = httpx.ASGITransport(app=create_app(runtime=self.runtime))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://t/api/v1")

    async def reset(self) -> None:
        """Empty every table, cache and timeline."""
        await conftest._wipe(self.runtime)

    async def stop(self) -> None:
        """Release everything."""
        await self.client.aclose()
        if self.worker is not None:
            self.worker.stop()
            conftest.delete_queue(self.settings.job_queue_name)
        if self.runtime.redis is not None:
            await conftest._delete_prefix(self.runtime, self.settings.redis_prefix)
        await self.runtime.close()
        if self.database:
            await conftest._drop_database(self.database)


class FeedMachine(RuleBasedStateMachine):
    """The app and a model of it, stepped together."""

    deployment: Deployment
    loop: LoopThread

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, TestUser] = {}
        self.private: set[str] = set()
        self.follows: set[tuple[str, str]] = set()
        self.requests: set[tuple[str, str]] = set()
        self.blocks: set[tuple[str, str]] = set()
        self.mutes: set[tuple[str, str]] = set()
        self.posts: dict[str, str] = {}  # post id -> author
        self.post_tags: dict[str, str] = {}  # post id -> its hashtag, for posts with one
        self.used_tags: set[str] = set()  # hashtags some published post ever carried
        self.tag_follows: set[tuple[str, str]] = set()  # (user, hashtag)
        self.likes: set[tuple[str, str]] = set()

    @property
    def http(self) -> httpx.AsyncClient:
        return self.deployment.client

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run(coro)

    def blocked(self, a: str, b: str) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    @initialize()
    def fresh_state(self) -> None:
        self.call(self.deployment.reset())
        for name in NAMES[:2]:
            self.users[name] = self.call(register(self.http, name))

    @precondition(lambda self: len(self.users) < len(NAMES))
    @rule()
    def add_user(self) -> None:
        name = NAMES[len(self.users)]
        self.users[name] = self.call(register(self.http, name))

    def pair(self, data: st.DataObject) -> tuple[str, str]:
        names = sorted(self.users)
        return data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))

    @rule(data=st.data())
    def follow(self, data: st.DataObject) -> None:
        a, b = self.pair(data)
        response = self.call(self.http.post(f"/users/{b}/follow", headers=self.users[a].auth))
        if a == b or self.blocked(a, b):
            assert response.status_code in (403, 404, 422), response.text
            return
        assert response.status_code == 200, response.text
        if (a, b) not in self.follows:
            (self.requests if b in self.private else self.follows).add((a, b))

    @rule(data=st.data())
    def unfollow(self, data: st.DataObject) -> None:
        a, b = self.pair(data)
        response = self.call(self.http.delete(f"/users/{b}/follow", headers=self.users[a].auth))
        if self.blocked(a, b) and (b, a) in self.blocks:
            return  # b blocks a: b does not exist for a
        assert response.status_code in (204, 404), response.text
        self.follows.discard((a, b))
        self.requests.discard((a, b))

    @rule(data=st.data(), private=st.booleans())
    def set_private(self, data: st.DataObject, private: bool) -> None:
        name = data.draw(st.sampled_from(sorted(self.users)))
        response = self.call(
            self.http.patch(
                "/users/me", json={"is_private": private}, headers=self.users[name].auth
            )
        )
        assert response.status_code == 200, response.text
        if private:
            self.private.add(name)
        else:
            self.private.discard(name)
            for requester, target in list(self.requests):
                if target == name:
                    self.requests.discard((requester, target))
                    self.follows.add((requester, target))

    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        if not self.requests:
            return
        requester, target = data.draw(st.sampled_from(sorted(self.requests)))
        response = self.call(
            self.http.post(f"/follow-requests/{requester}/approve", headers=self.users[target].auth)
        )
        assert response.status_code == 204, response.text
        self.requests.discard((requester, target))
        self.follows.add((requester, target))

    @rule(data=st.data())
    def block(self, data: st.DataObject) -> None:
        a, b = self.pair(data)
        if a == b or (b, a) in self.blocks:
            return
        response = self.call(self.http.post(f"/users/{b}/block", headers=self.users[a].auth))
        assert response.status_code == 204, response.text
        self.blocks.add((a, b))
        for edge in ((a, b), (b, a)):
            self.follows.discard(edge)
            self.requests.discard(edge)

    @rule(data=st.data())
    def unblock(self, data: st.DataObject) -> None:
        if not self.blocks:
            return
        a, b = data.draw(st.sampled_from(sorted(self.blocks)))
        response = self.call(self.http.delete(f"/users/{b}/block", headers=self.users[a].auth))
        assert response.status_code == 204, response.text
        self.blocks.discard((a, b))

    @rule(data=st.data(), on=st.booleans())
    def mute(self, data: st.DataObject, on: bool) -> None:
        a, b = self.pair(data)
        if a == b or (b, a) in self.blocks:
            return
        method = self.http.post if on else self.http.delete
        response = self.call(method(f"/users/{b}/mute", headers=self.users[a].auth))
        assert response.status_code == 204, response.text
        (self.mutes.add if on else self.mutes.discard)((a, b))

    @rule(data=st.data(), tag=st.sampled_from((None, *TAGS)))
    def post(self, data: st.DataObject, tag: str | None) -> None:
        name = data.draw(st.sampled_from(sorted(self.users)))
        response = self.call(
            self.http.post(
                "/posts",
                files=[("image", ("p.jpg", PHOTO, "image/jpeg"))],
                data={"caption": f"hello #{tag.upper()}" if tag else "hello"},
                headers=self.users[name].auth,
            )
        )
        assert response.status_code == 202, response.text
        self.call(conftest.wait_for_jobs(self.deployment.runtime))
        post_id = response.json()["id"]
        self.posts[post_id] = name
        if tag:
            self.post_tags[post_id] = tag
            self.used_tags.add(tag)

    @rule(data=st.data(), tag=st.sampled_from(TAGS), on=st.booleans())
    def follow_hashtag(self, data: st.DataObject, tag: str, on: bool) -> None:
        name = data.draw(st.sampled_from(sorted(self.users)))
        method = self.http.post if on else self.http.delete
        response = self.call(method(f"/hashtags/{tag}/follow", headers=self.users[name].auth))
        if tag not in self.used_tags:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 204, response.text
        (self.tag_follows.add if on else self.tag_follows.discard)((name, tag))

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        if not self.posts:
            return
        post_id = data.draw(st.sampled_from(sorted(self.posts)))
        author = self.posts.pop(post_id)
        response = self.call(self.http.delete(f"/posts/{post_id}", headers=self.users[author].auth))
        assert response.status_code == 204, response.text
        self.likes = {like for like in self.likes if like[1] != post_id}

    @rule(data=st.data())
    def like(self, data: st.DataObject) -> None:
        if not self.posts:
            return
        name = data.draw(st.sampled_from(sorted(self.users)))
        post_id = data.draw(st.sampled_from(sorted(self.posts)))
        author = self.posts[post_id]
        response = self.call(
            self.http.post(f"/posts/{post_id}/like", headers=self.users[name].auth)
        )
        visible = name == author or (
            not self.blocked(name, author)
            and (author not in self.private or (name, author) in self.follows)
        )
        assert response.status_code == (200 if visible else 404), response.text
        if visible:
            self.likes.add((name, post_id))

    def in_home(self, name: str, author: str) -> bool:
        return author == name or (
            (name, author) in self.follows and (name, author) not in self.mutes
        )

    def brought_by(self, name: str, post_id: str) -> str | None:
        """The followed hashtag that brings a post of an account outside the user's home."""
        author, tag = self.posts[post_id], self.post_tags.get(post_id)
        if tag is None or (name, tag) not in self.tag_follows or self.in_home(name, author):
            return None
        may_see = not self.blocked(name, author) and (
            author not in self.private or (name, author) in self.follows
        )
        return tag if may_see and (name, author) not in self.mutes else None

    def expected_feed(self, name: str) -> list[str]:
        shown = [
            post_id
            for post_id, author in self.posts.items()
            if self.in_home(name, author) or self.brought_by(name, post_id)
        ]
        return sorted(shown, key=int, reverse=True)

    @invariant()
    def every_feed_matches_the_model(self) -> None:
        for name, user in self.users.items():
            assert self.call(feed_ids(self.http, user, limit=2)) == self.expected_feed(name), name
            items = self.call(self.http.get("/feed", headers=user.auth)).json()["items"]
            for item in items:
                likes = sum(1 for _, post_id in self.likes if post_id == item["id"])
                assert item["like_count"] == likes
                assert item["viewer"]["liked"] == ((name, item["id"]) in self.likes)
                assert item.get("via_hashtag") == self.brought_by(name, item["id"])


@pytest.mark.parametrize("mode", ["embedded", "scaleout"])
def test_feeds_match_the_model(mode: str, tmp_path: Path, moto_endpoint: str) -> None:
    loop = LoopThread()
    deployment = Deployment(mode, tmp_path, moto_endpoint)
    try:
        loop.run(deployment.start())
        FeedMachine.deployment, FeedMachine.loop = deployment, loop
        runner = FeedMachine.TestCase
        runner.settings = settings(
            max_examples=12,
            stateful_step_count=14,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        runner().runTest()
    finally:
        try:
            loop.run(deployment.stop())
        finally:
            loop.stop()
