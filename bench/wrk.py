"""wrk, the C load generator, driven from the benchmarks: a Lua script rotates bearer tokens
(each request signs in as the next user) and prints its summary as one JSON line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

WRK_SCRIPT = r"""
-- Rotates through the bearer tokens in the file given after `--` (none: plain GETs).
local prepared = {}
local counter = 0

function setup(thread)
  thread:set("offset", math.random(1, 1000000))
end

function init(args)
  if args[1] then
    for line in io.lines(args[1]) do
      if #line > 0 then
        prepared[#prepared + 1] =
          wrk.format("GET", wrk.path, {["Authorization"] = "Bearer " .. line})
      end
    end
  end
  counter = offset or 0
end

function request()
  if #prepared == 0 then
    return wrk.format("GET", wrk.path)
  end
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def version() -> str:
    """`wrk -v`'s first line (wrk exits 1 on -v)."""
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip()


def run(
    url: str, *, seconds: float, connections: int, threads: int, tokens_file: Path | None
) -> dict[str, Any]:
    """One wrk run; requests/s, latency percentiles (ms) and error counts."""
    script = Path(tempfile.mkdtemp(prefix="glint-bench-tray-")) / "rotate.lua"
    script.write_text(WRK_SCRIPT)
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    if tokens_file is not None:
        argv += ["--", str(tokens_file)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    shutil.rmtree(script.parent, ignore_errors=True)
    match = re.search(r"^WRK_JSON (.*)$", done.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(match.group(1))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "non_2xx_3xx": raw["status_errors"],
        "socket_errors": raw["connect_errors"] + raw["read_errors"] + raw["write_errors"],
        "timeouts": raw["timeouts"],
    }


def latency_ms(run_result: dict[str, Any]) -> dict[str, float]:
    """p50 / p90 / p99 of a run, keyed as the plots want them."""
    return {key: run_result[f"{key}_ms"] for key in ("p50", "p90", "p99")}


def require() -> None:
    """Stop with a hint when wrk is not installed."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make system-deps` (or apt-get install wrk)")
