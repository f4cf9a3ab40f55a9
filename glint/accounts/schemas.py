"""API shapes of the accounts domain and the rules for what a username may be."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from glint.schemas import Id, InputSchema, Schema, Timestamp

if TYPE_CHECKING:
    from glint.accounts.models import AuthSession, User
    from glint.media.urls import MediaUrls

USERNAME_PATTERN = re.compile(r"^[a-z0-9._]{3,30}$")
# Names that collide with routes, roles or the staff; never assignable.
RESERVED_USERNAMES = frozenset(
    {
        "me",
        "admin",
        "administrator",
        "api",
        "media",
        "static",
        "explore",
        "stories",
        "story",
        "settings",
        "login",
        "logout",
        "signup",
        "register",
        "auth",
        "accounts",
        "account",
        "about",
        "help",
        "support",
        "root",
        "system",
        "glint",
        "feed",
        "search",
        "direct",
        "inbox",
        "notifications",
        "p",
        "tags",
        "hashtags",
        "users",
        "posts",
        "reels",
        "docs",
        "openapi.json",
        "metrics",
        "healthz",
        "readyz",
        "www",
        "mail",
        "moderator",
        "staff",
        "security",
        "privacy",
        "terms",
        "null",
        "undefined",
        "new",
        "edit",
        "saved",
    }
)
MIN_PASSWORD = 8
MAX_PASSWORD = 256


def normalize_username(value: str) -> str:
    """The stored form of a username, or ValueError saying what is wrong with it."""
    name = value.strip().lower()
    if not 3 <= len(name) <= 30:
        raise ValueError("must be 3 to 30 characters")
    if not USERNAME_PATTERN.match(name):
        raise ValueError("may contain only letters, digits, '.' and '_'")
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise ValueError("may not start or end with '.', nor have '..'")
    if name in RESERVED_USERNAMES:
        raise ValueError("is reserved")
    return name


def _check_password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise ValueError(f"must be at least {MIN_PASSWORD} characters")
    if len(value) > MAX_PASSWORD:
        raise ValueError(f"must be at most {MAX_PASSWORD} characters")
    return value


def _check_website(value: str) -> str:
    if value and not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError("must be an http(s) URL")
    return value


Password = Annotated[str, Field(max_length=MAX_PASSWORD * 4), AfterValidator(_check_password)]
DisplayName = Annotated[str, StringConstraints(max_length=64)]
Role = Literal["user", "verified", "moderator", "admin"]


class RegisterIn(InputSchema):
    """POST /auth/register."""

    username: Annotated[str, Field(max_length=64), AfterValidator(normalize_username)]
    email: Annotated[EmailStr, Field(max_length=254)]
    password: Password
    display_name: DisplayName = ""


class LoginIn(InputSchema):
    """POST /auth/login: a username or an e-mail address."""

    login: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD * 4)]


class PasswordChangeIn(InputSchema):
    """POST /auth/password."""

    current_password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD * 4)]
    new_password: Password


class ProfilePatchIn(InputSchema):
    """PATCH /users/me: only the fields given change."""

    display_name: DisplayName | None = None
    bio: Annotated[str, StringConstraints(max_length=150)] | None = None
    website: (
        Annotated[str, StringConstraints(max_length=200), AfterValidator(_check_website)] | None
    ) = None
    is_private: bool | None = None


class Relationship(Schema):
    """How the viewer and another user are connected."""

    following: bool
    followed_by: bool
    requested: bool
    blocking: bool
    muting: bool


class UserSummary(Schema):
    """The small form of a user, embedded in posts, comments and lists."""

    id: Id
    username: str
    display_name: str
    avatar_url: str | None
    is_verified: bool

    @classmethod
    def of(cls, user: User, *, urls: MediaUrls, **extra: object) -> Self:
        """The shape of a user row, with its avatar URL signed."""
        return cls.model_validate(
            {
                **{name: getattr(user, name) for name in cls.model_fields if hasattr(user, name)},
                "avatar_url": urls.avatar(user.avatar_key),
                **extra,
            }
        )


class UserOut(UserSummary):
    """A public profile."""

    bio: str
    website: str
    is_private: bool
    follower_count: int
    following_count: int
    post_count: int
    created_at: Timestamp
    relationship: Relationship | None = Field(default=None, exclude_if=lambda v: v is None)


class MeOut(UserOut):
    """The signed-in user's own account."""

    email: str
    role: Role


class AuthOut(Schema):
    """A new session: the token for Bearer use and the CSRF token for cookie use."""

    user: MeOut
    token: str
    csrf_token: str


class CsrfOut(Schema):
    """GET /auth/csrf."""

    csrf_token: str


class SessionOut(Schema):
    """One signed-in device."""

    id: Id
    created_at: Timestamp
    last_used_at: Timestamp
    expires_at: Timestamp
    user_agent: str
    ip: str
    current: bool

    @classmethod
    def of(cls, row: AuthSession, *, current: bool) -> Self:
        """The shape of a session row."""
        return cls(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            user_agent=row.user_agent,
            ip=row.ip,
            current=current,
        )
