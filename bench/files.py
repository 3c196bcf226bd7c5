"""Scenario files (issue 25): the app's CPU per upload, 1 KB against 10 MB, side by side.

One upload is the whole flow a client runs: `POST /files/uploads` (declare), the presigned
POST straight to the S3 server (moto on loopback, started by bench/__main__.py: its CPU is the
bench process's, not the workers'), then `POST /files/{id}/confirm`. The workers' CPU time
(user + system, /proc) over a batch of uploads of one size, divided by the batch, is the CPU
per upload; sizes alternate in rounds so background load falls on both alike. The ratio
10 MB ÷ 1 KB is the result: the bytes never pass through the app, so it should stay near 1.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.realtime import _tokens
from bench.runner import CLOCK_TICKS, cpu_ticks, wait_idle
from bench.seed import Seeded
from bench.stack import AppServer

API = "/api/v1"
SIZES = {"1kb": 1024, "10mb": 10 * 1024 * 1024}
ROUNDS = 3
UPLOADS_PER_BATCH = 10
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class FilesResult:
    uploads: int = 0
    cpu_ms_per_upload: dict[str, float] = field(default_factory=dict)
    wall_ms_per_upload: dict[str, float] = field(default_factory=dict)
    ratio: float | None = None  # CPU per 10 MB upload ÷ CPU per 1 KB upload
    errors: int = 0


def _payload(size: int) -> tuple[bytes, str]:
    data = PNG_SIGNATURE + os.urandom(size - len(PNG_SIGNATURE))
    return data, hashlib.sha256(data).hexdigest()


def _upload(api: httpx.Client, store: httpx.Client, data: bytes, sha256: str) -> bool:
    """One upload, start to confirmation; whether every step answered 2xx."""
    declared = {"name": "bench.png", "content_type": "image/png", "size": len(data)}
    started = api.post(f"{API}/files/uploads", json={**declared, "sha256": sha256})
    if started.status_code != 201:
        return False
    form = started.json()["upload"]
    sent = store.post(
        form["url"], data=form["fields"], files={"file": ("bench.png", data, "image/png")}
    )
    confirmed = api.post(f"{API}/files/{started.json()['file']['id']}/confirm")
    return sent.is_success and confirmed.status_code == 200


def run(app: AppServer, seeded: Seeded, secret: str, log: Callable[[str], None]) -> FilesResult:
    """The uploads, in rounds alternating the sizes; CPU per upload and the ratio."""
    token = _tokens(secret, [seeded.member])[0]
    payloads = {name: _payload(size) for name, size in SIZES.items()}
    cpu = dict.fromkeys(SIZES, 0.0)
    wall = dict.fromkeys(SIZES, 0.0)
    result = FilesResult()
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=app.base_url, headers=headers, timeout=30) as api,
        httpx.Client(timeout=60) as store,
    ):
        for data, sha256 in payloads.values():  # warm-up: one of each
            result.errors += not _upload(api, store, data, sha256)
        for _ in range(ROUNDS):
            for name, (data, sha256) in payloads.items():
                pids = app.worker_pids()
                wait_idle(pids)
                before, started = cpu_ticks(pids), time.monotonic()
                for _ in range(UPLOADS_PER_BATCH):
                    result.errors += not _upload(api, store, data, sha256)
                wall[name] += time.monotonic() - started
                cpu[name] += (cpu_ticks(pids) - before) / CLOCK_TICKS
                result.uploads += UPLOADS_PER_BATCH
    count = ROUNDS * UPLOADS_PER_BATCH
    result.cpu_ms_per_upload = {k: round(v * 1000 / count, 2) for k, v in cpu.items()}
    result.wall_ms_per_upload = {k: round(v * 1000 / count, 1) for k, v in wall.items()}
    small = result.cpu_ms_per_upload["1kb"]
    result.ratio = round(result.cpu_ms_per_upload["10mb"] / small, 2) if small else None
    log(
        f"  files: CPU/upload 1 KB {result.cpu_ms_per_upload['1kb']} ms, "
        f"10 MB {result.cpu_ms_per_upload['10mb']} ms (ratio {result.ratio}); "
        f"wall {result.wall_ms_per_upload}; errors {result.errors}"
    )
    return result
