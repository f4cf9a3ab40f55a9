"""The time every time rule reads: the system clock, or one that tests move instead of sleeping."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from glint.infra.db import utcnow


class Clock(Protocol):
    """Tells the current time (timezone-aware UTC)."""

    def now(self) -> dt.datetime:
        """The current time."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        """The current time, UTC."""
        return utcnow()


class MovableClock:
    """The machine's clock plus an offset the tests move forward (a day passes in no time)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def now(self) -> dt.datetime:
        """The system time, moved by the offset."""
        return utcnow() + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        """Move time forward (or back with a negative delta)."""
        self.offset += delta

    def reset(self) -> None:
        """Back to the system time."""
        self.offset = dt.timedelta()
