"""What happens to an account being deleted, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class DeletionDue(Event):
    """An account's grace period is over (or there was none): its purge may start, or has
    been claimed already; the subscriber finishes it either way."""

    name = "account.deletion_due"
    user_id: int
