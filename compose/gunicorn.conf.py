"""gunicorn settings for `compose/start`: uvicorn workers, all values from Plinth's settings.

APP_HOST / APP_PORT / APP_WORKERS pick the bind address and worker count, SERVER_* the timeouts
(configs/server.py). The settings are loaded here, in the master, so a bad configuration (say,
the placeholder secret in production) stops the server at once instead of crash-looping
workers. gunicorn's own logs use the app's format (core/platform/logging.py); with several workers,
Prometheus runs in multiprocess mode (core/platform/metrics.py hooks below).
"""

import gc
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uvicorn_worker import UvicornWorker

from configs import get_settings
from configs.server import ServerSettings
from core.platform.logging import logging_config

_settings = get_settings()
_server = ServerSettings.load()

# Set before prometheus_client is first imported (by core.platform.metrics): each worker then
# writes its values to files there and /metrics adds them up. The container sets it
# (compose/Dockerfile).
if _settings.app.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="plinth-metrics-")

from core.platform.metrics import gunicorn_child_exit as child_exit  # noqa: E402
from core.platform.metrics import gunicorn_on_starting as on_starting  # noqa: E402
from core.platform.metrics import gunicorn_when_ready as when_ready  # noqa: E402
from core.platform.realtime.server import UVICORN_WEBSOCKET_OPTIONS  # noqa: E402

# Seconds kept back from the graceful timeout for the app's own shut-down work (flushing the
# request-log buffer, closing pools) before gunicorn's SIGKILL.
SHUTDOWN_MARGIN_SECONDS = 5


class PlinthWorker(UvicornWorker):  # type: ignore[misc]  # uvicorn-worker ships no types
    """uvicorn worker: the app reads X-Forwarded-For itself (TRUSTED_PROXIES) and writes the
    access lines itself, WebSockets are served lean (core/platform/realtime/server.py), and
    in-flight requests get the graceful timeout minus the shut-down margin."""

    CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        **UVICORN_WEBSOCKET_OPTIONS,
        "proxy_headers": False,
        "access_log": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        graceful = self.cfg.graceful_timeout
        self.config.timeout_graceful_shutdown = max(graceful - SHUTDOWN_MARGIN_SECONDS, 1)


def post_worker_init(worker: Any) -> None:
    """Once the worker has built the app: move everything start-up made (modules, mappers,
    routes, schemas: ~200k objects that live as long as the process) out of the garbage
    collector's reach. Every full collection walked them all — a 100-150 ms pause of the
    event loop, measured as the p99 of the event-stream fan-out (bench/README.md).

    Then collect the youngest generation less often (SERVER_GC_YOUNG_THRESHOLD): a request
    allocates a few thousand objects (rows, statements, frames), so at Python's 700 the
    collector ran several times per request: 0.21 ms of each on average, against 0.03 ms at
    10,000 (measured with a `gc` callback; bench/README.md). Nearly all of those objects
    are freed by reference counting, so collecting less often leaves memory where it was."""
    gc.collect()
    gc.freeze()
    if _server.gc_young_threshold:
        gc.set_threshold(_server.gc_young_threshold, *gc.get_threshold()[1:])


wsgi_app = "main:create_app()"
worker_class = PlinthWorker
bind = [f"{_settings.app.host}:{_settings.app.port}"]
workers = _settings.app.workers
timeout = _server.timeout_seconds
graceful_timeout = _server.graceful_timeout_seconds
keepalive = _server.keepalive_seconds
max_requests = _server.max_requests
max_requests_jitter = _server.max_requests // 10
# The heartbeat file lives in memory: a slow disk never makes a busy worker look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
control_socket_disable = True
proc_name = _settings.app.name.lower()
logconfig_dict = logging_config(_settings)
# Access lines come from the app (`plinth.access`, core/platform/logging.py: AccessLogMiddleware),
# formatted by logconfig_dict (JSON in production); uvicorn's access log is off (PlinthWorker) and
# gunicorn's own does not apply to ASGI workers.
accesslog = None
errorlog = "-"

__all__ = ["child_exit", "on_starting", "post_worker_init", "when_ready"]
