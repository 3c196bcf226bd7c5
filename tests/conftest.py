"""Test harness: one leg per run, chosen by PLINTH_TEST_LEG.

- `services`: a throwaway PostgreSQL 15, Redis (tests/servers.py) and S3 API (tests/s3.py)
  started here.
- `embedded`: the embedded default — SQLite file, in-process stand-ins for Redis.

The database is built by Alembic once per run; every test's rows are deleted after it (and Redis
flushed), so tests are independent of order. No database or Redis is mocked.
"""

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.s3 import S3Server, start_s3
from tests.servers import (
    PgBouncerServer,
    PostgresServer,
    RedisServer,
    ServerUnavailable,
    start_pgbouncer,
    start_postgres,
    start_redis,
    start_replica,
)

LEG = os.environ.get("PLINTH_TEST_LEG", "embedded")
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
BASE_ENV = {
    "APP_ENV": "test",
    "AUTH_SECRET_KEY": TEST_SECRET,
    "LOG_LEVEL": "WARNING",
    "JOBS_SCHEDULER_ENABLED": "false",  # cron ticks would fire at random points of the suite
}


@dataclass
class Leg:
    """What this run tests against."""

    name: str
    database_url: str
    redis_url: str | None
    data_dir: Path
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    s3: S3Server | None = None

    @property
    def is_services(self) -> bool:
        return self.name == "services"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `make test`, leave out the test files that the project made without the example
    has just run as they are here (scripts/template-check.sh lists them): each runs once."""
    listing = os.environ.get("PLINTH_TESTS_RUN_BY_TEMPLATE")
    if not listing or not Path(listing).is_file():
        return None
    if not collection_path.is_relative_to(config.rootpath):
        return None
    done = set(Path(listing).read_text().split())
    return str(collection_path.relative_to(config.rootpath)) in done or None


SLOWEST_FILES = (
    "tests/scaffold/test_scaffold.py",
    "tests/conformance/test_conformance.py",
    "tests/scaffold/test_your_product.py",
    "tests/docs/test_site_in_browser.py",
)
"""Test files that take minutes: collected first, so that with several processes (Makefile's
TEST_WORKERS) the run does not end waiting on one of them."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files first; every other test keeps its order (a stable sort)."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return SLOWEST_FILES.index(path) if path in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=rank)


def _start_services() -> tuple[PostgresServer, RedisServer]:
    """Both servers, or the run stops with a failure: a leg that cannot run never passes.

    Asking for the embedded leg alone (`make test-embedded`) is the way to run without them.
    """
    try:
        return start_postgres(), start_redis()
    except ServerUnavailable as exc:
        pytest.exit(
            f"the services leg (PostgreSQL 15 + Redis) cannot run: {exc} "
            "To test the embedded leg alone: make test-embedded.",
            returncode=1,
        )


@pytest.fixture(scope="session")
def leg() -> Iterator[Leg]:
    """Start the leg's servers, point the settings at them, migrate the database."""
    base = Path(tempfile.mkdtemp(prefix="plinth-test-"))
    postgres = redis = None
    if LEG == "services":
        postgres, redis = _start_services()
        current = Leg(
            LEG, postgres.create_database("plinth_test"), redis.url(), base, postgres, redis
        )
        current.s3 = start_s3()  # the services leg stores files in S3, the embedded on disk
    elif LEG == "embedded":
        current = Leg(LEG, f"sqlite+aiosqlite:///{base / 'plinth.db'}", None, base)
    else:
        raise pytest.UsageError(f"PLINTH_TEST_LEG must be services or embedded, not {LEG!r}")
    env = {**BASE_ENV, "DATABASE_URL": current.database_url, "APP_DATA_DIR": str(base)}
    if current.redis_url:
        env["REDIS_URL"] = current.redis_url
    if current.s3 is not None:
        env.update(current.s3.env())
    os.environ.pop("REDIS_URL", None)
    os.environ.update(env)
    reset_settings_caches()

    from core.migrations import upgrade

    upgrade(current.database_url)
    yield current
    if current.s3 is not None:
        current.s3.stop()
    if redis is not None:
        redis.stop()
    if postgres is not None:
        postgres.stop()


PGBOUNCER_POOL_SIZE = 5
"""Server connections PgBouncer keeps for the test database: fewer than the app's pool, so
client connections take turns on them, as behind a real pooler."""


@pytest.fixture(scope="session")
def pgbouncer(leg: Leg) -> Iterator[PgBouncerServer]:
    """One PgBouncer (transaction pooling) in front of the run's PostgreSQL, started on first
    use; services leg only."""
    if leg.postgres is None:
        pytest.skip("PgBouncer runs in front of the services leg's PostgreSQL")
    try:
        server = start_pgbouncer(leg.postgres, pool_size=PGBOUNCER_POOL_SIZE)
    except ServerUnavailable as exc:
        pytest.fail(f"{exc} (make test-services runs scripts/ensure-pgbouncer.sh)")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def replica(leg: Leg) -> Iterator[PostgresServer]:
    """A streaming replica of the run's PostgreSQL (`pg_basebackup -R`), started on first use;
    services leg only."""
    if leg.postgres is None:
        pytest.skip("the replica streams from the services leg's PostgreSQL")
    server = start_replica(leg.postgres)
    yield server
    server.stop()


def reset_settings_caches() -> None:
    """Forget settings and everything built from them (after changing the environment)."""
    from app.sso.oidc import oidc_clients
    from app.users.tokens import password_hasher, token_service
    from configs import get_settings

    for cached in (get_settings, token_service, password_hasher, oidc_clients):
        cached.cache_clear()


@pytest.fixture(scope="session")
async def database(leg: Leg) -> AsyncIterator[Any]:
    """The test database (engine + sessionmaker), shared by the run."""
    from core.db import Database, create_engine
    from core.pagination import CursorCodec

    codec = CursorCodec("test-cursor-secret")
    db = Database(create_engine(leg.database_url, pool_size=5), cursor_codec=codec)
    yield db
    await db.dispose()


@pytest.fixture
async def session(database: Any) -> AsyncIterator[AsyncSession]:
    """A session on the test database, closed after the test."""
    async with database.session() as session:
        yield session


async def _table_names(session: AsyncSession) -> list[str]:
    if session.get_bind().dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    names = (await session.execute(text(query))).scalars().all()
    return [name for name in names if name != "alembic_version"]


def _children_first(names: list[str]) -> list[str]:
    """Tables ordered so rows that reference others are deleted before what they reference."""
    import app.models  # noqa: F401 - every table registered on the metadata
    from core.db import Base

    known = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in names]
    return known + [name for name in names if name not in known]


async def _delete_every_row(database: Any) -> None:
    async with database.session() as session:
        names = await _table_names(session)
        if names and session.bind.dialect.name == "postgresql":
            # Parents first, the order in which readers (users, then their sessions) lock.
            quoted = ", ".join(f'"{name}"' for name in reversed(_children_first(names)))
            await session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in _children_first(names):
                await session.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - our own tables
        await session.commit()


@pytest.fixture(scope="module", autouse=True)
async def clean_after_module(database: Any) -> AsyncIterator[None]:
    """After a module's own fixtures stop: delete every row again. A server process a module
    started flushes its last request-log rows when it stops, after the last test's clean-up."""
    yield
    await _delete_every_row_retrying(database)


@pytest.fixture(autouse=True)
async def clean_state(leg: Leg, database: Any) -> AsyncIterator[None]:
    """After each test: delete every row and flush Redis."""
    yield
    await _delete_every_row_retrying(database)
    if leg.redis is not None and leg.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(leg.redis_url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()


async def _delete_every_row_retrying(database: Any) -> None:
    for attempt in range(3):
        try:
            await _delete_every_row(database)
            break
        except DBAPIError as exc:  # a server process of the test still reading: PostgreSQL
            if "deadlock" not in str(exc) or attempt == 2:  # chose us as the deadlock victim
                raise


@asynccontextmanager
async def running_app(**env: str) -> AsyncIterator[FastAPI]:
    """The app with extra environment settings, its lifespan entered (start-up/shut-down run)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    reset_settings_caches()
    try:
        from main import create_app

        app = create_app()
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
            yield app
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings_caches()


def client_for(app: FastAPI) -> httpx.AsyncClient:
    """An HTTP client calling the app in-process (errors come back as responses, not raises)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def app(leg: Leg) -> AsyncIterator[FastAPI]:
    """The app on this leg with default test settings."""
    async with running_app() as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `app`."""
    async with client_for(app) as http:
        yield http


@pytest.fixture
def make_app(leg: Leg) -> Callable[..., Any]:
    """`async with make_app(ROOT_TOKEN="x") as app:` — the app with extra settings."""
    return running_app


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a loopback port, for the run."""
    from tests.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: Any) -> Iterator[Any]:
    """The SMTP server, empty and listening at the start of the test."""
    smtp_server.stop()
    smtp_server.clear()
    smtp_server.start()
    yield smtp_server
    smtp_server.stop()
    smtp_server.start()
