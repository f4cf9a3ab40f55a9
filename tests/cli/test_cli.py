"""The `glint` command as a user runs it: help, serve with migrate-on-start, admin create-user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import base_settings
from tests.live import ROOT, LiveServer, settings_env


def _glint(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glint", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [[], ["serve"], ["migrate"], ["admin", "create-user"]])
def test_help_explains_each_command(tmp_path: Path, command: list[str]) -> None:
    result = _glint(*command, "--help", env=settings_env(base_settings(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert len(result.stdout.splitlines()) > 5


def test_bad_settings_fail_loudly(tmp_path: Path) -> None:
    env = settings_env(base_settings(tmp_path), GLINT_FANOUT_THRESHOLD="lots")
    result = _glint("migrate", env=env)
    assert result.returncode == 2
    assert "fanout_threshold" in result.stderr


def test_embedded_serve_migrates_and_admin_can_sign_in(tmp_path: Path) -> None:
    # A data folder that has never seen Glint: serve must create and migrate the database.
    data = tmp_path / "fresh"
    env = settings_env(base_settings(data, log_level="info"))
    created = _glint(
        "admin",
        "create-user",
        "root_admin",
        "--email",
        "root@example.com",
        "--role",
        "admin",
        "--password",
        "an admin password",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert "Created admin root_admin" in created.stdout
    duplicate = _glint(
        "admin",
        "create-user",
        "ROOT_ADMIN",
        "--email",
        "x@example.com",
        "--password",
        "an admin password",
        env=env,
    )
    assert duplicate.returncode == 1
    assert "taken" in duplicate.stderr

    server = LiveServer(env)
    try:
        server.wait_ready()
        login = httpx.post(
            f"{server.url}/api/v1/auth/login",
            json={"login": "root_admin", "password": "an admin password"},
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["role"] == "admin"
        token = login.json()["token"]
        registered = httpx.post(
            f"{server.url}/api/v1/auth/register",
            json={"username": "newcomer", "email": "new@example.com", "password": "pass-word-1"},
        )
        assert registered.status_code == 201
        me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "root_admin"
    finally:
        server.stop()
    assert (data / "glint.db").exists()
    # JSON logs with the request ID, one object per line.
    assert '"request_id"' in server.log()
