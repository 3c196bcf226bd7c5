"""The storage backend of the app: built from STORAGE_* at start-up, on `app.state.storage`."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request

from configs import Settings, SettingsError
from configs.storage import StorageSettings
from core.platform.storage.backend import Storage
from core.platform.storage.local import LocalStorage
from core.platform.storage.sniff import RECOGNISED_TYPES

BLOB_PATH = "/files/blobs"
"""Where, under the API prefix, the local backend receives uploads and serves downloads
(routers/files.py)."""


FORM_OVERHEAD = 64 * 1024
"""Room for an upload form's fields and boundaries beside the file itself."""


def upload_body_limit(settings: StorageSettings) -> int:
    """The largest body the local backend's upload route accepts: a file of the largest size
    allowed, in its form."""
    return settings.max_file_bytes + FORM_OVERHEAD


def check_storage_settings(settings: StorageSettings) -> None:
    """Refuse an allowlist holding types whose bytes cannot be recognised."""
    unknown = sorted(set(settings.allowed_types) - RECOGNISED_TYPES)
    if unknown:
        raise SettingsError(
            f"STORAGE_ALLOWED_TYPES: the stored bytes of {unknown} cannot be checked; "
            f"choose among {sorted(RECOGNISED_TYPES)}"
        )


async def open_storage(settings: Settings) -> Storage:
    """The configured backend, ready to use."""
    config = settings.storage
    check_storage_settings(config)
    if config.backend == "s3":
        from core.platform.storage.s3 import S3Storage  # aiobotocore only when configured

        return await S3Storage(config).open()
    root = config.local_dir or settings.app.data_dir / "files"
    return LocalStorage(root, settings.secret_key, settings.app.api_prefix + BLOB_PATH)


def storage_lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the backend at start-up, close it at shut-down."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage = app.state.storage = await open_storage(settings)
        try:
            yield
        finally:
            await storage.close()

    return lifespan


def storage_of(request: Request) -> Storage:
    """The app's storage backend (a dependency)."""
    storage: Storage = request.app.state.storage
    return storage
