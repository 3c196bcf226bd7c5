"""Optional error reporting (Sentry) and tracing (OpenTelemetry), each off unless configured.

Both libraries come from `requirements-extras.txt` and are imported only when enabled, so the
app runs without them installed.

- SENTRY_DSN set: `sentry_sdk.init` with the sample rates from settings; the FastAPI/Starlette
  integrations report unhandled errors and traces. No PII and no request bodies; stack-frame
  locals (they hold headers and tokens) only with SENTRY_INCLUDE_LOCAL_VARIABLES=true.
- OTEL_EXPORTER_OTLP_ENDPOINT set: an SDK tracer provider exporting over OTLP/HTTP to
  `<endpoint>/v1/traces`, with FastAPI, SQLAlchemy and Redis instrumented.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from configs import Settings

logger = logging.getLogger("plinth.tracing")

EXCLUDED_URLS = "/health/.*,/metrics"


def init_sentry(settings: Settings) -> bool:
    """Start the Sentry client when SENTRY_DSN is set; True when it did."""
    config = settings.sentry
    if config.dsn is None:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=config.dsn.get_secret_value(),
        environment=settings.app.env.value,
        release=config.release,
        sample_rate=config.sample_rate,
        traces_sample_rate=config.traces_sample_rate,
        send_default_pii=config.send_default_pii,
        # Stack-frame locals hold ASGI scopes (Authorization, cookies) and request data.
        include_local_variables=config.include_local_variables,
        max_request_body_size="never",
    )
    logger.info("Sentry error reporting is on")
    return True


def _tracer_provider(settings: Settings) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    config = settings.tracing
    assert config.exporter_otlp_endpoint is not None
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: config.service_name}),
        sampler=ParentBased(TraceIdRatioBased(config.traces_sample_rate)),
    )
    endpoint = config.exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def init_tracing(app: FastAPI, settings: Settings) -> bool:
    """Instrument the app (and later its engine and Redis) when an OTLP endpoint is set."""
    if not settings.tracing.exporter_otlp_endpoint:
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    provider = _tracer_provider(settings)
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS)
    app.state.tracer_provider = provider
    logger.info("OpenTelemetry tracing is on")
    return True


def tracing_lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Instrument the database engine and Redis once they exist; flush spans on shut-down."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        provider = getattr(app.state, "tracer_provider", None)
        if provider is None:
            yield
            return
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # The 0.66 instrumentation declares SQLAlchemy < 2.1 and would silently do nothing on
        # 2.1; it only listens to engine events, which 2.1 keeps (tests/core/test_tracing.py).
        SQLAlchemyInstrumentor().instrument(
            engine=app.state.database.engine.sync_engine,
            tracer_provider=provider,
            skip_dep_check=True,
        )
        redis_instrumentor = RedisInstrumentor()
        if app.state.redis is not None and not redis_instrumentor.is_instrumented_by_opentelemetry:
            redis_instrumentor.instrument(tracer_provider=provider)
        try:
            yield
        finally:
            provider.shutdown()

    return lifespan
