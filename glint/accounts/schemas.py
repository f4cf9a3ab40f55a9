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
SignInFactor = Literal["password", "totp", "recovery"]
# A TOTP code (6 digits) or a recovery code (xxxxx-xxxxx), with room for stray spaces.
SecondFactorCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AnyPassword = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD * 4)]


class RegisterIn(InputSchema):
    """POST /auth/register."""

    username: Annotated[str, Field(max_length=64), AfterValidator(normalize_username)]
    email: Annotated[EmailStr, Field(max_length=254)]
    password: Password
    display_name: DisplayName = ""


class LoginIn(InputSchema):
    """POST /auth/login: a username or an e-mail address."""

    login: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: AnyPassword


class PasswordChangeIn(InputSchema):
    """POST /auth/password."""

    current_password: AnyPassword
    new_password: Password


EmailToken = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Email = Annotated[EmailStr, Field(max_length=254)]


class EmailVerifyIn(InputSchema):
    """POST /auth/email/verify: the token of a verification link."""

    token: EmailToken


class PasswordForgotIn(InputSchema):
    """POST /auth/password/forgot."""

    email: Email


class PasswordResetIn(InputSchema):
    """POST /auth/password/reset: the token of a reset link and the new password."""

    token: EmailToken
    new_password: Password


class EmailChangeIn(InputSchema):
    """PUT /users/me/email: the new address, confirmed by the password."""

    email: Email
    password: AnyPassword


class UsernameChangeIn(InputSchema):
    """PUT /users/me/username: the new name, confirmed by the password."""

    username: Annotated[str, Field(max_length=64), AfterValidator(normalize_username)]
    password: AnyPassword


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
    two_factor_enabled: bool
    email_verified: bool

    @classmethod
    def of(cls, user: User, *, urls: MediaUrls, **extra: object) -> Self:
        """The shape of the account, with whether signing in needs a second factor."""
        extra.setdefault("two_factor_enabled", user.totp_secret is not None)
        extra.setdefault("email_verified", user.email_verified_at is not None)
        return super().of(user, urls=urls, **extra)


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
    # How it signed in: the password alone, or with an authenticator code or a recovery code.
    factor: SignInFactor
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
            factor=row.factor,
            current=current,
        )


class LoginOut(Schema):
    """POST /auth/login: a session, or (two-factor accounts) the challenge for the second step."""

    two_factor_required: bool = False
    challenge: str | None = None
    user: MeOut | None
    token: str | None
    csrf_token: str | None

    @classmethod
    def signed_in(cls, auth: AuthOut) -> Self:
        """A sign-in done in one step (or the second step done)."""
        return cls(user=auth.user, token=auth.token, csrf_token=auth.csrf_token)

    @classmethod
    def pending(cls, challenge: str) -> Self:
        """The password was right; the second factor is still to come."""
        return cls(
            two_factor_required=True, challenge=challenge, user=None, token=None, csrf_token=None
        )


class TwoFactorLoginIn(InputSchema):
    """POST /auth/login/2fa: the first step's challenge and a code (or a recovery code)."""

    challenge: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    code: SecondFactorCode


class TwoFactorSetupOut(Schema):
    """POST /auth/2fa/setup: the secret for an authenticator app, as text and as a QR code."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class TwoFactorCodeIn(InputSchema):
    """POST /auth/2fa/enable: the first code from the authenticator app."""

    code: SecondFactorCode


class TwoFactorConfirmIn(InputSchema):
    """Disabling 2FA or replacing the recovery codes: the password and a code."""

    password: AnyPassword
    code: SecondFactorCode


class RecoveryCodesOut(Schema):
    """Ten single-use recovery codes, shown this once."""

    recovery_codes: list[str]


class TwoFactorStatusOut(Schema):
    """GET /auth/2fa."""

    enabled: bool
    pending: bool
    recovery_codes_left: int
