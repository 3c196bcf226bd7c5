"""The docs site as a reader meets it: built in strict mode, served over HTTP, opened in headless
Chromium (Playwright's build, else the system's `chromium`: scripts/ensure-chromium.sh).
Navigation leads to the tutorial, search finds a page, and the tutorial's first page is
screenshotted."""

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Browser, Error, Page, Playwright, async_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as `make docs` builds it: a warning fails the build."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return target


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def launch(playwright: Playwright) -> Browser:
    """Playwright's Chromium, else the system's."""
    chromium = playwright.chromium
    try:
        browser: Browser = await chromium.launch()
    except Error:
        system = shutil.which("chromium") or shutil.which("chromium-browser")
        if system is None:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip("no headless Chromium: run scripts/ensure-chromium.sh (make test does)")
        browser = await chromium.launch(executable_path=system)
    return browser


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)  # the search index builds in a worker: slow when busy
            yield page
        finally:
            await browser.close()


async def test_the_navigation_leads_to_the_tutorial(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    await page.goto(base_url + "/")
    assert await page.title() == "Plinth"
    await page.get_by_role("link", name="Tutorial", exact=True).first.click()
    await page.wait_for_url("**/tutorial/")
    heading = page.locator("article h1")
    assert (await heading.inner_text()).startswith("From a fresh clone to a passing test")
    await page.get_by_role("link", name="Your first entity").first.click()
    await page.wait_for_url("**/tutorial/first-entity/")
    assert "class TodoController" in await page.locator("article").inner_text()
    await page.go_back()
    shot = tmp_path / "tutorial.png"
    await page.screenshot(path=str(shot), full_page=False)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
    if target := os.environ.get("PLINTH_DOCS_SCREENSHOT"):  # keep it to look at
        shutil.copy(shot, target)


async def test_search_finds_a_page(page: Page, base_url: str) -> None:
    await page.goto(base_url + "/")
    await page.locator("label.md-search__icon, .md-search__input").first.click()
    search = page.locator("input.md-search__input")
    result = page.locator(".md-search-result__item a[href*='unit-of-work']").first
    for _ in range(12):  # the index builds in a web worker: type again until it answers
        await search.fill("")
        # Key by key, as a reader types: the search reads the box on key-up, and `fill` sends
        # none (on a busy machine its query was never read: "Type to start searching").
        await search.press_sequentially("unit of work")
        try:
            await result.wait_for(timeout=5_000)
            break
        except Error:
            continue
    await result.click()
    await page.wait_for_url("**/explanation/unit-of-work/**")
    heading = await page.locator("article h1").inner_text()
    assert heading.startswith("The unit of work")
