"""Leases: which process holds a piece of work, whether it is surely gone, and keeping a lease
alive while the work runs. Jobs and periodic tasks both use them (queue.py, periodic.py).
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from glint.infra.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """This process as lease holders name it: host, pid, and a token that outlives pid reuse.

    The token is "<pid namespace>.<boot id>.<start time in clock ticks>" on Linux: a pid seen
    again with another start time is another process, and another boot means all are gone.
    Elsewhere it is random, and only a missing pid proves a holder dead.
    """

    host: str
    pid: int
    token: str

    @property
    def holder(self) -> str:
        """The process part of every `locked_by` this process writes."""
        return f"{self.host}:{self.pid}:{self.token}"


def process_identity() -> ProcessIdentity:
    """This process's identity (computed once per pid, so a forked child gets its own)."""
    return _identity_of(os.getpid())


@functools.cache
def _identity_of(pid: int) -> ProcessIdentity:
    host = socket.gethostname().replace(":", "_")[:64] or "localhost"
    start = _start_ticks(pid)
    namespace, boot = _pid_namespace(), _boot_id()
    if start is None or namespace is None or boot is None:
        return ProcessIdentity(host, pid, "r" + secrets.token_hex(6))
    return ProcessIdentity(host, pid, f"{namespace}.{boot}.{start}")


def new_holder() -> str:
    """A `locked_by` value for one claim: this process plus a nonce unique to the claim."""
    return f"{process_identity().holder}:{secrets.token_hex(4)}"


def _start_ticks(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its closing one.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _pid_namespace() -> str | None:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8] or None
    except OSError:
        return None


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def holder_is_dead(locked_by: str, me: ProcessIdentity | None = None) -> bool:
    """True only when the holder is surely gone: a process of this host that no longer runs."""
    me = me or process_identity()
    parts = locked_by.split(":")
    if len(parts) < 3 or parts[0] != me.host or not parts[1].isdigit():
        return False  # another machine's, or not ours to judge: its lease decides
    pid, token = int(parts[1]), parts[2]
    if token.startswith("r") or me.token.startswith("r"):
        return not _pid_exists(pid)
    their = token.split(".")
    ours = me.token.split(".")
    if len(their) != 3 or their[0] != ours[0]:
        return False  # another pid namespace (a container): its pids are not ours to check
    if their[1] != ours[1]:
        return True  # the machine rebooted since it was written
    return _start_ticks(pid) != their[2]


class LeaseLost(Exception):
    """The lease was taken over by someone else: the work must stop."""


async def run_leased(
    work: Awaitable[T], *, renew: Callable[[], Awaitable[bool]], every: float
) -> T:
    """Run work while renewing its lease every so often; cancel it once the lease is lost."""
    task: asyncio.Task[T] = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            try:
                still_ours = await renew()
            except Exception:  # a database hiccup: the lease may well still be ours, retry
                log.warning("lease_renewal_failed", exc_info=True)
                continue
            if not still_ours:
                raise LeaseLost
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
