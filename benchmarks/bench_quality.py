"""Sample quality of presets after their default training length, one CPU thread each.

For each seed: trains the preset exactly as `ganlab train` does (same config and step count),
then measures on 2,500 generated samples the modes covered and the high-quality fraction
(benchmarks.md definitions, a mode counts as covered with at least one high-quality sample).
Reports wall time of training. Target for grid25: >= 24 of 25 modes and >= 80% high
quality within 60 s, on every seed. The collapse preset is run for contrast.

    .venv/bin/python benchmarks/bench_quality.py [--preset grid25] [--seeds 0 1 2] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor


def run_one(preset_name: str, seed: int) -> dict[str, float | str]:
    import torch

    from ganlab.engine.evaluation import metric_row
    from ganlab.engine.presets import get_preset
    from ganlab.engine.trainer import Trainer

    torch.set_num_threads(1)
    preset = get_preset(preset_name)
    config = preset.experiment().model_copy(update={"seed": seed})
    trainer = Trainer(config)
    start = time.perf_counter()
    for _ in range(preset.steps):
        trainer.step()
    seconds = time.perf_counter() - start
    row = metric_row(trainer, samples=2500, w1_samples=1000)
    return {
        "preset": preset_name,
        "seed": seed,
        "steps": preset.steps,
        "train_seconds": round(seconds, 1),
        "modes_covered": row.get("modes_covered", float("nan")),
        "modes_total": row.get("modes_total", float("nan")),
        "high_quality_fraction": round(row.get("high_quality_fraction", float("nan")), 3),
        "w1": round(row.get("w1", float("nan")), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", help="preset(s) to run (default grid25 "
                        "and ring8-collapse)")  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (one core each)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    presets = args.preset or ["grid25", "ring8-collapse"]
    jobs = [(p, s) for p in presets for s in args.seeds]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_one, *zip(*jobs, strict=True)))
    for r in results:
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['preset']:<16} seed {r['seed']}  {r['steps']} steps in "
                  f"{r['train_seconds']:5.1f} s  modes {r['modes_covered']:.0f}/"
                  f"{r['modes_total']:.0f}  high quality {r['high_quality_fraction']:.1%}  "
                  f"W1 {r['w1']}")  # fmt: skip


if __name__ == "__main__":
    main()
