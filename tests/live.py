"""A real `glint serve` in a subprocess, for tests that need the whole program (CLI, kills)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from glint.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that reproduces these settings in a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLINT_")}
    for name, value in settings.model_dump().items():
        if value in ("", None, []):
            continue
        text = ",".join(value) if isinstance(value, list) else str(value)
        env[f"GLINT_{name.upper()}"] = text
    env.update(extra)
    return env


class GlintProcess:
    """A `glint` command in a subprocess, its output kept in a log file in the data folder."""

    def __init__(self, env: dict[str, str], *argv: str) -> None:
        self.log_path = Path(env["GLINT_DATA_DIR"]) / f"{argv[0]}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "glint", *argv],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """What the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process (SIGKILL to simulate a crash) and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class LiveServer(GlintProcess):
    """`glint serve` on a free port."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(env, "serve", "--port", str(self.port), *args)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until /healthz answers, or fail with the server's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"glint serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"glint serve did not become ready:\n{self.log()}")


class LiveWorker(GlintProcess):
    """`glint worker` (or another long-running command, such as `scheduler`)."""

    def __init__(self, env: dict[str, str], *command: str) -> None:
        super().__init__(env, *(command or ("worker", "--threads", "4")))
