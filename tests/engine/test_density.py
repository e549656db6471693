"""Exact laws of the distributions, the cross-validated kernel estimate, and the density on a
picture's grid, each checked against something computed another way: histograms of many
samples from the samplers, closed forms, and brute-force sums."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.engine.distributions import DISTRIBUTIONS, Distribution, from_points, from_strokes
from ganlab.engine.distributions.grid_density import cell_edges, grid_density
from ganlab.engine.distributions.kde import cv_width, distinct, estimate, kde, loo_log_likelihood
from ganlab.engine.distributions.laws import GaussianSum, UniformBoxes, blurred_curve

N = 1_000_000


def draw(dist: Distribution, n: int = N, seed: int = 1) -> np.ndarray:
    return dist.sample(n, torch.Generator().manual_seed(seed)).double().numpy()


def _edges(dist: Distribution, r: int) -> tuple[np.ndarray, np.ndarray]:
    b = dist.box
    return cell_edges(np.linspace(b.xmin, b.xmax, r)), cell_edges(np.linspace(b.ymin, b.ymax, r))


def check_cells_against_histogram(dist: Distribution, r: int = 48) -> None:
    """Every cell's exact mass agrees with the fraction of a million samples that fall in it,
    within five standard errors (binomial), and so does the mass inside the whole grid."""
    assert dist.law is not None
    xe, ye = _edges(dist, r)
    mass = dist.law.cell_mass(xe, ye)
    s = draw(dist)
    hist, _, _ = np.histogram2d(s[:, 1], s[:, 0], bins=(ye, xe))
    frac = hist / N
    se = np.sqrt(np.maximum(mass * (1 - mass), 1 / N) / N)
    z = (frac - mass) / se
    worst = float(np.abs(z).max())
    assert worst < 5.5, f"{dist.name}: a cell is {worst:.1f} standard errors off"
    # And no small error everywhere: the mean square of z is about 1 (chi-square).
    chi2 = float((z[mass * N > 20] ** 2).mean())
    assert chi2 < 1.3, f"{dist.name}: mean squared z {chi2:.2f}"
    inside = frac.sum()
    assert abs(mass.sum() - inside) < 5 * math.sqrt(max(inside * (1 - inside), 1 / N) / N)
    assert mass.sum() > 0.98  # the boxes show (nearly) all of every distribution


def check_points_against_counts(dist: Distribution, side: float) -> None:
    """The density at sampled points agrees with the count of samples in a small square of
    `side` around each, over the number expected (n · density · side²), where many fall."""
    assert dist.law is not None
    n = 2 * N
    s = draw(dist, n, seed=2)
    at = draw(dist, 300, seed=3)
    # Count the samples in each square with one sort along x.
    order = np.argsort(s[:, 0])
    xs, ys = s[order, 0], s[order, 1]
    counts = []
    for x, y in at:
        lo, hi = np.searchsorted(xs, [x - side / 2, x + side / 2])
        counts.append(int((np.abs(ys[lo:hi] - y) <= side / 2).sum()))
    # What the square should hold: the density's mean over it (6 x 6 midpoints, 0.1% off at
    # most) times its area, so that the density's curvature across the square is no error.
    u = (np.arange(6) + 0.5) / 6 - 0.5
    ox, oy = np.meshgrid(u * side, u * side)
    offsets = np.stack([ox.ravel(), oy.ravel()], 1)
    mean = dist.density((at[:, None, :] + offsets[None]).reshape(-1, 2)).reshape(len(at), -1)
    expected = mean.mean(1) * n * side**2
    ok = expected > 300
    assert ok.sum() > 100, f"{dist.name}: too few points with enough samples around them"
    # Poisson noise: no count beyond 5 standard deviations, and their mean square about 1
    # (the squares overlap, so the z are correlated and their mean square varies more).
    got, want = np.array(counts)[ok], expected[ok]
    z = (got - want) / np.sqrt(want)
    assert np.abs(z).max() < 5, f"{dist.name}: a density is {np.abs(z).max():.1f} sd off"
    assert (z**2).mean() < 2, f"{dist.name}: mean squared z {(z**2).mean():.2f}"


# The smallest scale of each law: the squares of the point check are this wide. (The
# checkerboard's density jumps at its cells' edges, where a square straddles two values: it
# is checked cell by cell and point by point at the centres instead.)
SCALES = {
    "line": 0.01, "gaussians": 0.05, "ring": 0.025, "disjoint": 0.025, "ring8": 0.01,
    "grid25": 0.05, "8gaussians": 0.02 / 1.414, "25gaussians": 0.05 / 2.828,
    "swissroll": 0.25 / 7.5, "moons": 0.05, "spiral": 0.04,
}  # fmt: skip


def test_every_registered_distribution_has_an_exact_law() -> None:
    assert {*SCALES, "checkerboard"} == set(DISTRIBUTIONS)
    for dist in DISTRIBUTIONS.values():
        assert dist.law is not None, dist.name
        w = getattr(dist.law, "weights")  # noqa: B009
        assert w.sum() == pytest.approx(1.0, abs=1e-12) and (w >= 0).all()


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_cell_masses_match_a_histogram_of_samples(name: str) -> None:
    check_cells_against_histogram(DISTRIBUTIONS[name])


@pytest.mark.parametrize("name", sorted(SCALES))
def test_point_densities_match_sample_counts(name: str) -> None:
    check_points_against_counts(DISTRIBUTIONS[name], SCALES[name])


@pytest.mark.parametrize("name", ["ring8", "gaussians", "swissroll", "moons", "checkerboard"])
def test_density_integrates_to_the_cell_masses(name: str) -> None:
    """The two ways a law is read agree: integrating `density` numerically (midpoint rule,
    50 x 50 points) over a cell gives its `cell_mass` (from the normal distribution
    function, or box overlaps), for the six heaviest cells of a 12 x 12 grid."""
    dist = DISTRIBUTIONS[name]
    assert dist.law is not None
    xe, ye = _edges(dist, 12)
    mass = dist.law.cell_mass(xe, ye)
    k = 50
    u = (np.arange(k) + 0.5) / k
    for flat in np.argsort(mass.ravel())[::-1][:6]:
        j, i = divmod(int(flat), 12)
        px, py = np.meshgrid(xe[i] + u * (xe[i + 1] - xe[i]), ye[j] + u * (ye[j + 1] - ye[j]))
        dens = dist.density(np.stack([px.ravel(), py.ravel()], 1))
        integral = dens.mean() * (xe[i + 1] - xe[i]) * (ye[j + 1] - ye[j])
        assert integral == pytest.approx(mass[j, i], rel=5e-3), (i, j)


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def test_mixture_cell_mass_matches_the_normal_distribution_function() -> None:
    """ring8's mass in a few cells, from math.erfc one mode at a time."""
    dist = DISTRIBUTIONS["ring8"]
    xe = np.array([0.95, 0.99, 1.0, 1.03, 1.2])
    ye = np.array([-0.02, -0.005, 0.0, 0.01])
    mass = dist.law.cell_mass(xe, ye)  # type: ignore[union-attr]
    for j in range(len(ye) - 1):
        for i in range(len(xe) - 1):
            expected = 0.0
            for k in range(8):
                mx, my = math.cos(math.pi * k / 4), math.sin(math.pi * k / 4)
                px = _phi((xe[i + 1] - mx) / 0.01) - _phi((xe[i] - mx) / 0.01)
                py = _phi((ye[j + 1] - my) / 0.01) - _phi((ye[j] - my) / 0.01)
                expected += px * py / 8
            assert mass[j, i] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_a_blurred_segment_matches_its_closed_form() -> None:
    """The line's density by quadrature against the exact density of a segment blurred by
    a Gaussian: φ(distance across) · (Φ(b) - Φ(a)) / length, a and b the ends along it."""
    dist = DISTRIBUTIONS["line"]
    start, end, sigma = np.array([0.8, 0.6]), np.array([0.05, 0.9]), 0.01
    length = float(np.linalg.norm(end - start))
    along = (end - start) / length
    across = np.array([-along[1], along[0]])
    rng = np.random.default_rng(0)
    t = rng.uniform(-0.05, 1.05, 2000)
    points = start + np.outer(t * length, along) + np.outer(rng.normal(0, 2 * sigma, 2000), across)
    rel = points - start
    s, d = rel @ along, rel @ across
    exact = np.array([
        math.exp(-0.5 * (di / sigma) ** 2) / (math.sqrt(2 * math.pi) * sigma)
        * (_phi((length - si) / sigma) - _phi(-si / sigma)) / length
        for si, di in zip(s, d, strict=True)
    ])  # fmt: skip
    got = dist.density(points)
    assert np.abs(got - exact).max() < 1e-3 * exact.max()
    big = exact > 0.05 * exact.max()
    np.testing.assert_allclose(got[big], exact[big], rtol=1e-2)
    half = exact > 0.5 * exact.max()
    np.testing.assert_allclose(got[half], exact[half], rtol=1e-3)


def test_the_quadrature_has_converged() -> None:
    """Halving the spacing of the nodes along a curve changes no density by more than 0.1%."""
    import ganlab.engine.distributions.laws as laws

    def roll(u: np.ndarray) -> np.ndarray:
        t = 1.5 * math.pi * (1 + 2 * u)
        return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 7.5

    at = draw(DISTRIBUTIONS["swissroll"], 500, seed=4)
    coarse = blurred_curve(roll, 0.25 / 7.5).density(at)
    saved = laws.NODE_SPACING
    try:
        laws.NODE_SPACING = saved / 2
        fine = blurred_curve(roll, 0.25 / 7.5).density(at)
    finally:
        laws.NODE_SPACING = saved
    np.testing.assert_allclose(coarse, fine, rtol=1e-3)


def test_checkerboard_density_is_one_eighth_on_dark_cells_only() -> None:
    dist = DISTRIBUTIONS["checkerboard"]
    centres = np.array([(i - 1.5, j - 1.5) for i in range(4) for j in range(4)])
    dark = np.array([(i + j) % 2 == 0 for i in range(4) for j in range(4)])
    np.testing.assert_array_equal(dist.density(centres), np.where(dark, 1 / 8, 0.0))
    assert dist.density(np.array([[2.2, 0.0]]))[0] == 0.0


def test_drawings_and_jittered_points_have_exact_laws() -> None:
    strokes = [[[0.1, 0.2], [0.5, 0.8], [0.9, 0.3]], [[0.7, 0.7]]]  # a polyline and a tap
    drawing = from_strokes(strokes, 0.06)
    check_cells_against_histogram(drawing)
    check_points_against_counts(drawing, 0.06 / 4)
    pts = np.random.default_rng(3).uniform(-2, 2, (50, 2))
    jittered = from_points(pts.tolist(), 0.05)
    check_cells_against_histogram(jittered)
    check_points_against_counts(jittered, 0.05)


def test_points_without_jitter_have_no_density_but_their_atoms() -> None:
    pts = [[0.0, 0.0], [1.0, 2.0], [1.0, 2.0]]
    dist = from_points(pts, 0.0)
    assert dist.law is None
    np.testing.assert_array_equal(dist.atoms, np.array(pts))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no exact density"):
        dist.density(np.zeros((1, 2)))


def test_laws_refuse_malformed_parameters() -> None:
    with pytest.raises(ValueError, match="positive"):
        GaussianSum(np.ones(1), np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="must be"):
        GaussianSum(np.ones(2), np.zeros((1, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="positive width"):
        UniformBoxes(np.ones(1), np.array([[0.0, 0.0, 0.0, 1.0]]))


# --------------------------------------------------------------------------- the estimate


def test_leave_one_out_likelihood_matches_a_direct_sum() -> None:
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(40, 2))
    counts = rng.integers(1, 4, 40).astype(float)
    held = np.array([0, 5, 17, 39])
    widths = np.array([0.05, 0.3, 1.0])
    got = loo_log_likelihood(pts, counts, widths, held)
    for w, value in zip(widths, got, strict=True):
        total = 0.0
        for i in held:
            others = [j for j in range(40) if j != i]
            k = [counts[j] * math.exp(-((pts[i] - pts[j]) ** 2).sum() / (2 * w * w))
                 / (2 * math.pi * w * w) for j in others]  # fmt: skip
            total += counts[i] * math.log(sum(k) / counts[others].sum())
        assert value == pytest.approx(total / counts[held].sum(), rel=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_one_gaussian_the_width_is_the_normal_reference_width(seed: int) -> None:
    """For 2D normal data the width that minimizes the integrated squared error is σ·n^(-1/6)
    (Scott's rule is exact there): cross-validation finds about that."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(2000, 2, generator=gen, dtype=torch.float64) * 0.3).numpy()
    width = cv_width(x, torch.Generator().manual_seed(0)).width
    assert 0.75 < width / (0.3 * 2000 ** (-1 / 6)) < 1.5


def test_on_a_tight_mixture_it_beats_scotts_width_on_held_out_data() -> None:
    dist = DISTRIBUTIONS["ring8"]
    x = draw(dist, 2000, seed=5)
    width = cv_width(x, torch.Generator().manual_seed(0)).width
    scott = float(x.std(axis=0).mean()) * 2000 ** (-1 / 6)
    test = draw(dist, 5000, seed=6)
    ll_cv = np.log(kde(x, width).density(test)).mean()
    ll_scott = np.log(kde(x, scott).density(test)).mean()
    assert ll_cv > ll_scott + 3  # nats per point
    # Each of the 8 modes holds 250 points: the normal reference width of one mode.
    assert 0.75 < width / (0.01 * 250 ** (-1 / 6)) < 1.5
    assert scott / width > 15


def test_copies_of_a_point_are_left_out_together() -> None:
    """Five copies of every point choose the width the distinct points choose (a copy left
    in would make width 0 look perfect)."""
    x = np.random.default_rng(1).normal(size=(300, 2))
    rows, counts = distinct(np.repeat(x, 5, axis=0))
    assert len(rows) == 300 and (counts == 5).all()
    law, width = estimate(rows, counts, torch.Generator().manual_seed(0))
    order = np.lexsort((x[:, 1], x[:, 0]))
    alone = cv_width(x[order], torch.Generator().manual_seed(0)).width
    assert width == pytest.approx(alone)
    np.testing.assert_allclose(law.weights, 1 / 300)


def test_two_distinct_points_are_needed() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        cv_width(np.zeros((1, 2)), torch.Generator())


# --------------------------------------------------------------------------- on the grid


def test_grid_density_of_a_known_law_is_its_cell_masses_over_areas() -> None:
    dist = DISTRIBUTIONS["grid25"]
    gx = np.linspace(-6, 6, 33)
    got = grid_density(dist, gx, gx, torch.Generator())
    assert got.kind == "exact" and got.width is None and got.values.dtype == np.float32
    edges = cell_edges(gx)
    mass = dist.law.cell_mass(edges, edges)  # type: ignore[union-attr]
    np.testing.assert_allclose(got.values, mass / (12 / 32) ** 2, rtol=1e-6)
    # Every mode is drawn at the full mass of its cell: none falls between grid points.
    assert got.values.sum() * (12 / 32) ** 2 == pytest.approx(1.0, abs=1e-6)


def test_grid_density_of_bare_points_is_the_cross_validated_estimate() -> None:
    pts = draw(DISTRIBUTIONS["ring8"], 600, seed=7)
    dist = from_points(pts.tolist(), 0.0)
    gx = np.linspace(-1.5, 1.5, 64)
    got = grid_density(dist, gx, gx, torch.Generator().manual_seed(0))
    assert got.kind == "kde"
    assert got.width is not None and 0.002 < got.width < 0.02  # near the modes' σ of 0.01
    # The estimate puts its mass on the modes: the 8 cells nearest them hold most of it.
    top = np.sort(got.values.ravel())[::-1]
    assert top[: 8 * 9].sum() / top.sum() > 0.9


def test_grid_density_of_one_point_is_its_cell() -> None:
    dist = from_points([[0.3, 0.4], [0.3, 0.4]], 0.0)
    gx = np.linspace(0.0, 1.0, 11)
    got = grid_density(dist, gx, gx, torch.Generator())
    assert got.kind == "exact"
    assert got.values[4, 3] == pytest.approx(1 / 0.1**2) and np.count_nonzero(got.values) == 1


def test_sampled_estimate_for_a_law_not_known() -> None:
    """A distribution without a law is estimated from samples of it."""
    base = DISTRIBUTIONS["gaussians"]
    dist = Distribution("t", "t", "d", base.box, base.sampler)
    gx = np.linspace(0, 1, 32)
    got = grid_density(dist, gx, gx, torch.Generator().manual_seed(0))
    exact = grid_density(base, gx, gx, torch.Generator())
    assert got.kind == "kde" and got.width is not None
    # Close to the truth: under 0.1 in total variation (the share of mass misplaced).
    cell = (gx[1] - gx[0]) ** 2
    assert 0.5 * np.abs(got.values - exact.values).sum() * cell < 0.1
