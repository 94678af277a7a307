"""The ADE in a real browser: Debian's chromium, headless, driven by Playwright, against a real
`troupe server` process. On SQLite only: the UI reads the same API on either backend, and the
API itself is tested on both."""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import ServerProcess

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Nothing but 127.0.0.1: no updates, no sync, no QUIC probes, no first-run fetches.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# The docs' screenshots (docs/ade.md) are these tests' own; `make screenshots` refreshes them. A plain
# test run takes them too (rendering is part of the check) but leaves the tree unchanged.
if os.environ.get("TROUPE_UPDATE_SCREENSHOTS") == "1":
    SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
else:
    SCREENSHOTS = Path(tempfile.mkdtemp(prefix="troupe-screenshots-"))


# Package scope, not session: Playwright's sync API keeps an event loop of its own current in
# this thread while it runs, which would stop the async tests that follow in the same session.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `apt-get install chromium` (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def ade_server(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    proc = ServerProcess(database_factory("sqlite"), tmp_path_factory.mktemp("ade"))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def api(ade_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ade_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """`new_page()` -> a page in a browser context of its own (its own storage), 1280x800."""
    contexts = []

    def make() -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


# In the page, fetch() keeps back the answers to the requests it picks until the test calls
# `release()`: an answer that arrives late, at exactly the moment the test chooses (the
# races a busy machine produces now and then, made certain).
HOLD_ANSWERS = """
(() => {
  const fetch = window.fetch;
  let release;
  const released = new Promise((resolve) => (release = resolve));
  window.held = { count: 0, release };
  window.fetch = async (url, options = {}) => {
    const response = await fetch(url, options);
    if ((%s)(String(url), options.headers || {})) {
      window.held.count += 1;
      await released;
    }
    return response;
  };
})();
"""


def hold_answers(page: Any, picks: str) -> Callable[[], None]:
    """Hold back the answers to the page's fetch(url, options) calls that the JavaScript
    function `picks(url, headers)` picks; returns `release()`, which lets them through."""
    page.add_init_script(HOLD_ANSWERS % picks)

    def release() -> None:
        page.wait_for_function("window.held.count > 0")
        page.evaluate("window.held.release()")

    return release
