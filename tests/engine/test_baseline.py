"""real_baseline: each divergence between two independent real samples, checked against an
independent NumPy computation on hand-made samples, and different for different data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab.engine.config import DataConfig
from ganlab.engine.distributions import resolve
from ganlab.engine.distributions.base import Box, Mode
from ganlab.engine.evaluation import BASELINE_PAIRS, real_baseline
from ganlab.engine.knn_metrics import KNN_COLUMNS

BOX = Box(-1.0, 1.0, -1.0, 1.0)
MODES = (Mode((-0.5, 0.0), (0.1, 0.1)), Mode((0.5, 0.0), (0.1, 0.1)))


class Scripted:
    """A stand-in distribution handing out prepared samples in the order they are asked for."""

    def __init__(self, batches: list[np.ndarray], modes: tuple[Mode, ...] = ()) -> None:
        self.box = BOX
        self.modes = modes
        self.batches = list(batches)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        batch = self.batches.pop(0)
        assert len(batch) == n
        return torch.from_numpy(batch)


def own_counts(points: np.ndarray, bins: int) -> np.ndarray:
    """Grid counts plus an outside bin, by a loop over points (row-major, max edge inside)."""
    counts = np.zeros(bins * bins + 1)
    for x, y in points:
        if -1.0 <= x <= 1.0 and -1.0 <= y <= 1.0:
            ix = min(int((x + 1.0) / 2.0 * bins), bins - 1)
            iy = min(int((y + 1.0) / 2.0 * bins), bins - 1)
            counts[iy * bins + ix] += 1
        else:
            counts[-1] += 1
    return counts


def own_kl_js(a: np.ndarray, b: np.ndarray, bins: int) -> tuple[float, float]:
    ca, cb = own_counts(a, bins), own_counts(b, bins)
    k = len(ca)
    p, q = (ca + 0.5) / (ca.sum() + 0.5 * k), (cb + 0.5) / (cb.sum() + 0.5 * k)
    kl = sum(pi * np.log2(pi / qi) for pi, qi in zip(p, q, strict=True))
    p0, q0 = ca / ca.sum(), cb / cb.sum()
    js = 0.0
    for pi, qi in zip(p0, q0, strict=True):
        m = (pi + qi) / 2
        js += 0.5 * (pi * np.log2(pi / m) if pi else 0.0) + 0.5 * (
            qi * np.log2(qi / m) if qi else 0.0
        )
    return kl, js


def own_percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default), written out."""
    s = sorted(values)
    pos = pct / 100 * (len(s) - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def scripted_pairs(
    pairs: int, samples: int, w1_points: int
) -> tuple[Scripted, list[tuple[np.ndarray, np.ndarray]], list[float]]:
    """Per pair: two KL/JS samples, then two W1 samples where the second is the first moved
    by a known shift (the exact W1 of a translated cloud is the shift's length)."""
    rng = np.random.default_rng(5)
    batches, kl_pairs, shifts = [], [], []
    for i in range(pairs):
        a = rng.uniform(-1.2, 1.2, (samples, 2))  # some points fall outside the box
        b = rng.normal(0.0, 0.4, (samples, 2))
        w = rng.uniform(-0.5, 0.5, (w1_points, 2))
        shift = np.array([0.03 * (i + 1), 0.04 * (i + 1)])
        batches += [a, b, w, w + shift]
        kl_pairs.append((a, b))
        shifts.append(float(np.hypot(*shift)))
    return Scripted(batches), kl_pairs, shifts


def test_grid_divergences_and_w1_match_an_independent_computation() -> None:
    dist, kl_pairs, shifts = scripted_pairs(5, 200, 40)
    bands = real_baseline(dist, samples=200, w1_points=40, grid=6, pairs=5)  # type: ignore[arg-type]
    # No modes: no reverse KL (the k-NN scores are checked in test_knn_metrics).
    assert set(bands) == {"kl_grid", "js_grid", "w1", *KNN_COLUMNS}
    own = [own_kl_js(a, b, 6) for a, b in kl_pairs]
    for name, values in (("kl_grid", [v[0] for v in own]), ("js_grid", [v[1] for v in own]),
                         ("w1", shifts)):  # fmt: skip
        band = bands[name]
        assert band.mean == pytest.approx(sum(values) / len(values), rel=1e-6), name
        assert band.low == pytest.approx(own_percentile(values, 5), rel=1e-6), name
        assert band.high == pytest.approx(own_percentile(values, 95), rel=1e-6), name
        assert band.low < band.mean < band.high, name


def test_reverse_kl_of_one_real_sample_over_its_modes() -> None:
    # Every KL/JS sample `a` of 100 points: 75 by mode 0, 25 by mode 1 (q = 3/4, 1/4).
    pairs, n = 3, 100
    a = np.array([[-0.5, 0.0]] * 75 + [[0.5, 0.0]] * 25)
    batches = [a, a, a[:10], a[:10]] * pairs
    bands = real_baseline(Scripted(batches, MODES), n, 10, 4, pairs=pairs)  # type: ignore[arg-type]
    expected = 0.75 * np.log(0.75 * 2) + 0.25 * np.log(0.25 * 2)  # KL(q || uniform) in nats
    assert bands["reverse_kl"].mean == pytest.approx(expected)
    # Two identical samples: both divergences are exactly 0.
    assert bands["kl_grid"].mean == 0.0 and bands["js_grid"].high == 0.0
    assert bands["w1"].high == pytest.approx(0.0, abs=1e-12)


def test_the_baseline_follows_the_data_and_the_sample_sizes() -> None:
    grid25 = resolve(DataConfig(name="grid25"))
    ring8 = resolve(DataConfig(name="ring8"))
    a = real_baseline(grid25, 600, 100, 20, pairs=6)
    assert a == real_baseline(grid25, 600, 100, 20, pairs=6)  # seeded: the same each time
    b = real_baseline(ring8, 600, 100, 20, pairs=6)
    for name in ("kl_grid", "js_grid", "w1", "reverse_kl"):
        assert a[name] != b[name], name
    # More points a side: sampling noise shrinks, and the W1 of two real samples with it.
    more = real_baseline(grid25, 600, 800, 20, pairs=6)
    assert more["w1"].mean < a["w1"].mean
    assert real_baseline(grid25, 600, 100, 20, pairs=6, seed=1) != a


def test_pairs_are_independent_draws() -> None:
    # A real distribution over BASELINE_PAIRS pairs: the spread is not zero (no pair reused).
    bands = real_baseline(resolve(DataConfig(name="ring8")), 500, 60, 10)
    for name, band in bands.items():
        assert band.low < band.high, name
    assert BASELINE_PAIRS >= 8
