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
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        sa.CheckConstraint("role IN ('user', 'verified', 'moderator', 'admin')", name="role"),
        sa.CheckConstraint("follower_count >= 0 AND following_count >= 0", name="counts"),
        # The most followed first: typeahead over a common prefix, popular suggestions.
        sa.Index("ix_users_follower_count_id", "follower_count", "id"),
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


def active_accounts() -> sa.ColumnElement[bool]:
    """SQL: the account is neither banned nor deleted (everyone else sees only these)."""
    return sa.and_(User.banned_at.is_(None), User.deleted_at.is_(None))
