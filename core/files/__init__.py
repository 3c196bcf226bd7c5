"""Files as entities: a metadata row per file (`StoredFile`), bytes in the store
(`core.platform.storage`), direct uploads checked at confirmation, and a file field for any
entity in one line (`file_field`) whose routes the CRUD router adds. docs/guides/files.md.
"""

from core.files.controller import FileController, QuotaExceeded
from core.files.models import FileStatus, StoredFile, file_field, file_fields
from core.files.schemas import (
    FileAttach,
    FileDownload,
    FileRead,
    UploadCreate,
    UploadFormRead,
    UploadStarted,
)

__all__ = [
    "FileAttach",
    "FileController",
    "FileDownload",
    "FileRead",
    "FileStatus",
    "QuotaExceeded",
    "StoredFile",
    "UploadCreate",
    "UploadFormRead",
    "UploadStarted",
    "file_field",
    "file_fields",
]
