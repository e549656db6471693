"""Each loss's recipe from the app's defaults, on GAN Lab's shapes, against the presets' bar.

A run is the default experiment with the loss and its recipe applied
(`ganlab.engine.recipes.with_recipe`), the data switched to one shape, trained for
`--iterations` and judged with `ganlab.engine.evaluation.verdict`: W1 between 2,500 generated
and 2,500 fresh real points at most 3x the W1 between two fresh real samples, and where the
data has modes, every mode covered with at least 80% of the samples high quality. Beside the
verdict, `sep` is how far apart the heatmap's colours are under real and fake dots after the
first 150 iterations (about the page's first two seconds), on the colour scale the page uses.
Prints one row per run and a summary per loss and shape; exits 0 either way.

    .venv/bin/python benchmarks/bench_recipes.py [--losses log wgan] [--data gaussians ring]
        [--seeds 0 1 2 3 4] [--iterations 3000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from ganlab.engine.evaluation import W1_RATIO_LIMIT, Verdict, verdict
from ganlab.engine.losses import OBJECTIVES
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.recipes import with_recipe
from ganlab.engine.trainer import Trainer

SHAPES = ["gaussians", "ring", "line"]
FIRST_SECONDS = 150  # iterations: as tests/engine/test_trainer.py's first-seconds check


@dataclass(frozen=True)
class Run:
    loss: str
    data: str
    seed: int
    separation: float
    verdict: Verdict
    seconds: float


def separation(t: Trainer) -> float:
    """Mean D under the real dots minus under the fake dots, in the heatmap's colour units:
    probabilities as they are, critic scores over the range of the heatmap's grid."""
    p = compute_picture(t, PictureCache())
    gap = float(p.real_d.mean() - p.fake_d.mean())
    if p.output == "probability":
        return gap
    spread = float(p.d_grid.max() - p.d_grid.min())
    return gap / spread if spread > 0 else 0.0


def run_one(loss: str, data: str, seed: int, iterations: int) -> Run:
    import torch

    torch.set_num_threads(1)  # tiny networks: more threads only contend
    start = time.perf_counter()
    t = Trainer(with_recipe(loss, {"data": {"name": data}, "seed": seed}))
    sep = float("nan")
    for i in range(iterations):
        if i == FIRST_SECONDS:
            sep = separation(t)
        t.step()
    return Run(loss, data, seed, sep, verdict(t), time.perf_counter() - start)


def row(r: Run) -> str:
    v = r.verdict
    modes = f"{v.modes_covered}/{v.modes_total}" if v.modes_total else "-"
    quality = f"{v.high_quality_fraction:.1%}" if v.high_quality_fraction is not None else "-"
    outcome = "pass" if v.passed else "FAIL"
    return (f"{r.loss:>8}  {r.data:>9}  {r.seed:>4}  {v.ratio:6.2f}  {modes:>5}  {quality:>6}  "
            f"{r.separation:5.2f}  {outcome}  ({r.seconds:.1f} s)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", nargs="+", default=list(OBJECTIVES), choices=list(OBJECTIVES))
    parser.add_argument("--data", nargs="+", default=SHAPES)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(5)))
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (one core each)")
    args = parser.parse_args()
    if args.iterations <= FIRST_SECONDS:
        parser.error(f"--iterations must be over {FIRST_SECONDS}")
    jobs = [(k, d, s) for k in args.losses for d in args.data for s in args.seeds]
    runs: list[Run] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, *job, args.iterations) for job in jobs]
        for future in as_completed(futures):
            runs.append(future.result())
            print(row(runs[-1]), flush=True)
    print(f"\n{args.iterations} iterations; pass: ratio <= {W1_RATIO_LIMIT:g} (and modes)")
    print(f"{'loss':>8}  {'data':>9}  pass  ratios by seed")
    for k in args.losses:
        for d in args.data:
            mine = sorted((r for r in runs if (r.loss, r.data) == (k, d)), key=lambda r: r.seed)
            ratios = " ".join(f"{r.verdict.ratio:.2f}" + ("" if r.verdict.passed else "*")
                              for r in mine)  # fmt: skip
            passed = sum(r.verdict.passed for r in mine)
            print(f"{k:>8}  {d:>9}  {passed}/{len(mine)}   {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
