"""In-page movie export (issue 15): how long the page takes, from the click on "Export" to the
download, to make a movie of the run's history, against fetching the same frames alone.

    .venv/bin/python benchmarks/bench_export.py [--iterations 3000] [--seconds 10] [--fps 30]
        [--size 512]

Starts the real server on a free port and Debian's Chromium (/usr/bin/chromium), trains a run
at default settings for `--iterations` at full speed, pauses, then in the same page:
  baseline  the movie's frames fetched by seeks alone (one in flight, each waited for as the
            export does; the page still draws each in its own view), no off-screen drawing,
            no encoding;
  gif, mp4  the File menu's movie exports (MP4, or WebM where the browser has no H.264
            encoder), timed from the click to the download.
Prints one JSON object: seconds for each, each export's ratio to the baseline, frame counts,
file sizes and the issue's targets (10 s at 30 frames/s, 512 px: GIF under 20 s, MP4 under
10 s). Needs the front end built (`cd web && node build.mjs`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from e2e_helpers import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    file_menu,
    free_port,
    movie_dialog,
    sized_page,
    start_server,
    stop_server,
    train_to,
    wait_ready,
)

# The baseline: the same seeks, one at a time, each answered by its frame; nothing drawn
# off-screen or encoded. Written here on its own (not the page's code) so that it times only
# the server's answers and the page's usual handling of frames.
FETCH = """async (iterations) => {
  const run = window.ganlab.run;
  const t0 = performance.now();
  for (const iteration of iterations) {
    await new Promise((resolve, reject) => {
      let id = null;
      const off = run.on("frame", (f) => {
        if (id !== null && f.iteration === iteration && f.applied >= id) { off(); resolve(); }
      });
      id = run.send({ type: "seek", iteration });
      setTimeout(() => reject(new Error(`no frame for ${iteration}`)), 30000);
    });
  }
  const ms = performance.now() - t0;
  run.send({ type: "live" });
  return ms;
}"""


def export_seconds(pg, button: str, size: int, seconds: float, fps: int) -> dict:  # type: ignore[no-untyped-def]
    file_menu(pg, button)
    movie_dialog(pg, size=size, seconds=seconds, fps=fps)
    frames = int(pg.locator("[data-testid=movie-summary]").inner_text().split(" ")[0])
    t0 = time.perf_counter()
    with pg.expect_download(timeout=600_000) as info:
        pg.click("[data-testid=movie-start]")
    took = time.perf_counter() - t0
    download = info.value
    nbytes = Path(download.path()).stat().st_size
    pg.click("[data-testid=movie-cancel]")  # "Close"
    pg.wait_for_function("window.ganlabTest.timeline.live === true")
    return {"seconds": round(took, 2), "frames": frames, "file": download.suggested_filename,
            "bytes": nbytes}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--size", type=int, default=512, choices=[256, 512, 768])
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_server(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context, pg, errors = sized_page(browser, f"http://127.0.0.1:{port}", "laptop")
            pg.goto(f"http://127.0.0.1:{port}/")
            wait_ready(pg)
            head = train_to(pg, args.iterations)
            # The frames the export will fetch, as the dialog chooses them.
            file_menu(pg, "export-gif")
            movie_dialog(pg, size=args.size, seconds=args.seconds, fps=args.fps)
            iterations = pg.evaluate("window.ganlab.movie.iterations()")
            pg.click("[data-testid=movie-cancel]")
            base = pg.evaluate(FETCH, iterations) / 1000
            pg.wait_for_function("window.ganlabTest.timeline.live === true")
            gif = export_seconds(pg, "export-gif", args.size, args.seconds, args.fps)
            video = export_seconds(pg, "export-video", args.size, args.seconds, args.fps)
            snapshots = pg.evaluate("window.ganlabTest.timeline.snapshots.length")
            context.close()
            browser.close()
    finally:
        stop_server(proc)
    kind = video["file"].rsplit(".", 1)[1]
    out = {
        "head": head,
        "snapshots": snapshots,
        "movie": {"seconds": args.seconds, "fps": args.fps, "size": args.size,
                  "frames": len(iterations)},
        "baseline_fetch_s": round(base, 2),
        "gif": {**gif, "ratio_to_baseline": round(gif["seconds"] / base, 2), "target_s": 20,
                "met": gif["seconds"] < 20},
        kind: {**video, "ratio_to_baseline": round(video["seconds"] / base, 2), "target_s": 10,
               "met": video["seconds"] < 10},
        "page_errors": errors,
    }  # fmt: skip
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
