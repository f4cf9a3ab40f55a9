"""Tables of the accounts domain: users and their sign-in sessions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, UTCDateTime

ROLES = ("user", "verified", "moderator", "admin")
# Who may work the report queue and take content down; admins may also ban and give roles.
STAFF_ROLES = ("moderator", "admin")


class User(Base):
    """A person's account. Usernames and e-mails are stored lower-cased: unique without case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(sa.String(30), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(64), default="")
    bio: Mapped[str] = mapped_column(sa.String(150), default="")
    website: Mapped[str] = mapped_column(sa.String(200), default="")
    is_private: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    role: Mapped[str] = mapped_column(sa.String(16), default="user")
    avatar_key: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    follower_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    following_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    post_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_active_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    banned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Why, and until when (none: until an admin lifts it); lifted by a periodic job.
    ban_reason: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    banned_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Deletion: asked for at deleted_at (the account is hidden from then on); purged by a job
    # once purge_after passes; signing in before then cancels it (see DeletionStatus).
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    deletion_status: Mapped[str | None] = mapped_column(sa.String(16), default=None)
    purge_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Two-factor sign-in (TOTP): the confirmed secret, one awaiting its first code, and the
    # last time step accepted (a code is good once).
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    totp_pending_secret: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)

    __table_args__ = (
        sa.CheckConstraint("role IN ('user', 'verified', 'moderator', 'admin')", name="role"),
        sa.CheckConstraint("follower_count >= 0 AND following_count >= 0", name="counts"),
        # The most followed first: typeahead over a common prefix, popular suggestions.
        sa.Index("ix_users_follower_count_id", "follower_count", "id"),
        # The purge's periodic claim looks only at accounts awaiting deletion.
        sa.Index(
            "ix_users_purge_after",
            "purge_after",
            sqlite_where=sa.text("deletion_status IS NOT NULL"),
            postgresql_where=sa.text("deletion_status IS NOT NULL"),
        ),
    )

    @property
    def is_verified(self) -> bool:
        """Shown with a badge."""
        return self.role == "verified"

    @property
    def is_staff(self) -> bool:
        """May handle reports and remove content."""
        return self.role in STAFF_ROLES

    @property
    def is_active_account(self) -> bool:
        """Neither banned nor deleted."""
        return self.banned_at is None and self.deleted_at is None


class AuthSession(Base):
    """A signed-in device. Only the token's hash is stored, so a database leak signs no one in."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(sa.String(256), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    # How it signed in: "password", "totp" (password + code) or "recovery" (password + a
    # recovery code); shown in the sessions list.
    factor: Mapped[str] = mapped_column(sa.String(16), default="password")


class RecoveryCode(Base):
    """One of the ten single-use codes that replace the second factor; stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class AccountToken(Base):
    """A single-use token sent by e-mail (address verification, password reset); only its
    hash is stored, with the address it was sent to and when it stops working."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        sa.CheckConstraint("purpose IN ('verify_email', 'reset_password')", name="purpose"),
    )


class UsernameReservation(Base):
    """A username given up by a rename: nobody else may take it until `until`, and its
    profile URL redirects to the new name meanwhile."""

    __tablename__ = "username_reservations"

    username: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def active_accounts() -> sa.ColumnElement[bool]:
    """SQL: the account is neither banned nor deleted (everyone else sees only these)."""
    return sa.and_(User.banned_at.is_(None), User.deleted_at.is_(None))
