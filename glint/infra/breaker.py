"""A circuit breaker: after a dependency fails, stop calling it for a while instead of waiting.

Closed: calls go through. A failure opens it: for `reset_after` seconds every call is refused at
once (no request waits on a dead connection). Then one trial call is let through (half-open):
success closes the breaker, failure opens it again.
"""

from __future__ import annotations

import time


class CircuitOpen(Exception):
    """The breaker is open: the dependency failed recently and is not being called."""


class CircuitBreaker:
    """The state of one dependency as seen by this process."""

    def __init__(self, name: str, *, reset_after: float = 5.0) -> None:
        self.name = name
        self.reset_after = reset_after
        self._opened_at: float | None = None
        self._trial_running = False
        self.failures = 0

    @property
    def is_open(self) -> bool:
        """Whether calls are being refused right now."""
        if self._opened_at is None:
            return False
        return time.monotonic() - self._opened_at < self.reset_after or self._trial_running

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go through (closed, or the half-open trial)."""
        if self._opened_at is None:
            return
        if self.is_open:
            raise CircuitOpen(f"{self.name} failed recently; not calling it")
        self._trial_running = True

    def succeeded(self) -> None:
        """The call worked: close the breaker."""
        self._opened_at = None
        self._trial_running = False

    def failed(self) -> None:
        """The call failed: open (or re-open) the breaker."""
        self.failures += 1
        self._opened_at = time.monotonic()
        self._trial_running = False
