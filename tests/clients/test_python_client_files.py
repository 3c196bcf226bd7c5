"""Files through the generated Python client against a live server on this leg: declare an
upload, send its bytes with the signed form the API hands out (to the app's own blob route on
the local disk, to the S3 server on the services leg: a plain HTTP POST either way), confirm,
attach it to a message, and download it as a member; a non-member gets the 404 of a missing
message."""

import hashlib
import os

import httpx
import pytest
from plinth_client import AuthenticatedClient
from plinth_client.api.v1_files import files_confirm, files_start_upload
from plinth_client.api.v1_messages import messages_download_attachment
from plinth_client.api.v1_threads import thread_messages_create, threads_create
from plinth_client.models import (
    FileDownload,
    FileRead,
    FileStatus,
    FileSummary,
    MessageCreate,
    MessageRead,
    Problem,
    ThreadCreate,
    ThreadRead,
    UploadCreate,
    UploadStarted,
)

from tests.clients.test_python_client import server, sign_up

__all__ = ["server"]  # the module's live app, shared with the messenger flow's fixture

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)


async def test_upload_attach_and_download_through_the_generated_client(server: str) -> None:
    _, ada_tokens = await sign_up(server, "ada.files@example.org")
    bruno, bruno_tokens = await sign_up(server, "bruno.files@example.org")
    _, eve_tokens = await sign_up(server, "eve.files@example.org")
    ada_client = AuthenticatedClient(base_url=server, token=ada_tokens.access_token)

    declared = UploadCreate(
        name="plan.png",
        content_type="image/png",
        size=len(PNG),
        sha256=hashlib.sha256(PNG).hexdigest(),
    )
    started = await files_start_upload.asyncio(client=ada_client, body=declared)
    assert isinstance(started, UploadStarted), started
    form = started.upload
    assert form.method == "POST"
    async with httpx.AsyncClient(timeout=10) as plain:  # no credentials: the form is signed
        sent = await plain.post(
            form.url,
            data=form.fields.additional_properties,
            files={"file": ("plan.png", PNG, "image/png")},
        )
    assert sent.status_code in (200, 201, 204), sent.text
    confirmed = await files_confirm.asyncio(started.file.id, client=ada_client)
    assert isinstance(confirmed, FileRead), confirmed
    assert confirmed.status == FileStatus.READY and confirmed.size == len(PNG)

    thread = await threads_create.asyncio(
        client=ada_client, body=ThreadCreate(title="Plans", participant_ids=[bruno.id])
    )
    assert isinstance(thread, ThreadRead), thread
    body = MessageCreate(body="the plan", attachment_ids=[confirmed.id])
    message = await thread_messages_create.asyncio(thread.id, client=ada_client, body=body)
    assert isinstance(message, MessageRead), message
    assert message.attachments == [
        FileSummary(id=confirmed.id, name="plan.png", size=len(PNG), content_type="image/png")
    ]

    bruno_client = AuthenticatedClient(base_url=server, token=bruno_tokens.access_token)
    link = await messages_download_attachment.asyncio(message.id, confirmed.id, client=bruno_client)
    assert isinstance(link, FileDownload), link
    async with httpx.AsyncClient(timeout=10) as plain:
        got = await plain.get(link.url)
    assert got.status_code == 200 and got.content == PNG
    assert "attachment" in got.headers["content-disposition"]

    eve_client = AuthenticatedClient(base_url=server, token=eve_tokens.access_token)
    hidden = await messages_download_attachment.asyncio_detailed(
        message.id, confirmed.id, client=eve_client
    )
    assert hidden.status_code == 404
    assert isinstance(hidden.parsed, Problem) and hidden.parsed.status == 404
