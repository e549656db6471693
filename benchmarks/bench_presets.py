"""GAN Lab's four presets against their quality bar, on many seeds, one CPU thread per run.

Each run trains a preset for its own length on one seed and judges the end with
`ganlab.engine.evaluation.judge_preset`, the definition tests/test_presets.py checks on seeds 0-2:
W1 between 2,500 generated and 2,500 fresh real points at most 3x the W1 between two fresh real
samples of that size and, where the data has modes, every mode covered with at least 80% of
the samples high quality. Prints a table per preset and a summary line; exits 0 either way.

    .venv/bin/python benchmarks/bench_presets.py [--presets line ring] [--seeds 0 1 2] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ganlab.engine.evaluation import W1_RATIO_LIMIT, PresetVerdict, judge_preset
from ganlab.engine.presets import get_preset

GANLAB_PRESETS = ["line", "gaussians", "ring", "disjoint"]
HEADER = f"{'seed':>4}  {'W1':>7}  {'real W1':>7}  {'ratio':>5}  {'modes':>5}  {'HQ':>6}  result"


def run_one(name: str, seed: int) -> tuple[PresetVerdict, float]:
    """The verdict on one run and its wall time (training and judging)."""
    import torch

    torch.set_num_threads(1)  # tiny networks: more threads only contend
    start = time.perf_counter()
    verdict = judge_preset(name, seed)
    return verdict, time.perf_counter() - start


def row(result: PresetVerdict, seconds: float) -> str:
    v = result.verdict
    modes = f"{v.modes_covered}/{v.modes_total}" if v.modes_total else "-"
    quality = f"{v.high_quality_fraction:.1%}" if v.high_quality_fraction is not None else "-"
    outcome = "pass" if result.passed else "FAIL"
    return (f"{result.seed:>4}  {v.w1:7.4f}  {v.baseline_w1:7.4f}  {v.ratio:5.2f}  {modes:>5}  "
            f"{quality:>6}  {outcome}  ({seconds:.1f} s)")  # fmt: skip


def report(name: str, results: list[tuple[PresetVerdict, float]]) -> None:
    print(f"\n{name} ({get_preset(name).steps} iterations; pass: ratio <= {W1_RATIO_LIMIT:g})")
    print(HEADER)
    for result, seconds in sorted(results, key=lambda r: r[0].seed):
        print(row(result, seconds))
    passed = sum(result.passed for result, _ in results)
    print(f"{name}: {passed}/{len(results)} seeds pass")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=GANLAB_PRESETS, choices=GANLAB_PRESETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (one core each)")
    args = parser.parse_args()
    jobs = [(name, seed) for name in args.presets for seed in args.seeds]
    results: dict[str, list[tuple[PresetVerdict, float]]] = {name: [] for name in args.presets}
    columns = (TextColumn("judging presets"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[last]}"))  # fmt: skip
    with Progress(*columns, transient=True) as progress, ProcessPoolExecutor(args.jobs) as pool:
        task = progress.add_task("judge", total=len(jobs), last="")
        futures = [pool.submit(run_one, name, seed) for name, seed in jobs]
        for future in as_completed(futures):
            result, seconds = future.result()
            results[result.preset].append((result, seconds))
            last = f"{result.preset} seed {result.seed}: ratio {result.verdict.ratio:.2f}"
            progress.update(task, advance=1, last=last)
    for name in args.presets:
        report(name, results[name])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
