"""One row of metrics for a trainer's current state (losses, gradients and sample quality), and
the verdict on a trained preset: did it reach its quality bar?"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ganlab.engine.config import ExperimentConfig
from ganlab.engine.distributions.base import Distribution
from ganlab.engine.knn_metrics import KNN_COLUMNS, knn_columns
from ganlab.engine.metrics import (
    grid_divergences,
    mode_columns,
    mode_stats,
    summary,
    wasserstein1,
)
from ganlab.engine.optimal import value_columns
from ganlab.engine.presets import get_preset
from ganlab.engine.trainer import Trainer


@dataclass(frozen=True)
class ModeCounts:
    """Per-mode counts behind a row's mode metrics: of `samples` generated points, how many
    have each mode as their nearest (`nearest`) and how many of those are high quality
    (`high_quality`); see metrics.mode_stats."""

    samples: int
    nearest: np.ndarray
    high_quality: np.ndarray


class MetricRow(dict[str, float]):
    """A metric row (name -> value) that, for data with modes, also carries its ModeCounts.

    The counts are an attribute rather than keys because rows are saved in run files and CSV
    tables of scalar columns (a run file allows 32 keys a row; grid25 alone would need 50), and
    the wire sends only the newest counts (docs/protocol.md). A row read back from a run file
    is a plain dict: it has no counts, and the histogram waits for the next row."""

    mode_counts: ModeCounts | None = None


def metric_row(
    t: Trainer, samples: int | None = None, w1_samples: int | None = None, w1: bool = True
) -> MetricRow:
    """Metrics on `samples` generated and real points (defaults from the config). The same
    evaluation noise and real points are used every time, so rows differ only by training.
    `w1=False` leaves out the Wasserstein-1 distance, by far the most expensive part."""
    c = t.config.metrics
    n = samples or c.samples
    seed = t.config.seed
    fake = t.sample(n, torch.Generator().manual_seed(seed + 7))
    real = t.real_sample(n, torch.Generator().manual_seed(seed + 8))
    row = MetricRow(iteration=float(t.iteration), **t.losses(), **t.grad_norms())
    if not np.isfinite(fake).all():
        return row
    row.update(
        summary(
            real,
            fake,
            t.distribution.box,
            bins=c.grid,
            w1_points=w1_samples or c.w1_samples,
            rng=np.random.default_rng(seed),
            w1=w1,
        )
    )
    row.update(knn_columns(real, fake))
    # The value of the game with D and with the optimal D* (optimal.py).
    row.update(value_columns(t, real, fake))
    modes = t.distribution.modes
    if modes:
        stats = mode_stats(fake, modes)
        row.update(mode_columns(stats))
        row.mode_counts = ModeCounts(n, stats.nearest, stats.counts)
        # Only the newest row's counts are ever sent: the one before lets go of its own, so a
        # long history does not hold 2K counts a row.
        if t.history and isinstance(t.history[-1], MetricRow):
            t.history[-1].mode_counts = None
    return row


# The quality bar of a preset (issue: "GAN Lab's four presets must work"): at the end of its
# run, W1 between generated and fresh real points at most W1_RATIO_LIMIT times the W1 between
# two fresh real samples of the same size (the distance sampling alone accounts for), and,
# where the data has modes, every mode covered with at least MIN_HIGH_QUALITY of the samples
# high quality.
JUDGE_SAMPLES = 2500
W1_RATIO_LIMIT = 3.0
MIN_HIGH_QUALITY = 0.8


@dataclass(frozen=True)
class Verdict:
    """How close a generator came to its data, measured on JUDGE_SAMPLES points each side."""

    iterations: int
    w1: float  # generated vs real; inf when the generator produced NaN or inf
    baseline_w1: float  # real vs an independent real sample of the same size
    modes_covered: int | None = None  # the mode fields are None when the data has no modes
    modes_total: int | None = None
    high_quality_fraction: float | None = None

    @property
    def ratio(self) -> float:
        return self.w1 / self.baseline_w1

    @property
    def w1_ok(self) -> bool:
        return self.ratio <= W1_RATIO_LIMIT

    @property
    def modes_ok(self) -> bool:
        if self.modes_total is None or self.high_quality_fraction is None:
            return True
        all_covered = self.modes_covered == self.modes_total
        return all_covered and self.high_quality_fraction >= MIN_HIGH_QUALITY

    @property
    def passed(self) -> bool:
        return self.w1_ok and self.modes_ok


@dataclass(frozen=True)
class PresetVerdict:
    """The verdict on one preset trained on one seed for its own length."""

    preset: str
    seed: int
    verdict: Verdict

    @property
    def passed(self) -> bool:
        return self.verdict.passed


def verdict(
    t: Trainer, samples: int = JUDGE_SAMPLES, row: dict[str, float] | None = None
) -> Verdict:
    """Judge the trainer's generator as it stands, on metric_row's evaluation points. `row`:
    that metric row if the caller has already measured it (with `samples` points and W1 on
    all of them), which spares measuring W1 twice."""
    if row is None:
        row = metric_row(t, samples=samples, w1_samples=samples)
    real = t.real_sample(samples, torch.Generator().manual_seed(t.config.seed + 8))
    # An independent real sample, seeded apart from metric_row's (seed + 7 and seed + 8).
    other_real = t.real_sample(samples, torch.Generator().manual_seed(t.config.seed + 9))
    modes = len(t.distribution.modes) or None
    # metric_row leaves sample metrics out when G produced NaN or inf: nothing is covered.
    return Verdict(
        iterations=t.iteration,
        w1=row.get("w1", math.inf),
        baseline_w1=wasserstein1(real, other_real),
        modes_covered=int(row.get("modes_covered", 0)) if modes else None,
        modes_total=modes,
        high_quality_fraction=row.get("high_quality_fraction", 0.0) if modes else None,
    )


def judge(config: ExperimentConfig, iterations: int) -> Verdict:
    """Train a fresh run of `config` for `iterations` and judge where it ends."""
    t = Trainer(config)
    for _ in range(iterations):
        t.step()  # no metric rows on the way: the verdict is about the end
    return verdict(t)


def judge_preset(name: str, seed: int, iterations: int | None = None) -> PresetVerdict:
    """Train preset `name` on `seed` for its own length (or `iterations`) and judge it."""
    preset = get_preset(name)
    config = preset.experiment().model_copy(update={"seed": seed})
    steps = preset.steps if iterations is None else iterations
    return PresetVerdict(name, seed, judge(config, steps))


# The real-vs-real baseline: what each divergence of a metric row reads when the "generator"
# is the data itself. Sampling alone keeps it above 0 (W1 0.38 on grid25 at 500 points), so a
# chart draws it as a band, and "good" means inside it.
BASELINE_PAIRS = 12
BASELINE_SEED = 20_231
BASELINE_LOW, BASELINE_HIGH = 5.0, 95.0


@dataclass(frozen=True)
class Band:
    """One metric's value over BASELINE_PAIRS independent real pairs."""

    mean: float
    low: float  # the BASELINE_LOW percentile
    high: float  # the BASELINE_HIGH percentile

    @classmethod
    def of(cls, values: list[float]) -> Band:
        v = np.asarray(values, dtype=np.float64)
        low, high = np.percentile(v, [BASELINE_LOW, BASELINE_HIGH])
        return cls(float(v.mean()), float(low), float(high))


def real_baseline(
    distribution: Distribution,
    samples: int,
    w1_points: int,
    grid: int,
    pairs: int = BASELINE_PAIRS,
    seed: int = BASELINE_SEED,
) -> dict[str, Band]:
    """Each divergence a metric row holds, between two independent real samples of the sizes
    the row uses: `samples` a side for KL/JS by grid (on `grid` bins over the data's box),
    `w1_points` a side for W1, and for data with modes the reverse KL of one real sample of
    `samples`; precision, recall, density and coverage (knn_metrics.knn_columns, on the
    same points a side as a row) of the second KL/JS sample against the first. The same
    metric functions as metric_row, over `pairs` independent pairs."""
    box = distribution.box
    gen = torch.Generator().manual_seed(seed)
    values: dict[str, list[float]] = {"kl_grid": [], "js_grid": [], "w1": []}
    values |= {name: [] for name in KNN_COLUMNS}
    modes = distribution.modes
    if modes:
        values["reverse_kl"] = []
    for _ in range(pairs):
        a = distribution.sample(samples, gen).numpy()
        b = distribution.sample(samples, gen).numpy()
        kl, js = grid_divergences(a, b, box, bins=grid)
        values["kl_grid"].append(kl)
        values["js_grid"].append(js)
        w1_a = distribution.sample(w1_points, gen).numpy()
        w1_b = distribution.sample(w1_points, gen).numpy()
        values["w1"].append(wasserstein1(w1_a, w1_b))
        for name, value in knn_columns(a, b).items():  # b in the generator's place
            values[name].append(value)
        if modes:
            values["reverse_kl"].append(mode_stats(a, modes).reverse_kl)
    return {name: Band.of(v) for name, v in values.items()}
