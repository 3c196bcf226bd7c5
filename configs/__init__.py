"""All settings, split by concern and gathered in one `Settings` object.

Values come from environment variables and, when ENV_FILE names one, a file under .envs/.
`get_settings()` builds them once per process; tests call `get_settings.cache_clear()`.
"""

import math
import secrets
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr

from configs.app import AppSettings, Environment
from configs.audit import AuditSettings
from configs.auth import PLACEHOLDER_SECRET, AuthSettings
from configs.cache import CacheSettings
from configs.console import AdminConsoleSettings
from configs.cors import CorsSettings
from configs.database import DatabaseSettings
from configs.email import EmailSettings
from configs.jobs import JobSettings
from configs.limits import LimitSettings
from configs.logging import LoggingSettings
from configs.metrics import MetricsSettings
from configs.observability import SentrySettings, TracingSettings
from configs.ratelimit import RateLimitSettings
from configs.realtime import RealtimeSettings
from configs.redis import RedisSettings
from configs.requestlog import RequestLogSettings
from configs.sso import SsoSettings
from configs.storage import StorageSettings

MIN_SECRET_BYTES = 32
MIN_SECRET_ENTROPY_BITS = 80
"""What `estimated_entropy_bits` must reach in production: 32 random hex digits give ~110, a
repeated letter 0."""

__all__ = ["Environment", "Settings", "SettingsError", "get_settings"]


class SettingsError(RuntimeError):
    """The configuration is unsafe or inconsistent; the app refuses to start."""


@dataclass(frozen=True)
class Settings:
    """Every concern's settings."""

    app: AppSettings
    database: DatabaseSettings
    redis: RedisSettings
    auth: AuthSettings
    cors: CorsSettings
    logging: LoggingSettings
    request_log: RequestLogSettings = field(default_factory=RequestLogSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    sentry: SentrySettings = field(default_factory=SentrySettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    ratelimit: RateLimitSettings = field(default_factory=RateLimitSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    realtime: RealtimeSettings = field(default_factory=RealtimeSettings)
    sso: SsoSettings = field(default_factory=SsoSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    admin_console: AdminConsoleSettings = field(default_factory=AdminConsoleSettings)

    @property
    def database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file under the data directory."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.app.data_dir / 'plinth.db'}"

    @property
    def migration_url(self) -> str:
        """DATABASE_MIGRATION_URL (PostgreSQL itself when DATABASE_URL is a pooler), else
        `database_url`."""
        return self.database.migration_url or self.database_url

    @property
    def email_base_url(self) -> str:
        """Where emailed links point: EMAIL_BASE_URL, else this server's own address
        (`AppSettings.served_url`). Never the request's Host header, which a client chooses:
        a reset link built from it could point at the client's site."""
        return self.email.base_url or self.app.served_url

    @property
    def is_embedded(self) -> bool:
        """True on the embedded default: SQLite and no Redis."""
        return self.database_url.startswith("sqlite")

    @property
    def secret_key(self) -> str:
        """The signing secret (validated at load time)."""
        assert self.auth.secret_key is not None
        return self.auth.secret_key.get_secret_value()


def _local_secret(data_dir: Path) -> SecretStr:
    """A random secret kept in the data directory, so a dev install never signs with a known key."""
    path = data_dir / ".secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return SecretStr(path.read_text().strip())


def estimated_entropy_bits(secret: str) -> float:
    """A rough upper estimate of how many random bits `secret` holds: its length times the
    Shannon entropy of its characters, taken over its shortest repeating unit (`abcabc…`
    counts as `abc`). Enough to catch a repeated letter or a short pattern; not a proof of
    randomness."""
    unit = _shortest_period(secret)
    counts = Counter(unit)
    per_char = -sum(n / len(unit) * math.log2(n / len(unit)) for n in counts.values())
    return per_char * len(unit)


def _shortest_period(text: str) -> str:
    for size in range(1, len(text) // 2 + 1):
        if text == (text[:size] * (len(text) // size + 1))[: len(text)]:
            return text[:size]
    return text


def _check(settings: Settings) -> None:
    secret = settings.auth.secret_key
    if settings.app.is_production:
        if secret is None or secret.get_secret_value() == PLACEHOLDER_SECRET:
            raise SettingsError("AUTH_SECRET_KEY must be set to a random value in production")
        if len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"AUTH_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes")
        if estimated_entropy_bits(secret.get_secret_value()) < MIN_SECRET_ENTROPY_BITS:
            raise SettingsError(
                "AUTH_SECRET_KEY looks guessable (too few different characters, or a repeated "
                "pattern): use a random value, e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'"
            )
        if "*" in settings.cors.origins and settings.cors.allow_credentials:
            raise SettingsError("CORS_ORIGINS='*' with credentials is refused in production")


def load_settings() -> Settings:
    """Read every settings class, fill in a local secret outside production, refuse unsafe ones."""
    app = AppSettings.load().with_environment_defaults()
    auth = AuthSettings.load()
    if auth.secret_key is None and not app.is_production:
        auth = auth.model_copy(update={"secret_key": _local_secret(app.data_dir)})
    if auth.allow_unverified_login is None:
        auth = auth.model_copy(update={"allow_unverified_login": not app.is_production})
    settings = Settings(
        app=app,
        database=DatabaseSettings.load(),
        redis=RedisSettings.load(),
        auth=auth,
        cors=CorsSettings.load(),
        logging=LoggingSettings.load(),
        request_log=RequestLogSettings.load(),
        metrics=MetricsSettings.load(),
        limits=LimitSettings.load(),
        sentry=SentrySettings.load(),
        tracing=TracingSettings.load(),
        ratelimit=RateLimitSettings.load(),
        cache=CacheSettings.load(),
        jobs=JobSettings.load(),
        email=EmailSettings.load(),
        realtime=RealtimeSettings.load(),
        audit=AuditSettings.load(),
        sso=SsoSettings.load(),
        storage=StorageSettings.load(),
        admin_console=AdminConsoleSettings.load(),
    )
    _check(settings)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, loaded once."""
    return load_settings()
