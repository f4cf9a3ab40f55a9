"""`glint bench profile`: a flame graph of `glint serve` while wrk drives one endpoint.

Signs in users of the seeded database, starts the server, reads every user's feed once (warm
timelines), then records every server process with py-spy for the length of a wrk run and
writes the SVG into bench/results/. The lesson of these graphs is in the README's performance
section: where a request's time goes is what to optimise, not what one guesses.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import feed as feed_bench
from bench import wrk
from glint.config import Settings
from tests.live import LiveServer, settings_env


def py_spy() -> str:
    """The py-spy beside this interpreter (a dev dependency)."""
    found = Path(sys.executable).with_name("py-spy")
    if not found.exists():
        raise SystemExit("py-spy is missing: `make install` (it is in the dev dependency group)")
    return str(found)


def profile(
    settings: Settings,
    *,
    path: str,
    seconds: float,
    connections: int,
    serve_workers: int,
    out: Path,
) -> dict[str, Any]:
    """Record the server under load; the wrk figures of the recorded run."""
    wrk.require()
    _ids, tokens = asyncio.run(feed_bench.sign_in_users(settings, 500))
    tokens_file = Path(tempfile.mkdtemp(prefix="glint-bench-profile-")) / "tokens.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    server = LiveServer(settings_env(settings), "--workers", str(serve_workers))
    try:
        server.wait_ready(timeout=60)
        asyncio.run(feed_bench.warm(server.url, tokens, 4))
        recorder = subprocess.Popen(
            [
                py_spy(),
                "record",
                "--subprocesses",
                "--rate",
                "250",
                "--duration",
                str(round(seconds)),
                "--output",
                str(out),
                "--pid",
                str(server.process.pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # py-spy attaches before the load starts
        result = wrk.run(
            server.url + path,
            seconds=seconds,
            connections=connections,
            threads=2,
            tokens_file=tokens_file,
        )
        recorder.wait(timeout=seconds + 60)
    finally:
        server.stop()
        shutil.rmtree(tokens_file.parent, ignore_errors=True)
    return {"path": path, "svg": str(out), "load_while_recording": result}
