"""What happens to a member's data exports, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class ExportRequested(Event):
    """A member asked for a copy of their data: the export row is running, its ZIP to build."""

    name = "export.requested"
    export_id: int
    user_id: int
