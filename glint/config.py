"""Settings: every knob of Glint, read from `GLINT_*` environment variables.

Unset means embedded: SQLite, files on disk, in-process cache, jobs and pub/sub. Setting any of
the URL fields switches that one dependency to its scale-out implementation.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values people paste from tutorials; a deployment signing media URLs with one is forgeable.
WEAK_SECRETS = frozenset(
    {"", "secret", "changeme", "change-me", "password", "glint", "dev", "test", "insecure"}
)
MIN_SECRET_LENGTH = 32

RateLimitAction = Literal[
    "failed_logins",
    "registrations",
    "second_factor",
    "emails",
    "posts",
    "stories",
    "follows",
    "likes",
    "comments",
    "messages",
    "default",
]
# What one account does (not browsing, not sign-in): tighter while the account is new.
NEW_ACCOUNT_ACTIONS = ("posts", "stories", "follows", "likes", "comments", "messages")


class Settings(BaseSettings):
    """Glint's configuration; see the README for how the run modes are chosen."""

    model_config = SettingsConfigDict(env_prefix="GLINT_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("./data"),
        description="Where embedded mode keeps its SQLite database, media files and secret key.",
    )
    database_url: str = Field(
        default="",
        description="sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db; "
        "empty means SQLite in the data folder.",
    )
    redis_url: str = Field(
        default="",
        description="redis://host:port/db for cache, sessions, rate limits, timelines and pub/sub; "
        "empty means in-process implementations.",
    )
    redis_prefix: str = Field(
        default="glint:",
        description="Prefix of every Redis key, so deployments (or test runs) can share one.",
    )
    broker_url: str = Field(
        default="",
        description="amqp://user:pass@host:port/vhost for background jobs on RabbitMQ; "
        "empty means the durable job table worked inside `glint serve`.",
    )
    storage_url: str = Field(
        default="",
        description="file:///path or s3://bucket?endpoint=...&region=...; "
        "empty means files under <data_dir>/media.",
    )
    secret_key: str = Field(
        default="",
        description="Signs media URLs and CSRF tokens. Generated once in embedded mode; "
        "required (at least 32 characters) once any scale-out setting is used.",
    )
    fanout_threshold: int = Field(
        default=10_000,
        ge=1,
        description="Followers above which an author's posts are pulled at read time.",
    )
    feed_active_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Followers signed in within this many days get posts pushed to their "
        "timelines; anyone else has theirs rebuilt from the database when they come back.",
    )
    feed_timeline_cap: int = Field(
        default=800, ge=50, le=10_000, description="Post IDs kept in each home timeline."
    )
    feed_fanout_batch: int = Field(
        default=2500, ge=1, le=5000, description="Timelines written per fan-out round trip."
    )
    ranked_like_weight: float = Field(
        default=2.0, ge=0, description="Ranked feed: points per like."
    )
    ranked_comment_weight: float = Field(
        default=3.0, ge=0, description="Ranked feed: points per comment."
    )
    ranked_recency_weight: float = Field(
        default=1000.0, ge=0, description="Ranked feed: points of recency, divided by hours+1."
    )
    ranked_window_days: int = Field(
        default=7, ge=1, le=90, description="Ranked feed: how far back candidates go."
    )
    explore_refresh_seconds: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description="How often the explore candidates are recomputed (never per request).",
    )
    explore_window_days: int = Field(
        default=30, ge=1, le=365, description="Explore: how far back candidates go."
    )
    redis_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="After Redis fails, requests skip it this long before one tries again.",
    )
    session_ttl_days: int = Field(
        default=60, ge=1, le=3650, description="Days a sign-in session lives without use."
    )
    auth_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        le=300,
        description=(
            "How long a process remembers which session a token opens (0 = ask the database on "
            "every request). A revocation evicts it at once in every process: over Redis "
            "pub/sub at scale, through a stamp file in the data folder embedded."
        ),
    )
    rate_limits_enabled: bool = Field(
        default=True, description="Switches every rate limit off when false (benchmarks)."
    )
    rate_limit_failed_logins: str = Field(
        default="5/minute", description="Failed logins per IP and per account."
    )
    rate_limit_registrations: str = Field(default="5/hour", description="Sign-ups per IP.")
    rate_limit_second_factor: str = Field(
        default="5/15 minutes",
        description="Wrong two-factor codes per account (sign-in's second step, and the "
        "checks of delete and disable).",
    )
    rate_limit_emails: str = Field(
        default="5/hour",
        description="E-mails asked for (password resets, verification links) per IP and per "
        "address.",
    )
    rate_limit_posts: str = Field(default="10/hour", description="New posts per user.")
    rate_limit_stories: str = Field(default="20/hour", description="New stories per user.")
    rate_limit_follows: str = Field(default="30/hour", description="Follows per user.")
    rate_limit_likes: str = Field(default="100/hour", description="Likes per user.")
    rate_limit_comments: str = Field(default="50/hour", description="Comments per user.")
    rate_limit_messages: str = Field(default="60/minute", description="Messages per user.")
    rate_limit_default: str = Field(
        default="1000/minute",
        description="Every other request, per user (per IP when anonymous).",
    )
    # Moderation: the automatic guards on new accounts.
    new_account_hours: int = Field(
        default=24,
        ge=0,
        description="An account this young is a new one: tighter rate limits, link comments held.",
    )
    new_account_limit_divisor: int = Field(
        default=4,
        ge=1,
        description="A new account gets each per-user rate limit divided by this (1: no change).",
    )
    hold_comment_links: int = Field(
        default=2,
        ge=0,
        description="A new account's comment with this many links waits for review (0: never).",
    )
    # --- Account data ownership: deletion, exports
    account_deletion_grace_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="Days a deleted account waits (hidden, and restored by signing in) before "
        "everything it made is removed; 0 removes it at once.",
    )
    export_ttl_days: int = Field(
        default=7, ge=1, le=90, description="Days a finished data export can be downloaded."
    )
    # --- E-mail: embedded writes .eml files into the data folder's outbox; SMTP once a host is set
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address members reach Glint at; the links in e-mails start with it.",
    )
    mail_from: str = Field(
        default="Glint <no-reply@localhost>", description="The From: of every e-mail Glint sends."
    )
    smtp_host: str = Field(
        default="", description="SMTP server to send e-mail through; empty: the file outbox."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str = Field(default="", description="SMTP login; empty: no AUTH.")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS (refuse if absent)."
    )
    smtp_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="How long one SMTP exchange may take."
    )
    smtp_ca_file: str = Field(
        default="",
        description="PEM file of the authorities whose certificates the SMTP server may "
        "present (a private relay's own CA); empty: the system's.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated IPs/CIDRs whose X-Forwarded-For is believed.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Minimum level of log lines written."
    )
    log_format: Literal["json", "console"] = Field(
        default="json", description="json for machines, console for people at a terminal."
    )
    argon2_memory_kib: int = Field(
        default=65536,
        ge=1024,
        description="Argon2id memory cost per password hash (KiB); lower only for tests.",
    )
    argon2_time_cost: int = Field(
        default=3, ge=1, le=20, description="Argon2id passes per password hash."
    )
    job_concurrency: int = Field(
        default=2, ge=1, le=64, description="Jobs run at once by the embedded worker."
    )
    job_backoff_seconds: float = Field(
        default=2.0, gt=0, le=600, description="First retry delay; doubles with each attempt."
    )
    job_lease_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="Lease of a claimed job (and of a periodic task's run), renewed every third "
        "of it while the work runs; a worker silent this long is presumed dead and its job is "
        "handed out again.",
    )
    job_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often an idle embedded worker looks for jobs."
    )
    job_done_retention_seconds: float = Field(
        default=86400.0,
        ge=60,
        le=90 * 86400,
        description="How long finished jobs stay in the jobs table before a periodic purge.",
    )
    job_queue_name: str = Field(
        default="glint-jobs",
        pattern=r"^[A-Za-z0-9_.-]{1,100}$",
        description="RabbitMQ queue the scale-out workers consume.",
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="PostgreSQL connections per process."
    )
    # Real time (GET /api/v1/stream).
    stream_window_seconds: float = Field(
        default=600.0,
        ge=10,
        le=7 * 86400,
        description="How long each user's stream events are kept, so a device reconnecting "
        "with `since` gets what it missed; one away longer gets `resync` and refetches.",
    )
    stream_window_events: int = Field(
        default=1000,
        ge=10,
        le=100_000,
        description="Stream events kept per user within the window (the oldest go first).",
    )
    stream_ping_seconds: float = Field(
        default=30.0,
        ge=1,
        le=600,
        description="The server sends a ping frame this often; a client that sends nothing "
        "(no pong) between two pings is disconnected.",
    )
    stream_send_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="A frame the client does not take within this time disconnects it "
        "(close code 4008): a slow consumer never holds memory or a server task.",
    )
    stream_queue_size: int = Field(
        default=256,
        ge=8,
        le=10_000,
        description="Ephemeral signals (typing) waiting per connection; one more disconnects "
        "the client as too slow (stored events never queue: they are re-read from the log).",
    )
    stream_recheck_seconds: float = Field(
        default=300.0,
        ge=5,
        le=86400,
        description="How often each stream connection checks that its session is still valid "
        "(sign-out closes sockets at once; this catches a close broadcast that was lost).",
    )
    stream_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Without Redis: how often a process looks for stream events stored by "
        "another process (several `glint serve` workers on one database).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError on garbage
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://")):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("broker_url")
    @classmethod
    def _check_broker_url(cls, value: str) -> str:
        if value and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("must start with amqp:// or amqps://")
        return value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str) -> str:
        if value and not value.startswith(("file://", "s3://")):
            raise ValueError("must start with file:// or s3://")
        return value

    @field_validator(
        "rate_limit_failed_logins",
        "rate_limit_registrations",
        "rate_limit_second_factor",
        "rate_limit_emails",
        "rate_limit_posts",
        "rate_limit_stories",
        "rate_limit_follows",
        "rate_limit_likes",
        "rate_limit_comments",
        "rate_limit_messages",
        "rate_limit_default",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '10/hour': {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.is_scale_out and self.secret_key.strip().lower() in WEAK_SECRETS:
            raise ValueError("GLINT_SECRET_KEY is required once any scale-out setting is used")
        if self.secret_key:
            if self.secret_key.strip().lower() in WEAK_SECRETS:
                raise ValueError("GLINT_SECRET_KEY is a well-known weak value; generate one")
            if len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"GLINT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
                )
        return self

    @property
    def is_scale_out(self) -> bool:
        """True once any dependency points outside the process."""
        return bool(
            self.redis_url
            or self.broker_url
            or self.storage_url.startswith("s3://")
            or self.database_url.startswith("postgresql")
        )

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'glint.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        """True when the relational store is SQLite."""
        return self.effective_database_url.startswith("sqlite")

    @cached_property
    def effective_secret_key(self) -> str:
        """The configured secret, or the one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        return _load_or_create_secret(self.data_dir / "secret_key")

    def rate_limit(self, action: RateLimitAction, *, new_account: bool = False) -> str:
        """The configured limit string for one action; for a new account, a per-user action's
        limit divided by `new_account_limit_divisor` (at least 1 is always allowed)."""
        value: str = getattr(self, f"rate_limit_{action}")
        divisor = self.new_account_limit_divisor
        if not new_account or divisor == 1 or action not in NEW_ACCOUNT_ACTIONS:
            return value
        from limits import parse_many

        return ";".join(
            f"{max(1, item.amount // divisor)}/{item.multiples} {item.GRANULARITY.name}"
            for item in parse_many(value)
        )

    def is_new_account(self, created_at: dt.datetime) -> bool:
        """Whether an account that signed up then is still new (the guards apply)."""
        age = dt.datetime.now(dt.UTC) - created_at
        return age < dt.timedelta(hours=self.new_account_hours)


def _load_or_create_secret(path: Path) -> str:
    """Read the embedded secret, creating it (mode 0600) on first start."""
    if path.exists():
        value = path.read_text().strip()
        if len(value) >= MIN_SECRET_LENGTH:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
