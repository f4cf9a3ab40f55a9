"""No accepted upload is lost: SIGKILL the process working the jobs, start it again, and every
post answered with 202 ends published (or failed with a reason). Both run modes, real processes.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from glint.config import Settings
from tests.conftest import base_settings, delete_queue
from tests.factories import images
from tests.live import LiveServer, LiveWorker, settings_env

pytestmark = pytest.mark.slow
UPLOADS = 6


def _upload_many(server: LiveServer) -> tuple[dict[str, str], list[str]]:
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30) as http:
        registered = http.post(
            "/auth/register",
            json={
                "username": f"durable{time.monotonic_ns() % 10**8}",
                "email": f"d{time.monotonic_ns()}@example.com",
                "password": "durable-password",
            },
        )
        assert registered.status_code == 201, registered.text
        auth = {"Authorization": f"Bearer {registered.json()['token']}"}
        photo = images.jpeg(3000, 2000, quality=95)
        ids = []
        for _ in range(UPLOADS):
            response = http.post(
                "/posts",
                files=[("image", ("big.jpg", photo, "image/jpeg"))] * 3,
                data={"filter": "clarendon"},
                headers=auth,
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
    return auth, ids


def _wait_all_finished(server: LiveServer, auth: dict[str, str], ids: list[str]) -> list[dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30) as http:
        while True:
            posts = [http.get(f"/posts/{post_id}", headers=auth).json() for post_id in ids]
            if all(post["status"] != "processing" for post in posts):
                return posts
            if time.monotonic() > deadline:
                raise AssertionError(f"still processing: {[p['status'] for p in posts]}")
            time.sleep(0.3)


def _assert_finished_well(posts: list[dict]) -> None:  # type: ignore[type-arg]
    for post in posts:
        assert post["status"] in ("published", "failed"), post
        if post["status"] == "failed":
            assert post["failure_reason"], post
        else:
            assert len(post["media"]) == 3


def _processing_count(server: LiveServer, auth: dict[str, str], ids: list[str]) -> int:
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30) as http:
        return sum(
            http.get(f"/posts/{post_id}", headers=auth).json()["status"] == "processing"
            for post_id in ids
        )


def test_killed_mid_processing_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    if settings.broker_url:
        _kill_scale_out_worker(settings, tmp_path)
    else:
        _kill_embedded_server(tmp_path)


def _kill_embedded_server(tmp_path: Path) -> None:
    # Its own data folder: the suite's in-process worker must not steal these jobs.
    env = settings_env(base_settings(tmp_path, job_lease_seconds=3, job_concurrency=1))
    first = LiveServer(env)
    first.wait_ready()
    auth, ids = _upload_many(first)
    assert _processing_count(first, auth, ids) > 0  # the kill lands mid-work
    first.stop(signal.SIGKILL)
    second = LiveServer(env)
    try:
        second.wait_ready()
        posts = _wait_all_finished(second, auth, ids)
    finally:
        second.stop()
    _assert_finished_well(posts)
    assert sum(post["status"] == "published" for post in posts) == UPLOADS


def _kill_scale_out_worker(settings: Settings, tmp_path: Path) -> None:
    # A queue of its own, so the suite's worker does not take these jobs.
    env = settings_env(
        settings,
        GLINT_JOB_QUEUE_NAME=f"{settings.job_queue_name}-kill",
        GLINT_JOB_LEASE_SECONDS="3",
        GLINT_DATA_DIR=str(tmp_path),
    )
    server = LiveServer(env)
    worker = LiveWorker(env, "worker", "--threads", "2")
    scheduler = LiveWorker(env, "scheduler")
    replacement: LiveWorker | None = None
    try:
        server.wait_ready()
        auth, ids = _upload_many(server)
        assert _processing_count(server, auth, ids) > 0  # the kill lands mid-work
        worker.stop(signal.SIGKILL)
        replacement = LiveWorker(env, "worker", "--threads", "2")
        posts = _wait_all_finished(server, auth, ids)
    finally:
        for process in (replacement, scheduler, server):
            if process is not None:
                process.stop()
        delete_queue(env["GLINT_JOB_QUEUE_NAME"])
    _assert_finished_well(posts)
    assert sum(post["status"] == "published" for post in posts) == UPLOADS
