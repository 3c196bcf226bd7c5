"""STORAGE_* variables: where uploaded files live and what an upload may be."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings

DEFAULT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
)


class StorageSettings(PlinthSettings):
    """File storage (core/platform/storage, docs/guides/files.md).

    `backend=local` keeps the bytes under `local_dir` (default: `files/` in APP_DATA_DIR) and the
    app serves uploads and downloads itself through signed, expiring URLs: the embedded default.
    `backend=s3` uses any S3-compatible store (AWS S3, MinIO, R2): clients upload and download
    straight to and from the bucket through presigned requests. The bucket stays private.
    """

    model_config = SettingsConfigDict(env_prefix="STORAGE_")

    backend: Literal["local", "s3"] = "local"
    local_dir: Path | None = None
    s3_endpoint_url: str | None = None
    s3_public_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "plinth"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    timeout_seconds: float = Field(default=5.0, gt=0)
    max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    user_quota_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    allowed_types: list[str] = Field(
        default=[
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ]
    )
    upload_expires_seconds: int = Field(default=900, ge=10)
    download_expires_seconds: int = Field(default=300, ge=10)
    pending_hours: int = Field(default=24, ge=1)
    sweep_cron: str = "13,43 * * * *"
    """When the job `platform.sweep_files` deletes given-up uploads and the files of deleted
    rows (empty: never)."""

    @field_validator("local_dir", "s3_endpoint_url", "s3_public_endpoint_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _forms_end_before_uploads_are_given_up(self) -> "StorageSettings":
        # A form still valid after its row was swept would store bytes no row knows of.
        if self.upload_expires_seconds >= self.pending_hours * 3600:
            raise ValueError(
                "STORAGE_UPLOAD_EXPIRES_SECONDS must be shorter than STORAGE_PENDING_HOURS"
            )
        return self
