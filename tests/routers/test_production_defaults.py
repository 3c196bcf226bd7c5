"""What a production start serves by default: no API docs, no sign-in for unverified
addresses, and the browser-hardening headers on every answer."""

from collections.abc import Callable
from typing import Any

from tests.app.users.support import API, login
from tests.conftest import client_for
from tests.helpers import create_user

PRODUCTION = {"APP_ENV": "production", "CORS_ORIGINS": "", "DATABASE_AUTO_MIGRATE": "false"}


async def test_production_hides_the_docs_and_hardens_responses(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database, "unverified@example.com")
    async with make_app(**PRODUCTION) as app, client_for(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404, path
        unverified = await login(client, "unverified@example.com")
        refused = await client.get(f"{API}/users/me")
    assert unverified.status_code == 403, unverified.text
    for response in (unverified, refused):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["strict-transport-security"] == "max-age=31536000"


async def test_development_keeps_the_docs_and_sends_no_hsts(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database, "unverified@example.com")
    async with make_app(APP_ENV="development") as app, client_for(app) as client:
        docs = await client.get("/openapi.json")
        signed_in = await login(client, "unverified@example.com")
    assert docs.status_code == 200
    assert signed_in.status_code == 200
    assert signed_in.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in signed_in.headers
