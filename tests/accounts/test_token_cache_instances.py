"""A token cached by one server instance stops working there the moment another instance ends
its session: over Redis pub/sub at scale, through the data folder's stamp file embedded."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa

from glint.accounts.models import User
from glint.app import create_app
from glint.infra import runtime as runtime_mod
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import register


async def test_a_sign_out_elsewhere_evicts_a_cached_token_on_an_instance_without_sockets(
    clean_runtime: Runtime,
) -> None:
    other = await runtime_mod.start(clean_runtime.settings)  # a second `glint serve`
    try:
        await other.hub.listen_control()  # what a serving process does at start
        cache = other.session_cache
        assert cache.enabled
        cache.put("token-hash", "cached session", session_id=41, user_id=7)
        assert cache.get("token-hash") == "cached session"
        # The sign-out is handled by this instance (its SessionsRevoked subscriber does this).
        await clean_runtime.hub.close_sessions([41])
        for _ in range(100):
            if cache.get("token-hash") is None:
                break
            await asyncio.sleep(0.02)
        assert cache.get("token-hash") is None
        # Sessions nobody ended stay cached.
        cache.put("token-hash-2", "another", session_id=42, user_id=8)
        assert cache.get("token-hash-2") == "another"
    finally:
        await other.close()


async def test_a_serving_app_listens_for_evictions_from_the_start(clean_runtime: Runtime) -> None:
    """The app joins the control channel as it starts, before any socket connects; until
    then, at scale, the token cache serves nothing."""
    other = await runtime_mod.start(clean_runtime.settings)
    try:
        assert other.session_cache.listening is (other.redis is None)
        app = create_app(runtime=other)
        async with app.router.lifespan_context(app):
            assert other.session_cache.listening
    finally:
        await other.close()


async def test_an_account_gone_inactive_reads_as_signed_out_by_cookie_and_401_by_token(
    cookie_client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    """The sessions of an account that stopped being active stop working at once, even when
    a process has them cached: a browser's cookie reads as signed out, a token is refused."""
    await register(cookie_client, "carol")  # a public profile to look at
    dave = await register(cookie_client, "dave")  # the cookie jar now holds dave's session
    assert (await cookie_client.get("/auth/me")).status_code == 200  # cached by now
    async with clean_runtime.db.session() as session:
        await session.execute(
            sa.update(User).where(User.username == "dave").values(banned_at=utcnow())
        )
        await session.commit()
    assert (await cookie_client.get("/users/carol")).status_code == 200  # as a stranger
    assert_error(await cookie_client.get("/auth/me"), 401, "unauthenticated")
    bearer = await cookie_client.get("/users/carol", headers=dave.auth)  # the token wins
    assert_error(bearer, 401, "unauthenticated")
