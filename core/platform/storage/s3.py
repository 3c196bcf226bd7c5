"""`S3Storage`: any S3-compatible object store, through aiobotocore.

Why aiobotocore: it is botocore (the AWS SDK's core, kept by AWS and used by boto3) made
natively async, so no call blocks the event loop; it signs POST policies with conditions
(`generate_presigned_post`), the only presigned upload that bounds an object's size; and it
speaks to any S3-compatible store by endpoint. obstore cannot sign POST policies; aioboto3 is
a thin layer over aiobotocore that Plinth does not need.
"""

import asyncio
import base64
import functools
import logging
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import BotoCoreError, ClientError

from configs.storage import StorageSettings
from core.db import utcnow
from core.platform.storage.backend import (
    DownloadTerms,
    ObjectInfo,
    Storage,
    StorageUnavailable,
    UploadForm,
    UploadTerms,
)
from core.platform.storage.names import content_disposition

logger = logging.getLogger("plinth.storage")

NETWORK_ERRORS = (BotoCoreError, aiohttp.ClientError, OSError, asyncio.TimeoutError)
MISSING = {"404", "NoSuchKey", "NotFound"}


def _config(settings: StorageSettings) -> AioConfig:
    timeout = settings.timeout_seconds
    return AioConfig(
        signature_version="s3v4",
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": settings.s3_addressing_style},
        # botocore >= 1.36 adds CRC32 checksums to every request by default, which many
        # S3-compatible stores refuse.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def checksum_fields(sha256: str) -> dict[str, str]:
    """The form fields that make S3 verify the upload against the declared SHA-256 (refusing
    other bytes with BadDigest) and keep it, so `head` reports it and confirmation never reads
    the object. The policy binds them: a client cannot drop or change them."""
    return {
        "x-amz-checksum-algorithm": "SHA256",
        "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(sha256)).decode(),
    }


def _unavailable(exc: Exception) -> StorageUnavailable:
    logger.warning("object store unavailable: %s", exc)
    return StorageUnavailable("The file store cannot be reached; try again shortly.")


@functools.cache
def _session() -> AioSession:
    """The process's botocore session, made once: a new one parses the S3 model and the
    endpoint rules again (a tenth of a second of JSON), while clients stay one per store."""
    return get_session()


class S3Storage(Storage):
    """One bucket of an S3-compatible store. Open it with `async with` (or `open()`)."""

    name = "s3"

    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        self.bucket = settings.s3_bucket
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._signer: Any = None

    async def open(self) -> "S3Storage":
        """Create the clients: one for calls, one for signing with the public endpoint."""
        self._client = await self._stack.enter_async_context(
            self._create(self.settings.s3_endpoint_url)
        )
        public = self.settings.s3_public_endpoint_url
        self._signer = (
            await self._stack.enter_async_context(self._create(public)) if public else self._client
        )
        return self

    def _create(self, endpoint_url: str | None) -> Any:
        s = self.settings
        secret = s.s3_secret_access_key.get_secret_value() if s.s3_secret_access_key else None
        return _session().create_client(
            "s3",
            region_name=s.s3_region,
            endpoint_url=endpoint_url,
            aws_access_key_id=s.s3_access_key_id,
            aws_secret_access_key=secret,
            config=_config(s),
        )

    async def close(self) -> None:
        await self._stack.aclose()

    def _expires_in(self, terms: UploadTerms | DownloadTerms) -> int:
        return max(1, int((terms.expires_at - utcnow()).total_seconds()))

    async def upload_form(self, terms: UploadTerms, base_url: str) -> UploadForm:
        fields = {"Content-Type": terms.content_type, **checksum_fields(terms.sha256)}
        post = await self._signer.generate_presigned_post(
            Bucket=self.bucket,
            Key=terms.key,
            Fields=fields,
            Conditions=[
                *({name: value} for name, value in fields.items()),
                ["content-length-range", 0, terms.max_size],
            ],
            ExpiresIn=self._expires_in(terms),
        )
        return UploadForm(url=post["url"], fields=dict(post["fields"]))

    async def download_url(self, terms: DownloadTerms, base_url: str) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": terms.key,
            "ResponseContentDisposition": content_disposition(terms.filename),
            "ResponseContentType": terms.content_type,
        }
        url: str = await self._signer.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self._expires_in(terms)
        )
        return url

    async def head(self, key: str) -> ObjectInfo | None:
        try:
            found = await self._client.head_object(
                Bucket=self.bucket, Key=key, ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise _unavailable(exc) from exc
        except NETWORK_ERRORS as exc:
            raise _unavailable(exc) from exc
        checksum = found.get("ChecksumSHA256")
        sha256 = base64.b64decode(checksum).hex() if checksum and "-" not in checksum else None
        return ObjectInfo(size=int(found["ContentLength"]), sha256=sha256)

    async def read_head(self, key: str, size: int) -> bytes:
        if size <= 0:
            return b""
        return await self._read(key, Range=f"bytes=0-{size - 1}")

    async def _read(self, key: str, **options: Any) -> bytes:
        try:
            found = await self._client.get_object(Bucket=self.bucket, Key=key, **options)
            async with found["Body"] as body:
                data: bytes = await body.read()
        except (ClientError, *NETWORK_ERRORS) as exc:
            raise _unavailable(exc) from exc
        return data

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, *NETWORK_ERRORS) as exc:
            raise _unavailable(exc) from exc
