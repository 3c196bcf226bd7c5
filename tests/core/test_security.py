"""core.security: password hashing shares the machine's cores out between the workers."""

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from core import security
from core.errors import Unauthorized
from core.security import (
    HASHING_NICENESS,
    PasswordHasher,
    TokenConfig,
    TokenService,
    TokenType,
    hashing_executor,
    hashing_threads_per_worker,
)


@pytest.mark.parametrize("workers", [1, 2, 3, 64])
def test_hashing_threads_share_the_cores_between_workers(workers: int) -> None:
    cores = os.cpu_count() or 1
    threads = hashing_threads_per_worker(workers)
    assert threads >= 1
    assert threads * workers <= max(cores, workers)


async def test_hashing_leaves_the_event_loop_free_while_it_runs() -> None:
    """A task queued behind the hash runs before the hash is done: the hash is on a thread."""
    hasher = PasswordHasher(threads=1)
    hashing = asyncio.create_task(hasher.hash("s3cret-pass"))
    observed = asyncio.create_task(_done_yet(hashing))
    assert await observed is False
    assert (await hashing).startswith("$argon2id$")


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")
async def test_hashing_threads_run_below_the_event_loops_priority() -> None:
    """During a login storm the kernel hands a core to the event loop before a hash."""
    loop_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    hashing = await asyncio.get_running_loop().run_in_executor(
        hashing_executor(1), lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    )
    assert hashing == min(19, loop_niceness + HASHING_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_niceness


async def _done_yet(task: "asyncio.Task[str]") -> bool:
    return task.done()


AFTER_A_STORM = """
import asyncio, time
from core.security import PasswordHasher

def rss_mb():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024

async def main():
    hasher = PasswordHasher(threads=2)
    before = rss_mb()
    hashed = await hasher.hash("s3cret-pass")
    kept = []  # what requests allocate meanwhile and keep: the freed blocks are not at the top
    for _ in range(6):
        logins = [asyncio.create_task(hasher.verify("s3cret-pass", hashed)) for _ in range(2)]
        await asyncio.sleep(0.005)  # both hashes have their blocks
        kept.append(bytearray(64 * 1024))
        await asyncio.gather(*logins)
    deadline = time.monotonic() + 10
    while rss_mb() > before + 8 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    print(round(rss_mb() - before, 1))

asyncio.run(main())
"""


@pytest.mark.skipif(security._MALLOC_TRIM is None, reason="glibc only (malloc_trim)")
def test_memory_the_hashes_freed_goes_back_once_the_pool_is_idle() -> None:
    """Each Argon2id hash mallocs 19 MiB; after a burst of logins the worker's RSS is back where
    it was (as compose/start runs it: one malloc arena), not 40 MB higher."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MALLOC_ARENA_MAX": "1", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", AFTER_A_STORM],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert float(done.stdout.strip()) <= 8


async def test_hash_and_verify_upgrade_old_parameters() -> None:
    old = PasswordHasher(memory_cost=8192, time_cost=1, threads=1)
    hashed = await old.hash("s3cret-pass")
    current = PasswordHasher(threads=1)
    valid, upgraded = await current.verify("s3cret-pass", hashed)
    assert valid
    assert upgraded is not None
    assert "m=19456" in upgraded
    assert await current.verify("wrong-pass", upgraded) == (False, None)
    assert (await current.verify("anything", None))[0] is False


def _tokens() -> TokenService:
    return TokenService(TokenConfig(secret="k" * 48, access_ttl=timedelta(seconds=60)))


def test_a_remembered_token_still_expires_and_keeps_its_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = _tokens()
    token, payload = service.issue(uuid.uuid4(), TokenType.ACCESS)
    assert service.verify(token, TokenType.ACCESS)["jti"] == payload["jti"]
    assert service.verify(token, TokenType.ACCESS)["jti"] == payload["jti"]  # remembered
    with pytest.raises(Unauthorized):
        service.verify(token, TokenType.REFRESH)
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthorized):
        service.verify(token, TokenType.ACCESS)


def test_a_changed_token_is_checked_in_full() -> None:
    service = _tokens()
    token, _ = service.issue(uuid.uuid4(), TokenType.ACCESS)
    service.verify(token, TokenType.ACCESS)
    header, body, signature = token.split(".")
    forged = ".".join([header, body, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")])
    with pytest.raises(Unauthorized):
        service.verify(forged, TokenType.ACCESS)
    other = TokenService(TokenConfig(secret="z" * 48))
    with pytest.raises(Unauthorized):
        other.verify(token, TokenType.ACCESS)


def test_the_claims_returned_are_the_callers_to_change() -> None:
    service = _tokens()
    token, _ = service.issue(uuid.uuid4(), TokenType.ACCESS, {"scope": "regular"})
    service.verify(token, TokenType.ACCESS)["scope"] = "superuser"
    assert service.verify(token, TokenType.ACCESS)["scope"] == "regular"
