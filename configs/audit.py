"""AUDIT_* variables: how long the audit log keeps its entries (docs/guides/audit.md)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class AuditSettings(PlinthSettings):
    """The audit log's retention and when it is applied."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_")

    retention_days: int = Field(default=365, ge=0)
    """Entries older than this are deleted by the job `platform.purge_audit`; 0 keeps them
    forever."""
    purge_cron: str = "23 3 * * *"
    """When that job runs (empty: never)."""
