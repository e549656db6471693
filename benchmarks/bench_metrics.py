"""What precision, recall, density and coverage (engine/knn_metrics.py) add to a metric row,
and what they read on trained presets beside their real-vs-real bands.

Cost: times metric_row on a trained-for-a-while run (default metrics: 2,000 samples, W1 on
500), in the same run and interleaved: without the k-NN scores (swapped for nothing), with
them on knn_metrics.KNN_POINTS = 1,000 points a side (what rows use), and with them on all
2,000; reports ms per row and the ratios to the row without them, with W1 and without (the
live server leaves W1 out of most rows when it is short of time). One CPU thread.

Values (--values): trains each preset for its own length as `ganlab train` does and prints
its four scores (metric_row at the config's 2,000 samples) beside the real-vs-real bands at
the same counts (evaluation.real_baseline).

    .venv/bin/python benchmarks/bench_metrics.py [--rows 30] [--values grid25 ring8]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from statistics import median

NAMES = ("precision", "recall", "density", "coverage")


def cost(data: str, rows: int, steps: int) -> dict[str, float]:
    import torch

    from ganlab.engine import evaluation, knn_metrics
    from ganlab.engine.config import merge
    from ganlab.engine.trainer import Trainer

    torch.set_num_threads(1)
    t = Trainer(merge({}, {"data": {"name": data}, "metrics": {"every": 10**5}}))
    for _ in range(steps):
        t.step()
    with_knn, points = evaluation.knn_columns, knn_metrics.KNN_POINTS
    timings: dict[str, list[float]] = {}
    for _ in range(rows):
        for w1 in (True, False):
            for knn in (0, points, 2000):
                evaluation.knn_columns = with_knn if knn else (lambda real, fake: {})  # type: ignore[assignment,misc]
                knn_metrics.KNN_POINTS = knn or points
                start = time.perf_counter()
                evaluation.metric_row(t, w1=w1)
                key = f"{'w1' if w1 else 'no_w1'}_{knn}"
                timings.setdefault(key, []).append((time.perf_counter() - start) * 1000)
    evaluation.knn_columns, knn_metrics.KNN_POINTS = with_knn, points
    return {key: median(v) for key, v in timings.items()}


def values(preset_name: str) -> dict[str, object]:
    import torch

    from ganlab.engine.evaluation import metric_row, real_baseline
    from ganlab.engine.presets import get_preset
    from ganlab.engine.trainer import Trainer

    torch.set_num_threads(1)
    preset = get_preset(preset_name)
    config = preset.experiment()
    t = Trainer(config)
    for _ in range(preset.steps):
        t.step()
    row = metric_row(t, w1=False)
    m = config.metrics
    bands = real_baseline(t.distribution, m.samples, m.w1_samples, m.grid)
    return {
        "preset": preset_name,
        "steps": preset.steps,
        "row": {n: row.get(n, float("nan")) for n in NAMES},
        "band": {n: (bands[n].low, bands[n].mean, bands[n].high) for n in NAMES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30, help="rows timed per variant")
    parser.add_argument("--steps", type=int, default=500, help="training steps before timing")
    parser.add_argument("--data", nargs="+", default=["grid25", "ring8", "swissroll"])
    parser.add_argument("--values", nargs="*", help="presets to train and score (e.g. grid25)")
    args = parser.parse_args()
    from ganlab.engine.knn_metrics import KNN_POINTS

    print("ms per metric row (median), 2,000 samples a side, W1 on 500; 1 thread")
    print(f"{'':16} {'no k-NN':>8} {'k-NN on ' + str(KNN_POINTS):>15} {'k-NN on 2000':>15}")
    print(f"{'data':<10} {'W1':<5} {'ms':>8} {'ms':>8} {'ratio':>6} {'ms':>8} {'ratio':>6}")
    for data in args.data:
        r = cost(data, args.rows, args.steps)
        for w1 in ("w1", "no_w1"):
            plain, knn, full = r[f"{w1}_0"], r[f"{w1}_{KNN_POINTS}"], r[f"{w1}_2000"]
            yes = "yes" if w1 == "w1" else "no"
            print(
                f"{data:<10} {yes:<5} {plain:8.1f} {knn:8.1f} {knn / plain:6.2f} "
                f"{full:8.1f} {full / plain:6.2f}"
            )
    if args.values:
        with ProcessPoolExecutor(max_workers=len(args.values)) as pool:
            results = list(pool.map(values, args.values))
        for res in results:
            print(
                f"\n{res['preset']} after {res['steps']} steps: value  (real vs real 5%, mean, 95%)"
            )
            for n in NAMES:
                lo, mean, hi = res["band"][n]  # type: ignore[index]
                v = res["row"][n]  # type: ignore[index]
                print(f"  {n:<10} {v:6.3f}   ({lo:.3f}, {mean:.3f}, {hi:.3f})")


if __name__ == "__main__":
    main()
