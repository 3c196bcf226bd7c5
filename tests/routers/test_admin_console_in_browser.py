"""The admin console in headless Chromium, served by `python main.py` as `make run` does with
ADMIN_CONSOLE_ENABLED=true and nothing else: a regular user's sign-in is refused; an admin signs
in, finds a user with the search box and deactivates them (their bearer token is 401 on the next
API call), then retries a failed job; a form posted from another site is refused. No page breaks
its Content-Security-Policy. The screenshots in docs/guides/admin-console.md are taken here."""

import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Error, Page, async_playwright

from core.platform.jobs import FailedJob
from tests.core.test_logging import ROOT, wait_for
from tests.docs.test_site_in_browser import launch
from tests.helpers import DEFAULT_PASSWORD, create_user
from tests.ports import free_port

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "docs" / "guides" / "images"
"""Where `PLINTH_SCREENSHOTS=docs` makes the run write them (`make screenshots`); other runs
take them into a temporary folder, so a test run leaves the work tree as it was."""


@pytest.fixture
def served(leg: Any, tmp_path: Path) -> Iterator[str]:
    """The app on this leg's database with the console on, served by `python main.py`."""
    port = free_port()
    env = {
        **os.environ,
        "APP_PORT": str(port),
        "APP_HOST": "127.0.0.1",
        "ADMIN_CONSOLE_ENABLED": "true",
    }
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
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(60_000)
            yield page
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> None:
    folder = SCREENSHOTS if os.environ.get("PLINTH_SCREENSHOTS") == "docs" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    await page.wait_for_load_state("load")
    try:
        await page.screenshot(path=str(folder / f"admin-console-{name}.png"))
    except Error as exc:  # Chromium refuses a capture now and then, and takes it when asked again
        if "Unable to capture screenshot" not in str(exc):
            raise
        await page.wait_for_timeout(500)
        await page.screenshot(path=str(folder / f"admin-console-{name}.png"))


def _scratch() -> Path:
    return Path(tempfile.gettempdir()) / "plinth-screenshots"


async def sign_in(page: Page, served: str, email: str) -> None:
    await page.goto(f"{served}/admin/")
    await page.fill("#username", email)
    await page.fill("#password", DEFAULT_PASSWORD)
    await page.click("#sign-in button[type=submit]")


async def test_an_admin_deactivates_a_user_and_retries_a_failed_job(
    served: str, page: Page, database: Any
) -> None:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Security Policy" in m.text else None)
    await create_user(database, "admin@example.com", scopes=["admin"], full_name="Ada Admin")
    await create_user(database, "bob@example.com", full_name="Bob Builder")
    failed = FailedJob(
        job="users.purge_tokens", task_id="t-1", arguments={}, error="TimeoutError", attempts=5
    )
    async with database.session() as session:
        session.add(failed)
        await session.commit()
    async with httpx.AsyncClient(base_url=served) as api:
        form = {"username": "bob@example.com", "password": DEFAULT_PASSWORD}
        signed_in = await api.post("/api/v1/auth/login", data=form)
        bob = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        assert (await api.get("/api/v1/users/me", headers=bob)).status_code == 200

        await sign_in(page, served, "bob@example.com")
        assert "Only admins and superusers" in await page.inner_text("#sign-in-error")

        await sign_in(page, served, "admin@example.com")
        await screenshot(page, "home")
        await page.click("text=Users")
        await page.fill("#search-input", "bob")
        await page.click("#search-button")
        await page.wait_for_url("**search=bob**")
        await screenshot(page, "users")
        await page.click("a[href*='/admin/user/details/']")
        await page.click("#write-deactivate button")
        await page.wait_for_selector("text=every token ended")
        await screenshot(page, "user")
        assert (await api.get("/api/v1/users/me", headers=bob)).status_code == 401

        await page.goto(f"{served}/admin/failed-job/list")
        await page.click("a[href*='/admin/failed-job/details/']")
        await screenshot(page, "failed-job")
        await page.click("#write-retry button")
        await page.wait_for_selector("text=sent again as task")
    async with database.session() as session:
        assert await session.get(FailedJob, failed.id) is None
    assert blocked == []


async def test_a_form_posted_from_another_site_is_refused(
    served: str, page: Page, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com")
    await sign_in(page, served, "admin@example.com")
    await page.wait_for_url(f"{served}/admin/")
    target = f"{served}/admin/user/write/deactivate/{bob.id}"
    attack = f'<form method="post" action="{target}"><button id="go">Win a prize</button></form>'
    await page.route(
        "http://elsewhere.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=attack),
    )
    await page.goto("http://elsewhere.example/prize")
    async with page.expect_response(target) as answer:
        await page.click("#go")
    assert (await answer.value).status == 403
    assert "Cross-site requests to the console are refused" in await page.content()
    async with database.session() as session:
        row = await session.get(type(bob), bob.id)
        assert row is not None and row.is_active
