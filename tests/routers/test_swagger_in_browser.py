"""Swagger UI's OAuth2 password flow, as a developer tries it: `/docs` of a served app in
headless Chromium, Authorize with an email and a password and a scope, then "Try it out" on
`GET /users/me`, which answers 200 with that account."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright

from tests.core.test_logging import ROOT, wait_for
from tests.docs.test_site_in_browser import launch
from tests.helpers import DEFAULT_PASSWORD, create_user
from tests.ports import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def served(leg: Any, tmp_path: Path) -> Iterator[str]:
    """The app on this leg's database, served by `python main.py` as `make run` does."""
    port = free_port()
    env = {**os.environ, "APP_PORT": str(port), "APP_HOST": "127.0.0.1"}
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "main.py"], cwd=ROOT, env=env, stdout=sink, stderr=sink
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/health/live", process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 2000})
            page.set_default_timeout(60_000)
            yield page
        finally:
            await browser.close()


async def test_the_password_flow_authorizes_try_it_out(
    served: str, page: Page, database: Any
) -> None:
    await create_user(database, "alice@example.com", scopes=["admin"])
    await page.goto(f"{served}/docs")
    await page.click("button.btn.authorize")
    await page.fill("#oauth_username", "alice@example.com")
    await page.fill("#oauth_password", DEFAULT_PASSWORD)
    await page.click("label[for^='regular-password-checkbox']")
    await page.click(".auth-container .btn.modal-btn.auth.authorize")
    await page.wait_for_selector(".auth-container .btn.modal-btn.auth:has-text('Logout')")
    await page.click(".btn-done")

    operation = page.locator("[id^='operations-'][id$='-users_read_me']").first
    await operation.locator(".opblock-summary").click()
    await operation.locator(".try-out__btn").click()
    await operation.locator(".execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    await status.wait_for()
    assert (await status.inner_text()).strip() == "200"
    body = await operation.locator(".live-responses-table .microlight").first.inner_text()
    assert '"email": "alice@example.com"' in body
    assert '"scopes"' in body
