"""The everyday actions of the "…" menus and comments have the same consequences through the
web form (cookie and CSRF token, no JS) and through the API (Bearer token), in both run modes:
block, mute, edit a caption, delete a post, like and delete a comment, report. Built as
tests/web/test_parity.py builds its worlds: the same setup twice, one action per path, and what
each left behind compared with the world's names and IDs replaced by their roles, and paired
with the expected outcome so two paths broken the same way do not pass."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser
from tests.factories.posts import published_post
from tests.web.conftest import WebFactory
from tests.web.test_parity import PATHS, Outcome, World, _act, _feed, _inbox, _same


@dataclass
class Action:
    """One action: the web form's (path, fields) and the API's (method, path, JSON), in terms
    of a world's roles ({post}, {comment}, {target} are filled in)."""

    actor: str
    web_path: str
    web_fields: dict[str, str]
    api: tuple[str, str, dict[str, Any] | None]


_runs = itertools.count(1)
Observe = Callable[[httpx.AsyncClient, World], Awaitable[dict[str, Any]]]


async def _setup(client: httpx.AsyncClient, rt: Runtime, world: World) -> None:
    """An author with a post, a fan who follows her and commented on it, and a viewer."""
    author = await world.user(client, "author")
    fan = await world.user(client, "fan")
    await world.user(client, "viewer")
    post = await published_post(client, author, caption="at the #lake")
    world.roles[post["id"]] = "post"
    assert (await client.post(f"/users/{author.username}/follow", headers=fan.auth)).is_success
    comment = await client.post(
        f"/posts/{post['id']}/comments", json={"text": "lovely"}, headers=fan.auth
    )
    world.roles[comment.json()["id"]] = "comment"
    await wait_for_jobs(rt)


def _fill(value: Any, world: World) -> Any:
    """A path or JSON body with {post}, {comment} and {name} (the author's) filled in."""
    if isinstance(value, dict):
        return {key: _fill(item, world) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    ids = {role: key for key, role in world.roles.items()}
    for role in ("post", "comment"):
        value = value.replace(f"{{{role}}}", ids[role])
    return value.replace("{name}", world.users["author"].username)


async def _run(
    client: httpx.AsyncClient, web: WebFactory, rt: Runtime, action: Action, observe: Observe
) -> Outcome:
    outcomes: dict[str, Outcome] = {}
    run = next(_runs)
    for via in PATHS:
        world = World(f"{via}{run}")  # a test may run several actions: names of their own
        await _setup(client, rt, world)

        async def act(
            via: str = via, world: World = world, actor: TestUser = world.users[action.actor]
        ) -> dict[str, Any]:
            if via == "web":
                path = _fill(action.web_path, world)
                fields = {"csrf_token": actor.csrf_token, **action.web_fields}
                response = await web(actor).post(path, data=fields)
                assert response.status_code in (200, 303), response.text
            else:
                method, api_path, body = action.api
                response = await client.request(
                    method, _fill(api_path, world), json=_fill(body, world), headers=actor.auth
                )
                assert response.is_success, response.text
            return {}

        _, jobs = await _act(rt, act)
        outcomes[via] = Outcome(world.neutral(await observe(client, world)), jobs)
    _same(outcomes["web"], outcomes["api"])
    return outcomes["web"]


async def _graph(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    fan, author = world.users["fan"], world.users["author"]
    about = (await client.get(f"/users/{author.username}", headers=fan.auth)).json()
    return {
        "relationship": about["relationship"],
        "followers": about["follower_count"],
        "feed": [post["id"] for post in await _feed(client, fan)],
    }


async def test_block_and_mute(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    block = Action("fan", "/{name}/block", {"next": "/"}, ("POST", "/users/{name}/block", None))
    blocked = await _run(client, web, clean_runtime, block, _graph)
    assert blocked.seen["relationship"]["blocking"] is True
    assert (blocked.seen["followers"], blocked.seen["feed"]) == (0, [])
    assert ("block.created:feeds.timeline", "done") in blocked.jobs

    mute = Action("fan", "/{name}/mute", {"next": "/"}, ("POST", "/users/{name}/mute", None))
    muted = await _run(client, web, clean_runtime, mute, _graph)
    assert muted.seen["relationship"]["muting"] is True
    assert (muted.seen["followers"], muted.seen["feed"]) == (1, [])


async def _post_and_comments(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    fan = world.users["fan"]
    post_id = next(key for key, role in world.roles.items() if role == "post")
    post = await client.get(f"/posts/{post_id}", headers=fan.auth)
    comments = await client.get(f"/posts/{post_id}/comments", headers=fan.auth)
    shown = post.json() if post.status_code == 200 else {}
    return {
        "status": post.status_code,
        "caption": shown.get("caption"),
        "hashtags": shown.get("hashtags"),
        "comment_count": shown.get("comment_count"),
        "comments": [(c["text"], c["like_count"]) for c in comments.json().get("items", [])],
        "feed": [p["id"] for p in await _feed(client, fan)],
        "fan's inbox": await _inbox(client, world, "fan"),
    }


async def test_edit_a_caption_and_delete_a_post(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    caption = "at the #sea"
    edit = Action(
        "author",
        "/p/{post}/edit",
        {"caption": caption},
        ("PATCH", "/posts/{post}", {"caption": caption}),
    )
    edited = await _run(client, web, clean_runtime, edit, _post_and_comments)
    assert (edited.seen["caption"], edited.seen["hashtags"]) == (caption, ["sea"])
    assert edited.seen["feed"] == ["post"]

    delete = Action("author", "/p/{post}/delete", {}, ("DELETE", "/posts/{post}", None))
    deleted = await _run(client, web, clean_runtime, delete, _post_and_comments)
    assert (deleted.seen["status"], deleted.seen["feed"]) == (404, [])
    assert ("post.deleted:media.delete_objects", "done") in deleted.jobs


async def test_like_and_delete_a_comment(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    like = Action("author", "/c/{comment}/like", {}, ("POST", "/comments/{comment}/like", None))
    liked = await _run(client, web, clean_runtime, like, _post_and_comments)
    assert liked.seen["comments"] == [["lovely", 1]]  # neutral() makes tuples lists
    assert [(n["kind"], n["actors"]) for n in liked.seen["fan's inbox"]] == [
        ("comment_like", ["author"])
    ]

    delete = Action("author", "/c/{comment}/delete", {}, ("DELETE", "/comments/{comment}", None))
    deleted = await _run(client, web, clean_runtime, delete, _post_and_comments)
    assert (deleted.seen["comments"], deleted.seen["comment_count"]) == ([], 0)


async def test_report_a_post(
    client: httpx.AsyncClient, web: WebFactory, clean_runtime: Runtime
) -> None:
    body = {"target_type": "post", "target_id": "{post}", "reason": "spam", "text": "ads"}
    report = Action(
        "viewer", "/p/{post}/report", {"reason": "spam", "text": "ads"}, ("POST", "/reports", body)
    )

    async def repeat(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
        post_id = next(key for key, role in world.roles.items() if role == "post")
        again = await client.post(
            "/reports",
            json={"target_type": "post", "target_id": post_id, "reason": "other"},
            headers=world.users["viewer"].auth,
        )
        shown = again.json()
        return {"http": again.status_code, **{k: shown[k] for k in ("reason", "text", "status")}}

    reported = await _run(client, web, clean_runtime, report, repeat)
    # The repeat found the open report the action filed (the web form's, or the API's).
    assert reported.seen == {"http": 200, "reason": "spam", "text": "ads", "status": "open"}
