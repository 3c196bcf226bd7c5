"""File storage: an S3-compatible backend and a local-disk default (docs/guides/files.md).

`Storage` is the interface; `LocalStorage` and `S3Storage` implement it. The app opens one at
start-up (`storage_lifespan`, STORAGE_BACKEND) and keeps it on `app.state.storage`. Files as
entities — metadata rows, direct uploads, checks, downloads — are `core.files`.
"""

from core.platform.storage.backend import (
    DownloadTerms,
    ObjectInfo,
    Storage,
    StorageUnavailable,
    UploadForm,
    UploadTerms,
)
from core.platform.storage.lifespan import (
    BLOB_PATH,
    open_storage,
    storage_lifespan,
    storage_of,
    upload_body_limit,
)
from core.platform.storage.local import LocalStorage
from core.platform.storage.names import content_disposition, safe_filename
from core.platform.storage.sniff import RECOGNISED_TYPES, SNIFF_BYTES, looks_like

__all__ = [
    "BLOB_PATH",
    "RECOGNISED_TYPES",
    "SNIFF_BYTES",
    "DownloadTerms",
    "LocalStorage",
    "ObjectInfo",
    "Storage",
    "StorageUnavailable",
    "UploadForm",
    "UploadTerms",
    "content_disposition",
    "looks_like",
    "open_storage",
    "safe_filename",
    "storage_lifespan",
    "storage_of",
    "upload_body_limit",
]
