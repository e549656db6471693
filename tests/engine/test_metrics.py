"""Known-answer tests for ganlab.engine.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ganlab.engine.distributions.base import Box, Mode
from ganlab.engine.metrics import (
    ModeStats,
    grid_divergences,
    grid_histogram,
    mode_stats,
    summary,
    wasserstein1,
)

UNIT = Box(0.0, 1.0, 0.0, 1.0)
GRID25 = tuple(
    Mode(mean=(float(x), float(y)), sigma=(0.05, 0.05))
    for x in range(-4, 5, 2)
    for y in range(-4, 5, 2)
)
GRID25_BOX = Box(-6.0, 6.0, -6.0, 6.0)


def _grid25_samples(n: int, rng: np.random.Generator) -> np.ndarray:
    means = np.array([m.mean for m in GRID25])
    idx = rng.integers(0, len(means), size=n)
    return means[idx] + rng.normal(0.0, 0.05, size=(n, 2))


# --- grid_histogram ---------------------------------------------------------------------


def test_histogram_cells_edges_and_outside_bin() -> None:
    pts = np.array(
        [
            [0.0, 0.0],  # min corner -> cell (0, 0)
            [1.0, 1.0],  # max corner -> last cell
            [1.0, 0.0],  # max x edge -> last column, first row
            [0.55, 0.05],  # ix=1, iy=0 with bins=2 -> index 1
            [-0.01, 0.5],  # outside
            [0.5, 1.5],  # outside
            [np.nan, 0.5],  # non-finite -> outside
            [np.inf, 0.5],  # non-finite -> outside
            [1e300, -1e300],  # huge -> outside, no overflow warnings
        ]
    )
    h = grid_histogram(pts, UNIT, bins=2)
    assert h.shape == (5,)
    assert h.sum() == len(pts)
    assert h.tolist() == [1, 2, 0, 1, 5]


def test_histogram_outside_points_all_counted() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(-3, 3, size=(1000, 2))
    h = grid_histogram(pts, UNIT, bins=30)
    assert h.shape == (30 * 30 + 1,)
    assert h.sum() == 1000
    inside = np.all((pts >= 0) & (pts <= 1), axis=1).sum()
    assert h[-1] == 1000 - inside


def test_histogram_row_major_layout() -> None:
    box = Box(0.0, 3.0, 0.0, 3.0)
    h = grid_histogram(np.array([[2.5, 0.5], [0.5, 2.5]]), box, bins=3)
    assert h[0 * 3 + 2] == 1  # ix=2, iy=0
    assert h[2 * 3 + 0] == 1  # ix=0, iy=2


# --- grid_divergences -------------------------------------------------------------------


def test_identical_samples_give_exact_zero() -> None:
    rng = np.random.default_rng(1)
    pts = rng.normal(0.5, 0.3, size=(500, 2))  # some fall outside the box
    kl, js = grid_divergences(pts, pts.copy(), UNIT)
    assert kl == 0.0
    assert js == 0.0


def test_disjoint_supports_give_js_one_and_large_kl() -> None:
    rng = np.random.default_rng(2)
    real = rng.uniform(0.0, 0.4, size=(400, 2))
    fake = rng.uniform(0.6, 1.0, size=(400, 2))
    kl, js = grid_divergences(real, fake, UNIT, bins=30)
    assert js == 1.0
    assert math.isfinite(kl)
    # Far larger than the sampling noise between two draws of the same distribution.
    kl_same, js_same = grid_divergences(real, rng.uniform(0.0, 0.4, size=(400, 2)), UNIT)
    assert kl > 3 * kl_same
    assert js_same < 0.5
    # Concentrated disjoint supports: smoothing keeps KL finite but large.
    tight_real = rng.uniform(0.10, 0.12, size=(1000, 2))
    tight_fake = rng.uniform(0.80, 0.82, size=(1000, 2))
    kl_tight, js_tight = grid_divergences(tight_real, tight_fake, UNIT, bins=30)
    assert js_tight == 1.0
    assert 5.0 < kl_tight < math.inf


def test_outside_samples_matter_for_divergence() -> None:
    rng = np.random.default_rng(3)
    real = rng.uniform(0.0, 1.0, size=(300, 2))
    fake = real + 5.0  # everything outside the box, all in the one extra bin
    kl, js = grid_divergences(real, fake, UNIT, bins=10)
    assert js == 1.0
    assert kl > 1.0


def test_alpha_zero_kl_can_be_infinite() -> None:
    real = np.array([[0.1, 0.1]])
    fake = np.array([[0.9, 0.9]])
    kl, js = grid_divergences(real, fake, UNIT, bins=2, alpha=0.0)
    assert kl == math.inf
    assert js == 1.0


@settings(max_examples=40, deadline=None)
@given(
    real=arrays(np.float64, st.tuples(st.integers(1, 40), st.just(2)), elements=st.floats(-2, 3)),
    fake=arrays(np.float64, st.tuples(st.integers(1, 40), st.just(2)), elements=st.floats(-2, 3)),
    bins=st.integers(1, 12),
)
def test_divergence_ranges_property(real: np.ndarray, fake: np.ndarray, bins: int) -> None:
    kl, js = grid_divergences(real, fake, UNIT, bins=bins)
    assert 0.0 <= js <= 1.0
    assert kl >= 0.0
    assert math.isfinite(kl)
    assert grid_histogram(real, UNIT, bins).sum() == len(real)


# --- wasserstein1 -----------------------------------------------------------------------


def test_w1_identical_is_zero() -> None:
    pts = np.random.default_rng(4).normal(size=(200, 2))
    assert wasserstein1(pts, pts.copy()) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("d", [0.25, 1.0, 3.5])
def test_w1_of_shift_equals_shift(d: float) -> None:
    pts = np.random.default_rng(5).normal(size=(150, 2))
    shifted = pts + np.array([d, 0.0])
    assert wasserstein1(pts, shifted) == pytest.approx(d, abs=1e-9)


def test_w1_symmetric_and_unequal_sizes() -> None:
    rng = np.random.default_rng(6)
    a = rng.normal(size=(120, 2))
    b = rng.normal(1.0, 0.5, size=(90, 2))
    assert wasserstein1(a, b) == pytest.approx(wasserstein1(b, a), abs=1e-9)
    assert wasserstein1(a, b) > 0.5


def test_w1_subsampling() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(600, 2))
    b = a + np.array([0.0, 2.0])
    w = wasserstein1(a, b, max_points=100, rng=np.random.default_rng(0))
    assert 1.0 < w < 3.0
    same = wasserstein1(a, b, max_points=100, rng=np.random.default_rng(0))
    assert w == same  # reproducible with the same generator


# --- mode_stats -------------------------------------------------------------------------


def test_collapsed_sampler_covers_one_mode() -> None:
    rng = np.random.default_rng(8)
    target = GRID25[7]
    pts = np.asarray(target.mean) + rng.normal(0.0, 0.02, size=(2500, 2))
    stats = mode_stats(pts, GRID25)
    assert isinstance(stats, ModeStats)
    assert stats.covered == 1
    assert stats.total == 25
    assert stats.high_quality_fraction == 1.0
    assert stats.counts[7] == 2500
    assert stats.reverse_kl == pytest.approx(math.log(25))


def test_perfect_sampler_covers_all_modes() -> None:
    pts = _grid25_samples(2500, np.random.default_rng(9))
    stats = mode_stats(pts, GRID25)
    assert stats.covered == 25
    assert stats.high_quality_fraction > 0.97  # 1 - exp(-4.5) ≈ 0.989 expected
    assert stats.reverse_kl < 0.02


def test_threshold_boundary_isotropic() -> None:
    mode = GRID25[12]  # (0, 0)
    s = mode.sigma[0]
    inside = np.array([[2.9 * s, 0.0], [0.0, -2.9 * s], [2.9 * s / math.sqrt(2)] * 2])
    outside = np.array([[3.1 * s, 0.0], [0.0, -3.1 * s], [3.1 * s / math.sqrt(2)] * 2])
    assert mode_stats(inside, GRID25).high_quality_fraction == 1.0
    assert mode_stats(outside, GRID25).high_quality_fraction == 0.0


def test_anisotropic_sigma_respected() -> None:
    modes = (Mode(mean=(0.0, 0.0), sigma=(1.0, 0.1)),)
    # 2.9 sigma along x is 2.9, along y only 0.29.
    pts = np.array([[2.9, 0.0], [0.0, 0.29], [0.0, 0.31], [3.1, 0.0], [0.0, 2.9]])
    stats = mode_stats(pts, modes)
    assert stats.counts.tolist() == [2]
    assert stats.high_quality_fraction == pytest.approx(2 / 5)


def test_reverse_kl_zero_for_uniform_counts() -> None:
    means = np.array([m.mean for m in GRID25])
    pts = np.repeat(means, 4, axis=0)  # exactly 4 samples on every mode mean
    stats = mode_stats(pts, GRID25)
    assert stats.reverse_kl == 0.0
    assert stats.covered == 25
    assert stats.counts.tolist() == [4] * 25


def test_reverse_kl_counts_every_sample_not_only_high_quality_ones() -> None:
    # A spray 1.0 off every mode (20 sigma): each mode is nearest to exactly 4 samples and
    # none is high quality. The reference's reverse KL (all samples) sees an even spread;
    # the high-quality-only variant has no histogram at all.
    means = np.array([m.mean for m in GRID25])
    offsets = np.array([[1.0, 0.1], [-0.1, 1.0], [-1.0, -0.1], [0.1, -1.0]]) * 0.9
    pts = (means[:, None, :] + offsets[None, :, :]).reshape(-1, 2)
    stats = mode_stats(pts, GRID25)
    assert stats.covered == 0
    assert stats.high_quality_fraction == 0.0
    assert stats.nearest.tolist() == [4] * 25
    assert stats.reverse_kl == 0.0
    assert stats.reverse_kl_high_quality == math.inf


def test_reverse_kl_known_answer_and_its_high_quality_variant() -> None:
    square = tuple(Mode(mean=m, sigma=(0.1, 0.1)) for m in ((0, 0), (1, 0), (0, 1), (1, 1)))
    # Nearest counts [2, 1, 1, 0]; of them high quality [1, 1, 0, 0] (0.5 is 5 sigma off).
    pts = np.array([[0.0, 0.0], [0.0, -0.5], [1.0, 0.05], [0.0, 1.5]])
    stats = mode_stats(pts, square)
    assert stats.nearest.tolist() == [2, 1, 1, 0]
    assert stats.counts.tolist() == [1, 1, 0, 0]
    # q = (1/2, 1/4, 1/4, 0) against 1/4 each: 1/2 ln 2 + 1/4 ln 1 + 1/4 ln 1.
    assert stats.reverse_kl == pytest.approx(0.5 * math.log(2))
    # High quality only: q = (1/2, 1/2, 0, 0): ln 2.
    assert stats.reverse_kl_high_quality == pytest.approx(math.log(2))
    assert stats.high_quality_fraction == 0.5


def test_nearest_mode_is_measured_in_each_modes_own_sigma() -> None:
    # A wide mode at the origin and a narrow one at (3, 0). The point (2, 0) is nearer the
    # narrow mode's mean (1 against 2) but 10 of its sigmas away and only 2 of the wide one's:
    # it belongs to the wide mode, and is a high-quality sample of it.
    modes = (Mode(mean=(0.0, 0.0), sigma=(1.0, 1.0)), Mode(mean=(3.0, 0.0), sigma=(0.1, 0.1)))
    stats = mode_stats(np.array([[2.0, 0.0], [2.95, 0.0]]), modes)
    assert stats.nearest.tolist() == [1, 1]
    assert stats.counts.tolist() == [1, 1]
    assert stats.covered == 2


def test_non_finite_samples_are_in_no_mode_and_never_high_quality() -> None:
    means = np.array([m.mean for m in GRID25])
    pts = np.concatenate([means[:2], [[np.nan, 0.0], [np.inf, np.inf]]])
    stats = mode_stats(pts, GRID25)
    assert int(stats.nearest.sum()) == 2
    assert stats.high_quality_fraction == 0.5
    assert math.isnan(mode_stats(np.array([[np.nan, np.nan]]), GRID25).reverse_kl)


def _mode_stats_by_loops(
    points: np.ndarray, modes: tuple[Mode, ...]
) -> tuple[list[int], list[int], float, float, float]:
    """An independent version of mode_stats, one point and one mode at a time in plain Python:
    (nearest counts, high-quality counts, high-quality fraction, reverse KL of all samples,
    reverse KL of high-quality samples), the KLs as log K minus the histogram's entropy."""
    k = len(modes)
    nearest, good = [0] * k, [0] * k
    for x, y in points.tolist():
        dist = [
            math.hypot((x - m.mean[0]) / m.sigma[0], (y - m.mean[1]) / m.sigma[1]) for m in modes
        ]
        j = min(range(k), key=dist.__getitem__)
        nearest[j] += 1
        good[j] += dist[j] <= 3.0

    def kl_to_uniform(counts: list[int]) -> float:
        total = sum(counts)
        if total == 0:
            return math.inf
        entropy = -sum(c / total * math.log(c / total) for c in counts if c)
        return math.log(k) - entropy

    fraction = sum(good) / len(points)
    return nearest, good, fraction, kl_to_uniform(nearest), kl_to_uniform(good)


@pytest.mark.parametrize("name", ["gaussians", "ring8", "grid25", "8gaussians"])
def test_mode_stats_matches_an_independent_implementation(name: str) -> None:
    from ganlab.engine.distributions import DISTRIBUTIONS

    modes = DISTRIBUTIONS[name].modes
    means = np.array([m.mean for m in modes])
    sigmas = np.array([m.sigma for m in modes])
    rng = np.random.default_rng(11)
    # Samples around the modes at 0-6 of each mode's sigmas, skewed to some modes, and a
    # spray over the modes' bounding box: high quality, near misses and far points.
    idx = rng.choice(len(modes), size=600, p=rng.dirichlet(np.ones(len(modes))))
    near = means[idx] + sigmas[idx] * rng.normal(size=(600, 2)) * rng.uniform(0, 2, (600, 1))
    lo, hi = means.min(0) - 0.2, means.max(0) + 0.2
    pts = np.concatenate([near, rng.uniform(lo, hi, size=(200, 2))])
    stats = mode_stats(pts, modes)
    nearest, good, fraction, rkl, rkl_hq = _mode_stats_by_loops(pts, modes)
    assert 0 < sum(good) < len(pts)  # both kinds of sample are present
    assert stats.nearest.tolist() == nearest
    assert stats.counts.tolist() == good
    assert stats.high_quality_fraction == pytest.approx(fraction)
    assert stats.reverse_kl == pytest.approx(rkl, abs=1e-12)
    assert stats.reverse_kl_high_quality == pytest.approx(rkl_hq, abs=1e-12)


def test_gaussians_modes_have_different_sigmas_per_axis() -> None:
    # What makes the own-sigma rule matter there (if this changes, the test above loses its
    # anisotropic case).
    from ganlab.engine.distributions import DISTRIBUTIONS

    sigmas = {m.sigma for m in DISTRIBUTIONS["gaussians"].modes}
    assert any(sx != sy for sx, sy in sigmas)


def test_min_count_rule() -> None:
    means = np.array([m.mean for m in GRID25])
    # Mode 0 gets 1 sample, mode 1 gets 5, mode 2 gets 20; the rest none.
    pts = np.concatenate([means[[0]], np.repeat(means[[1]], 5, 0), np.repeat(means[[2]], 20, 0)])
    assert mode_stats(pts, GRID25).covered == 3
    assert mode_stats(pts, GRID25, min_count=5).covered == 2
    assert mode_stats(pts, GRID25, min_count=10).covered == 1


def test_far_samples_assigned_to_nearest_mode_not_counted() -> None:
    # Halfway between two modes: nearest is one of them but far beyond 3 sigma.
    stats = mode_stats(np.array([[1.0, 0.0], [0.0, 0.0]]), GRID25)
    assert stats.covered == 1
    assert stats.high_quality_fraction == 0.5


# --- summary ----------------------------------------------------------------------------


def test_summary_keys_and_values() -> None:
    rng = np.random.default_rng(10)
    real = _grid25_samples(500, rng)
    fake = _grid25_samples(500, rng)
    out = summary(real, fake, GRID25_BOX, GRID25, bins=30, w1_points=200, rng=rng)
    assert set(out) == {
        "kl_grid",
        "js_grid",
        "w1",
        "modes_covered",
        "modes_total",
        "high_quality_fraction",
        "reverse_kl",
    }
    assert all(isinstance(v, float) for v in out.values())
    assert out["modes_total"] == 25.0
    assert 0.0 <= out["js_grid"] <= 1.0
    assert out["w1"] >= 0.0

    plain = summary(real, fake, GRID25_BOX, (), bins=30)
    assert set(plain) == {"kl_grid", "js_grid", "w1"}
