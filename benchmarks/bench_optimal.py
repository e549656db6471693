"""What the optimal discriminator lens costs (engine/optimal.py), as ratios to baselines
measured in the same run:

- picture: compute_picture with view.optimal on against the same trainer's default picture
  (off), for 2-D noise (the pushforward through a fine noise grid) and for 1-D and 3-D noise
  (a kernel estimate from fakes); off must cost what it did (the lens adds nothing then);
- metric row: the value columns (optimal.value_columns: V(D, G), V(D*, G), -log 4 + 2 JS)
  against the whole metric_row they are part of.

Timings are medians over interleaved repetitions on one thread (as an engine process runs).

    .venv/bin/python benchmarks/bench_optimal.py [--repeats 30] [--train 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from ganlab.engine.evaluation import metric_row
from ganlab.engine.optimal import value_columns
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.trainer import Trainer


def _median_ms(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm up (caches, first allocations)
    for _ in range(repeats):
        for name, fn in fns.items():  # interleaved: drifts in machine load hit both alike
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(v) for name, v in times.items()}


def bench_picture(dim: int, train: int, repeats: int) -> None:
    off = Trainer({"noise": {"dim": dim}})
    off.train(train)
    on = Trainer({"noise": {"dim": dim}, "view": {"optimal": True}})
    on.train(train)  # the view does not touch training: the same networks as `off`
    c_off, c_on = PictureCache(), PictureCache()
    ms = _median_ms(
        {"off": lambda: compute_picture(off, c_off), "on": lambda: compute_picture(on, c_on)},
        repeats,
    )
    kind = compute_picture(on, c_on).fake_density
    how = kind.kind if kind else "?"
    print(f"picture, {dim}-D noise ({how}): off {ms['off']:.2f} ms, on {ms['on']:.2f} ms, "
          f"on/off {ms['on'] / ms['off']:.2f}")  # fmt: skip


def bench_row(dim: int, train: int, repeats: int) -> None:
    t = Trainer({"noise": {"dim": dim}})
    t.train(train)
    n = t.config.metrics.samples
    real = t.real_sample(n, torch.Generator().manual_seed(t.config.seed + 8))
    fake = t.sample(n, torch.Generator().manual_seed(t.config.seed + 7))
    ms = _median_ms(
        {"row": lambda: metric_row(t), "values": lambda: value_columns(t, real, fake)},
        max(3, repeats // 5),
    )
    print(f"metric row, {dim}-D noise: whole row {ms['row']:.1f} ms, value columns "
          f"{ms['values']:.2f} ms, share {ms['values'] / ms['row']:.1%}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--train", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for dim in (2, 1, 3):
        bench_picture(dim, args.train, args.repeats)
    for dim in (2, 1):
        bench_row(dim, args.train, args.repeats)


if __name__ == "__main__":
    main()
