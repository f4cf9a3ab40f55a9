"""A token cached by one server instance stops working there the moment another instance ends
its session: over Redis pub/sub at scale, through the data folder's stamp file embedded."""

from __future__ import annotations

import asyncio

from glint.app import create_app
from glint.infra import runtime as runtime_mod
from glint.infra.runtime import Runtime


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
