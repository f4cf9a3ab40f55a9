"""Property-based fuzzing of every operation in /openapi.json: no input may cause a 5xx."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from glint.config import Settings
from tests.live import ROOT, LiveServer, settings_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_env(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the run mode under test, with a data folder of its own (embedded, its
    in-process worker would otherwise work the suite's job table)."""
    data_dir = tmp_path_factory.mktemp("schemathesis")
    return settings_env(settings, GLINT_DATA_DIR=str(data_dir))


@pytest.fixture(scope="module")
def live_server(live_env: dict[str, str]) -> Iterator[LiveServer]:
    """A real server of the run mode under test."""
    server = LiveServer(live_env)
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live_token(live_server: LiveServer, live_env: dict[str, str]) -> str:
    """A signed-in admin, so every operation (the admin API too) is fuzzed past the 401/403."""
    # Made by the CLI, as an operator makes the first admin; it exists already on a rerun.
    create = ("admin", "create-user", "fuzzer", "--role", "admin", "--email", "fuzzer@example.com")
    subprocess.run(
        [sys.executable, "-m", "glint", *create, "--password", "fuzz-fuzz-fuzz"],
        env=live_env,
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=60,
    )
    response = httpx.post(
        f"{live_server.url}/api/v1/auth/login",
        json={"login": "fuzzer", "password": "fuzz-fuzz-fuzz"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["role"] == "admin"
    return str(response.json()["token"])


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> schemathesis.BaseSchema:
    """The live server's OpenAPI description."""
    return schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")


def test_no_input_causes_a_server_error(
    api_schema: schemathesis.BaseSchema, live_token: str
) -> None:
    # Driven through hypothesis directly: schemathesis's pytest plugin lags pytest 9.
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            # Keep the session alive: a logout or password change would narrow the run.
            if case.path not in ("/api/v1/auth/logout", "/api/v1/auth/password"):
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {live_token}"}
            response = case.call()
            if response.status_code >= 500 and response.status_code != 503:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:300]}"
                )
            elif response.status_code >= 400:
                body = response.json()
                if set(body) != {"error"} or not body["error"].get("code"):
                    failures.append(f"{case.method} {case.formatted_path}: no envelope: {body}")

        exercise()
    assert not failures, "\n".join(failures[:20])
