"""Print the app's OpenAPI document, built from the app factory without a server.

    python -m scripts.openapi > clients/openapi.json

The document must not depend on who runs this: the environment is replaced by fixed settings
(development defaults and a throwaway signing key, so nothing is written to `data/`), and the
JSON keeps the order FastAPI builds, which follows the code. `make client` generates the typed
clients from the output.
"""

import json
import os
import sys
from typing import Any

FIXED_ENV = {
    "APP_ENV": "development",
    "AUTH_SECRET_KEY": "openapi-dump-only-never-signs-a-real-token-0123456789",
}
"""The only settings the document is built with (no database or Redis is opened)."""


def document() -> dict[str, Any]:
    """The OpenAPI document of `main.create_app()` under FIXED_ENV."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    os.environ.clear()
    os.environ.update({**keep, **FIXED_ENV})
    from main import create_app

    return create_app().openapi()


def render(doc: dict[str, Any]) -> str:
    """Stable text: two-space indent, UTF-8 as is, a final newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(document()))
