"""Each training variant's preset against its twin with the variant turned off, over seeds.

A variant preset (presets.py: ring8-unrolled, ring8-spectral, disjoint-instance-noise,
gaussians-r2, gaussians-ema, gaussians-simultaneous, gaussians-extragradient, moons-gelu)
claims one effect on one measured quantity. Each run trains the preset, and its twin (the same
config with the variant's field set back), for the preset's own length on one seed, and
measures at the end:

- ratio: W1 between generated and real points over W1 between two real samples
  (`evaluation.verdict`, 2,500 points each side); 3 is the presets' quality bar;
- modes: modes covered (a mode with enough samples within 3σ), where the data has modes;
- swing: how far the centre of G's samples wanders over the last third of the run: the RMS
  distance of the centre, taken every 50 iterations, from its own mean, in normalised
  coordinates (the view box's half-width is 1);
- bend: how sharply G's manifold bends: along each line of the page's latent grid, sampled
  at 2,000 points, the largest turn between neighbouring segments, in degrees; the median
  over the lines. Piecewise-linear (ReLU) maps turn in corners, which stay sharp however
  finely they are sampled; smooth maps turn little between close points. `page` is the same
  at the grid's own points, as the page draws each line (view.manifold points).

Prints, per preset, a row per seed with all these quantities for the preset and its twin, and
a line saying on how many seeds the claim held (the claimed quantity on the claimed side of
the twin's, by the variant's factor) with the medians. Exits 0 either way.

    .venv/bin/python benchmarks/bench_variants.py [--presets ring8-unrolled gaussians-ema]
        [--seeds 0 1 2 3 4] [--iterations 1000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganlab.engine.config import ExperimentConfig, merge, parse_config
from ganlab.engine.evaluation import verdict
from ganlab.engine.picture import latent_lines
from ganlab.engine.presets import get_preset
from ganlab.engine.trainer import Trainer

SWING_EVERY = 50  # iterations between two centres of G's samples
SWING_SAMPLES = 500
BEND_POINTS = 2000


@dataclass(frozen=True)
class Variant:
    """A preset, the patch that turns its variant off, and the claim: `measure` of the preset
    lies on side `preset_is` ("lower" or "higher") of its twin's, by at least a factor `by`."""

    preset: str
    field: str  # the variant's config field, for the table
    off: dict[str, Any]
    measure: str  # ratio | modes | swing | bend
    preset_is: str
    by: float
    test_iterations: int  # enough for the effect to show in tests (the preset runs longer)

    def twin(self) -> ExperimentConfig:
        return parse_config(merge(get_preset(self.preset).config, self.off))

    def holds(self, on: float, off: float) -> bool:
        """Whether the preset's value is on the claimed side of its twin's by the factor `by`
        (NaN never is)."""
        return on * self.by < off if self.preset_is == "lower" else on > off * self.by


VARIANTS: dict[str, Variant] = {
    v.preset: v
    for v in (
        Variant("ring8-unrolled", "training.unrolled_steps",
                {"training": {"unrolled_steps": 0}}, "modes", "higher", 2, 700),
        Variant("ring8-spectral", "discriminator.spectral_norm",
                {"discriminator": {"spectral_norm": False}}, "ratio", "lower", 1.5, 600),
        Variant("disjoint-instance-noise", "training.instance_noise",
                {"training": {"instance_noise": 0.0}}, "ratio", "lower", 1.5, 800),
        Variant("gaussians-r2", "loss.r2", {"loss": {"r2": 0.0}}, "ratio", "lower", 1.5, 1000),
        # The average changes no training step: the twin is the same run's live generator.
        Variant("gaussians-ema", "view.average (generator.ema 0.99)",
                {"view": {"average": False}}, "ratio", "lower", 1.2, 1000),
        Variant("gaussians-simultaneous", "training.scheme",
                {"training": {"scheme": "alternating"}}, "swing", "higher", 2, 1000),
        Variant("gaussians-extragradient", "training.scheme (vs simultaneous)",
                {"training": {"scheme": "simultaneous"}}, "swing", "lower", 2, 1000),
        Variant("moons-gelu", "generator.activation",
                {"generator": {"activation": "relu"}}, "bend", "lower", 5, 1000),
    )
}  # fmt: skip


def train(config: ExperimentConfig, iterations: int) -> tuple[Trainer, list[np.ndarray]]:
    """Train a fresh run; return it and the centres of its samples over the last third."""
    t = Trainer(config)
    last_third = iterations - iterations // 3
    centres = []
    for _ in range(iterations):
        t.step()
        if t.iteration > last_third and t.iteration % SWING_EVERY == 0:
            fakes = t.sample(SWING_SAMPLES, torch.Generator().manual_seed(config.seed + 10))
            centres.append(fakes.mean(axis=0) / t.normalizer.scale)
    return t, centres


def swing(centres: list[np.ndarray]) -> float:
    """RMS distance of the centres from their mean (inf when G produced NaN or inf)."""
    c = np.array(centres, dtype=np.float64)
    if len(c) < 2 or not np.isfinite(c).all():
        return math.inf
    return float(np.sqrt(((c - c.mean(axis=0)) ** 2).sum(axis=1).mean()))


def bend(t: Trainer, fine: bool = True) -> float:
    """Median over the latent grid's lines of each line's sharpest turn, in degrees: sampled
    at BEND_POINTS evenly spaced points (`fine`), or at the grid's own points, as the page
    draws the lines."""
    c = t.config
    lines, _ = latent_lines(c.noise.kind, c.view.manifold)
    along = torch.linspace(float(lines[0]), float(lines[-1]), BEND_POINTS) if fine else lines
    sharpest = []
    with torch.inference_mode():
        for fixed in lines.tolist() if c.noise.dim > 1 else [0.0]:
            for axis in range(min(2, c.noise.dim)):
                z = torch.zeros(len(along), c.noise.dim)
                z[:, axis] = along
                if c.noise.dim > 1:
                    z[:, 1 - axis] = fixed
                step = torch.diff(t.generate(z.to(t.device)).double().cpu(), dim=0)
                heading = torch.atan2(step[:, 1], step[:, 0])
                turn = torch.remainder(torch.diff(heading) + math.pi, 2 * math.pi) - math.pi
                sharpest.append(math.degrees(float(turn.abs().max())))
    return statistics.median(sharpest) if all(map(math.isfinite, sharpest)) else math.inf


def measure(name: str, t: Trainer, centres: list[np.ndarray]) -> float:
    """One quantity of a trained run (see the module's docstring)."""
    if name == "swing":
        return swing(centres)
    if name == "bend":
        return bend(t)
    v = verdict(t)
    if name == "ratio":
        return v.ratio
    if name == "modes":
        return float(v.modes_covered if v.modes_covered is not None else math.nan)
    raise ValueError(f"unknown measure {name!r}")


def run_one(preset: str, seed: int, twin: bool, iterations: int | None) -> dict[str, float]:
    """Every quantity of the preset (or its twin) trained on `seed`."""
    torch.set_num_threads(1)  # tiny networks: more threads only contend
    variant = VARIANTS[preset]
    config = variant.twin() if twin else get_preset(preset).experiment()
    config = config.model_copy(update={"seed": seed})
    start = time.perf_counter()
    t, centres = train(config, iterations or get_preset(preset).steps)
    v = verdict(t)
    out = {"ratio": v.ratio, "modes": float(v.modes_covered or 0) if v.modes_total else math.nan,
           "swing": swing(centres), "bend": bend(t), "page bend": bend(t, fine=False)}  # fmt: skip
    out["seconds"] = time.perf_counter() - start
    return out


def cells(m: dict[str, float]) -> str:
    modes = "-" if math.isnan(m["modes"]) else f"{m['modes']:.0f}"
    return f"{m['ratio']:7.2f} {modes:>5} {m['swing']:6.3f} {m['bend']:6.1f} {m['page bend']:6.1f}"


def report(preset: str, rows: dict[int, dict[bool, dict[str, float]]], iterations: int) -> None:
    v = VARIANTS[preset]
    print(f"\n{preset}: {v.field}; claim: {v.measure} {v.preset_is} than the twin "
          f"({v.off}); {iterations} iterations")  # fmt: skip
    quantities = f"{'ratio':>7} {'modes':>5} {'swing':>6} {'bend':>6} {'page':>6}"
    print(f"{'seed':>4}  preset: {quantities}   twin: {quantities}  holds")
    held, ons, offs = 0, [], []
    for seed in sorted(rows):
        on, off = rows[seed][False], rows[seed][True]
        ok = v.holds(on[v.measure], off[v.measure])
        held += ok
        ons.append(on[v.measure])
        offs.append(off[v.measure])
        print(f"{seed:>4}          {cells(on)}         {cells(off)}  {'yes' if ok else 'NO'}"
              f"  ({on['seconds']:.0f} s, {off['seconds']:.0f} s)")  # fmt: skip
    print(
        f"{preset}: claim held on {held}/{len(rows)} seeds; median {v.measure} "
        f"{statistics.median(ons):.3g} (preset) vs {statistics.median(offs):.3g} (twin)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(5)))
    parser.add_argument("--iterations", type=int, default=None,
                        help="train this long instead of each preset's own length")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (one core each)")
    args = parser.parse_args()
    jobs = [(p, s, twin) for p in args.presets for s in args.seeds for twin in (False, True)]
    results: dict[str, dict[int, dict[bool, dict[str, float]]]] = {p: {} for p in args.presets}
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_one, p, s, twin, args.iterations): (p, s, twin)
                   for p, s, twin in jobs}  # fmt: skip
        for done, future in enumerate(as_completed(futures), 1):
            p, s, twin = futures[future]
            results[p].setdefault(s, {})[twin] = future.result()
            print(f"[{done}/{len(jobs)}] {p} seed {s}{' twin' if twin else ''}", flush=True)
    for p in args.presets:
        report(p, results[p], args.iterations or get_preset(p).steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
