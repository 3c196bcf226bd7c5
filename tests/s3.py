"""A real S3 API on loopback for the services leg: moto's server mode (`ThreadedMotoServer`),
started once per run like PostgreSQL and Redis.

Why moto and not MinIO: MinIO ships no Debian package and no PyPI server (PyPI's `minio` is
the client), while `moto[server]` is a pinned dev dependency. moto evaluates no POST policy
and verifies no checksum: the tests prove the app's own checks at confirmation, which never
trust the store to have enforced the form.
"""

import time
from typing import Any

import httpx

from tests.ports import HOST, free_port

BUCKET = "plinth-test"
ACCESS_KEY = "plinth-test-key"
SECRET_KEY = "plinth-test-secret"


class S3Server:
    """moto's S3 in a thread on a loopback port; `stop()` and `start()` again on the same port
    keep its objects (they live in this process), as a store that was down and came back."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        """The STORAGE_* settings that point the app at this server."""
        return {
            "STORAGE_BACKEND": "s3",
            "STORAGE_S3_ENDPOINT_URL": self.url,
            "STORAGE_S3_BUCKET": BUCKET,
            "STORAGE_S3_REGION": "us-east-1",
            "STORAGE_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "STORAGE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "STORAGE_S3_ADDRESSING_STYLE": "path",
            "STORAGE_TIMEOUT_SECONDS": "2",
        }

    def start(self) -> None:
        """Listen (again) and make sure the bucket exists."""
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
        self._server.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.put(f"{self.url}/{BUCKET}", timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop listening (the objects stay for the next `start`)."""
        if self._server is not None:
            self._server.stop()
            self._server = None


def start_s3() -> S3Server:
    """A started S3 server with the test bucket."""
    server = S3Server()
    server.start()
    return server
