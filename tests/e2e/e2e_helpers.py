"""Helpers for the browser tests and the browser benchmark: start the server, find Chromium,
open the app, wait for the picture to settle, read it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The sizes every page is looked at: a laptop, a narrow window, a phone.
SIZES = {"laptop": (1280, 800), "tablet": (800, 900), "phone": (390, 844)}
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, own_group: bool = False, **env: str) -> subprocess.Popen[bytes]:
    """`ganlab serve` on `port`; with `own_group`, in a process group of its own (so that a
    test can kill it with its engine processes, as a crashed machine would)."""
    ganlab = Path(sys.executable).parent / "ganlab"
    cmd = [str(ganlab)] if ganlab.exists() else [sys.executable, "-m", "ganlab.cli"]
    environ = {**os.environ, "GANLAB_DEVICE": "cpu", "GANLAB_WORKERS": "1", **env}
    log = ARTIFACTS / f"server-{port}.log"
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([*cmd, "serve", "--port", str(port)], env=environ, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=own_group)  # fmt: skip
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


def open_app(pg, hash_: str = "") -> None:  # type: ignore[no-untyped-def]
    """Open the app and wait until it is connected and has drawn a frame."""
    pg.goto(f"{pg.base_url}/{hash_}")
    wait_ready(pg)


def wait_ready(pg) -> None:  # type: ignore[no-untyped-def]
    """The page's test hook (web/src/test-hook.js) says it is connected and has drawn."""
    pg.wait_for_function("window.ganlabTest && window.ganlabTest.ready", timeout=30_000)


def settle(pg, timeout: int = 15_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until a drawn frame reflects every change (step, reset, config, data) sent."""
    pg.wait_for_function("window.ganlabTest.settled", timeout=timeout)


def counters(pg) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return pg.evaluate("window.ganlabTest.counters()")


def set_control(pg, path: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Change a hyperparameter as a user does: open its node's settings (and their "more"
    section if the control is in it), choose, tick ("true"/"false") or type the value, and
    close them again."""
    control = pg.locator(f"[data-testid='ctl-{path}']")
    node = control.evaluate("e => e.closest('.node-panel').dataset.panel")
    pg.click(f"[data-testid=node-{node}]")
    if control.evaluate("e => Boolean(e.closest('details')) && !e.closest('details').open"):
        pg.locator(f"[data-panel={node}] details.advanced > summary").click()
    control.wait_for(state="visible")
    kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
    if kind == "select":
        control.select_option(value)
    elif kind == "checkbox":
        control.set_checked(value == "true")
    else:
        control.fill(value)
        control.dispatch_event("change")
    pg.keyboard.press("Escape")
    pg.locator("#node-popover").wait_for(state="hidden")


def draw_stroke(pg, points) -> None:  # type: ignore[no-untyped-def]
    """Drag across the drawing pad through unit-square points (y up)."""
    box = pg.locator("[data-testid=draw-canvas]").bounding_box()
    to_px = lambda x, y: (box["x"] + x * box["width"], box["y"] + (1 - y) * box["height"])  # noqa: E731
    pg.mouse.move(*to_px(*points[0]))
    pg.mouse.down()
    for p in points[1:]:
        pg.mouse.move(*to_px(*p), steps=8)
    pg.mouse.up()


def play_rows(pg, rows: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Play until the run has `rows` metric rows, pause, and wait for the picture to settle."""
    pg.click("[data-testid=play-pause]")
    pg.wait_for_function(f"window.ganlabTest.historyLength >= {rows}", timeout=60_000)
    pg.click("[data-testid=play-pause]")
    settle(pg)


def chart_legend(pg, chart: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A chart's legend: each series' label and the value it shows."""
    rows = pg.evaluate(
        """(id) => [...document.querySelectorAll(`[data-chart=${id}] .u-legend .u-series`)]
             .map(r => [r.querySelector('.u-label').textContent,
                        r.querySelector('.u-value').textContent])""",
        chart,
    )
    return dict(rows)


def translucent_rows(pg, chart: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The widest row of a chart's canvas drawn translucent, and the canvas' width. A band
    (alpha 0.2: 51 of 255; two overlapping, 0.36: 92) fills rows across the plot; lines
    alone leave only a few anti-aliased pixels a row."""
    widest, width = pg.evaluate(
        """(id) => {
          const c = document.querySelector(`[data-chart=${id}] canvas`);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const rows = new Array(c.height).fill(0);
          for (let i = 3; i < d.length; i += 4) {
            if (d[i] >= 45 && d[i] <= 100) rows[Math.floor((i >> 2) / c.width)]++;
          }
          return [Math.max(...rows), c.width];
        }""",
        chart,
    )
    return widest, width


def chart_fits(pg, chart: str) -> bool:  # type: ignore[no-untyped-def]
    """Nothing of the chart runs off its box or the screen."""
    return pg.evaluate(
        """(id) => { const b = document.querySelector(`[data-chart=${id}]`);
             const r = b.getBoundingClientRect();
             return b.scrollWidth <= b.clientWidth + 1 && r.right <= innerWidth + 1; }""",
        chart,
    )


def three_digits(v: float) -> float:
    """A number as a chart's legend shows it: three significant digits."""
    return float(f"{v:.3g}")


def file_menu(pg, testid: str) -> None:  # type: ignore[no-untyped-def]
    """Click an item of the File menu."""
    pg.click("#file-menu summary")
    pg.click(f"[data-testid={testid}]")


def canvas_png(pg) -> bytes:  # type: ignore[no-untyped-def]
    """What the data-space view shows now: heatmap layer and picture canvas together (the
    picture is drawn in a worker, so it is read from the screen)."""
    pg.wait_for_function("window.ganlabTest.inFlight === 0")
    pg.wait_for_timeout(50)
    return pg.locator(".view-wrap").screenshot()


def shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sized_page(browser, server_url: str, size: str):  # type: ignore[no-untyped-def]
    """A fresh context and page at one of SIZES on the server, and the list its console
    errors and uncaught exceptions go to. Close the context when done."""
    w, h = SIZES[size]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.base_url = server_url
    return context, page, errors


def train_to(pg, iterations: int, timeout: int = 60_000) -> int:  # type: ignore[no-untyped-def]
    """Train at full speed until the run has at least `iterations` iterations, pause, and
    return the head of its history (the page's timeline, issue 15)."""
    pg.select_option("[data-testid=speed]", "")
    pg.click("[data-testid=play-pause]")
    pg.wait_for_function(f"window.ganlabTest.iteration >= {iterations}", timeout=timeout)
    pg.click("[data-testid=play-pause]")
    pg.wait_for_function("!window.ganlabTest.playing")
    settle(pg)
    pg.wait_for_function(
        f"window.ganlabTest.timeline.known && window.ganlabTest.timeline.head >= {iterations}"
        " && window.ganlabTest.timeline.head === window.ganlabTest.counters().iteration"
    )
    return int(pg.evaluate("window.ganlabTest.timeline.head"))


def movie_dialog(pg, size: int, seconds: float, fps: int) -> None:  # type: ignore[no-untyped-def]
    """Fill the movie export dialog (opened by its File menu item): size, length, frame rate."""
    pg.locator("[data-testid=movie-dialog]").wait_for(state="visible")
    pg.select_option("[data-testid=movie-size]", str(size))
    pg.fill("[data-testid=movie-seconds]", str(seconds))
    pg.fill("[data-testid=movie-fps]", str(fps))
