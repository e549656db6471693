"""Seek latency in the real page: from a `seek` command to the past picture drawn.

    .venv/bin/python benchmarks/bench_seek.py [--iterations 20000] [--seeks 200]

Starts the real server on a free port (one engine process, on this machine) and Debian's
Chromium, opens the app at default settings, trains at full speed to `--iterations`, pauses,
then seeks to random iterations one at a time and times each from the command leaving the
page to the page having drawn the frame that shows it (`Run.drawn`). The baseline, measured
in the same run the same way: a seek to the head (the live run, nothing to rebuild). Also
reports the history's snapshots and bytes. Needs the front end built.

Target (issue 15): p95 at most 150 ms at defaults in a 20,000-iteration run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from e2e_helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_server,
    stop_server,
    train_to,
    wait_ready,
)

# In the page: seek to each of `targets` in turn, timing command to drawn frame.
TIMED_SEEKS = """async (targets) => {
  const run = window.ganlab.run;
  const drawn = run.drawn.bind(run);
  let waiting = null;
  run.drawn = (frame) => {
    drawn(frame);
    if (waiting && frame.header.iteration === waiting.n) waiting.done(performance.now());
  };
  const out = [];
  for (const n of targets) {
    const shown = new Promise((done) => { waiting = { n, done }; });
    const t0 = performance.now();
    run.send({ type: "seek", iteration: n });
    out.push((await shown) - t0);
    waiting = null;
  }
  run.drawn = drawn;
  return out;
}"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=20_000)
    ap.add_argument("--seeks", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import numpy as np
    from playwright.sync_api import sync_playwright

    rng = np.random.default_rng(args.seed)
    port = free_port()
    server = start_server(port, GANLAB_WORKERS=os.environ.get("GANLAB_WORKERS", "1"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"http://127.0.0.1:{port}/")
            page.base_url = f"http://127.0.0.1:{port}"
            wait_ready(page)
            head = train_to(page, args.iterations, timeout=600_000)
            targets = [int(n) for n in rng.integers(0, head, args.seeks)]
            seeks = page.evaluate(TIMED_SEEKS, targets)
            live = page.evaluate(TIMED_SEEKS, [head] * max(20, args.seeks // 5))
            timeline = page.evaluate("window.ganlab.run.timeline.snapshots.length")
            browser.close()
    finally:
        stop_server(server)
    report = {
        "head": head,
        "snapshots": timeline,
        "seek_ms": {
            "p50": round(pct(seeks, 0.5), 1),
            "p95": round(pct(seeks, 0.95), 1),
            "max": round(max(seeks), 1),
        },
        "baseline_live_ms": {"p50": round(pct(live, 0.5), 1), "p95": round(pct(live, 0.95), 1)},
    }
    report["p95_ratio"] = round(report["seek_ms"]["p95"] / report["baseline_live_ms"]["p95"], 2)
    report["target_met"] = report["seek_ms"]["p95"] <= 150
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
