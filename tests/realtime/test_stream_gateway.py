"""GET /api/v1/stream over a real server (uvicorn in-process) and a real WebSocket client.

Both run modes. Events are made through the API (a message from alice to bob), or stored
straight in the event log when a test needs many of them or an odd log.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from glint.api import stream as stream_api
from glint.app import API_PREFIX, create_app
from glint.infra import runtime as runtime_mod
from glint.infra.eventlog import RedisEventLog, SqlEventLog
from glint.infra.runtime import Runtime
from glint.realtime import service as realtime_service
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, send
from tests.live import free_port

WITHIN = 5.0
Frame = dict[str, Any]


def mounts_stream(routes: Sequence[Any]) -> bool:
    """Whether the stream endpoint is among these routes (included routers too)."""
    for route in routes:
        if getattr(route, "endpoint", None) is stream_api.stream:
            return True
        inner = getattr(route, "original_router", route)  # FastAPI's included routers
        if mounts_stream(getattr(inner, "routes", [])):
            return True
    return False


class LiveServer:
    """The app of a runtime served by uvicorn on a free port, in this event loop."""

    def __init__(self, runtime: Runtime, *, send_buffer: int | None = None) -> None:
        self.runtime = runtime
        self.port = free_port()
        self._send_buffer = send_buffer
        app = create_app(runtime=runtime)
        if not mounts_stream(app.routes):
            app.include_router(stream_api.router, prefix=API_PREFIX)  # until app.py mounts it
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve, and return once the port accepts connections."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self._send_buffer:  # accepted sockets inherit it: a slow reader blocks sends soon
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self._send_buffer)
        listener.bind(("127.0.0.1", self.port))
        self._task = asyncio.create_task(self._server.serve(sockets=[listener]))
        async with asyncio.timeout(WITHIN):
            while True:
                if self._server.started:
                    return
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    def url(self, **query: str) -> str:
        """The stream's ws:// address with a query."""
        params = httpx.QueryParams(query)
        return f"ws://127.0.0.1:{self.port}{API_PREFIX}/stream" + (f"?{params}" if query else "")

    def open(self, token: str | None = None, **options: Any) -> Any:
        """A WebSocket client (an async context manager) to this server."""
        query = {key: options.pop(key) for key in ("since",) if key in options}
        if token is not None:
            query["token"] = token
        options.setdefault("proxy", None)
        options.setdefault("open_timeout", WITHIN)
        return connect(self.url(**query), **options)


StartServer = Callable[..., Awaitable[LiveServer]]


@pytest.fixture
async def serve(clean_runtime: Runtime) -> AsyncIterator[StartServer]:
    """Starts servers on the test runtime, or on a runtime of their own with other settings
    (sharing the database and Redis, as another instance would)."""
    servers: list[LiveServer] = []
    runtimes: list[Runtime] = []

    async def start(*, send_buffer: int | None = None, **overrides: Any) -> LiveServer:
        runtime = clean_runtime
        if overrides:
            overrides.setdefault("stream_poll_seconds", 0.05)  # embedded: hear the test's wakes
            settings = clean_runtime.settings.model_copy(update=overrides)
            runtime = await runtime_mod.start(settings)
            runtimes.append(runtime)
        server = LiveServer(runtime, send_buffer=send_buffer)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
    for runtime in runtimes:
        await runtime.close()


@pytest.fixture
async def pair(client: httpx.AsyncClient) -> tuple[TestUser, TestUser, str]:
    """alice and bob, and their conversation."""
    alice, bob = await register(client, "alice"), await register(client, "bob")
    chat = await conversation(client, alice, bob)
    return alice, bob, str(chat["id"])


async def next_frame(ws: ClientConnection, *, skip: tuple[str, ...] = ("ping",)) -> Frame:
    """The next frame that is not a ping, parsed."""
    async with asyncio.timeout(WITHIN):
        while True:
            frame: Frame = orjson.loads(await ws.recv())
            if frame["type"] not in skip:
                return frame


async def closed_with(ws: ClientConnection, *, within: float = WITHIN) -> tuple[int, str]:
    """The close code and reason the server ended with (frames before it are skipped)."""
    async with asyncio.timeout(within):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            if exc.rcvd is None:
                return 1006, "no close frame"
            return exc.rcvd.code, exc.rcvd.reason


async def refused(server: LiveServer, token: str | None = None, **options: Any) -> tuple[int, str]:
    """Connect and return how the server closed the socket."""
    async with server.open(token, **options) as ws:
        return await closed_with(ws)


async def ping(ws: ClientConnection) -> None:
    """A round trip: the server answers a ping with a pong."""
    await ws.send(orjson.dumps({"type": "ping"}).decode())
    assert await next_frame(ws) == {"id": None, "type": "pong", "data": {}}


async def test_a_message_arrives_with_the_token_in_the_query(
    serve: StartServer, client: httpx.AsyncClient, pair: tuple[TestUser, TestUser, str]
) -> None:
    server = await serve()
    alice, bob, chat = pair
    async with server.open(bob.token) as ws:
        await ping(ws)  # registered: events from now on reach it
        message = await send(client, alice, chat, "hello")
        frame = await next_frame(ws)
    assert frame["type"] == "message.created"
    assert isinstance(frame["id"], str) and frame["id"]
    assert frame["data"]["id"] == message["id"] and frame["data"]["text"] == "hello"


async def test_the_token_in_a_subprotocol_and_glint_is_echoed(
    serve: StartServer, client: httpx.AsyncClient, pair: tuple[TestUser, TestUser, str]
) -> None:
    server = await serve()
    alice, bob, chat = pair
    protocols: Any = ["glint", f"bearer.{bob.token}"]
    async with server.open(subprotocols=protocols) as ws:
        assert ws.subprotocol == "glint"  # never the token
        await ping(ws)
        await send(client, alice, chat, "via subprotocol")
        assert (await next_frame(ws))["data"]["text"] == "via subprotocol"


async def test_the_cookie_needs_a_same_origin_origin(
    serve: StartServer, client: httpx.AsyncClient, pair: tuple[TestUser, TestUser, str]
) -> None:
    server = await serve()
    alice, bob, chat = pair
    cookie = {"Cookie": f"glint_session={bob.token}"}
    host = f"127.0.0.1:{server.port}"
    async with server.open(additional_headers=cookie, origin=f"http://{host}") as ws:
        await ping(ws)
        await send(client, alice, chat, "via cookie")
        assert (await next_frame(ws))["data"]["text"] == "via cookie"
    for origin in (f"http://evil.example:{server.port}", "http://127.0.0.1:1", "null"):
        assert await refused(server, additional_headers=cookie, origin=origin) == (
            4403,
            "cookie sign-in needs a same-origin Origin header",
        )
    assert (await refused(server, additional_headers=cookie))[0] == 4403  # no Origin at all


async def test_bad_missing_and_revoked_tokens_get_4401(
    serve: StartServer, client: httpx.AsyncClient, pair: tuple[TestUser, TestUser, str]
) -> None:
    server = await serve()
    _, bob, _ = pair
    assert await refused(server) == (4401, "sign in first")
    assert await refused(server, "glt_not-a-real-token") == (4401, "sign in first")
    assert (await refused(server, "x" * 5000))[0] == 4401
    assert (await refused(server, subprotocols=["glint", "bearer.nope"]))[0] == 4401
    # An explicit bad token is refused, even beside a good cookie.
    cookie = {"Cookie": f"glint_session={bob.token}"}
    assert (await refused(server, "glt_bad", additional_headers=cookie))[0] == 4401
    assert (await client.post("/auth/logout", headers=bob.auth)).status_code == 204
    assert (await refused(server, bob.token))[0] == 4401


async def test_signing_out_closes_the_socket_on_the_spot(
    serve: StartServer, client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    server = await serve()
    bob = await register(client, "bob")
    async with server.open(bob.token) as ws:
        await ping(ws)
        assert (await client.post("/auth/logout", headers=bob.auth)).status_code == 204
        assert await closed_with(ws) == (4401, "signed out")


async def test_hub_closes_reach_the_socket(
    serve: StartServer, client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    server = await serve()
    bob = await register(client, "bob")
    sessions = (await client.get("/auth/sessions", headers=bob.auth)).json()["items"]
    (current,) = [item for item in sessions if item["current"]]
    async with server.open(bob.token) as first, server.open(bob.token) as second:
        await ping(first)
        await ping(second)
        await clean_runtime.hub.close_sessions([int(current["id"])])
        assert await closed_with(first) == (4401, "signed out")
        assert await closed_with(second) == (4401, "signed out")
    async with server.open(bob.token) as ws:
        await ping(ws)
        await clean_runtime.hub.close_user(int(bob.id), code=4401, reason="banned")
        assert await closed_with(ws) == (4401, "banned")


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b"\x00binary", (1003, "text frames only")),
        ("not json", (1008, "frames are JSON objects")),
        ("[1, 2]", (1008, "unexpected frame")),
        ('{"type": "subscribe", "channel": "someone else"}', (1008, "unexpected frame")),
        ('{"type": "ping"' + " " * 2000 + "}", (1009, "frame too large")),
    ],
)
async def test_anything_but_ping_or_pong_closes_and_the_server_carries_on(
    serve: StartServer,
    client: httpx.AsyncClient,
    frame: str | bytes,
    expected: tuple[int, str],
) -> None:
    server = await serve()
    bob = await register(client, "bob")
    async with server.open(bob.token) as ws:
        await ws.send(frame)
        assert await closed_with(ws) == expected
    async with server.open(bob.token) as ws:
        await ping(ws)
        await ws.send('{"type": "pong"}')  # a pong is fine at any time
        await ping(ws)


async def test_a_flood_of_client_frames_is_refused(
    serve: StartServer, client: httpx.AsyncClient
) -> None:
    server = await serve()
    bob = await register(client, "bob")
    async with server.open(bob.token) as ws:
        for _ in range(stream_api.MAX_CLIENT_FRAMES_PER_PING + 1):
            await ws.send('{"type": "pong"}')
        assert await closed_with(ws) == (1008, "too many frames")


async def test_since_replays_what_was_missed_in_order(
    serve: StartServer, client: httpx.AsyncClient, pair: tuple[TestUser, TestUser, str]
) -> None:
    server = await serve()
    alice, bob, chat = pair
    async with server.open(bob.token) as ws:
        await ping(ws)
        await send(client, alice, chat, "one")
        first = await next_frame(ws)
    for text in ("two", "three", "four"):
        await send(client, alice, chat, text)
    await wait_for_jobs(server.runtime)
    async with server.open(bob.token, since=first["id"]) as ws:
        replayed = [await next_frame(ws) for _ in range(3)]
        assert [frame["data"]["text"] for frame in replayed] == ["two", "three", "four"]
        await send(client, alice, chat, "five")  # and then live, after the backlog
        assert (await next_frame(ws))["data"]["text"] == "five"
    ids = [first["id"], *(frame["id"] for frame in replayed)]
    assert len(set(ids)) == 4
    async with server.open(bob.token, since=replayed[-1]["id"]) as ws:
        assert (await next_frame(ws))["data"]["text"] == "five"


@pytest.mark.parametrize("since", ["garbage", "0-0-0", "9" * 40, "-1", "١٢"])
async def test_a_since_we_never_gave_is_a_resync(
    serve: StartServer,
    client: httpx.AsyncClient,
    pair: tuple[TestUser, TestUser, str],
    since: str,
) -> None:
    server = await serve()
    alice, bob, chat = pair
    async with server.open(bob.token, since=since) as ws:
        resync = await next_frame(ws)
        assert (resync["type"], resync["data"]) == ("resync", {}) and resync["id"]
        await send(client, alice, chat, "after the resync")
        assert (await next_frame(ws))["data"]["text"] == "after the resync"


async def test_a_since_older_than_what_is_kept_is_a_resync(
    serve: StartServer,
    client: httpx.AsyncClient,
    clean_runtime: Runtime,
    pair: tuple[TestUser, TestUser, str],
) -> None:
    server = await serve()
    alice, bob, chat = pair
    message = await send(client, alice, chat, "kept?")
    await wait_for_jobs(clean_runtime)
    (first,) = (await clean_runtime.eventlog.read(int(bob.id), None)).events
    # Another writer with a cap of 2 pushes it out of bob's window.
    small = _same_log(clean_runtime, cap=2)
    payload = realtime_service.encode(
        "message.created",
        {"conversation_id": int(chat), "message_id": int(message["id"]), "sender_id": 0},
    )
    for _ in range(3):
        await small.append(int(bob.id), payload)
    async with server.open(bob.token, since=first.id) as ws:
        resync = await next_frame(ws)
        assert (resync["type"], resync["data"]) == ("resync", {}) and resync["id"]
        await ping(ws)  # nothing else was replayed


def _same_log(runtime: Runtime, *, cap: int) -> SqlEventLog | RedisEventLog:
    """The runtime's event log storage, written with another cap."""
    if runtime.redis is None:
        return SqlEventLog(runtime.db, ids=runtime.ids, window=600, cap=cap)
    return RedisEventLog(runtime.redis, prefix=runtime.settings.redis_prefix, window=600, cap=cap)


async def test_events_the_viewer_may_not_see_are_skipped_not_stuck(
    serve: StartServer,
    client: httpx.AsyncClient,
    clean_runtime: Runtime,
    pair: tuple[TestUser, TestUser, str],
) -> None:
    server = await serve()
    alice, bob, chat = pair
    async with server.open(bob.token) as ws:
        await ping(ws)
        await clean_runtime.eventlog.append(int(bob.id), b"not an event anyone can present")
        await clean_runtime.eventlog.append(
            int(bob.id),
            realtime_service.encode("message.created", {"conversation_id": 1, "message_id": 2}),
        )
        await clean_runtime.hub.wake([int(bob.id)])
        await send(client, alice, chat, "still delivered")
        frame = await next_frame(ws)
        assert frame["data"]["text"] == "still delivered"
    async with server.open(bob.token, since=frame["id"]) as ws:
        await ping(ws)  # no replay: the skipped ones came before it


async def test_the_server_pings_and_drops_a_silent_client(
    serve: StartServer, client: httpx.AsyncClient
) -> None:
    server = await serve(stream_ping_seconds=1.0)
    bob = await register(client, "bob")
    async with server.open(bob.token) as lively, server.open(bob.token) as silent:
        assert await next_frame(lively, skip=()) == {"id": None, "type": "ping", "data": {}}
        await lively.send('{"type": "pong"}')
        assert await closed_with(silent) == (4408, "no pong")
        assert await next_frame(lively, skip=()) == {"id": None, "type": "ping", "data": {}}
        await ping(lively)  # answered the pings: still open


async def test_a_client_that_does_not_read_is_dropped(
    serve: StartServer,
    client: httpx.AsyncClient,
    clean_runtime: Runtime,
    pair: tuple[TestUser, TestUser, str],
) -> None:
    server = await serve(
        send_buffer=4096, stream_send_timeout_seconds=0.5, stream_ping_seconds=60.0
    )
    alice, bob, chat = pair
    message = await send(client, alice, chat, "x" * 1000)
    await wait_for_jobs(clean_runtime)
    payload = (await clean_runtime.eventlog.read(int(bob.id), None)).events[0].payload
    # A client that takes nothing: a tiny receive buffer, and a library told not to buffer.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    async with server.open(bob.token, sock=sock, max_queue=1, compression=None) as ws:
        await ping(ws)
        async with asyncio.timeout(30):
            while server.runtime.hub.connection_count:  # the server gives up on it
                for _ in range(10):
                    await clean_runtime.eventlog.append(int(bob.id), payload)
                await clean_runtime.hub.wake([int(bob.id)])
                await asyncio.sleep(0.02)
        assert b'glint_stream_closes_total{code="4008"} 1.0' in server.runtime.metrics.render()
        # Once it reads again, what was sent ends without a close frame it could not take.
        code, _ = await closed_with(ws, within=30)
        assert code in (4008, 1006)
    assert message["text"] == "x" * 1000


async def test_a_sign_out_in_another_process_closes_the_socket_too(
    serve: StartServer, client: httpx.AsyncClient
) -> None:
    # This server is another process's runtime: embedded, the sign-out's close never reaches
    # it, and its sockets find out at their next check (every ping); on Redis, at once.
    server = await serve(stream_ping_seconds=0.5)
    bob = await register(client, "bob")
    async with server.open(bob.token) as ws:
        await ping(ws)
        assert (await client.post("/auth/logout", headers=bob.auth)).status_code == 204
        code, reason = await closed_with(ws)
    assert code == 4401
    assert reason == ("session ended" if server.runtime.hub.process_local else "signed out")


async def test_connecting_too_often_is_refused(
    serve: StartServer, client: httpx.AsyncClient
) -> None:
    server = await serve(rate_limits_enabled=True, rate_limit_default="2/minute")
    bob = await register(client, "bob")
    for _ in range(2):
        async with server.open(bob.token) as ws:
            await ping(ws)
    assert await refused(server, bob.token) == (4429, "too many connections; wait a little")


async def test_the_token_never_reaches_the_logs(
    serve: StartServer, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve()
    bob = await register(client, "bob")
    caplog.set_level(logging.INFO)  # (at DEBUG the protocol library logs raw handshakes)
    async with server.open(bob.token, since="0") as ws:
        await ping(ws)
    server_side = [r for r in caplog.records if r.name.startswith(("uvicorn", "glint"))]
    logged = "\n".join(record.getMessage() for record in server_side)
    assert "WebSocket /api/v1/stream?since=0" in logged  # uvicorn's line, without the token
    assert bob.token not in logged
