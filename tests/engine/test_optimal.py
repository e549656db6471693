"""The optimal discriminator lens (optimal.py), each formula against an independent route:
closed-form pushforwards, a fine histogram of many samples, brute-force kernel sums, scipy's
Jensen-Shannon distance and a direct torch computation of V(D, G)."""

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import iqr, multivariate_normal

from ganlab.engine.distributions.grid_density import cell_edges
from ganlab.engine.optimal import (
    CLIP,
    PUSH_LINES,
    LensInputs,
    _spread,
    kde_density,
    kde_width,
    latent_lines,
    optimal_d,
    partner_ratios,
    piece_fractions,
    pushforward,
    signed_areas,
    value_columns,
    value_current,
    value_monte_carlo,
    value_theory,
    with_outside,
)
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.trainer import Trainer

A = np.array([[0.8, 0.3], [-0.2, 0.5]])
B = np.array([0.3, -0.2])
G = np.linspace(-3, 3, 64)
XE = YE = cell_edges(G)
AREA = np.diff(YE)[:, None] * np.diff(XE)[None, :]


def _latent(kind: str, lines: int = PUSH_LINES) -> tuple[np.ndarray, float]:
    z, band, _ = latent_lines(kind, lines)
    u, v = np.meshgrid(z.numpy(), z.numpy(), indexing="xy")
    return np.stack([u, v], axis=-1), band * band


def _gaussian_split(s: int) -> np.ndarray:
    return piece_fractions("gaussian", PUSH_LINES, s)


def test_linear_gaussian_pushforward_is_the_gaussian_with_covariance_a_at():
    z, mass = _latent("gaussian")
    values, mirrored = pushforward(z @ A.T + B, mass, XE, YE, _gaussian_split)
    gx, gy = np.meshgrid(G, G, indexing="xy")
    truth = multivariate_normal(B, A @ A.T).pdf(np.stack([gx, gy], -1))
    # Total variation over the grid, and the largest error against the peak.
    assert 0.5 * np.abs(values - truth).sum() * AREA[0, 0] < 0.01
    assert np.abs(values - truth).max() < 0.03 * truth.max()
    assert mirrored == 0.0


def test_uniform_noise_through_a_linear_map_is_flat_on_its_parallelogram():
    z, mass = _latent("uniform")
    values, _ = pushforward(z @ A.T + B, mass, XE, YE)
    gx, gy = np.meshgrid(G, G, indexing="xy")
    pre = np.linalg.solve(A, np.stack([gx - B[0], gy - B[1]], -1).reshape(-1, 2).T).T
    # Cells well inside the parallelogram A [-1, 1]^2 + B (a margin of a cell's diagonal).
    inner = (np.abs(pre) < 0.75).all(1).reshape(gx.shape)
    assert inner.sum() > 50
    np.testing.assert_allclose(values[inner], 1 / (4 * abs(np.linalg.det(A))), rtol=0.02)
    outer = (np.abs(pre) > 1.3).any(1).reshape(gx.shape)
    assert (values[outer] == 0).all()


def _folded(z: np.ndarray) -> np.ndarray:
    # (z0, z1^2 - 1): the plane folded along z1 = 0, where det J = 2 z1 changes sign.
    return np.stack([0.7 * z[..., 0] + 0.2 * z[..., 1], z[..., 1] ** 2 - 1.0], axis=-1)


def test_a_folding_generator_matches_a_fine_histogram_of_a_million_samples():
    z, mass = _latent("gaussian")
    values, mirrored = pushforward(_folded(z), mass, XE, YE, _gaussian_split)
    samples = _folded(np.random.default_rng(0).standard_normal((1_000_000, 2)))
    hist, _, _ = np.histogram2d(samples[:, 1], samples[:, 0], bins=(YE, XE))
    truth = hist / len(samples) / AREA
    # The histogram's own sampling noise alone makes about 0.016 of this.
    assert 0.5 * np.abs(values - truth).sum() * AREA[0, 0] < 0.03
    assert 0.4 < mirrored <= 0.5  # half the noise's mass lies on each side of the fold


def test_signed_areas_flip_with_the_orientation():
    z, _ = _latent("uniform", 5)
    cell = (2 / 4) ** 2
    same = signed_areas(z)
    np.testing.assert_allclose(np.abs(same), cell)
    assert len(np.unique(np.sign(same))) == 1
    np.testing.assert_allclose(signed_areas(z[:, ::-1]), -same)
    np.testing.assert_allclose(signed_areas(z[::-1, :]), -same)


def test_kde_matches_a_brute_force_kernel_sum():
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.normal([-1, 0], 0.3, (700, 2)), rng.normal([1, 1], 0.2, (300, 2))])
    width = kde_width(pts)
    expect = np.minimum(pts.std(0), iqr(pts, axis=0) / 1.349) * len(pts) ** (-1 / 6)
    np.testing.assert_allclose(width, expect)
    got = kde_density(pts, XE, YE)
    assert got.kind == "kde" and got.samples == 1000 and got.width == pytest.approx(tuple(expect))
    # The density at each cell's centre, summed point by point (cells are small against h).
    gx, gy = np.meshgrid(G, G, indexing="xy")
    brute = np.zeros_like(gx)
    for x, y in pts:
        brute += np.exp(-0.5 * (((gx - x) / width[0]) ** 2 + ((gy - y) / width[1]) ** 2))
    brute /= len(pts) * 2 * math.pi * width[0] * width[1]
    assert np.abs(got.values - brute).max() < 0.02 * brute.max()


def test_optimal_d_cell_by_cell():
    rng = np.random.default_rng(2)
    p, q = rng.random((6, 6)), rng.random((6, 6))
    p[0, 0] = q[0, 0] = 0.0  # neither: undefined
    p[1, 1], q[1, 1] = 0.0, 0.5  # only fakes: D* = 0
    for m, t in ((1, 1.0), (3, 0.9)):
        d = optimal_d(p, q, m, t)
        for i in range(6):
            for j in range(6):
                if i == j == 0:
                    assert math.isnan(d[i, j])
                else:
                    pm, qm = float(p[i, j]) ** m, float(q[i, j]) ** m
                    assert d[i, j] == pytest.approx(t * pm / (pm + qm), rel=1e-5, abs=1e-7)
    assert d[1, 1] == 0.0


def test_packed_optimal_d_averages_over_fake_partners_like_the_heatmap():
    """With packing the best D of a pack (x, y) is p(x)p(y) / (p(x)p(y) + q(x)q(y)); the
    picture averages it over partners y from the fakes: a double loop checks it."""
    rng = np.random.default_rng(3)
    r, box = 5, (-1.0, 1.0, -1.0, 1.0)
    p, q = rng.random((r, r)), rng.random((r, r))
    p[0, 0] = q[0, 0] = 0.0
    p[4, 4] = 0.0  # fakes where the data has no mass
    cells = np.linspace(-1.0, 1.0, r)
    at = rng.integers(0, r, (40, 2))  # fakes on grid points (ix, iy)
    fakes = np.stack([cells[at[:, 0]], cells[at[:, 1]]], 1)
    fakes[:3] = [[1.0, 1.0], [-1.0, -1.0], [1.0, 1.0]]  # two on (4, 4), one on the empty cell
    d = optimal_d(p, q, 2, 0.9, partner_ratios(p, q, fakes, box))
    for iy in range(r):
        for ix in range(r):
            if iy == ix == 0:
                assert math.isnan(d[iy, ix])
                continue
            terms = []
            for jx, jy in [(4, 4), (0, 0), (4, 4)] + [(int(a), int(b)) for a, b in at[3:]]:
                if p[jy, jx] == q[jy, jx] == 0:
                    continue  # an undefined partner is left out
                real = p[iy, ix] * p[jy, jx]
                fake = q[iy, ix] * q[jy, jx]
                terms.append(0.9 * real / (real + fake) if real + fake > 0 else 0.9)
            assert d[iy, ix] == pytest.approx(np.mean(terms), rel=1e-5, abs=1e-7)
    # Packs of three: a sample of partner pairs, close to the mean over every pair.
    ratios = partner_ratios(p, q, fakes[3:], box)
    d3 = optimal_d(p, q, 3, 1.0, ratios)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (q / p).reshape(-1, 1, 1)
        every = (1.0 / (1.0 + x * ratios[None, :, None] * ratios[None, None, :])).mean((1, 2))
    defined = ~np.isnan(d3.reshape(-1))
    np.testing.assert_allclose(d3.reshape(-1)[defined], every[defined], atol=0.03)
    # Not the pack of copies it was before.
    assert np.nanmax(np.abs(d - optimal_d(p, q, 2, 0.9))) > 0.05


def test_optimal_d_is_undefined_only_where_both_densities_are_negligible():
    # Against an even spread of the mass (mean 250.1 here: the floor is 0.25), not the peak:
    # beside a sharp mode, 0.5 is still a density.
    p = np.array([[1000.0, 0.5, 0.0, 0.2, 1e-9]])
    q = np.array([[0.0, 0.0, 0.4, 0.2, 0.0]])
    d = optimal_d(p, q)
    assert d[0, 0] == 1.0 and d[0, 1] == 1.0 and d[0, 2] == 0.0
    assert math.isnan(d[0, 3]) and math.isnan(d[0, 4])
    assert np.isnan(optimal_d(np.zeros((2, 2)), np.zeros((2, 2)))).all()


def test_theory_value_is_minus_log_four_plus_twice_scipys_jensen_shannon():
    rng = np.random.default_rng(3)
    p, q = rng.random(50), rng.random(50)
    p[:5] = 0.0
    p, q = p / p.sum(), q / q.sum()
    js = jensenshannon(p, q) ** 2  # scipy gives the distance: the square root of JS, in nats
    assert value_theory(p, q) == pytest.approx(-math.log(4) + 2 * js, rel=1e-9)
    assert value_theory(p, p) == pytest.approx(-math.log(4))
    assert value_theory(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(0.0)


def test_monte_carlo_value_agrees_with_the_theory_on_the_same_densities():
    rng = np.random.default_rng(4)
    real = rng.standard_normal((20_000, 2)) * 0.6
    z, mass = _latent("gaussian")
    q_values, _ = pushforward(z @ A.T + B, mass, XE, YE, _gaussian_split)
    fake = rng.standard_normal((20_000, 2)) @ A.T + B
    gx, gy = np.meshgrid(G, G, indexing="xy")
    p_values = multivariate_normal([0, 0], 0.36 * np.eye(2)).pdf(np.stack([gx, gy], -1))
    p_mass, q_mass = with_outside(p_values * AREA), with_outside(q_values * AREA)
    mc = value_monte_carlo(real, fake, p_mass, q_mass, XE, YE)
    theory = value_theory(p_mass, q_mass)
    assert -math.log(4) < theory < -0.3
    # Sampling noise (about 0.01 here) and the fakes in the pushforward's missing tails
    # (optimal.CLIP) keep them a little apart.
    assert mc == pytest.approx(theory, abs=0.04)
    # And it moves with the samples: fakes drawn from the real law score much lower.
    assert value_monte_carlo(real, real[::-1], p_mass, q_mass, XE, YE) < theory - 0.2


def test_monte_carlo_clips_d_star_where_the_estimate_has_no_mass():
    p_mass = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    q_mass = np.array([0.0, 0.0, 0.0, 0.0, 1.0])
    xe = ye = np.array([0.0, 1.0, 2.0])
    fake_in_real_cell = np.array([[0.5, 0.5]])
    v = value_monte_carlo(np.array([[0.5, 0.5]]), fake_in_real_cell, p_mass, q_mass, xe, ye)
    assert v == pytest.approx(math.log(CLIP) + math.log(1 - CLIP))


def test_value_current_is_the_log_loss_game_value():
    rng = np.random.default_rng(5)
    o_real, o_fake = rng.normal(1, 2, 300), rng.normal(-1, 2, 200)
    r, f = torch.tensor(o_real), torch.tensor(o_fake)
    direct = torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean()
    assert value_current(o_real, o_fake) == pytest.approx(float(direct), rel=1e-9)


def test_metric_row_columns_respect_the_bound_and_the_loss():
    t = Trainer({"metrics": {"samples": 1000}})
    t.train(150)
    row = t.record()
    assert -math.log(4) <= row["v_optimal_theory"] <= 0
    assert row["v_optimal"] == pytest.approx(row["v_optimal_theory"], abs=0.05)
    # D* maximises V over D: the current D cannot beat it (beyond sampling noise).
    assert row["v_current"] < row["v_optimal"] + 0.02
    real = t.real_sample(1000, torch.Generator().manual_seed(8))
    fake = t.sample(1000, torch.Generator().manual_seed(7))
    o_r, o_f = torch.tensor(t.discriminate(real)), torch.tensor(t.discriminate(fake))
    direct = torch.nn.functional.logsigmoid(o_r).mean() + torch.log1p(-torch.sigmoid(o_f)).mean()
    assert row["v_current"] == pytest.approx(float(direct), abs=1e-5)
    critic = Trainer({"loss": {"kind": "wgan_gp"}, "metrics": {"samples": 500}})
    cols = value_columns(critic, real[:500], fake[:500])
    assert set(cols) == {"v_optimal", "v_optimal_theory"}  # a critic's V(D, G) is not defined


@pytest.mark.parametrize(("dim", "kind"), [(2, "pushforward"), (1, "kde"), (3, "kde")])
def test_the_picture_carries_d_star_only_when_asked(dim, kind):
    t = Trainer({"noise": {"dim": dim}, "view": {"grid": 32}})
    t.train(20)
    cache = PictureCache()
    assert compute_picture(t, cache).d_optimal is None
    t.configure({"view": {"optimal": True}})
    p = compute_picture(t, cache)
    assert p.d_optimal is not None and p.fake_density is not None
    assert p.d_optimal.shape == (32, 32) and p.fake_density.kind == kind
    expect = optimal_d(p.real_density, p.fake_density.values)
    np.testing.assert_array_equal(np.isnan(p.d_optimal), np.isnan(expect))
    np.testing.assert_allclose(p.d_optimal, expect, equal_nan=True)
    defined = p.d_optimal[~np.isnan(p.d_optimal)]
    assert defined.size > 0 and ((defined >= 0) & (defined <= 1)).all()


def test_the_pushforward_is_normalised_as_the_noise_grid_covers():
    inputs = LensInputs.build("gaussian", 2, G, G, seed=0)
    z = inputs.noise.numpy().astype(np.float64)
    got = inputs.density(z @ A.T + B)
    assert got.kind == "pushforward" and not got.folds
    assert (got.values * AREA).sum() == pytest.approx(got.covered, abs=2e-3)
    folded = inputs.density(_folded(z))
    assert folded.folds


def test_a_piece_over_the_grid_edge_leaves_its_outside_share_outside():
    # A square of side 0.6 centred at x = -0.2 (cell units): 0.5/0.6 of it lies left of the
    # grid, 0.1/0.6 in cell (0, 0); one far off lands wholly outside.
    pts = np.array([[-0.2, 0.5], [-7.0, 0.5], [1.5, 1.5]])
    out = _spread(pts, np.array([0.6, 0.6, 0.0]), np.array([1.0, 1.0, 2.0]), 3, 3)
    assert out[0] == pytest.approx(0.1 / 0.6)
    assert out[-1] == pytest.approx(0.5 / 0.6 + 1.0)
    assert out[1 * 3 + 1] == 2.0  # a point mass stays in its own cell
    assert out.sum() == pytest.approx(4.0)


def test_the_packed_picture_averages_d_star_over_its_own_fakes():
    t = Trainer({"discriminator": {"packing": 2}, "view": {"grid": 24, "optimal": True}})
    t.train(20)
    p = compute_picture(t, PictureCache())
    assert p.d_optimal is not None and p.fake_density is not None
    box = t.distribution.box
    ratios = partner_ratios(p.real_density, p.fake_density.values, p.fake,
                            (box.xmin, box.xmax, box.ymin, box.ymax))  # fmt: skip
    expect = optimal_d(p.real_density, p.fake_density.values, 2, 1.0, ratios)
    np.testing.assert_allclose(p.d_optimal, expect, equal_nan=True)
    copies = optimal_d(p.real_density, p.fake_density.values, 2, 1.0)
    assert np.nanmax(np.abs(p.d_optimal - copies)) > 0.01
