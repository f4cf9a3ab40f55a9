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


@dataclass(frozen=True, slots=True)
class EmailVerificationRequested(Event):
    """An address is to be confirmed (sign-up, a change of address, a resend). No token here:
    the job that sends the link makes it, so no live token ever sits in the outbox."""

    name = "email.verification_requested"
    user_id: int
    email: str


@dataclass(frozen=True, slots=True)
class PasswordResetRequested(Event):
    """Someone asked for a reset link for an address. Emitted whether or not the address has
    an account (so the request takes as long either way); the job looks it up, sends only to
    a confirmed address of an active account, and makes the token."""

    name = "password.reset_requested"
    email: str


@dataclass(frozen=True, slots=True)
class PasswordChanged(Event):
    """The password changed (by the member or through a reset link): the address it belonged
    to at the time hears of it."""

    name = "password.changed"
    user_id: int
    email: str


@dataclass(frozen=True, slots=True)
class EmailChanged(Event):
    """The address changed: the old one hears of it (the new one gets a verification link)."""

    name = "email.changed"
    user_id: int
    old_email: str
    new_email: str
