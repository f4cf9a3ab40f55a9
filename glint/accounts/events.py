"""What happens to accounts, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class AvatarReplaced(Event):
    """A profile photo was replaced or removed; the old one's objects are to go."""

    name = "avatar.replaced"
    user_id: int
    old_prefix: str


@dataclass(frozen=True, slots=True)
class SessionsRevoked(Event):
    """Sign-in sessions ended (logout, revocation, a password change): their sockets close."""

    name = "sessions.revoked"
    user_id: int
    session_ids: list[int]


@dataclass(frozen=True, slots=True)
class ProfileChanged(Event):
    """An account's public face changed: it signed up, or its name or privacy changed (what
    search knows of it follows)."""

    name = "profile.changed"
    user_id: int
