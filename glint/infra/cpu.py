"""CPU-heavy work (image processing) in a pool of low-priority processes.

Run in the serving process, Pillow would compete with request handling for the same cores;
in processes of their own, at a lower scheduling priority, renders use idle CPU and uploads,
feeds and likes stay quick. The pool starts lazily, on the first render.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
NICENESS = 10


def _lower_priority() -> None:
    # Where lowering priority is not allowed, run at normal priority rather than not at all.
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


class CpuPool:
    """A lazily started process pool for picklable, CPU-bound functions."""

    def __init__(self, *, workers: int) -> None:
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """fn(*args, **kwargs) in a pool process."""
        if self._executor is None:
            # spawn, not fork: the parent holds event loops, sockets and threads.
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=get_context("spawn"),
                initializer=_lower_priority,
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _call, fn, args, kwargs)

    def close(self) -> None:
        """Stop the pool's processes."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _call(fn: Callable[..., R], args: tuple[object, ...], kwargs: dict[str, object]) -> R:
    return fn(*args, **kwargs)
