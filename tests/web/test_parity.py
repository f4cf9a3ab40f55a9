"""The web and API paths of the same action have the same consequences, in both run modes.

Each test builds two equivalent worlds (users named `web_*` and `api_*`, the same setup made
through the API), runs one action through the web form (cookie and CSRF token) in the first and
through the API (Bearer token) in the second, then compares what each left behind: what the
other people see (notifications, feeds, profiles, sessions), what storage holds, and which
background jobs were written (the `jobs` table), which must all be done. Every comparison is
made on values with the world's names and IDs replaced by their roles, and is paired with the
expected outcome, so two paths broken the same way do not pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra.queue import Job
from glint.infra.runtime import Runtime
from glint.posts import cache as posts_cache
from tests.conftest import wait_for_jobs
from tests.factories import images
from tests.factories.accounts import DEFAULT_PASSWORD, TestUser, register
from tests.factories.posts import published_post
from tests.factories.stories import published_story
from tests.web.conftest import WebFactory, form_token

PATHS = ("web", "api")
NEW_PASSWORD = "a brand new passphrase"


@dataclass
class World:
    """One of the two equivalent worlds: its users, and what its IDs stand for."""

    via: str
    users: dict[str, TestUser] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # an ID (as sent in JSON) -> its role

    async def user(self, client: httpx.AsyncClient, role: str, **fields: Any) -> TestUser:
        """Register the user playing this role in this world."""
        made = await register(client, f"{self.via}_{role}", **fields)
        self.users[role] = made
        self.roles[made.id] = role
        return made

    def neutral(self, value: Any) -> Any:
        """The value with this world's IDs and names replaced by their roles."""
        if isinstance(value, dict):
            return {key: self.neutral(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.neutral(item) for item in value]
        if isinstance(value, str):
            return self.roles.get(value, value.replace(f"{self.via}_", ""))
        return value


@dataclass
class Outcome:
    """What one path of an action left behind."""

    seen: dict[str, Any]  # neutral observations
    jobs: list[tuple[str, str]]  # (job name, status) of every job written by the action


async def _job_ids(rt: Runtime) -> set[int]:
    async with rt.db.session() as session:
        return set(await session.scalars(sa.select(Job.id)))


async def _jobs_since(rt: Runtime, before: set[int]) -> list[tuple[str, str]]:
    async with rt.db.session() as session:
        rows = await session.execute(sa.select(Job.id, Job.name, Job.status))
        return sorted((name, status) for job_id, name, status in rows if job_id not in before)


async def _act(
    rt: Runtime, action: Callable[[], Awaitable[dict[str, Any]]]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Run an action on settled state: what it returned at once, and the jobs it wrote (settled).

    Jobs are settled before and after, so the new rows are the action's and nothing else's.
    """
    await wait_for_jobs(rt)
    before = await _job_ids(rt)
    immediate = await action()
    await wait_for_jobs(rt)
    return immediate, await _jobs_since(rt, before)


async def _inbox(client: httpx.AsyncClient, world: World, role: str) -> list[dict[str, Any]]:
    """A user's notifications, neutral, in the order the API gives them."""
    response = await client.get("/notifications", headers=world.users[role].auth)
    assert response.status_code == 200, response.text
    return [
        world.neutral(
            {
                "kind": item["kind"],
                "actors": [actor["username"] for actor in item["actors"]],
                "actor_count": item["actor_count"],
                "post_id": item["post_id"],
                "comment_id": item["comment_id"],
                "text": item["text"],
                "read": item["read"],
            }
        )
        for item in response.json()["items"]
    ]


async def _feed(client: httpx.AsyncClient, user: TestUser) -> list[dict[str, Any]]:
    response = await client.get("/feed", headers=user.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _sign_in(client: httpx.AsyncClient, user: TestUser) -> tuple[str, str]:
    """Another session of the user: (token, its CSRF token)."""
    response = await client.post(
        "/auth/login", json={"login": user.username, "password": user.password}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"], response.json()["csrf_token"]


async def _status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/auth/me", headers=_bearer(token))).status_code


def _same(web: Outcome, api: Outcome) -> None:
    assert web.seen == api.seen
    assert web.jobs == api.jobs
    assert all(status == "done" for _, status in web.jobs + api.jobs), web.jobs + api.jobs


# --- comment ----------------------------------------------------------------------------------


async def test_a_comment(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """POST /p/{id}/comment and POST /posts/{id}/comments: a reply that mentions someone."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    for world in worlds.values():
        author = await world.user(client, "author")
        opener = await world.user(client, "opener")
        await world.user(client, "friend")
        await world.user(client, "replier")
        post = await published_post(client, author, caption="at the lake")
        world.roles[post["id"]] = "post"
        first = await client.post(
            f"/posts/{post['id']}/comments", json={"text": "first!"}, headers=opener.auth
        )
        assert first.status_code == 201, first.text
        world.roles[first.json()["id"]] = "first comment"
        await wait_for_jobs(rt)
        # The author's feed keeps the post in the post cache: the action must drop it.
        (cached,) = await _feed(client, author)
        assert cached["id"] == post["id"] and cached["comment_count"] == 1
        assert await rt.cache.get(posts_cache._key(int(post["id"]))) is not None

    outcomes: dict[str, Outcome] = {}
    for via, world in worlds.items():
        post_id = next(key for key, role in world.roles.items() if role == "post")
        first_id = next(key for key, role in world.roles.items() if role == "first comment")

        async def comment(
            via: str = via, world: World = world, post_id: str = post_id, first_id: str = first_id
        ) -> dict[str, Any]:
            replier, author = world.users["replier"], world.users["author"]
            text = f"so true @{world.users['friend'].username}"
            if via == "web":
                response = await web(replier).post(
                    f"/p/{post_id}/comment",
                    data={"csrf_token": replier.csrf_token, "text": text, "parent_id": first_id},
                )
                assert response.status_code == 303, response.text
                assert response.headers["location"].startswith(f"/p/{post_id}#c-")
                new_id = response.headers["location"].split("#c-")[1]
            else:
                response = await client.post(
                    f"/posts/{post_id}/comments",
                    json={"text": text, "parent_id": first_id},
                    headers=replier.auth,
                )
                assert response.status_code == 201, response.text
                new_id = response.json()["id"]
            world.roles[new_id] = "reply"
            # Read at once, before any background job: the post and the (cached) feed copy.
            post = (await client.get(f"/posts/{post_id}", headers=replier.auth)).json()
            (in_feed,) = await _feed(client, author)
            return {"post": post["comment_count"], "feed": in_feed["comment_count"]}

        immediate, jobs = await _act(rt, comment)
        replies = await client.get(
            f"/posts/{post_id}/comments",
            params={"parent_id": first_id},
            headers=world.users["replier"].auth,
        )
        assert replies.status_code == 200, replies.text
        seen = {
            "immediate": immediate,
            "replies": world.neutral(
                [
                    {
                        "id": item["id"],
                        "parent_id": item["parent_id"],
                        "author": item["author"]["username"],
                        "text": item["text"],
                    }
                    for item in replies.json()["items"]
                ]
            ),
            "inboxes": {role: await _inbox(client, world, role) for role in world.users},
        }
        outcomes[via] = Outcome(seen, jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    assert web_outcome.jobs == [
        ("comment.created:notifications", "done"),
        ("comment.created:posts.uncache", "done"),
        # The three notifications below announce themselves on the stream.
        ("notification.recorded:realtime.stream", "done"),
        ("notification.recorded:realtime.stream", "done"),
        ("notification.recorded:realtime.stream", "done"),
    ]
    # Read at once, the post and its cached feed copy both count the new comment.
    assert web_outcome.seen["immediate"] == {"post": 2, "feed": 2}
    assert web_outcome.seen["replies"] == [
        {
            "id": "reply",
            "parent_id": "first comment",
            "author": "replier",
            "text": "so true @friend",
        }
    ]
    inboxes = web_outcome.seen["inboxes"]
    assert [(n["kind"], n["actors"], n["comment_id"]) for n in inboxes["author"]] == [
        ("comment", ["replier"], "reply"),
        ("comment", ["opener"], "first comment"),
    ]
    assert [(n["kind"], n["actors"], n["comment_id"]) for n in inboxes["opener"]] == [
        ("comment_reply", ["replier"], "reply")
    ]
    assert [(n["kind"], n["actors"], n["text"]) for n in inboxes["friend"]] == [
        ("mention", ["replier"], "so true @friend")
    ]
    assert inboxes["replier"] == []


# --- profile edit, going public with pending follow requests ----------------------------------


async def test_a_profile_edit_that_goes_public(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """POST /accounts/edit and PATCH /users/me: new fields, and pending requests approved."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    for world in worlds.values():
        owner = await world.user(client, "owner")
        for role in ("early", "late"):
            post = await published_post(client, owner, caption=role, files=[images.jpeg(64, 48)])
            world.roles[post["id"]] = f"{role} post"
        private = await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
        assert private.status_code == 200, private.text
        for role in ("asker1", "asker2"):
            asker = await world.user(client, role)
            asked = await client.post(f"/users/{owner.username}/follow", headers=asker.auth)
            assert asked.json() == {"status": "requested"}
            # The asker's timeline exists (and lacks the owner): the approval must merge it.
            assert await _feed(client, asker) == []
        await world.user(client, "bystander")

    profile = {"display_name": "The Owner", "bio": "open to all", "website": "https://o.example"}
    outcomes: dict[str, Outcome] = {}
    for via, world in worlds.items():

        async def go_public(via: str = via, world: World = world) -> dict[str, Any]:
            owner = world.users["owner"]
            if via == "web":
                response = await web(owner).post(
                    "/accounts/edit", data={"csrf_token": owner.csrf_token, **profile}
                )  # the unticked "private account" box is simply absent from the form
                assert response.status_code == 303, response.text
                assert response.headers["location"] == "/accounts/edit?saved=profile"
            else:
                response = await client.patch(
                    "/users/me", json={**profile, "is_private": False}, headers=owner.auth
                )
                assert response.status_code == 200, response.text
            seen: dict[str, Any] = {}
            for role in ("asker1", "asker2", "bystander"):
                asker = world.users[role]
                feed = [item["id"] for item in await _feed(client, asker)]
                them = await client.get(f"/users/{owner.username}", headers=asker.auth)
                seen[role] = {"feed": feed, "relationship": them.json()["relationship"]}
            return dict(world.neutral(seen))

        immediate, jobs = await _act(rt, go_public)
        owner = world.users["owner"]
        me = (await client.get("/auth/me", headers=owner.auth)).json()
        followers = await client.get(f"/users/{owner.username}/followers", headers=owner.auth)
        pending = await client.get("/follow-requests", headers=owner.auth)
        seen = {
            "immediate": immediate,
            "me": world.neutral(
                {
                    name: me[name]
                    for name in (
                        "display_name",
                        "bio",
                        "website",
                        "is_private",
                        "follower_count",
                        "following_count",
                    )
                }
            ),
            "followers": sorted(world.neutral([u["id"] for u in followers.json()["items"]])),
            "pending": world.neutral([u["id"] for u in pending.json()["items"]]),
            "inboxes": {role: await _inbox(client, world, role) for role in world.users},
        }
        outcomes[via] = Outcome(seen, jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    assert web_outcome.jobs == [
        ("follow.created:feeds.timeline", "done"),
        ("follow.created:feeds.timeline", "done"),
        ("follow.created:notifications", "done"),
        ("follow.created:notifications", "done"),
        ("follow.created:stories.tray", "done"),
        ("follow.created:stories.tray", "done"),
        ("notification.recorded:realtime.stream", "done"),
        ("notification.recorded:realtime.stream", "done"),
        ("profile.changed:discovery.index", "done"),  # search learns it went public
    ]
    seen = web_outcome.seen
    for role in ("asker1", "asker2"):
        # The very next feed load shows the approved account's posts.
        assert seen["immediate"][role]["feed"] == ["late post", "early post"], role
        assert seen["immediate"][role]["relationship"]["following"] is True
        assert seen["immediate"][role]["relationship"]["requested"] is False
        assert [(n["kind"], n["actors"]) for n in seen["inboxes"][role]] == [
            ("follow_accepted", ["owner"])
        ]
    assert seen["immediate"]["bystander"]["feed"] == []
    assert seen["me"] == {
        **profile,
        "is_private": False,
        "follower_count": 2,
        "following_count": 0,
    }
    assert seen["followers"] == ["asker1", "asker2"]
    assert seen["pending"] == []
    # The requests, approved, now read "started following you".
    assert sorted((n["kind"], n["actors"][0]) for n in seen["inboxes"]["owner"]) == [
        ("follow", "asker1"),
        ("follow", "asker2"),
    ]


# --- avatar replacement -----------------------------------------------------------------------


async def _avatar_key(rt: Runtime, user: TestUser) -> str | None:
    async with rt.db.session() as session:
        key: str | None = await session.scalar(
            sa.select(User.avatar_key).where(User.id == int(user.id))
        )
    return key


async def test_an_avatar_replacement(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """POST /accounts/avatar and PUT /users/me/avatar: the old photo's objects leave storage."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    old: dict[str, tuple[str, str]] = {}  # via -> (old storage prefix, old avatar URL)
    for via, world in worlds.items():
        user = await world.user(client, "user")
        first = await client.put(
            "/users/me/avatar",
            files={"image": ("old.png", images.encoded("PNG", 300, 300), "image/png")},
            headers=user.auth,
        )
        assert first.status_code == 200, first.text
        prefix = await _avatar_key(rt, user)
        assert prefix is not None and await rt.storage.list_keys(prefix)
        old[via] = (prefix, first.json()["avatar_url"])

    outcomes: dict[str, Outcome] = {}
    new_photo = images.jpeg(500, 400)
    for via, world in worlds.items():

        async def replace(via: str = via, world: World = world) -> dict[str, Any]:
            user = world.users["user"]
            files = {"image": ("new.jpg", new_photo, "image/jpeg")}
            if via == "web":
                response = await web(user).post(
                    "/accounts/avatar", data={"csrf_token": user.csrf_token}, files=files
                )
                assert response.status_code == 303, response.text
                assert response.headers["location"] == "/accounts/edit?saved=avatar"
            else:
                response = await client.put("/users/me/avatar", files=files, headers=user.auth)
                assert response.status_code == 200, response.text
            me = (await client.get("/auth/me", headers=user.auth)).json()
            public = (await client.get(f"/users/{user.username}")).json()
            return {
                "changed": me["avatar_url"] not in (None, old[via][1]),
                "public_changed": public["avatar_url"] not in (None, old[via][1]),
            }

        immediate, jobs = await _act(rt, replace)
        user = world.users["user"]
        prefix, old_url = old[via]
        new_prefix = await _avatar_key(rt, user)
        assert new_prefix is not None and new_prefix != prefix
        me = (await client.get("/auth/me", headers=user.auth)).json()
        seen = {
            "immediate": immediate,
            "old objects": await rt.storage.list_keys(prefix),
            "new objects": sorted(
                key.removeprefix(new_prefix) for key in await rt.storage.list_keys(new_prefix)
            ),
            "old url": (await client.get(f"http://testserver{old_url}")).status_code,
            "new url": (await client.get(f"http://testserver{me['avatar_url']}")).status_code,
        }
        outcomes[via] = Outcome(seen, jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    assert web_outcome.jobs == [("avatar.replaced:media.delete_objects", "done")]
    seen = web_outcome.seen
    assert seen["immediate"] == {"changed": True, "public_changed": True}
    assert seen["old objects"] == []
    assert seen["new objects"]  # the new photo's renditions, the same set on both paths
    assert (seen["old url"], seen["new url"]) == (404, 200)


# --- password change --------------------------------------------------------------------------


async def test_a_password_change(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """POST /accounts/password and POST /auth/password: every other session ends."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    others: dict[str, list[str]] = {}
    for via, world in worlds.items():
        user = await world.user(client, "user")
        others[via] = [(await _sign_in(client, user))[0] for _ in range(2)]

    outcomes: dict[str, Outcome] = {}
    for via, world in worlds.items():

        async def change(via: str = via, world: World = world) -> dict[str, Any]:
            user = world.users["user"]
            if via == "web":
                response = await web(user).post(
                    "/accounts/password",
                    data={
                        "csrf_token": user.csrf_token,
                        "current_password": user.password,
                        "new_password": NEW_PASSWORD,
                        "confirm_password": NEW_PASSWORD,
                    },
                )
                assert response.status_code == 303, response.text
            else:
                response = await client.post(
                    "/auth/password",
                    json={"current_password": user.password, "new_password": NEW_PASSWORD},
                    headers=user.auth,
                )
                assert response.status_code == 204, response.text
            return {
                "this session": await _status(client, user.token),
                "other sessions": [await _status(client, token) for token in others[via]],
            }

        immediate, jobs = await _act(rt, change)
        user = world.users["user"]
        listed = (await client.get("/auth/sessions", headers=user.auth)).json()["items"]
        logins = {}
        for password in (DEFAULT_PASSWORD, NEW_PASSWORD):
            response = await client.post(
                "/auth/login", json={"login": user.username, "password": password}
            )
            logins[password] = response.status_code
        seen = {
            "immediate": immediate,
            "sessions": [(item["id"] == listed[0]["id"], item["current"]) for item in listed],
            "logins": logins,
        }
        outcomes[via] = Outcome(seen, jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    assert web_outcome.jobs == [
        ("password.changed:accounts.mail", "done"),  # the address is told
        ("sessions.revoked:realtime.stream", "done"),  # sockets close
    ]
    assert web_outcome.seen == {
        "immediate": {"this session": 200, "other sessions": [401, 401]},
        "sessions": [(True, True)],
        "logins": {DEFAULT_PASSWORD: 401, NEW_PASSWORD: 200},
    }


# --- session revoke ---------------------------------------------------------------------------


async def test_a_session_revoke(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """POST /accounts/sessions/{id}/revoke and DELETE /auth/sessions/{id}: that device only."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    tokens: dict[str, dict[str, str]] = {}  # via -> role of the session -> its token
    for via, world in worlds.items():
        user = await world.user(client, "user")
        tokens[via] = {"this": user.token}
        for role in ("doomed", "kept"):
            token, _ = await _sign_in(client, user)
            tokens[via][role] = token
            listed = (await client.get("/auth/sessions", headers=_bearer(token))).json()["items"]
            (mine,) = [item["id"] for item in listed if item["current"]]
            world.roles[mine] = f"{role} session"
        listed = (await client.get("/auth/sessions", headers=user.auth)).json()["items"]
        (mine,) = [item["id"] for item in listed if item["current"]]
        world.roles[mine] = "this session"

    outcomes: dict[str, Outcome] = {}
    for via, world in worlds.items():
        doomed_id = next(key for key, role in world.roles.items() if role == "doomed session")

        async def revoke(
            via: str = via, world: World = world, doomed_id: str = doomed_id
        ) -> dict[str, Any]:
            user = world.users["user"]
            if via == "web":
                response = await web(user).post(
                    f"/accounts/sessions/{doomed_id}/revoke",
                    data={"csrf_token": user.csrf_token},
                )
                assert response.status_code == 303, response.text
                assert response.headers["location"] == "/accounts/sessions?saved=session"
            else:
                response = await client.delete(f"/auth/sessions/{doomed_id}", headers=user.auth)
                assert response.status_code == 204, response.text
            return {role: await _status(client, token) for role, token in tokens[via].items()}

        immediate, jobs = await _act(rt, revoke)
        listed = (await client.get("/auth/sessions", headers=world.users["user"].auth)).json()
        seen = {
            "immediate": immediate,
            "sessions": sorted(world.neutral([item["id"] for item in listed["items"]])),
        }
        outcomes[via] = Outcome(seen, jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    assert web_outcome.jobs == [("sessions.revoked:realtime.stream", "done")]  # sockets close
    assert web_outcome.seen == {
        "immediate": {"this": 200, "doomed": 401, "kept": 200},
        "sessions": ["kept session", "this session"],
    }


# --- sign-up, sign-in, sign-out ---------------------------------------------------------------


async def test_signing_up_in_and_out(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """/signup, /login, /logout and their API twins: the same account, sessions, and ends."""
    rt = clean_runtime
    outcomes: dict[str, Outcome] = {}
    for via in PATHS:
        world = World(via)
        username, email = f"{via}_newcomer", f"{via}_newcomer@example.com"

        async def journey(
            via: str = via, username: str = username, email: str = email
        ) -> dict[str, Any]:
            account = {"username": username, "email": email, "display_name": "New Comer"}
            if via == "web":
                first = web()
                form = await first.get("/signup")
                made = await first.post(
                    "/signup",
                    data={
                        **account,
                        "password": DEFAULT_PASSWORD,
                        "csrf_token": form_token(form.text),
                    },
                )
                assert made.status_code == 303, made.text
                signup_token = first.cookies.get("glint_session")
                second = web()
                form = await second.get("/login")
                signed_in = await second.post(
                    "/login",
                    data={
                        "csrf_token": form_token(form.text),
                        "login": username,
                        "password": DEFAULT_PASSWORD,
                        "next": "/",
                    },
                )
                assert signed_in.status_code == 303, signed_in.text
                login_token = second.cookies.get("glint_session")
                csrf = (await second.get("/api/v1/auth/csrf")).json()["csrf_token"]
                out = await second.post("/logout", data={"csrf_token": csrf})
                assert out.status_code == 303, out.text
                assert out.headers["location"] == "/login"
            else:
                made = await client.post(
                    "/auth/register", json={**account, "password": DEFAULT_PASSWORD}
                )
                assert made.status_code == 201, made.text
                signup_token = made.json()["token"]
                signed_in = await client.post(
                    "/auth/login", json={"login": username, "password": DEFAULT_PASSWORD}
                )
                assert signed_in.status_code == 200, signed_in.text
                login_token = signed_in.json()["token"]
                out = await client.post("/auth/logout", headers=_bearer(login_token))
                assert out.status_code == 204, out.text
            assert signup_token and login_token
            return {"signed up": signup_token, "signed in": login_token}

        tokens, jobs = await _act(rt, journey)
        me = await client.get("/auth/me", headers=_bearer(tokens["signed up"]))
        assert me.status_code == 200, me.text
        world.roles[me.json()["id"]] = "newcomer"
        listed = (await client.get("/auth/sessions", headers=_bearer(tokens["signed up"]))).json()
        seen = {
            "me": world.neutral(
                {
                    name: me.json()[name]
                    for name in ("id", "username", "email", "display_name", "role", "is_private")
                }
            ),
            "signed up": await _status(client, tokens["signed up"]),
            "signed out": await _status(client, tokens["signed in"]),
            "sessions": [item["current"] for item in listed["items"]],
        }
        outcomes[via] = Outcome(seen, jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    assert web_outcome.jobs == [
        ("email.verification_requested:accounts.mail", "done"),  # a link confirms the address
        ("profile.changed:discovery.index", "done"),  # search indexes the new account
        ("sessions.revoked:realtime.stream", "done"),  # sockets close
    ]
    assert web_outcome.seen == {
        "me": {
            "id": "newcomer",
            "username": "newcomer",
            "email": "newcomer@example.com",
            "display_name": "New Comer",
            "role": "user",
            "is_private": False,
        },
        "signed up": 200,
        "signed out": 401,
        "sessions": [True],
    }


# --- story reply ------------------------------------------------------------------------------


async def test_a_story_reply(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """POST /stories/{username}/{id}/reply and POST /stories/{id}/reply: a message in the 1:1
    with the story's author (in her inbox, as she follows the replier), and her notification."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    for world in worlds.values():
        author = await world.user(client, "author")
        replier = await world.user(client, "replier")
        await world.user(client, "bystander")
        for fan, idol in ((replier, author), (author, replier)):
            followed = await client.post(f"/users/{idol.username}/follow", headers=fan.auth)
            assert followed.status_code == 200, followed.text
        story = await published_story(client, author, caption="dusk")
        world.roles[story["id"]] = "story"

    outcomes: dict[str, Outcome] = {}
    for via, world in worlds.items():
        story_id = next(key for key, role in world.roles.items() if role == "story")

        async def reply(
            via: str = via, world: World = world, story_id: str = story_id
        ) -> dict[str, Any]:
            replier, author = world.users["replier"], world.users["author"]
            if via == "web":
                response = await web(replier).post(
                    f"/stories/{author.username}/{story_id}/reply",
                    data={"csrf_token": replier.csrf_token, "text": "what a sky"},
                )
                assert response.status_code == 303, response.text
                assert response.headers["location"].endswith("?sent=true")
            else:
                response = await client.post(
                    f"/stories/{story_id}/reply", json={"text": "what a sky"}, headers=replier.auth
                )
                assert response.status_code == 201, response.text
            return {}

        _, jobs = await _act(rt, reply)
        author = world.users["author"]
        folders = {}
        for folder in ("inbox", "requests"):
            listed = await client.get(
                "/conversations", params={"folder": folder}, headers=author.auth
            )
            assert listed.status_code == 200, listed.text
            folders[folder] = listed.json()["items"]
        (chat,) = folders["inbox"]
        world.roles[chat["id"]] = "chat"
        seen = {
            "requests": folders["requests"],
            "chat": world.neutral(
                {
                    "participants": sorted(p["username"] for p in chat["participants"]),
                    "unread": chat["unread_count"],
                    "last": {
                        key: chat["last_message"][key]
                        for key in ("kind", "text", "story_id", "conversation_id")
                    },
                    "sender": chat["last_message"]["sender"]["username"],
                }
            ),
            "inboxes": {role: await _inbox(client, world, role) for role in world.users},
        }
        outcomes[via] = Outcome(seen, jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    assert web_outcome.seen["requests"] == []
    assert web_outcome.seen["chat"] == {
        "participants": ["author", "replier"],
        "unread": 1,
        "last": {
            "kind": "story_reply",
            "text": "what a sky",
            "story_id": "story",
            "conversation_id": "chat",
        },
        "sender": "replier",
    }
    inboxes = web_outcome.seen["inboxes"]
    assert [(n["kind"], n["actors"], n["text"]) for n in inboxes["author"]] == [
        ("story_reply", ["replier"], "what a sky"),
        ("follow", ["replier"], None),  # from the setup
    ]
    assert inboxes["bystander"] == []
    assert ("story.replied:notifications", "done") in web_outcome.jobs


# --- posting a story --------------------------------------------------------------------------


async def test_posting_a_story(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    """POST /stories/new and POST /stories: a close-friends story with caption and alt text,
    processed, and in the trays of those it is for."""
    rt = clean_runtime
    worlds = {via: World(via) for via in PATHS}
    for world in worlds.values():
        author = await world.user(client, "author")
        for role in ("friend", "follower"):
            fan = await world.user(client, role)
            followed = await client.post(f"/users/{author.username}/follow", headers=fan.auth)
            assert followed.status_code == 200, followed.text
        friend = world.users["friend"]
        added = await client.put(f"/users/me/close-friends/{friend.username}", headers=author.auth)
        assert added.status_code == 204, added.text
    fields = {"caption": "only for you", "alt_text": "a grey square", "audience": "close_friends"}

    outcomes: dict[str, Outcome] = {}
    for via, world in worlds.items():

        async def post(via: str = via, world: World = world) -> dict[str, Any]:
            author = world.users["author"]
            photo = {"media": ("story.jpg", images.jpeg(480, 640), "image/jpeg")}
            if via == "web":
                response = await web(author).post(
                    "/stories/new", data={"csrf_token": author.csrf_token, **fields}, files=photo
                )
                assert response.status_code == 303, response.text
                assert response.headers["location"] == "/"
            else:
                response = await client.post(
                    "/stories", data=fields, files=photo, headers=author.auth
                )
                assert response.status_code == 202, response.text
            return {}

        _, jobs = await _act(rt, post)
        trays = {}
        for role, user in world.users.items():
            listed = await client.get("/stories/feed", headers=user.auth)
            assert listed.status_code == 200, listed.text
            trays[role] = [
                {
                    "user": item["user"]["username"],
                    "stories": [
                        {key: story[key] for key in ("caption", "audience", "status", "view_count")}
                        | {"alt_text": story["media"]["alt_text"]}
                        for story in item["stories"]
                    ],
                }
                for item in listed.json()["items"]
            ]
        outcomes[via] = Outcome(world.neutral({"trays": trays}), jobs)

    web_outcome, api_outcome = outcomes["web"], outcomes["api"]
    _same(web_outcome, api_outcome)
    story = {"caption": "only for you", "audience": "close_friends", "status": "published"}
    assert web_outcome.seen["trays"] == {
        "author": [
            {"user": "author", "stories": [story | {"view_count": 0, "alt_text": "a grey square"}]}
        ],
        "friend": [
            {
                "user": "author",
                "stories": [story | {"view_count": None, "alt_text": "a grey square"}],
            }
        ],
        "follower": [],
    }
    assert any(name.startswith("story.created:") for name, _ in web_outcome.jobs)
