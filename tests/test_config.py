"""Settings: embedded by default, scale-out by URL, loud about bad values."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from glint.config import Settings

STRONG = "k" * 20 + "Q9" * 10


def test_defaults_are_embedded(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert not settings.is_scale_out
    assert settings.is_sqlite
    assert settings.effective_database_url.endswith(str(tmp_path / "glint.db"))


def test_embedded_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).effective_secret_key
    second = Settings(data_dir=tmp_path).effective_secret_key
    assert first == second
    assert len(first) >= 32
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    "scale_out",
    [
        {"redis_url": "redis://127.0.0.1:6379/0"},
        {"broker_url": "amqp://guest:guest@127.0.0.1:5672/"},
        {"storage_url": "s3://bucket?endpoint=http://127.0.0.1:9000"},
        {"database_url": "postgresql+asyncpg://postgres@127.0.0.1/test"},
    ],
)
def test_scale_out_requires_a_secret(tmp_path: Path, scale_out: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="GLINT_SECRET_KEY is required"):
        Settings(data_dir=tmp_path, **scale_out)
    assert Settings(data_dir=tmp_path, secret_key=STRONG, **scale_out).is_scale_out


@pytest.mark.parametrize("weak", ["changeme", "secret", "short-but-not-weak"])
def test_weak_secrets_are_refused(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ValidationError, match="GLINT_SECRET_KEY"):
        Settings(data_dir=tmp_path, secret_key=weak)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("database_url", "mysql://root@localhost/glint"),
        ("redis_url", "http://localhost:6379"),
        ("broker_url", "redis://localhost"),
        ("storage_url", "ftp://host/path"),
        ("rate_limit_posts", "ten per hour"),
        ("trusted_proxies", "not-an-ip"),
        ("fanout_threshold", "0"),
        ("log_level", "loud"),
    ],
)
def test_bad_values_fail_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    monkeypatch.setenv(f"GLINT_{field.upper()}", value)
    with pytest.raises(ValidationError) as info:
        Settings(data_dir=tmp_path)
    assert field in str(info.value)


def test_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLINT_RATE_LIMIT_POSTS", "3/minute")
    monkeypatch.setenv("GLINT_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    monkeypatch.setenv("GLINT_RATE_LIMITS_ENABLED", "false")
    settings = Settings(data_dir=tmp_path)
    assert settings.rate_limit("posts") == "3/minute"
    assert settings.trusted_proxies == ["10.0.0.1", "192.168.0.0/16"]
    assert settings.rate_limits_enabled is False
