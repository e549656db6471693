"""Regenerate the front end's shipped assets from the engine (run from the repository root):

    .venv/bin/python web/tools/make_assets.py            # thumbnails' sample points
    .venv/bin/python web/tools/make_assets.py --runs     # also retrain the trained run files

`web/public/distributions.json` holds 300 samples of every registered distribution for the
picker's thumbnails (a distribution missing there is drawn from its modes and box instead).
`web/public/pretrained/NAME.ganlab` are run files of GAN Lab's four presets, trained with the
command line (`ganlab train --save-run`), that "Start from a trained model" loads.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from ganlab.engine.distributions import DISTRIBUTIONS
from ganlab.engine.presets import PRESETS

WEB = Path(__file__).resolve().parent.parent
# preset: (steps, seed): each preset's own length (it reaches its target there on every seed
# benchmarks/bench_presets.py tries), seed 0.
TRAINED = {name: (PRESETS[name].steps, 0) for name in ("line", "gaussians", "ring", "disjoint")}


def samples() -> None:
    out = {}
    for name, dist in DISTRIBUTIONS.items():
        pts = dist.sample(300, torch.Generator().manual_seed(0)).tolist()
        points = [[round(x, 4), round(y, 4)] for x, y in pts]
        out[name] = {"box": dist.box.as_list(), "points": points}
    path = WEB / "public" / "distributions.json"
    path.write_text(json.dumps(out, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size // 1024} KB, {len(out)} distributions)")


def runs() -> None:
    ganlab = Path(sys.executable).parent / "ganlab"
    for preset, (steps, seed) in TRAINED.items():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [str(ganlab), "train", "--preset", preset, "--steps", str(steps), "--seed",
                 str(seed), "--set", "device=cpu", "--out", tmp, "--save-run", "--quiet"],
                check=True,
            )  # fmt: skip
            target = WEB / "public" / "pretrained" / f"{preset}.ganlab"
            shutil.copyfile(Path(tmp) / "run.safetensors", target)
            metrics = json.loads((Path(tmp) / "final.json").read_text())["metrics"]
            print(f"wrote {target}: js_grid {metrics['js_grid']:.3f}, w1 {metrics['w1']:.3f}")


if __name__ == "__main__":
    samples()
    if "--runs" in sys.argv:
        runs()
