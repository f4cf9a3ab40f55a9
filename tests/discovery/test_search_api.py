"""GET /search from each kind of viewer, in both run modes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from glint.discovery import service as discovery_service
from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import DEFAULT_PASSWORD, TestUser, make_inactive, register
from tests.factories.discovery import indexed_post


async def _search(
    client: httpx.AsyncClient, q: str, viewer: TestUser | None = None, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        "/search", params={"q": q, **params}, headers=viewer.auth if viewer else {}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _names(body: dict[str, Any]) -> list[str]:
    return [user["username"] for user in body["users"]]


async def test_people_by_username_and_name_prefix_without_case_or_accents(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "emile.zola", display_name="Émile Zola")
    await register(client, "zoe", display_name="Zoë Émond")
    seeker = await register(client, "seeker")
    assert _names(await _search(client, "émile", seeker)) == ["emile.zola"]
    assert _names(await _search(client, "EMI", seeker)) == ["emile.zola"]
    assert _names(await _search(client, "zol", seeker)) == ["emile.zola"]
    assert sorted(_names(await _search(client, "zo", seeker))) == ["emile.zola", "zoe"]
    assert _names(await _search(client, "emond", None)) == ["zoe"]
    assert _names(await _search(client, "@emile.z", seeker)) == ["emile.zola"]
    assert _names(await _search(client, "zoe emo", seeker)) == ["zoe"]


async def test_posts_by_caption_words_with_stemming(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    running = await indexed_post(
        client, clean_runtime, author, caption="Running by the lake #sunset"
    )
    await indexed_post(client, clean_runtime, author, caption="Breakfast")
    found = await _search(client, "runs lake", author, type="posts")
    assert [post["id"] for post in found["posts"]] == [running["id"]]
    assert (await _search(client, "sunset"))["hashtags"] == [{"name": "sunset", "post_count": 1}]


async def test_bad_queries(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    assert (await _search(client, ""))["users"] == []
    assert (await _search(client, "a"))["users"] == []
    assert_error(await client.get("/search", params={"q": "x" * 101}), 422, "validation_error")


async def test_private_accounts_posts_are_found_only_by_their_followers(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    secret = await register(client, "secret", display_name="Sebastian")
    friend, stranger = await register(client, "friend"), await register(client, "stranger")
    await client.patch("/users/me", json={"is_private": True}, headers=secret.auth)
    await client.post("/users/secret/follow", headers=friend.auth)
    await client.post("/follow-requests/friend/approve", headers=secret.auth)
    post = await indexed_post(client, clean_runtime, secret, caption="hidden lighthouse")
    for viewer in (stranger, None):
        assert (await _search(client, "lighthouse", viewer, type="posts"))["posts"] == []
    assert [p["id"] for p in (await _search(client, "lighthouse", friend))["posts"]] == [post["id"]]
    assert [p["id"] for p in (await _search(client, "lighthouse", secret))["posts"]] == [post["id"]]
    # The account itself stays findable, as on every photo-sharing service.
    assert _names(await _search(client, "seb", stranger)) == ["secret"]


async def test_a_blocked_pair_never_finds_each_other(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    blocker, blocked = await register(client, "blocker"), await register(client, "blocked")
    await indexed_post(client, clean_runtime, blocker, caption="penguins everywhere")
    await indexed_post(client, clean_runtime, blocked, caption="penguins again")
    await client.post("/users/blocked/block", headers=blocker.auth)
    assert _names(await _search(client, "blocke", blocker)) == ["blocker"]
    assert _names(await _search(client, "blocke", blocked)) == ["blocked"]
    for viewer, other in ((blocker, "blocked"), (blocked, "blocker")):
        found = await _search(client, "penguins", viewer, type="posts")
        assert [p["author"]["username"] for p in found["posts"]] == [viewer.username]
        assert other not in _names(await _search(client, other, viewer))


async def test_banned_and_deleted_accounts_and_deleted_posts_vanish_at_once(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    viewer = await register(client, "viewer")
    for name in ("troll", "leaver", "keeper"):
        user = await register(client, name, display_name="Walrus fan")
        await indexed_post(client, clean_runtime, user, caption=f"walrus by {name}")
    kept = await _search(client, "walrus", viewer)
    assert sorted(_names(kept)) == ["keeper", "leaver", "troll"]
    await make_inactive(clean_runtime, "troll", "banned_at")
    await make_inactive(clean_runtime, "leaver", "deleted_at")
    after = await _search(client, "walrus", viewer)
    assert _names(after) == ["keeper"]
    assert [p["author"]["username"] for p in after["posts"]] == ["keeper"]
    post_id = after["posts"][0]["id"]
    keeper_token = {"Authorization": (await _login(client, "keeper"))}
    assert (await client.delete(f"/posts/{post_id}", headers=keeper_token)).status_code == 204
    assert (await _search(client, "walrus", viewer))["posts"] == []


async def _login(client: httpx.AsyncClient, name: str) -> str:
    response = await client.post("/auth/login", json={"login": name, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return f"Bearer {response.json()['token']}"


async def test_people_rank_exact_then_followed_then_popular_and_page(
    client: httpx.AsyncClient,
) -> None:
    viewer = await register(client, "viewer")
    fans = [await register(client, f"fan{i}") for i in range(3)]
    for name in ("mara", "marabou", "maradona", "marathon", "marmot"):
        await register(client, name)
    for fan in fans:  # marathon is the most followed
        await client.post("/users/marathon/follow", headers=fan.auth)
    await client.post("/users/maradona/follow", headers=fans[0].auth)
    await client.post("/users/marmot/follow", headers=viewer.auth)
    ranked = _names(await _search(client, "mar", viewer))
    assert ranked == ["marmot", "marathon", "maradona", "marabou", "mara"]  # ties: newest first
    assert _names(await _search(client, "mara", viewer))[0] == "mara"  # the exact name first
    paged: list[str] = []
    cursor = None
    while True:
        params = {"type": "users", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = await _search(client, "mar", viewer, **params)
        paged.extend(_names(body))
        cursor = body["next_cursor"]
        assert body["next_cursors"]["users"] == cursor
        if cursor is None:
            break
    assert paged == ranked


async def test_posts_rank_by_relevance_then_recency_and_page(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author")
    older = await indexed_post(client, clean_runtime, author, caption="otter")
    newer = await indexed_post(client, clean_runtime, author, caption="otter")
    unrelated = "otter " + " ".join(f"word{i}" for i in range(40))
    diluted = await indexed_post(client, clean_runtime, author, caption=unrelated)
    found = await _search(client, "otter", author, type="posts", limit=1)
    ids = [found["posts"][0]["id"]]
    while found["next_cursor"]:
        found = await _search(
            client, "otter", author, type="posts", limit=1, cursor=found["next_cursor"]
        )
        ids.extend(post["id"] for post in found["posts"])
    assert ids == [newer["id"], older["id"], diluted["id"]]


INJECTION_CORPUS = [
    '"',
    '""',
    '"abc',
    "abc*",
    "*",
    "NEAR(a b)",
    "a NEAR b",
    "-abc",
    "a - b",
    "col:abc",
    "terms:abc",
    "body:abc",
    "%",
    "%%",
    "a%b",
    "_",
    "a_b",
    "\\",
    "'; DROP TABLE users; --",
    "😀",
    "😀 sun",
    "(a OR b) AND NOT c",
    "a | b & !c",
    "abc:*",
    "^abc",
    "{a b}",
    "a + b",
    "\u202eevil",
    "ǅ ß ﬁ İ",
]


async def test_injection_corpus_is_searched_as_text(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "author", display_name="Sun Seeker")
    await indexed_post(client, clean_runtime, author, caption="sunflower and 100% cotton #a_b")
    for text in INJECTION_CORPUS:
        for kind in (None, "users", "hashtags", "posts"):
            params = {"q": text, **({"type": kind} if kind else {})}
            response = await client.get("/search", params=params, headers=author.auth)
            assert response.status_code == 200, (text, kind, response.text)
    for text in ("a\x00b", "\x00"):  # a NUL is not text: the URL is refused as a whole
        response = await client.get("/search", params={"q": text}, headers=author.auth)
        assert_error(response, 400, "bad_request")
    # '*' is no prefix operator for captions: only whole words match there.
    assert (await _search(client, "sun*", author, type="posts"))["posts"] == []
    assert (await _search(client, "sunflower*", author, type="posts"))["posts"] != []
    assert _names(await _search(client, '"sun', author)) == ["author"]  # the word, as text
    assert (await _search(client, "100%", author, type="posts"))["posts"] != []
    assert (await _search(client, "a_b", author))["hashtags"] == [{"name": "a_b", "post_count": 1}]
    assert (await _search(client, "a%", author))["hashtags"] == []


async def test_bad_cursors_and_types_are_4xx(client: httpx.AsyncClient) -> None:
    for params in (
        {"q": "abc", "type": "users", "cursor": "nonsense"},
        {"q": "abc", "type": "posts", "cursor": "eyJyIjoieCJ9"},
        {"q": "abc", "type": "hashtags", "cursor": "e30"},
    ):
        assert_error(await client.get("/search", params=params), 400, "invalid_cursor")
    assert_error(
        await client.get("/search", params={"q": "abc", "type": "x"}), 422, "validation_error"
    )
    assert_error(
        await client.get("/search", params={"q": "abc", "cursor": "e30"}), 422, "validation_error"
    )


async def test_typeahead_asks_for_people_and_hashtags_only(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "tidewatcher")
    await indexed_post(client, clean_runtime, author, caption="tide #tides")
    body = await _search(client, "tide", author, type=["users", "hashtags"])
    assert _names(body) == ["tidewatcher"]
    assert body["hashtags"] == [{"name": "tides", "post_count": 1}]
    assert body["posts"] == [] and body["next_cursor"] is None
    assert len((await _search(client, "tide", author))["posts"]) == 1
    both = {"q": "abc", "type": ["users", "hashtags"], "cursor": "e30"}
    assert_error(await client.get("/search", params=both), 422, "validation_error")


async def test_caption_search_pages_window_by_window(
    client: httpx.AsyncClient, clean_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery_service, "POST_WINDOW", 2)
    author = await register(client, "author")
    short, long = "heron", "heron " + "reeds " * 15
    made = [
        await indexed_post(client, clean_runtime, author, caption=text)
        for text in (short, long, short, long, short)
    ]
    ids = [post["id"] for post in made]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"type": "posts", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        body = await _search(client, "heron", author, **params)
        seen += [post["id"] for post in body["posts"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        await indexed_post(client, clean_runtime, author, caption=short)  # changes nothing
    # Newest two, then the next two, then the last: each window by relevance (short first).
    assert seen == [ids[4], ids[3], ids[2], ids[1], ids[0]]


async def test_the_shared_most_followed_list_still_applies_each_viewers_rules(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    first, second = await register(client, "first"), await register(client, "second")
    for name in ("pelican", "pelican.fan", "pelicans"):
        await register(client, name)
    assert sorted(_names(await _search(client, "peli", first))) == [
        "pelican",
        "pelican.fan",
        "pelicans",
    ]  # now kept for every viewer's first page
    await client.post("/users/second/block", headers=(await _auth(client, "pelicans")))
    await client.post("/users/pelican.fan/follow", headers=second.auth)
    await make_inactive(clean_runtime, "pelican", "banned_at")
    assert _names(await _search(client, "peli", second)) == ["pelican.fan"]
    assert sorted(_names(await _search(client, "peli", first))) == ["pelican.fan", "pelicans"]


async def _auth(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    return {"Authorization": await _login(client, name)}


async def test_someone_who_just_signed_up_is_found_at_once(client: httpx.AsyncClient) -> None:
    seeker = await register(client, "seeker")
    assert _names(await _search(client, "quokk", seeker)) == []
    await register(client, "quokka.fan")
    assert _names(await _search(client, "quokk", seeker)) == ["quokka.fan"]
