"""Production modules, kept apart from the framework: rate limiting, the response cache,
request logs, logging, metrics, tracing, request limits and the shared Redis client.

The framework (`core/`) runs without any of them; `core.application` installs them."""
