"""The app factory: settings, lifespan (database, Redis, migrations), errors, docs, health."""

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from configs import Settings
from core import health
from core.db import Database, engine_from_settings
from core.dbreplicas import RedisPositions, Replica, ReplicaSet
from core.deps import Authenticator
from core.docs import install_docs
from core.http import install_error_handlers
from core.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from core.openapi import install_openapi, operation_id
from core.pagination import CursorCodec
from core.platform.limits import BodySizeLimitMiddleware, TimeoutMiddleware
from core.platform.logging import AccessLogMiddleware
from core.platform.metrics import install_metrics, metrics_lifespan
from core.platform.ratelimit import RateLimitHeadersMiddleware, load_rate_limits
from core.platform.redis import create_redis
from core.platform.requestlog import install_request_log, request_log_lifespan, trusted_client_ip
from core.platform.storage import BLOB_PATH, storage_lifespan, upload_body_limit
from core.platform.tracing import init_sentry, init_tracing, tracing_lifespan
from core.replicarouting import ReplicaFallbackMiddleware
from core.routing import flatten_routes, refuse_unbound_path_params
from core.versioning import install_versioning

logger = logging.getLogger("plinth.app")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
"""A start-up/shut-down hook: entered after the database and Redis open, exited before."""


def _should_migrate(settings: Settings) -> bool:
    if settings.database.auto_migrate is not None:
        return settings.database.auto_migrate
    return settings.is_embedded


def _engine(settings: Settings, url: str) -> AsyncEngine:
    return engine_from_settings(settings.database, url)


def _replicas(settings: Settings) -> ReplicaSet | None:
    db = settings.database
    if not db.replica_urls or settings.is_embedded:
        return None
    replicas = [
        Replica(make_url(url).render_as_string(hide_password=True), _engine(settings, url))
        for url in db.replica_urls
    ]
    return ReplicaSet(
        replicas,
        max_lag_seconds=db.replica_max_lag_seconds,
        check_seconds=db.replica_check_seconds,
        sticky_seconds=db.replica_sticky_seconds,
    )


def _database(settings: Settings) -> Database:
    engine = _engine(settings, settings.database_url)
    codec = CursorCodec(settings.secret_key)
    return Database(engine, cursor_codec=codec, replicas=_replicas(settings))


async def _start_replicas(app: FastAPI) -> None:
    replicas: ReplicaSet | None = app.state.database.replicas
    if replicas is not None:
        if app.state.redis is not None:
            replicas.positions = RedisPositions(app.state.redis)
        await replicas.start()


def _lifespan(
    settings: Settings, hooks: Sequence[Lifespan]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if _should_migrate(settings):
            # Imported here: Alembic (with Mako and Pygments) is ~10 MB a production worker,
            # which never migrates at start-up, does not need.
            from core.migrations import upgrade_async

            await upgrade_async(settings.migration_url)
        app.state.database = _database(settings)
        app.state.redis = create_redis(settings.redis) if settings.redis.url else None
        try:
            await _start_replicas(app)
            async with AsyncExitStack() as stack:
                for hook in hooks:
                    await stack.enter_async_context(hook(app))
                yield
        finally:
            if app.state.redis is not None:
                await app.state.redis.aclose()
            await app.state.database.dispose()

    return lifespan


def _platform_lifespans(settings: Settings) -> list[Lifespan]:
    return [
        metrics_lifespan(settings.metrics),
        tracing_lifespan(settings),
        request_log_lifespan(settings.request_log),
        storage_lifespan(settings),
    ]


def _install_platform_middleware(app: FastAPI, settings: Settings) -> None:
    """Innermost first: rate-limit headers, body limit, timeout, request log, metrics, access
    log (request ids stay outermost); with replicas, their fallback innermost of all."""
    if settings.database.replica_urls:
        app.add_middleware(ReplicaFallbackMiddleware)
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.limits.max_body_bytes,
        larger={settings.app.api_prefix + BLOB_PATH: upload_body_limit(settings.storage)},
    )
    app.add_middleware(TimeoutMiddleware, seconds=settings.limits.timeout_seconds)
    install_request_log(app, settings.request_log, client_ip=trusted_client_ip)
    install_metrics(app, settings.metrics, production=settings.app.is_production)
    app.add_middleware(AccessLogMiddleware)


def create_application(
    settings: Settings,
    *,
    authenticator: Authenticator,
    include_routes: Callable[[FastAPI], None],
    lifespans: Sequence[Lifespan] = (),
    description: str = "",
) -> FastAPI:
    """Build the FastAPI app. `include_routes` adds the project's routers (with their gates);
    `lifespans` add start-up/shut-down work (buffers, background tasks)."""
    init_sentry(settings)
    app = FastAPI(
        title=settings.app.name,
        description=description,
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.app.docs_enabled else None,
        lifespan=_lifespan(settings, [*_platform_lifespans(settings), *lifespans]),
        swagger_ui_parameters={"persistAuthorization": True},
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.rate_limits = load_rate_limits()  # the product's own; a bad value refuses to start
    app.state.authenticator = authenticator
    install_error_handlers(app)
    _install_platform_middleware(app, settings)
    if settings.cors.origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors.origins,
            allow_credentials=settings.cors.allow_credentials,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "ETag",
                "X-Cache",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
        )
    app.add_middleware(health.ProbeShortcut)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.app.hsts_seconds or 0)
    app.include_router(health.router)
    if settings.app.docs_enabled:
        install_docs(app)
    include_routes(app)
    flatten_routes(app)
    refuse_unbound_path_params(app.routes)
    install_openapi(app, every_operation=(500,))
    install_versioning(app)  # after every other change to the document
    init_tracing(app, settings)
    return app
