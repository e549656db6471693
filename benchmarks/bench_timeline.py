"""Run history (engine/timeline.py): its cost to training, its memory, seeks, and groups.

1. Training speed with the timeline recording (cost-based snapshot cadence, default budget)
   against without, at the default config and for the ring8 preset: the two loops alternate
   in the same run, and the ratio of their medians is reported (the target: at least 0.90).
2. A long run at defaults (--long iterations, 50,000 by default) with the timeline: the
   snapshot bytes kept against the budget, the snapshot count, and the latency of seeks to
   random iterations (median and p95).
3. Runs stepped together (step.py step_together, as the live server does for runs sharing a
   group key) against the same runs stepped alone: whether their states stay bit-equal, and
   from which iteration they differ. A replay steps a run alone.

    .venv/bin/python benchmarks/bench_timeline.py [--iterations N] [--repeats R] [--long L]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from typing import Any

import torch

from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.presets import PRESETS
from ganlab.engine.step import step_together
from ganlab.engine.timeline import DEFAULT_BUDGET, Timeline
from ganlab.engine.trainer import Trainer

DEFAULTS: dict[str, Any] = {"device": "cpu"}


def rate(config: dict[str, Any], iterations: int, history: bool) -> float:
    """Iterations per second of a fresh run (after a short warm-up), recording or not."""
    t = Trainer(config)
    for _ in range(20):
        t.step()
    tl = Timeline(t) if history else None
    start = time.perf_counter()
    for _ in range(iterations):
        t.step()
        if tl is not None:
            tl.iterated(t)
    return iterations / (time.perf_counter() - start)


def speed(name: str, config: dict[str, Any], iterations: int, repeats: int) -> None:
    on, off = [], []
    for _ in range(repeats):
        off.append(rate(config, iterations, False))
        on.append(rate(config, iterations, True))
    a, b = statistics.median(on), statistics.median(off)
    print(f"{name}: {b:.0f} it/s without history, {a:.0f} with; ratio {a / b:.3f}")


def rss() -> int:
    """This process's resident memory now, in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def long_run(iterations: int) -> None:
    t = Trainer(DEFAULTS)
    for _ in range(200):  # warm up, so that the growth below is the history's
        t.step()
    tl = Timeline(t)
    before = rss()
    start = time.perf_counter()
    for _ in range(iterations):
        t.step()
        tl.iterated(t)
    took = time.perf_counter() - start
    print(f"resident memory grew {(rss() - before) / 2**20:.1f} MiB over the run")
    print(f"{iterations} iterations at defaults in {took:.1f} s: {len(tl.snapshots)} snapshots, "
          f"{tl.nbytes / 2**20:.2f} MiB of {DEFAULT_BUDGET / 2**20:.0f} MiB budget "
          f"({'within' if tl.nbytes <= DEFAULT_BUDGET else 'OVER'})")  # fmt: skip
    rng = random.Random(0)
    run = Trainer(DEFAULTS)
    times = []
    for _ in range(40):
        n = rng.randrange(iterations + 1)
        s = time.perf_counter()
        tl.seek(n, into=run)
        compute_picture(run, PictureCache())
        times.append(time.perf_counter() - s)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"seek + picture to random iterations: median {statistics.median(times) * 1e3:.0f} ms, "
          f"p95 {p95 * 1e3:.0f} ms")  # fmt: skip


def groups(iterations: int, size: int) -> None:
    for name, config in (("defaults", DEFAULTS), ("ring8", PRESETS["ring8"].config)):
        configs = [{**config, "device": "cpu", "seed": 1 + i} for i in range(size)]
        together = [Trainer(c) for c in configs]
        alone = Trainer(configs[0])
        first = None
        for i in range(1, iterations + 1):
            step_together(together)
            alone.step()
            if first is None and not torch.equal(together[0].G.params, alone.G.params):
                first = i
        diff = float((together[0].G.params - alone.G.params).abs().max())
        verdict = "bit-equal" if first is None else f"differ from iteration {first}"
        print(f"{name}: {size} runs together vs one alone over {iterations} iterations: "
              f"{verdict}; largest G weight difference at the end {diff:.3g}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--long", type=int, default=50_000)
    parser.add_argument("--group-iterations", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    speed("defaults", DEFAULTS, args.iterations, args.repeats)
    speed("ring8", {**PRESETS["ring8"].config, "device": "cpu"}, args.iterations, args.repeats)
    groups(args.group_iterations, 3)
    long_run(args.long)


if __name__ == "__main__":
    main()
