import math

import numpy as np
import pytest
import torch

from ganlab.engine.picture import (
    PictureCache,
    compute_picture,
    kde_on_grid,
    latent_lines,
    manifold_density,
    quad_areas,
)
from ganlab.engine.trainer import Trainer

SMALL = {"generator": {"layers": 1, "neurons": 8}, "discriminator": {"layers": 1, "neurons": 8}}


def test_shapes_and_dtypes_default():
    t = Trainer(SMALL)
    p = compute_picture(t, PictureCache())
    assert p.real.shape == (480, 2) and p.real_d.shape == (480,)
    assert p.fake.shape == (240, 2) and p.fake_noise.shape == (240, 2)
    assert p.fake_d.shape == (240,) and p.fake_grad.shape == (240, 2)
    assert p.d_grid.shape == (64, 64) and p.real_density.shape == (64, 64)
    assert p.manifold.shape == (21, 21, 2) and p.manifold_density.shape == (20, 20)
    for name in p.arrays:
        assert getattr(p, name).dtype == np.float32, name
    assert p.box == [0.0, 1.0, 0.0, 1.0] and p.output == "probability"


def test_fixed_noise_keeps_identity_and_fakes_move_with_training():
    t = Trainer(SMALL)
    cache = PictureCache()
    a = compute_picture(t, cache)
    t.train(20)
    b = compute_picture(t, cache)
    assert np.array_equal(a.fake_noise, b.fake_noise)
    assert np.array_equal(a.real, b.real)
    assert not np.array_equal(a.fake, b.fake)


def test_fake_grad_is_generator_loss_gradient():
    """Compare against autograd of the per-sample non-saturating loss, in data coordinates."""
    t = Trainer({**SMALL, "data": {"name": "grid25"}})
    t.train(5)
    p = compute_picture(t, PictureCache())
    x = torch.from_numpy(p.fake[:10]).to(t.device).requires_grad_(True)
    norm = t.normalizer
    o = t.D.functional(t.D.params.detach(), norm.from_data(x))
    loss = torch.nn.functional.softplus(-o).sum()
    (g,) = torch.autograd.grad(loss, x)
    np.testing.assert_allclose(p.fake_grad[:10], g.cpu().numpy(), rtol=1e-3, atol=1e-6)


def test_d_values_match_discriminator():
    t = Trainer(SMALL)
    p = compute_picture(t, PictureCache())
    xs = torch.from_numpy(p.real[:5]).to(t.device)
    o = t.D(t.normalizer.from_data(xs))
    np.testing.assert_allclose(p.real_d[:5], torch.sigmoid(o).view(-1).detach().cpu().numpy(),
                               rtol=1e-5)  # fmt: skip
    # Heatmap orientation: row iy goes up in y, column ix right in x.
    _xmin, xmax, ymin, _ymax = p.box
    corner = torch.tensor([[xmax, ymin]], device=t.device)
    expected = torch.sigmoid(t.D(t.normalizer.from_data(corner)))
    assert p.d_grid[0, -1] == pytest.approx(float(expected), rel=1e-5)


def test_packing_picture_uses_packs_of_copies():
    t = Trainer({**SMALL, "discriminator": {"layers": 1, "neurons": 8, "packing": 3},
                 "view": {"fakes": 20, "reals": 14}})  # fmt: skip
    p = compute_picture(t, PictureCache())
    assert p.fake.shape == (20, 2) and p.fake_d.shape == (20,) and p.real_d.shape == (14,)
    assert np.isfinite(p.d_grid).all()


def test_score_output_for_critic_losses():
    t = Trainer({**SMALL, "loss": {"kind": "wgan"}})
    assert compute_picture(t, PictureCache()).output == "score"


def test_one_dimensional_noise_gives_curve():
    t = Trainer({**SMALL, "noise": {"dim": 1}, "view": {"manifold": 10}})
    p = compute_picture(t, PictureCache())
    assert p.manifold.shape == (40, 2) and p.manifold_density.shape == (39,)


def test_high_dimensional_noise_and_resolution():
    t = Trainer({**SMALL, "noise": {"dim": 5, "kind": "uniform"}, "view": {"grid": 32}})
    p = compute_picture(t, PictureCache())
    assert p.fake_noise.shape == (240, 5) and p.d_grid.shape == (32, 32)
    assert p.manifold.shape == (21, 21, 2)


def test_cache_follows_configuration():
    t = Trainer(SMALL)
    cache = PictureCache()
    compute_picture(t, cache)
    t.configure({"view": {"grid": 16}, "data": {"name": "ring8"}})
    p = compute_picture(t, cache)
    assert p.d_grid.shape == (16, 16) and p.box == [-1.5, 1.5, -1.5, 1.5]
    assert np.abs(np.linalg.norm(p.real, axis=1) - 1).max() < 0.1


def test_latent_lines_equal_mass():
    lines, mass = latent_lines("gaussian", 10)
    cdf = 0.5 * (1 + torch.erf(lines.double() / 2**0.5))
    assert torch.allclose(cdf[1:] - cdf[:-1], torch.full((9,), mass, dtype=torch.float64),
                          atol=1e-5)  # fmt: skip
    assert mass == pytest.approx((1 - 0.004) / 9)


@pytest.mark.parametrize("count", [3, 21, 64])
def test_the_gaussian_latent_grid_covers_at_least_99_percent_of_the_mass(count):
    """The drawn manifold spans the noise's square between the outermost lines: its mass,
    by the standard library's erf, is at least 99% in two dimensions."""
    lines, _ = latent_lines("gaussian", count)
    per_axis = 0.5 * (math.erf(float(lines[-1]) / 2**0.5) - math.erf(float(lines[0]) / 2**0.5))
    assert per_axis**2 >= 0.99
    lines, mass = latent_lines("uniform", 5)
    assert lines.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0] and mass == 0.25


def test_quad_areas_and_density():
    u, v = np.meshgrid(np.linspace(0, 2, 3), np.linspace(0, 1, 3))
    grid = np.stack([u, v], axis=-1)  # cells 1 x 0.5
    np.testing.assert_allclose(quad_areas(grid), np.full((2, 2), 0.5))
    np.testing.assert_allclose(manifold_density(grid, 0.25), np.full((2, 2), 0.5))
    curve = np.array([[0, 0], [3, 4], [3, 5]], dtype=np.float32)
    np.testing.assert_allclose(manifold_density(curve, 1.0), [0.2, 1.0])


def test_kde_integrates_to_one_and_peaks_at_data():
    samples = torch.randn(500, 2, generator=torch.Generator().manual_seed(0)) * 0.3
    g = torch.linspace(-3, 3, 121)
    dens = kde_on_grid(samples, g, g)
    cell = float(g[1] - g[0]) ** 2
    assert float(dens.sum()) * cell == pytest.approx(1.0, abs=0.02)
    iy, ix = divmod(int(dens.argmax()), 121)
    assert abs(iy - 60) <= 5 and abs(ix - 60) <= 5  # peak at the data's centre
    assert float(dens[0, 0]) < 1e-6


def test_optimizer_change_keeps_cached_inputs_and_data_change_refreshes_them():
    t = Trainer({"data": {"name": "ring"}})
    cache = PictureCache()
    compute_picture(t, cache)
    kde = cache.real_density
    t.configure({"g_optimizer": {"lr": 0.01}, "generator": {"layers": 3}})
    compute_picture(t, cache)
    assert cache.real_density is kde  # nothing the cached inputs depend on changed
    t.configure({"data": {"name": "line"}})
    compute_picture(t, cache)
    assert cache.real_density is not kde


def test_kde_matches_direct_sum():
    gen = torch.Generator().manual_seed(0)
    samples = torch.randn(300, 2, generator=gen)
    gx, gy = torch.linspace(-3, 3, 17), torch.linspace(-2, 2, 11)
    width = float(samples.std(dim=0).mean()) * 300 ** (-1.0 / 6.0)
    xs, ys = torch.meshgrid(gx, gy, indexing="xy")
    points = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).double()
    d2 = torch.cdist(points, samples.double()).pow(2)
    direct = torch.exp(-d2 / (2 * width**2)).sum(1) / (300 * 2 * np.pi * width**2)
    np.testing.assert_allclose(kde_on_grid(samples, gx, gy).numpy(),
                               direct.view(11, 17).numpy(), rtol=1e-5, atol=1e-7)  # fmt: skip


@pytest.mark.parametrize("closed_forms", [True, False])
@pytest.mark.parametrize("activation", ["relu", "gelu", "silu"])
def test_pictures_work_on_every_path_and_match(activation, closed_forms):
    """A picture of a D without closed forms (GELU, SiLU, or the general path forced) is
    drawn under inference mode as the live server draws it, and its arrows equal those of
    the fast path where one exists."""
    cfg = {"data": {"name": "ring8"}, "discriminator": {"activation": activation, "packing": 2},
           "view": {"grid": 16}}  # fmt: skip
    t = Trainer(cfg, closed_forms=closed_forms)
    t.train(5)
    with torch.inference_mode():
        p = compute_picture(t, PictureCache())
    assert np.isfinite(p.fake_grad).all() and float(np.abs(p.fake_grad).max()) > 0
    if activation == "relu" and not closed_forms:
        fast = Trainer(cfg)
        fast.load_state(t.state())
        q = compute_picture(fast, PictureCache())
        np.testing.assert_allclose(p.fake_grad, q.fake_grad, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(p.d_grid, q.d_grid, rtol=1e-5, atol=1e-6)
