"""End-to-end fixtures: the real server on a free port and Debian's Chromium driven by Playwright.

The front end must be built (scripts/setup does it). Chromium is Debian's /usr/bin/chromium
(Playwright's own browser download is not used); without it these tests are skipped, except
under CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "ganlab" / "static"


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must run the browser tests; scripts/setup --e2e installs it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    if not (STATIC / "index.html").exists() or not (STATIC / "app.js").exists():
        _missing("the front end is not built (run scripts/setup or `npm run build --prefix web`)")
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    proc = start_server(port)
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


# Module scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it is open, which would break later tests that call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageErrors(list):
    """Console errors and uncaught exceptions of a page."""


@pytest.fixture
def page(browser, server_url, request):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors = PageErrors()

    def on_console(m):  # type: ignore[no-untyped-def]
        if m.type == "error":
            errors.append(f"console.error: {m.text}")

    pg.on("console", on_console)
    pg.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    pg.errors = errors
    pg.base_url = server_url
    yield pg
    context.close()
