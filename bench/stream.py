"""The real-time stream under 1,000 open WebSockets on one `glint serve`.

Figures, in one run against one server:
- memory: the server's resident set before and after opening the sockets, per connection;
- ceiling: `GET /healthz` round trips on the same server (what any request costs);
- delivery: from the moment a 1:1 message is POSTed until the recipient's socket has it
  (`message.created`), p50/p99, while every socket stays open;
- group fan-out: one message to a 32-member group until all 31 others have it;
- the naive alternative: a client polling its conversation every second instead.

    uv run --all-groups python -m bench.stream [--connections 1000] [--messages 300]
        [--mode embedded|scaleout]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.plot import latency_png
from bench.upload import percentile
from tests.live import LiveServer, settings_env


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2),
        "n": len(values),
    }


class Listener:
    """One user's open socket, resolving futures when their messages arrive."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self.socket:
            event = json.loads(frame)
            if event.get("type") == "ping":  # the server drops a client that never answers
                await self.socket.send('{"type": "pong"}')
                continue
            if event.get("type") != "message.created":
                continue
            future = self.waiting.pop(event["data"].get("text") or "", None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

    def expect(self, text: str) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the message with this text."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[text] = future
        return future


async def _register(http: httpx.AsyncClient, tag: str, count: int) -> list[dict[str, str]]:
    users: list[dict[str, str]] = []
    for start in range(0, count, 50):
        answers = await asyncio.gather(
            *(
                http.post(
                    "/auth/register",
                    json={
                        "username": f"s{tag}_{n}",
                        "email": f"s{tag}{n}@example.com",
                        "password": "bench-password",
                    },
                )
                for n in range(start, min(count, start + 50))
            )
        )
        for answer in answers:
            body = answer.json()
            users.append({"token": body["token"], "username": body["user"]["username"]})
    return users


def _auth(user: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {user['token']}"}


async def _open(url: str, users: list[dict[str, str]]) -> list[Listener]:
    listeners: list[Listener] = []
    for start in range(0, len(users), 100):
        sockets = await asyncio.gather(
            *(
                websockets.connect(f"{url}/api/v1/stream?token={user['token']}", max_queue=None)
                for user in users[start : start + 100]
            )
        )
        listeners += [Listener(socket) for socket in sockets]
    return listeners


async def _ceiling(http: httpx.AsyncClient, count: int = 300) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await http.get("/healthz")
        times.append((time.perf_counter() - started) * 1000)
    return times


async def _one_to_one(
    http: httpx.AsyncClient, users: list[dict[str, str]], listeners: list[Listener], messages: int
) -> list[tuple[float, float]]:
    """(seconds since start, delivery ms) of 1:1 messages between random pairs of open sockets."""
    half = len(users) // 2
    points: list[tuple[float, float]] = []
    began = time.perf_counter()
    for n in range(messages):
        sender, recipient = n % half, half + (n * 7) % half
        chat = await http.post(
            "/conversations",
            json={"usernames": [users[recipient]["username"]]},
            headers=_auth(users[sender]),
        )
        text = f"m{n}-{uuid.uuid4().hex[:6]}"
        arrived = listeners[recipient].expect(text)
        started = time.perf_counter()
        answer = await http.post(
            f"/conversations/{chat.json()['id']}/messages",
            json={"kind": "text", "text": text},
            headers=_auth(users[sender]),
        )
        assert answer.status_code == 201, answer.text
        at = await asyncio.wait_for(arrived, timeout=30)
        points.append((started - began, (at - started) * 1000))
    return points


async def _group(
    http: httpx.AsyncClient, users: list[dict[str, str]], listeners: list[Listener], rounds: int
) -> tuple[list[float], list[float]]:
    """Per round: the time until all 31 other members had the message; and every member's."""
    members = list(range(32))
    group = await http.post(
        "/conversations",
        json={"usernames": [users[m]["username"] for m in members[1:]], "title": "bench"},
        headers=_auth(users[0]),
    )
    gid = group.json()["id"]
    for m in members[1:]:  # accept, so nobody's copy is a request
        await http.post(f"/conversations/{gid}/accept", headers=_auth(users[m]))
    all_of_them: list[float] = []
    each: list[float] = []
    for n in range(rounds):
        text = f"g{n}-{uuid.uuid4().hex[:6]}"
        arrivals = [listeners[m].expect(text) for m in members[1:]]
        started = time.perf_counter()
        answer = await http.post(
            f"/conversations/{gid}/messages",
            json={"kind": "text", "text": text},
            headers=_auth(users[0]),
        )
        assert answer.status_code == 201, answer.text
        times = await asyncio.wait_for(asyncio.gather(*arrivals), timeout=30)
        each += [(t - started) * 1000 for t in times]
        all_of_them.append((max(times) - started) * 1000)
    return all_of_them, each


async def _polling(
    http: httpx.AsyncClient, users: list[dict[str, str]], rounds: int, interval: float = 1.0
) -> list[float]:
    """The naive alternative: the recipient polls its conversation every `interval` seconds."""
    sender, recipient = users[-1], users[-2]
    chat = await http.post(
        "/conversations", json={"usernames": [recipient["username"]]}, headers=_auth(sender)
    )
    cid = chat.json()["id"]
    latencies: list[float] = []
    for n in range(rounds):
        text = f"p{n}-{uuid.uuid4().hex[:6]}"
        seen = asyncio.Event()

        async def poll(wanted: str = text, done: asyncio.Event = seen) -> None:
            # Polls run on their own clock, as a client's timer would.
            while not done.is_set():
                page = await http.get(f"/conversations/{cid}/messages", headers=_auth(recipient))
                if any(item["text"] == wanted for item in page.json()["items"]):
                    done.set()
                    return
                await asyncio.sleep(interval)

        poller = asyncio.create_task(poll())
        await asyncio.sleep(interval * ((n * 0.37) % 1))  # a random phase against the poller
        started = time.perf_counter()
        await http.post(
            f"/conversations/{cid}/messages",
            json={"kind": "text", "text": text},
            headers=_auth(sender),
        )
        await seen.wait()
        latencies.append((time.perf_counter() - started) * 1000)
        await poller
    return latencies


async def run(server: LiveServer, connections: int, messages: int) -> dict[str, Any]:
    """Everything measured against one running server."""
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=60) as http:
        users = await _register(http, tag, connections)
        ceiling = await _ceiling(http)
        before = _rss_mb(server.process.pid)
        listeners = await _open(server.url.replace("http", "ws"), users)
        await asyncio.sleep(2)
        after = _rss_mb(server.process.pid)
        points = await _one_to_one(http, users, listeners, messages)
        group_all, group_each = await _group(http, users, listeners, max(10, messages // 10))
        polled = await _polling(http, users, 20)
        for listener in listeners:
            await listener.socket.close()
            listener.task.cancel()
    delivery = [ms for _, ms in points]
    return {
        "connections": connections,
        "server_rss_mb": {"before": round(before, 1), "with_sockets": round(after, 1)},
        "memory_per_connection_kb": round((after - before) * 1024 / connections, 1),
        "healthz_round_trip_ms": _summary(ceiling),
        "delivery_1to1_ms": _summary(delivery),
        "group_of_32_all_delivered_ms": _summary(group_all),
        "group_of_32_each_member_ms": _summary(group_each),
        "naive_polling_every_1s_ms": _summary(polled),
        "ratio_delivery_p50_to_healthz_p50": round(
            statistics.median(delivery) / statistics.median(ceiling), 1
        ),
        "points": points,
    }


def main() -> None:
    """Start a server, open the sockets, measure, write bench/results/stream.json and .png."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--mode", choices=["embedded", "scaleout"], default="embedded")
    parser.add_argument("--out", default="bench/results/stream.json")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    result = asyncio.run(_in_mode(args.mode, args.connections, args.messages))
    points = result.pop("points")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    latency_png(
        out.with_suffix(".png"),
        title=f"1:1 delivery over the stream, {args.connections} sockets open ({args.mode})",
        points=points,
    )
    print(json.dumps(result, indent=2))


async def _in_mode(mode: str, connections: int, messages: int) -> dict[str, Any]:
    from bench.recovery import _drop_scaleout, _scaleout_settings
    from tests.conftest import base_settings

    with tempfile.TemporaryDirectory() as data_dir:
        name = None
        if mode == "embedded":
            settings = base_settings(Path(data_dir), log_level="warning")
        else:
            settings, name = await _scaleout_settings(Path(data_dir))
        server = LiveServer(settings_env(settings, GLINT_ARGON2_MEMORY_KIB="1024"))
        worker = None
        try:
            await asyncio.to_thread(server.wait_ready)
            if name is not None:
                from tests.live import LiveWorker

                worker = LiveWorker(settings_env(settings))
            result = await run(server, connections, messages)
        finally:
            server.stop()
            if worker is not None:
                worker.stop()
            if name is not None:
                await _drop_scaleout(settings, name)
    result["mode"] = mode
    return result


if __name__ == "__main__":
    main()
