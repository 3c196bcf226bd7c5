"""Swagger UI and ReDoc served by the app itself, from the pinned `fastapi-offline` package.

No CDN is contacted and no inline script runs, so the pages work offline, behind a proxy and
under the strict Content-Security-Policy they are sent with.
"""

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

VENDOR_DIR = Path(fastapi_offline.__file__).parent / "static"
OWN_DIR = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)

_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Swagger UI</title>
<link rel="icon" href="/static/docs/favicon.png">
<link rel="stylesheet" href="/static/docs/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi-url="{openapi}" data-oauth2-redirect-url="{redirect}"></div>
<script src="/static/docs/swagger-ui-bundle.js"></script>
<script src="/static/plinth/swagger-init.js"></script></body></html>"""

_REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - ReDoc</title>
<link rel="icon" href="/static/docs/favicon.png"></head>
<body><redoc spec-url="{openapi}"></redoc>
<script src="/static/docs/redoc.standalone.js"></script></body></html>"""


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})


def install_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve /docs, its OAuth2 redirect and /redoc from local files. Create the app with
    `docs_url=None, redoc_url=None` so FastAPI's CDN pages are not registered too."""
    openapi = escape(app.openapi_url or "/openapi.json")
    redirect = f"{docs_url}/oauth2-redirect"
    title = escape(app.title)
    app.mount("/static/docs", StaticFiles(directory=VENDOR_DIR), name="docs-vendor")
    app.mount("/static/plinth", StaticFiles(directory=OWN_DIR), name="docs-own")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(_SWAGGER_PAGE.format(title=title, openapi=openapi, redirect=redirect))

    @app.get(redirect, include_in_schema=False)
    async def swagger_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(_REDOC_PAGE.format(title=title, openapi=openapi))
