"""Picture cost: one `compute_picture` at the default view, against the same default picture
measured in the same run (one CPU thread).

Cases (each a config change from the defaults; the first is the baseline):
- defaults (view.field 20, no packing);
- the gradient field off (view.field 0): the picture before the field existed;
- packing 2, partner averaged (every D value and arrow a weighted mean over 2K packs: the
  point with each of K cluster centres of the pool, in both slots; partners.py);
- packing 2 with the field off;
- the ring8 preset (3 x 64 networks, packing 2), the benchmark presets' shape.

Prints milliseconds per picture (median of repeats, each the mean of a timed loop) and the
ratio to the default picture, and the cost of the fakes' cluster refit (part of every packed
picture).

With --accuracy it prints instead, for each count of clusters K, the heatmap's largest error
against the exact mean over every fake as partner in both slots, on ring8 and grid25 after
300 and 3,000 steps, and the ms per ring8 picture with that K (the table that chose
partners.CLUSTERS; about a minute).

    .venv/bin/python benchmarks/bench_picture.py [--loops N] [--repeats R] [--json]
    .venv/bin/python benchmarks/bench_picture.py --accuracy [--clusters 8,16,24,32]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch

from ganlab.engine import d_side
from ganlab.engine.partners import CLUSTERS, Partners
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.presets import get_preset
from ganlab.engine.trainer import Trainer

CASES: dict[str, dict[str, Any]] = {
    "default (field 20)": {},
    "field off": {"view": {"field": 0}},
    "packing 2": {"discriminator": {"packing": 2}},
    "packing 2, field off": {"discriminator": {"packing": 2}, "view": {"field": 0}},
    "ring8 preset (packing 2)": get_preset("ring8").config,
}


def picture_ms(config: dict[str, Any], loops: int, repeats: int) -> float:
    t = Trainer({**config, "device": "cpu"})
    t.train(20)  # weights away from their initialisation
    cache = PictureCache()
    compute_picture(t, cache)  # the fixed inputs are built once per view
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            compute_picture(t, cache)
        times.append((time.perf_counter() - start) / loops * 1000)
    return statistics.median(times)


def refit_ms(repeats: int) -> float:
    """One warm refit of the fakes' clusters (240 normal points drifting a little each time),
    as every packed picture does: Lloyd steps from the previous centres and the packs' layout."""
    gen = torch.Generator().manual_seed(0)
    pool = torch.randn(240, 2, generator=gen)
    drift = [0.01 * torch.randn(240, 2, generator=gen) for _ in range(repeats)]
    q = Partners(2, CLUSTERS, seed=0)
    q.fit(pool)
    start = time.perf_counter()
    for d in drift:
        pool = pool + d
        q.fit(pool)
    return (time.perf_counter() - start) / repeats * 1000


def exact_heatmap(t: Trainer, grid_n: torch.Tensor, fake_n: torch.Tensor) -> torch.Tensor:
    """D's probability at each grid point averaged over every fake as partner, in either
    slot: one partner at a time, summed in float64."""
    total = torch.zeros(grid_n.shape[0], dtype=torch.float64)
    for partner in fake_n:
        other = partner.expand_as(grid_n)
        for pack in (torch.cat([grid_n, other], 1), torch.cat([other, grid_n], 1)):
            total += torch.sigmoid(t.judge(pack)).reshape(-1).double()
    return total / (2 * fake_n.shape[0])


def accuracy(clusters: list[int], loops: int, repeats: int) -> None:
    """The trade-off table: max heatmap error per K against the exact mean, and cost."""
    errors: dict[tuple[str, int, int], float] = {}
    for preset in ("ring8", "grid25"):
        t = Trainer({**get_preset(preset).config, "device": "cpu"})
        done = 0
        for steps in (300, 3000):
            t.train(steps - done)
            done = steps
            with torch.inference_mode():
                cache = PictureCache()
                compute_picture(t, cache)  # the view's fixed inputs
                fake_n = t.generate(cache.noise)
                exact = exact_heatmap(t, cache.grid_n, fake_n)
                for k in clusters:
                    d_side.CLUSTERS = k  # a fresh view: a cold fit with k clusters
                    cache = PictureCache()
                    got = compute_picture(t, cache).d_grid.reshape(-1)
                    errors[preset, steps, k] = float((torch.from_numpy(got) - exact).abs().max())
    base = picture_ms({}, loops, repeats)
    print("max |heatmap - exact partner mean| on the 64 x 64 grid; ms per ring8 picture")
    print("     K  packs  ring8@300 ring8@3000 grid25@300 grid25@3000     ms   x default")
    for k in clusters:
        d_side.CLUSTERS = k
        ms = picture_ms(get_preset("ring8").config, loops, repeats)
        errs = " ".join(
            f"{errors[p, s, k]:9.4f} " for p in ("ring8", "grid25") for s in (300, 3000)
        )
        print(f"  {k:4d} {2 * k:6d}  {errs} {ms:7.1f} {ms / base:8.0f}")
    d_side.CLUSTERS = CLUSTERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--clusters", default="8,16,20,24,32,48")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.accuracy:
        accuracy([int(k) for k in args.clusters.split(",")], args.loops, args.repeats)
        return
    results = {name: picture_ms(cfg, args.loops, args.repeats) for name, cfg in CASES.items()}
    base = results["default (field 20)"]
    if args.json:
        print(json.dumps({"clusters": CLUSTERS, "ms": results,
                          "ratio": {k: v / base for k, v in results.items()}}))  # fmt: skip
        return
    print(f"picture cost, one CPU thread ({2 * CLUSTERS} packs per point under packing 2)")
    for name, ms in results.items():
        print(f"  {name:28s} {ms:8.2f} ms   x{ms / base:6.2f}")
    print(f"  warm refit of 240 fakes' {CLUSTERS} clusters: {refit_ms(500):.3f} ms")


if __name__ == "__main__":
    main()
