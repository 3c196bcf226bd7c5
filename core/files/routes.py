"""The file routes: the caller's own uploads (`files_router`), the local backend's blob
routes (`blob_router`), and the routes the CRUD router adds for each `file_field`
(`add_file_routes`)."""

import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import FileResponse, Response
from starlette.datastructures import UploadFile

from core.controller import Action
from core.deps import provide
from core.errors import BadRequest, NotFound
from core.files.controller import FileController
from core.files.schemas import FileAttach, FileDownload, FileRead, UploadCreate, UploadStarted
from core.openapi import problem_responses
from core.platform.storage import BLOB_PATH, LocalStorage, Storage, content_disposition, storage_of
from core.routing import read_only

CHUNK = 256 * 1024
Files = Annotated[FileController, Depends(provide(FileController))]
StorageDep = Annotated[Storage, Depends(storage_of)]


def base_url(request: Request) -> str:
    """The app's address as this client reached it: where local upload and download URLs
    point (S3's presigned URLs point at the store)."""
    return str(request.base_url)


def files_router() -> APIRouter:
    """`/files`: start an upload, confirm it, read, download and delete one's own files."""
    router = APIRouter(prefix="/files", tags=["files"])

    @router.post(
        "/uploads",
        status_code=status.HTTP_201_CREATED,
        responses=problem_responses(413, 415),
        summary="Start an upload",
    )
    async def files_start_upload(
        data: UploadCreate, files: Files, storage: StorageDep, request: Request
    ) -> UploadStarted:
        """Declare a file and get a signed form to upload its bytes with, straight to the
        store; then confirm it."""
        return await files.start_upload(data, storage, base_url(request))

    @router.post(
        "/{file_id}/confirm", responses=problem_responses(404, 409, 413, 415), summary="Confirm"
    )
    async def files_confirm(file_id: uuid.UUID, files: Files, storage: StorageDep) -> FileRead:
        """Check the uploaded bytes (size, type, SHA-256) and make the file usable."""
        return FileRead.model_validate(await files.confirm(file_id, storage))

    @router.get("/{file_id}", summary="Get a file's metadata")
    @read_only
    async def files_get(file_id: uuid.UUID, files: Files) -> FileRead:
        """One of the caller's own files (404 for anyone else's)."""
        return FileRead.model_validate(await files.get(file_id))

    @router.get("/{file_id}/download", summary="Download one's own file")
    @read_only
    async def files_download(
        file_id: uuid.UUID, files: Files, storage: StorageDep, request: Request
    ) -> FileDownload:
        """A short-lived URL for one of the caller's own files."""
        return await files.download(await files.get(file_id), storage, base_url(request))

    @router.delete(
        "/{file_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(409)
    )
    async def files_delete(file_id: uuid.UUID, files: Files, storage: StorageDep) -> None:
        """Delete one of the caller's files that no row holds (409 while one does)."""
        await files.delete_own(file_id, storage)

    return router


def _local(storage: Storage) -> LocalStorage:
    if not isinstance(storage, LocalStorage):
        raise NotFound("Blobs are served by the object store, not by the app.")
    return storage


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


def blob_router() -> APIRouter:
    """The local backend's stand-in for the store: the upload form posts here, download URLs
    point here, each authorised by its signed token alone (include it without a gate)."""
    router = APIRouter(prefix=BLOB_PATH, tags=["files"])

    @router.post(
        "",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problem_responses(400, 403, 404, 409, 413),
        summary="Upload a file's bytes (local storage)",
        openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {}}}}},
    )
    async def files_blob_upload(request: Request, storage: StorageDep) -> None:
        """The upload form of `POST /files/uploads` on the local-disk backend: the form's
        fields, then the bytes as `file`."""
        local = _local(storage)
        async with request.form(max_files=1, max_fields=20) as form:
            token, upload = form.get("token"), form.get("file")
            if not isinstance(token, str) or not isinstance(upload, UploadFile):
                raise BadRequest("The form needs the field `token`, then the file as `file`.")
            await local.receive(token, _chunks(upload))

    @router.get(
        "/{token}",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, **problem_responses(403)},
        summary="Download a file's bytes (local storage)",
    )
    async def files_blob_download(token: str, storage: StorageDep) -> Response:
        """A download URL on the local-disk backend: the bytes, as an attachment."""
        blob = _local(storage).blob(token)
        headers = {
            "Content-Disposition": content_disposition(blob.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        }
        return FileResponse(blob.path, media_type=blob.content_type, headers=headers)

    return router


# -- the routes of a file field, for the CRUD router ---------------------------------------------

FileCall = Callable[..., Awaitable[Any]]
FILE_ROUTE_PARAMS = [
    inspect.Parameter("storage", inspect.Parameter.KEYWORD_ONLY, annotation=StorageDep),
    inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
]
"""What the CRUD router adds to a file route's parameters (the item's and the controller)."""


def file_field_calls(column: str) -> dict[str, FileCall]:
    """What the CRUD router's `attach` (body `FileAttach`), `download` and `detach` routes of
    the file in `column` call, with the controller, the row's `id_` (and `parent_id`) and the
    `FILE_ROUTE_PARAMS`. The row's visibility and write permission are its controller's."""

    async def attach(
        controller: Any, data: FileAttach, storage: Storage, request: Request, **kw: Any
    ) -> FileRead:
        row = await controller.get(action=Action.UPDATE, for_update=True, options=(), **kw)
        files = controller.controller(FileController)
        file = await files.attach(row, column, data.file_id, storage)
        await controller.written(Action.UPDATE, row)
        return FileRead.model_validate(file)

    async def download(
        controller: Any, storage: Storage, request: Request, **kw: Any
    ) -> FileDownload:
        row = await controller.get(options=(), **kw)
        files = controller.controller(FileController)
        file = await files.read_attached(row, column)
        found: FileDownload = await files.download(file, storage, base_url(request))
        return found

    async def detach(controller: Any, storage: Storage, request: Request, **kw: Any) -> None:
        row = await controller.get(action=Action.UPDATE, for_update=True, options=(), **kw)
        await controller.controller(FileController).release(row, column, storage)
        await controller.written(Action.UPDATE, row)

    return {"attach": attach, "download": download, "detach": detach}
