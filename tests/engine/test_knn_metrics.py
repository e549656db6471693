"""knn_metrics: precision, recall, density and coverage against a brute-force computation
from the papers' definitions (every pairwise distance, loops over balls), on random sets,
on integer lattices full of exact ties, at the edges of k; their known limits; and the
real-vs-real expectations (density 1, coverage in closed form) that the baseline bands show."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.engine.config import DataConfig, merge
from ganlab.engine.distributions import resolve
from ganlab.engine.distributions.base import Box
from ganlab.engine.evaluation import metric_row, real_baseline
from ganlab.engine.knn_metrics import (
    KNN_COLUMNS,
    KNN_K,
    KNN_POINTS,
    knn_columns,
    knn_points,
    knn_radii,
    knn_scores,
)
from ganlab.engine.trainer import Trainer
from ganlab.wire.messages import baseline_field


def brute_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance to the k-th nearest other point, by sorting each point's distances to all the
    others (the point itself left out by index, so a duplicate still counts at 0)."""
    n = len(points)
    radii = np.empty(n)
    for i in range(n):
        others = [math.dist(points[i], points[j]) for j in range(n) if j != i]
        radii[i] = sorted(others)[k - 1]
    return radii


def brute_scores(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The four scores from their definitions, closed balls, one pair of points at a time."""
    rr, fr = brute_radii(real, k), brute_radii(fake, k)
    d = np.array([[math.dist(x, y) for y in fake] for x in real])  # (N, M)
    in_ball = d <= rr[:, None]  # fake j inside real i's ball
    precision = sum(any(in_ball[i, j] for i in range(len(real))) for j in range(len(fake)))
    recall = sum(any(d[i, j] <= fr[j] for j in range(len(fake))) for i in range(len(real)))
    return {
        "precision": precision / len(fake),
        "recall": recall / len(real),
        "density": int(in_ball.sum()) / (k * len(fake)),
        "coverage": sum(bool(row.any()) for row in in_ball) / len(real),
    }


def lattice(n: int, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64))
    return np.stack([xs.ravel() + shift[0], ys.ravel() + shift[1]], axis=1)


@pytest.mark.parametrize(
    ("seed", "n_real", "n_fake", "k"),
    [(0, 60, 60, 5), (1, 40, 90, 3), (2, 80, 30, 1), (3, 50, 50, 7), (4, 25, 70, 5)],
)
def test_random_sets_match_the_brute_force(seed: int, n_real: int, n_fake: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    real = rng.normal(0.0, 1.0, (n_real, 2))
    # A fake set half of which lies off the real one: precision strictly between 0 and 1.
    fake = np.concatenate(
        [rng.normal(0.0, 1.0, (n_fake // 2, 2)), rng.normal(2.5, 0.5, (n_fake - n_fake // 2, 2))]
    )
    got = knn_columns(real, fake, k)
    want = brute_scores(real, fake, k)
    assert got == pytest.approx(want, abs=1e-12)
    assert 0 < got["precision"] < 1 and got["coverage"] > 0


def test_radii_match_the_brute_force_with_duplicates() -> None:
    rng = np.random.default_rng(7)
    points = rng.uniform(-1, 1, (40, 2))
    points[10:14] = points[3]  # five copies of one point: its 4 nearest others sit at 0
    for k in (1, 4, 5, 39):
        np.testing.assert_allclose(knn_radii(points, k), brute_radii(points, k), atol=1e-15)
    assert knn_radii(points, 4)[3] == 0.0 and knn_radii(points, 5)[3] > 0.0


@pytest.mark.parametrize(
    ("shift", "k"), [((0.0, 0.0), 4), ((1.0, 0.0), 4), ((0.5, 0.0), 2), ((1.0, 2.0), 8)]
)
def test_exact_ties_on_a_lattice_count_as_inside(shift: tuple[float, float], k: int) -> None:
    """Integer lattices: many fakes lie exactly on a real ball's edge (distance == radius)."""
    real = lattice(6)
    fake = lattice(5, shift)
    got = knn_columns(real, fake, k)
    assert got == pytest.approx(brute_scores(real, fake, k), abs=1e-12)


def test_a_hand_worked_lattice() -> None:
    """Real: a 3 x 3 unit lattice, k = 2. Each corner's 2nd nearest neighbour is at 1, the
    edge midpoints' and the centre's too, so every real ball has radius 1. Fakes: the centre
    (inside the balls of the centre and its 4 neighbours at distance 1: 5 balls), a point at
    (3, 1) (on the edge of the ball of (2, 1) only), and one far away at (10, 10)."""
    real = lattice(3)
    fake = np.array([[1.0, 1.0], [3.0, 1.0], [10.0, 10.0]])
    s = knn_scores(real, fake, k=2)
    assert s.precision == pytest.approx(2 / 3)
    assert s.density == pytest.approx((5 + 1) / (2 * 3))
    # Balls holding a fake: the centre's and its 4 neighbours' ((2, 1) among them).
    assert s.coverage == pytest.approx(5 / 9)
    # Fake radii (k = 2 among 3 fakes): each fake's 2nd nearest other fake is the farther one,
    # so the far fake's ball is huge and holds every real point: recall is 1.
    assert s.recall == 1.0


def test_identical_sets_score_one_and_density_k_plus_one_over_k() -> None:
    """Each fake coincides with a real centre; with no ties, each real ball holds its own copy
    and its k neighbours' copies: density = (k + 1) / k exactly."""
    pts = np.random.default_rng(3).normal(size=(300, 2))
    for k in (1, 5, 10):
        s = knn_scores(pts, pts.copy(), k)
        assert (s.precision, s.recall, s.coverage) == (1.0, 1.0, 1.0)
        assert s.density == pytest.approx((k + 1) / k)


def test_disjoint_far_apart_sets_score_zero() -> None:
    rng = np.random.default_rng(4)
    real = rng.normal(0.0, 1.0, (200, 2))
    fake = rng.normal(0.0, 1.0, (150, 2)) + 100.0
    assert knn_columns(real, fake) == {name: 0.0 for name in KNN_COLUMNS}


def test_precision_and_recall_swap_with_the_roles() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(120, 2)), rng.normal(0.5, 1.5, (80, 2))
    ab, ba = knn_scores(a, b), knn_scores(b, a)
    assert (ab.precision, ab.recall) == (ba.recall, ba.precision)


def test_a_collapsed_generator_is_precise_but_recalls_and_covers_little() -> None:
    rng = np.random.default_rng(6)
    real = rng.normal(size=(200, 2))
    fake = np.zeros((200, 2))  # every sample at the data's centre
    s = knn_scores(real, fake)
    assert s.precision == 1.0
    # Every fake ball has radius 0: only a real point exactly at 0 would be recalled.
    assert s.recall == 0.0
    assert s.coverage < 0.05
    # All 200 fakes sit in the same few real balls (those that reach the centre).
    assert s.density == pytest.approx(brute_scores(real, fake, KNN_K)["density"])


def test_k_edges_and_bad_input() -> None:
    pts = np.random.default_rng(8).normal(size=(6, 2))
    assert knn_scores(pts, pts, k=5).precision == 1.0  # k = n - 1: every other point
    with pytest.raises(ValueError, match="more than 6"):
        knn_scores(pts, pts, k=6)
    with pytest.raises(ValueError, match="k must be >= 1"):
        knn_radii(pts, 0)
    with pytest.raises(ValueError, match="shape"):
        knn_scores(np.zeros((10, 3)), pts)
    bad = pts.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        knn_scores(pts, bad, k=2)


def expected_coverage(n: int, m: int, k: int) -> float:
    """Naeem et al. 2020: with real and fake from one distribution, a real ball holds none of
    the m fakes when its k nearest among the other n - 1 reals and m fakes are all real."""
    p_none = 1.0
    for i in range(1, k + 1):
        p_none *= (n - i) / (m + n - i)
    return 1.0 - p_none


def test_real_vs_real_expectations_density_one_and_coverage_in_closed_form() -> None:
    """Two real samples from one distribution: density averages 1 (a fresh point is among a
    real point's k nearest with probability k / n) and coverage 1 - prod (n-i)/(m+n-i)."""
    rng = np.random.default_rng(9)
    n, m, draws = 400, 400, 60
    dens, cov = [], []
    for _ in range(draws):
        s = knn_scores(rng.uniform(size=(n, 2)), rng.uniform(size=(m, 2)))
        dens.append(s.density)
        cov.append(s.coverage)
    # Standard errors of the means here are about 0.004 (density) and 0.001 (coverage).
    assert np.mean(dens) == pytest.approx(1.0, abs=0.02)
    assert np.mean(cov) == pytest.approx(expected_coverage(n, m, KNN_K), abs=0.006)


class Scripted:
    """A distribution handing out prepared samples in the order they are asked for."""

    box = Box(-3.0, 3.0, -3.0, 3.0)
    modes = ()

    def __init__(self, batches: list[np.ndarray]) -> None:
        self.batches = list(batches)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        batch = self.batches.pop(0)
        assert len(batch) == n
        return torch.from_numpy(batch)


def test_the_baseline_bands_are_the_scores_of_each_real_pair() -> None:
    """real_baseline scores the second KL/JS sample of each pair against the first: its bands'
    means are the means of the brute-force scores of those pairs."""
    rng = np.random.default_rng(10)
    pairs, samples, w1_points = 3, 50, 20
    batches, want = [], []
    for _ in range(pairs):
        a, b = rng.normal(size=(samples, 2)), rng.normal(0.3, 1.2, (samples, 2))
        batches += [a, b, rng.normal(size=(w1_points, 2)), rng.normal(size=(w1_points, 2))]
        want.append(brute_scores(a, b, KNN_K))
    bands = real_baseline(Scripted(batches), samples, w1_points, grid=8, pairs=pairs)  # type: ignore[arg-type]
    for name in KNN_COLUMNS:
        values = [w[name] for w in want]
        assert bands[name].mean == pytest.approx(np.mean(values), abs=1e-12)
        assert min(values) <= bands[name].low <= bands[name].high <= max(values)


def test_a_real_distribution_baseline_has_the_four_bands_near_their_expectations() -> None:
    dist = resolve(DataConfig(name="ring8"))
    bands = real_baseline(dist, samples=1000, w1_points=50, grid=10, pairs=4)
    assert set(KNN_COLUMNS) <= set(bands)
    field = baseline_field(bands, 1000, 50)
    assert (field["knn_k"], field["knn_samples"]) == (KNN_K, 1000)
    assert set(KNN_COLUMNS) <= set(field["metrics"])
    assert baseline_field(bands, 2500, 50)["knn_samples"] == KNN_POINTS
    assert bands["density"].mean == pytest.approx(1.0, abs=0.05)
    assert bands["coverage"].mean == pytest.approx(expected_coverage(1000, 1000, KNN_K), abs=0.02)
    for name in ("precision", "recall"):
        assert 0.9 < bands[name].low <= bands[name].mean <= bands[name].high < 1.0


def test_a_metric_row_scores_its_own_evaluation_points() -> None:
    """metric_row's four columns are the scores of the row's generated points against its
    real points (the same seeded draws every row)."""
    t = Trainer(
        merge(
            {
                "generator": {"layers": 1, "neurons": 8},
                "discriminator": {"layers": 1, "neurons": 8},
            },
            {"data": {"name": "ring8"}, "metrics": {"samples": 150, "w1_samples": 50, "grid": 8}},
        )
    )
    t.train(5)
    row = metric_row(t)
    seed = t.config.seed
    fake = t.sample(150, torch.Generator().manual_seed(seed + 7))
    real = t.real_sample(150, torch.Generator().manual_seed(seed + 8))
    want = brute_scores(np.asarray(real, np.float64), np.asarray(fake, np.float64), KNN_K)
    assert {name: row[name] for name in KNN_COLUMNS} == pytest.approx(want, abs=1e-12)


def test_a_row_scores_the_first_knn_points_of_each_set() -> None:
    assert (knn_points(400), knn_points(KNN_POINTS), knn_points(5000)) == (
        400,
        KNN_POINTS,
        KNN_POINTS,
    )
    rng = np.random.default_rng(11)
    real = rng.normal(size=(KNN_POINTS + 500, 2))
    fake = rng.normal(0.2, 1.1, (KNN_POINTS + 300, 2))
    # The points past the first KNN_POINTS lie far off: scored, they would lower precision.
    fake[KNN_POINTS:] += 50.0
    got = knn_columns(real, fake)
    s = knn_scores(real[:KNN_POINTS], fake[:KNN_POINTS])
    assert got == {name: getattr(s, name) for name in KNN_COLUMNS}
    assert got["precision"] > knn_scores(real, fake).precision + 0.1
