"""What happens in moderation, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class ReportsResolved(Event):
    """A moderator resolved the open reports on one target: each reporter hears the outcome."""

    name = "reports.resolved"
    report_ids: list[int]
    action: str


@dataclass(frozen=True, slots=True)
class ContentRemoved(Event):
    """A moderator took something down: its author hears what and why (the tombstone)."""

    name = "content.removed"
    removal_id: int
    author_id: int
