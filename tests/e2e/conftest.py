"""End-to-end fixtures: the real server on a free port and Debian's Chromium driven by Playwright.

The front end must be built (scripts/setup does it). Chromium is Debian's /usr/bin/chromium
(Playwright's own browser download is not used); without it these tests are skipped, except
under CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "ganlab" / "static"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("GANLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must run the browser tests; scripts/setup --e2e installs it)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, **env: str) -> subprocess.Popen[bytes]:
    ganlab = Path(sys.executable).parent / "ganlab"
    cmd = [str(ganlab)] if ganlab.exists() else [sys.executable, "-m", "ganlab.cli"]
    environ = {**os.environ, "GANLAB_DEVICE": "cpu", "GANLAB_WORKERS": "1", **env}
    log = ARTIFACTS / f"server-{port}.log"
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([*cmd, "serve", "--port", str(port)], env=environ, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not answer /healthz within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    if not (STATIC / "index.html").exists() or not (STATIC / "app.js").exists():
        _missing("the front end is not built (run scripts/setup or `npm run build --prefix web`)")
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    proc = start_server(port)
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


@pytest.fixture(scope="session")
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


def open_app(pg, hash_: str = "") -> None:  # type: ignore[no-untyped-def]
    """Open the app and wait until it is connected and has drawn a frame."""
    pg.goto(f"{pg.base_url}/{hash_}")
    wait_ready(pg)


def wait_ready(pg) -> None:  # type: ignore[no-untyped-def]
    pg.wait_for_function(
        "window.ganlab && window.ganlab.connection.open && window.ganlab.stats.framesRendered > 0"
        " && window.ganlab.config !== null",
        timeout=30_000,
    )


def settle(pg, timeout: int = 15_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until a drawn frame reflects every change (step, reset, config, data) sent."""
    pg.wait_for_function("window.ganlab.settled", timeout=timeout)


def counters(pg) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return pg.evaluate(
        "(() => { const f = window.ganlab.frame; return {iteration: f.iteration,"
        " d: f.dUpdates, g: f.gUpdates}; })()"
    )


def canvas_png(pg) -> str:  # type: ignore[no-untyped-def]
    return pg.evaluate("document.getElementById('view-canvas').toDataURL('image/png')")


def shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
