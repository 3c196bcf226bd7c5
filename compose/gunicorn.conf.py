"""gunicorn settings for `compose/start`: uvicorn workers, all values from Plinth's settings.

APP_HOST / APP_PORT / APP_WORKERS pick the bind address and worker count; SERVER_* the
timeouts (configs/server.py). Logs use the app's format (LOG_LEVEL / LOG_FORMAT).
"""

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uvicorn_worker import UvicornWorker

from configs.app import AppSettings
from configs.server import ServerSettings

_app = AppSettings.load()
_server = ServerSettings.load()

# Seconds kept back from the graceful timeout for the app's own shut-down work (flushing the
# request-log buffer, closing pools) before gunicorn's SIGKILL.
SHUTDOWN_MARGIN_SECONDS = 5


class PlinthWorker(UvicornWorker):
    """uvicorn worker: the app handles X-Forwarded-For itself (trusted proxies from settings),
    and in-flight requests get the graceful timeout minus the shut-down margin."""

    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "proxy_headers": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        graceful = self.cfg.graceful_timeout
        self.config.timeout_graceful_shutdown = max(graceful - SHUTDOWN_MARGIN_SECONDS, 1)


wsgi_app = "main:create_app()"
worker_class = PlinthWorker
bind = [f"{_app.host}:{_app.port}"]
workers = _app.workers
timeout = _server.timeout_seconds
graceful_timeout = _server.graceful_timeout_seconds
keepalive = _server.keepalive_seconds
max_requests = _server.max_requests
max_requests_jitter = _server.max_requests // 10
# The heartbeat file lives in memory: a slow disk never makes a busy worker look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
control_socket_disable = True
proc_name = _app.name.lower()
accesslog = None  # requests are logged by the app (request ids, route templates)
errorlog = "-"
