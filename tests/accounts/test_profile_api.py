"""Profiles, cookie sessions with CSRF, and sign-in rate limits, in both run modes."""

from __future__ import annotations

import httpx
import pytest

from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import register


async def test_public_profile_hides_private_fields(client: httpx.AsyncClient) -> None:
    await register(client, "gina", display_name="Gina G")
    for viewer_headers in ({}, (await register(client)).auth):
        response = await client.get("/users/GINA", headers=viewer_headers)
        assert response.status_code == 200
        body = response.json()
        assert body["username"] == "gina"
        assert body["display_name"] == "Gina G"
        assert "email" not in body and "role" not in body
        assert set(body) >= {
            "id",
            "username",
            "display_name",
            "avatar_url",
            "is_verified",
            "bio",
            "website",
            "is_private",
            "follower_count",
            "following_count",
            "post_count",
            "created_at",
        }


async def test_unknown_profile_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/users/nobody_here"), 404, "not_found")
    assert_error(await client.get("/users/" + "x" * 300), 404, "not_found")


async def test_edit_profile(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.patch(
        "/users/me",
        json={
            "display_name": "New Name",
            "bio": "b" * 150,
            "website": "https://example.com/me",
            "is_private": True,
        },
        headers=user.auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "New Name"
    assert body["bio"] == "b" * 150
    assert body["is_private"] is True
    assert body["email"] == user.email
    public = (await client.get(f"/users/{user.username}")).json()
    assert public["bio"] == "b" * 150 and public["is_private"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"bio": "b" * 151}, "bio"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"is_private": "perhaps"}, "is_private"),
        ({"display_name": None}, "display_name"),
        ({"email": "new@example.com"}, "email"),
    ],
)
async def test_invalid_profile_edits_change_nothing(
    client: httpx.AsyncClient, payload: dict[str, object], field: str
) -> None:
    user = await register(client, display_name="Before")
    error = assert_error(
        await client.patch("/users/me", json=payload, headers=user.auth), 422, "validation_error"
    )
    assert field in error["fields"]  # type: ignore[operator]
    me = (await client.get("/auth/me", headers=user.auth)).json()
    assert me["display_name"] == "Before" and me["bio"] == "" and me["is_private"] is False


async def test_cookie_writes_need_the_csrf_token(cookie_client: httpx.AsyncClient) -> None:
    client = cookie_client
    user = await register(client)
    assert client.cookies.get("glint_session") == user.token
    try:
        assert (await client.get("/auth/me")).json()["username"] == user.username
        refused = await client.patch("/users/me", json={"bio": "via cookie"})
        assert_error(refused, 403, "csrf_failed")
        wrong = await client.patch(
            "/users/me", json={"bio": "via cookie"}, headers={"X-CSRF-Token": "0" * 40}
        )
        assert_error(wrong, 403, "csrf_failed")
        csrf = (await client.get("/auth/csrf")).json()["csrf_token"]
        assert csrf == user.csrf_token
        allowed = await client.patch(
            "/users/me", json={"bio": "via cookie"}, headers={"X-CSRF-Token": csrf}
        )
        assert allowed.status_code == 200
        assert allowed.json()["bio"] == "via cookie"
    finally:
        client.cookies.clear()


async def test_login_sets_an_httponly_lax_cookie(cookie_client: httpx.AsyncClient) -> None:
    user = await register(cookie_client)
    response = await cookie_client.post(
        "/auth/login", json={"login": user.username, "password": user.password}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "glint_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert cookie_client.cookies.get("glint_session") == response.json()["token"]


async def test_a_cookie_without_csrf_is_anonymous_not_an_error(
    cookie_client: httpx.AsyncClient,
) -> None:
    await register(cookie_client)
    # Signing up again from a signed-in browser uses no identity, so it needs no CSRF token.
    second = await cookie_client.post(
        "/auth/register",
        json={"username": "second", "email": "second@example.com", "password": "long-enough-pw"},
    )
    assert second.status_code == 201, second.text
    assert_error(await cookie_client.post("/auth/logout"), 403, "csrf_failed")


async def test_failed_logins_are_limited_per_ip(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    user = await register(client)
    clean_runtime.limiter.enabled = True
    for _ in range(5):
        response = await client.post(
            "/auth/login", json={"login": user.username, "password": "wrong-password"}
        )
        assert_error(response, 401, "invalid_credentials")
    blocked = await client.post(
        "/auth/login", json={"login": user.username, "password": user.password}
    )
    assert_error(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) >= 1
    assert blocked.headers["X-RateLimit-Limit"] == "5"
    assert blocked.headers["X-RateLimit-Remaining"] == "0"


async def test_failed_logins_are_limited_per_account_across_ips(
    app: object, client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    victim = await register(client)
    clean_runtime.limiter.enabled = True
    for index in range(5):
        transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{index}", 4000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as other:
            response = await other.post(
                "/auth/login", json={"login": victim.username, "password": "guess-guess"}
            )
            assert response.status_code == 401
    transport = httpx.ASGITransport(app=app, client=("198.51.100.99", 4000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as fresh_ip:
        response = await fresh_ip.post(
            "/auth/login", json={"login": victim.username, "password": victim.password}
        )
    assert_error(response, 429, "rate_limited")


async def test_registrations_are_limited_per_ip(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    clean_runtime.limiter.enabled = True
    for _ in range(5):
        await register(client)
    response = await client.post(
        "/auth/register",
        json={"username": "onemore", "email": "one@example.com", "password": "long-enough-pw"},
    )
    assert_error(response, 429, "rate_limited")
    assert (await client.get("/users/onemore")).status_code == 404


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/users/nobody")
    assert len(generated.headers["X-Request-ID"]) >= 16
    echoed = await client.get("/users/nobody", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    injected = await client.get("/users/nobody", headers={"X-Request-ID": "bad id\twith tab"})
    assert injected.headers["X-Request-ID"] != "bad id\twith tab"


async def test_unknown_routes_use_the_envelope(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/no/such/route"), 404, "not_found")
    assert_error(await client.put("/auth/me"), 405, "method_not_allowed")
