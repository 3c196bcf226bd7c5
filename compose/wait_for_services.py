"""Wait until PostgreSQL and Redis answer, within SERVER_WAIT_TIMEOUT_SECONDS; exit 1 if not.

Run by compose/entrypoint before the migrate step and before the app starts. Reads the same
settings as the app (environment, then ENV_FILE). Only the two URLs are needed here, so the
secret-key checks of the full settings are left to the app itself.
"""

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis
from sqlalchemy import text

from configs.database import DatabaseSettings
from configs.redis import RedisSettings
from configs.server import ServerSettings
from core.db import create_engine

RETRY_SECONDS = 1.0
ATTEMPT_TIMEOUT_SECONDS = 3.0


async def _database_answers(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _redis_answers(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=ATTEMPT_TIMEOUT_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def wait_for(
    name: str, check: Callable[[str], Awaitable[None]], url: str, deadline: float
) -> bool:
    """Retry `check(url)` until it succeeds or `deadline` (monotonic) passes."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await asyncio.wait_for(check(url), ATTEMPT_TIMEOUT_SECONDS)
        except Exception as exc:
            if time.monotonic() + RETRY_SECONDS > deadline:
                print(f"wait: {name} did not answer ({type(exc).__name__}: {exc})", file=sys.stderr)
                return False
            if attempt == 1:
                print(f"wait: waiting for {name}...", file=sys.stderr)
            await asyncio.sleep(RETRY_SECONDS)
        else:
            print(f"wait: {name} is up", file=sys.stderr)
            return True


async def main() -> int:
    database_url = DatabaseSettings.load().url
    redis_url = RedisSettings.load().url
    deadline = time.monotonic() + ServerSettings.load().wait_timeout_seconds
    checks = []
    if database_url and not database_url.startswith("sqlite"):
        checks.append(wait_for("PostgreSQL", _database_answers, database_url, deadline))
    if redis_url:
        checks.append(wait_for("Redis", _redis_answers, redis_url, deadline))
    results = await asyncio.gather(*checks)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
