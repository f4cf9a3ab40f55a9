"""Upload acknowledgement latency: 8 concurrent uploaders of 4 MB JPEGs against `glint serve`,
embedded and scale-out (PostgreSQL, Redis, RabbitMQ and a `glint worker`), one after the other.

The request path stores the original and enqueues its job; it never decodes the whole image.
The embedded server processes the photos in the same process meanwhile, as it would in life.

    uv run --all-groups python -m bench.upload [--requests 160] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from tests.conftest import base_settings
from tests.live import LiveServer, settings_env


def four_megabyte_jpeg() -> bytes:
    """A noisy 3000x2250 JPEG of about 4 MB (noise compresses badly, like real detail)."""
    noise = Image.effect_noise((3000, 2250), 60).convert("RGB")
    gradient = Image.linear_gradient("L").resize((3000, 2250)).convert("RGB")
    photo = Image.blend(noise, gradient, 0.5)
    for quality in (95, 92, 90, 85):
        out = io.BytesIO()
        photo.save(out, "JPEG", quality=quality)
        if out.tell() <= 4.2 * 1024 * 1024:
            return out.getvalue()
    return out.getvalue()


def multipart_body(photo: bytes) -> tuple[bytes, str]:
    """The request body, encoded once: the load generator must not eat the server's CPU."""
    boundary = "glintbenchboundary7MA4YWxkTrZu0gW"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\nbench\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + photo + tail, f"multipart/form-data; boundary={boundary}"


def percentile(values: list[float], fraction: float) -> float:
    """The value at a fraction of the sorted list (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(server: LiveServer, photo: bytes, requests: int, concurrency: int) -> list[float]:
    """Upload `requests` posts from `concurrency` users at once; each POST's latency in ms."""
    latencies: list[float] = []
    run_tag = time.monotonic_ns() % 10**6
    body, content_type = multipart_body(photo)
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=60) as http:
        tokens = []
        for index in range(concurrency):
            response = await http.post(
                "/auth/register",
                json={
                    "username": f"up{run_tag}_{index}",
                    "email": f"u{run_tag}{index}@example.com",
                    "password": "bench-password",
                },
            )
            tokens.append(response.json()["token"])
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(requests):
            queue.put_nowait(number)

        async def uploader(token: str) -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    "/posts",
                    content=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
                )
                latencies.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 202, response.text

        await asyncio.gather(*(uploader(token) for token in tokens))
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max, in ms."""
    return {
        "p50": round(statistics.median(latencies), 1),
        "p95": round(percentile(latencies, 0.95), 1),
        "p99": round(percentile(latencies, 0.99), 1),
        "max": round(max(latencies), 1),
    }


def measure(
    env: dict[str, str], photo: bytes, requests: int, concurrency: int, *server_args: str
) -> list[float]:
    """A server from this environment: a warm-up, then the measured uploads."""
    server = LiveServer(env, *server_args)
    try:
        server.wait_ready(timeout=60)
        asyncio.run(run(server, photo, 16, concurrency))  # warm-up
        return asyncio.run(run(server, photo, requests, concurrency))
    finally:
        server.stop()


def embedded(photo: bytes, requests: int, concurrency: int) -> dict[str, float]:
    """One `glint serve` with its in-process jobs rendering the photos meanwhile."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = base_settings(Path(data_dir), log_level="warning")
        env = settings_env(settings, GLINT_ARGON2_MEMORY_KIB="1024")
        return summary(measure(env, photo, requests, concurrency))


def scale_out(
    photo: bytes, requests: int, concurrency: int, serve_workers: int
) -> dict[str, float]:
    """`glint serve --workers N` on PostgreSQL, Redis and RabbitMQ, and one `glint worker`
    rendering the photos meanwhile on the same two cores (originals on local disk)."""
    from glint import migrate
    from tests.conftest import (
        BROKER_URL,
        PG_ADMIN_URL,
        REDIS_URL,
        _create_database,
        _drop_database,
        delete_queue,
    )
    from tests.live import LiveWorker

    tag = f"glint_bench_upload_{time.monotonic_ns() % 10**8}"
    asyncio.run(_create_database(tag))
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = base_settings(
                Path(data_dir),
                log_level="warning",
                database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{tag}",
                redis_url=REDIS_URL,
                redis_prefix=f"{tag}:",
                broker_url=BROKER_URL,
                job_queue_name=tag,
            )
            asyncio.run(migrate.upgrade_async(settings.effective_database_url))
            env = settings_env(settings, GLINT_ARGON2_MEMORY_KIB="1024")
            worker = LiveWorker(env)
            try:
                return summary(
                    measure(env, photo, requests, concurrency, "--workers", str(serve_workers))
                )
            finally:
                worker.stop()
                delete_queue(tag)
    finally:
        asyncio.run(_drop_database(tag))


def main() -> None:
    """Upload in both run modes; report p50/p95/p99 of the acknowledgements."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=160)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", default="bench/results/upload.json")
    args = parser.parse_args()
    photo = four_megabyte_jpeg()
    result = {
        "photo_bytes": len(photo),
        "requests": args.requests,
        "concurrency": args.concurrency,
        "ack_ms": {
            "embedded": embedded(photo, args.requests, args.concurrency),
            "scaleout_1_serve_worker": scale_out(photo, args.requests, args.concurrency, 1),
            "scaleout_2_serve_workers": scale_out(photo, args.requests, args.concurrency, 2),
        },
        "targets": {"p95_ms": 50},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
