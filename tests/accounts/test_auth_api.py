"""Sign-up, sign-in, sessions and passwords through the HTTP API, in both run modes."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories.accounts import DEFAULT_PASSWORD, register

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The response is the API.md error envelope with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return dict(body["error"])


async def test_register_returns_me_and_a_working_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register",
        json={
            "username": "Alice_1",
            "email": "Alice@Example.com",
            "password": "hunter2hunter2",
            "display_name": "Alice",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    me = body["user"]
    assert me["username"] == "alice_1"
    assert me["email"] == "alice@example.com"
    assert me["display_name"] == "Alice"
    assert me["role"] == "user"
    assert me["is_verified"] is False
    assert me["avatar_url"] is None
    assert me["follower_count"] == me["following_count"] == me["post_count"] == 0
    assert isinstance(me["id"], str) and me["id"].isdigit()
    assert RFC3339_Z.match(me["created_at"])
    assert "relationship" not in me
    assert "password" not in response.text and "hash" not in response.text
    auth = {"Authorization": f"Bearer {body['token']}"}
    again = await client.get("/auth/me", headers=auth)
    assert again.status_code == 200
    assert again.json()["id"] == me["id"]


@pytest.mark.parametrize(
    ("username", "email", "code"),
    [
        ("ALICE", "other@example.com", "username_taken"),
        ("bob", "ALICE@EXAMPLE.COM", "email_taken"),
    ],
)
async def test_duplicates_differing_in_case_conflict(
    client: httpx.AsyncClient, username: str, email: str, code: str
) -> None:
    await register(client, "alice", email="alice@example.com")
    response = await client.post(
        "/auth/register", json={"username": username, "email": email, "password": DEFAULT_PASSWORD}
    )
    assert_error(response, 409, code)


@pytest.mark.parametrize(
    "username",
    ["Ab", "a b", "admin", "x" * 31, "bad..name", ".dot", "dot.", "héllo", "", "me", "semi;colon"],
)
async def test_invalid_usernames_are_422(client: httpx.AsyncClient, username: str) -> None:
    response = await client.post(
        "/auth/register",
        json={"username": username, "email": "x@example.com", "password": DEFAULT_PASSWORD},
    )
    error = assert_error(response, 422, "validation_error")
    assert "username" in error["fields"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "okname", "email": "x@example.com", "password": "short"}, "password"),
        ({"username": "okname", "email": "not-an-email", "password": DEFAULT_PASSWORD}, "email"),
        ({"username": "okname", "email": "x@example.com"}, "password"),
        ({"username": 12345, "email": "x@example.com", "password": DEFAULT_PASSWORD}, "username"),
        (
            {
                "username": "okname",
                "email": "x@example.com",
                "password": DEFAULT_PASSWORD,
                "role": "admin",
            },
            "role",
        ),
        (
            {
                "username": "okname",
                "email": "x@example.com",
                "password": DEFAULT_PASSWORD,
                "display_name": "d" * 65,
            },
            "display_name",
        ),
    ],
)
async def test_invalid_registrations_are_422_and_create_nothing(
    client: httpx.AsyncClient, payload: dict[str, object], field: str
) -> None:
    error = assert_error(await client.post("/auth/register", json=payload), 422, "validation_error")
    assert field in error["fields"]  # type: ignore[operator]
    login = await client.post("/auth/login", json={"login": "okname", "password": DEFAULT_PASSWORD})
    assert_error(login, 401, "invalid_credentials")


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")


async def test_login_by_username_or_email(client: httpx.AsyncClient) -> None:
    user = await register(client, "carol")
    for login in ("carol", "CAROL", "carol@example.com", "Carol@Example.Com"):
        response = await client.post(
            "/auth/login", json={"login": login, "password": user.password}
        )
        assert response.status_code == 200, response.text
        assert response.json()["user"]["username"] == "carol"
        assert response.json()["token"] != user.token


async def test_wrong_password_and_unknown_user_look_alike(client: httpx.AsyncClient) -> None:
    await register(client, "dave")
    wrong = await client.post("/auth/login", json={"login": "dave", "password": "nope-nope-nope"})
    unknown = await client.post("/auth/login", json={"login": "ghost", "password": "nope-nope"})
    assert assert_error(wrong, 401, "invalid_credentials") == assert_error(
        unknown, 401, "invalid_credentials"
    )


async def test_logout_revokes_the_token(client: httpx.AsyncClient) -> None:
    user = await register(client)
    assert (await client.post("/auth/logout", headers=user.auth)).status_code == 204
    assert_error(await client.get("/auth/me", headers=user.auth), 401, "unauthenticated")


@pytest.mark.parametrize(
    "header", ["Bearer glt_forged", "Bearer ", "Basic abc", "Bearer " + "x" * 500, "glt_raw"]
)
async def test_bad_credentials_are_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/auth/me", headers={"Authorization": header})
    assert_error(response, 401, "unauthenticated")


async def test_me_needs_a_session(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/auth/me"), 401, "unauthenticated")


async def test_password_change_revokes_every_other_session(client: httpx.AsyncClient) -> None:
    user = await register(client, "erin")
    other = (
        await client.post("/auth/login", json={"login": "erin", "password": user.password})
    ).json()["token"]
    other_auth = {"Authorization": f"Bearer {other}"}
    # Used once first, so the server has it cached: the revocation must still win at once.
    assert (await client.get("/auth/me", headers=other_auth)).status_code == 200
    response = await client.post(
        "/auth/password",
        json={"current_password": user.password, "new_password": "a-brand-new-secret"},
        headers=user.auth,
    )
    assert response.status_code == 204, response.text
    assert (await client.get("/auth/me", headers=user.auth)).status_code == 200
    assert_error(await client.get("/auth/me", headers=other_auth), 401, "unauthenticated")
    old = await client.post("/auth/login", json={"login": "erin", "password": user.password})
    assert_error(old, 401, "invalid_credentials")
    new = await client.post("/auth/login", json={"login": "erin", "password": "a-brand-new-secret"})
    assert new.status_code == 200


async def test_password_change_needs_the_current_password(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.post(
        "/auth/password",
        json={"current_password": "not-my-password", "new_password": "a-brand-new-secret"},
        headers=user.auth,
    )
    assert_error(response, 403, "invalid_credentials")
    again = await client.post(
        "/auth/login", json={"login": user.username, "password": user.password}
    )
    assert again.status_code == 200


async def test_sessions_list_and_revoke(client: httpx.AsyncClient) -> None:
    user = await register(client, "frank")
    second = await client.post(
        "/auth/login",
        json={"login": "frank", "password": user.password},
        headers={"User-Agent": "PhoneApp/1.0"},
    )
    second_token = second.json()["token"]
    phone_auth = {"Authorization": f"Bearer {second_token}"}
    assert (await client.get("/feed", headers=phone_auth)).status_code == 200  # now cached
    listing = await client.get("/auth/sessions", headers=user.auth)
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert len(items) == 2
    assert sum(item["current"] for item in items) == 1
    phone = next(item for item in items if item["user_agent"] == "PhoneApp/1.0")
    assert phone["current"] is False
    revoke = await client.delete(f"/auth/sessions/{phone['id']}", headers=user.auth)
    assert revoke.status_code == 204
    assert_error(await client.get("/auth/me", headers=phone_auth), 401, "unauthenticated")
    assert_error(await client.get("/feed", headers=phone_auth), 401, "unauthenticated")
    assert_error(
        await client.delete(f"/auth/sessions/{phone['id']}", headers=user.auth), 404, "not_found"
    )
    assert_error(await client.delete("/auth/sessions/abc", headers=user.auth), 404, "not_found")


async def test_cannot_revoke_someone_elses_session(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    intruder = await register(client)
    session_id = (await client.get("/auth/sessions", headers=owner.auth)).json()["items"][0]["id"]
    response = await client.delete(f"/auth/sessions/{session_id}", headers=intruder.auth)
    assert_error(response, 404, "not_found")
    assert (await client.get("/auth/me", headers=owner.auth)).status_code == 200
