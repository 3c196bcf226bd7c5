"""Settings: production refuses unsafe values; development never signs with a known key."""

import secrets
from pathlib import Path

import pytest

from configs import SettingsError, load_settings

RANDOM_SECRET = "9mQ2vL7xR4tW1zK8pN3sJ6dF0hB5cY-aE_uG2iO7qT4w"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("AUTH_SECRET_KEY", "CORS_ORIGINS", "CORS_ALLOW_CREDENTIALS", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize("secret", [None, "change-me", "short-but-not-placeholder"])
def test_production_refuses_missing_default_or_short_secret(
    clean_env: pytest.MonkeyPatch, secret: str | None
) -> None:
    clean_env.setenv("APP_ENV", "production")
    if secret is not None:
        clean_env.setenv("AUTH_SECRET_KEY", secret)
    with pytest.raises(SettingsError, match="AUTH_SECRET_KEY"):
        load_settings()


@pytest.mark.parametrize("secret", ["x" * 40, "a" * 32, "abcd" * 10, "0123456789abcdef" * 2])
def test_production_refuses_a_long_but_guessable_secret(
    clean_env: pytest.MonkeyPatch, secret: str
) -> None:
    """Length alone let a 32-character run of one letter through."""
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("AUTH_SECRET_KEY", secret)
    with pytest.raises(SettingsError, match="AUTH_SECRET_KEY looks guessable"):
        load_settings()


@pytest.mark.parametrize(
    "secret",
    [RANDOM_SECRET, secrets.token_hex(16), secrets.token_urlsafe(32)],
    ids=["fixed", "token_hex", "token_urlsafe"],  # the same test ids in every xdist worker
)
def test_production_accepts_a_long_random_secret(
    clean_env: pytest.MonkeyPatch, secret: str
) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("AUTH_SECRET_KEY", secret)
    assert load_settings().app.is_production


def test_production_defaults_are_the_safe_ones(clean_env: pytest.MonkeyPatch) -> None:
    for name in ("APP_DOCS_ENABLED", "APP_HSTS_SECONDS", "AUTH_ALLOW_UNVERIFIED_LOGIN"):
        clean_env.delenv(name, raising=False)
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("AUTH_SECRET_KEY", RANDOM_SECRET)
    production = load_settings()
    assert production.app.docs_enabled is False
    assert production.auth.allow_unverified_login is False
    assert production.app.hsts_seconds == 365 * 24 * 3600
    clean_env.setenv("APP_ENV", "development")
    development = load_settings()
    assert development.app.docs_enabled is True
    assert development.auth.allow_unverified_login is True
    assert development.app.hsts_seconds == 0
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("APP_DOCS_ENABLED", "true")
    clean_env.setenv("APP_HSTS_SECONDS", "0")
    clean_env.setenv("AUTH_ALLOW_UNVERIFIED_LOGIN", "true")
    chosen = load_settings()
    assert chosen.app.docs_enabled is True
    assert chosen.app.hsts_seconds == 0
    assert chosen.auth.allow_unverified_login is True


def test_production_refuses_wildcard_cors_with_credentials(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("AUTH_SECRET_KEY", RANDOM_SECRET)
    clean_env.setenv("CORS_ORIGINS", "*")
    clean_env.setenv("CORS_ALLOW_CREDENTIALS", "true")
    with pytest.raises(SettingsError, match="CORS"):
        load_settings()


def test_development_generates_and_keeps_a_local_secret(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("APP_ENV", "development")
    first = load_settings().secret_key
    assert len(first) >= 32
    assert load_settings().secret_key == first
    assert (tmp_path / ".secret_key").stat().st_mode & 0o077 == 0


def test_env_file_is_read(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("APP_NAME=From File\nCORS_ORIGINS=https://a.example, https://b.example\n")
    clean_env.setenv("ENV_FILE", str(env_file))
    clean_env.delenv("APP_NAME", raising=False)
    settings = load_settings()
    assert settings.app.name == "From File"
    assert settings.cors.origins == ["https://a.example", "https://b.example"]


def test_embedded_default_without_database_url(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.delenv("DATABASE_URL", raising=False)
    clean_env.delenv("REDIS_URL", raising=False)
    settings = load_settings()
    assert settings.is_embedded
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'plinth.db'}"
    assert settings.redis.url is None


def test_redis_topologies_are_one_at_a_time_and_need_the_url(
    clean_env: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from configs.redis import RedisSettings

    for name in ("REDIS_URL", "REDIS_SENTINELS", "REDIS_CLUSTER"):
        clean_env.delenv(name, raising=False)
    sentinel = RedisSettings(url="redis://x/2", sentinels=" a:26379, b:26380", cluster=False)
    assert sentinel.sentinel_addresses() == [("a", 26379), ("b", 26380)]
    with pytest.raises(ValidationError, match="not both"):
        RedisSettings(url="redis://x/0", sentinels="a:26379", cluster=True)
    with pytest.raises(ValidationError, match="need REDIS_URL"):
        RedisSettings(cluster=True)
