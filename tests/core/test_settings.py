"""Settings: production refuses unsafe values; development never signs with a known key."""

from pathlib import Path

import pytest

from configs import SettingsError, load_settings


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


def test_production_accepts_a_long_random_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("AUTH_SECRET_KEY", "x" * 40)
    assert load_settings().app.is_production


def test_production_refuses_wildcard_cors_with_credentials(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("AUTH_SECRET_KEY", "x" * 40)
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
