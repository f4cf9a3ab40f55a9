"""Liveness, readiness and metrics, in both run modes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from glint.app import create_app
from glint.infra import runtime as runtime_mod
from tests.accounts.test_auth_api import assert_error
from tests.conftest import base_settings


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/healthz"])
async def test_healthz(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"http://testserver{path}")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_names_every_dependency(client: httpx.AsyncClient, runtime: object) -> None:
    response = await client.get("http://testserver/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    if getattr(runtime, "redis", None) is not None:
        assert checks["redis"] == "ok"


async def test_readyz_is_503_naming_a_dead_dependency(tmp_path: Path) -> None:
    settings = base_settings(
        tmp_path,
        redis_url="redis://127.0.0.1:1/0",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nothing",
    )
    rt = await runtime_mod.start(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(runtime=rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/readyz")
            health = await http.get("/healthz")
    finally:
        await rt.close()
    error = assert_error(response, 503, "unavailable")
    assert set(error["fields"]) == {"database", "redis"}  # type: ignore[arg-type]
    assert response.headers["Retry-After"].isdigit()
    assert health.status_code == 200


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    for name in ("alpha", "beta", "gamma"):
        await client.get(f"/users/{name}")
    text = (await client.get("http://testserver/metrics")).text
    assert "# TYPE glint_http_requests_total counter" in text
    line = next(
        row
        for row in text.splitlines()
        if row.startswith("glint_http_requests_total{")
        and 'route="/api/v1/users/{username}"' in row
        and 'status="404"' in row
    )
    assert float(line.rsplit(" ", 1)[1]) >= 3
    assert "glint_http_request_duration_seconds_bucket" in text
    assert "/users/alpha" not in text  # templates, never raw paths


async def test_default_limit_applies_to_every_endpoint(
    client: httpx.AsyncClient, clean_runtime: runtime_mod.Runtime
) -> None:
    clean_runtime.limiter.enabled = True
    first = await client.get("/users/someone")
    limit = int(first.headers["X-RateLimit-Limit"])
    assert limit == 1000
    assert int(first.headers["X-RateLimit-Remaining"]) == limit - 1
    assert int(first.headers["X-RateLimit-Reset"]) > 0
