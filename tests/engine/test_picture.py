import math

import numpy as np
import pytest
import torch

from ganlab.engine.picture import (
    PictureCache,
    compute_picture,
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


def test_packing_picture_has_one_value_per_sample():
    """What the values are under packing: test_picture_partners.py."""
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


def test_a_registered_distribution_is_pictured_by_its_true_density():
    """ring8's modes (σ 0.01) are far narrower than a grid cell (0.048): the picture holds
    each cell's exact mass over its area, all of the mass, peaks at the modes, and says so."""
    t = Trainer({**SMALL, "data": {"name": "ring8"}})
    p = compute_picture(t, PictureCache())
    assert p.real_density_kind == "exact" and p.real_density_width is None
    cell = (3.0 / 63) ** 2
    assert float(p.real_density.sum()) * cell == pytest.approx(1.0, abs=1e-5)
    # The 8 cells holding the modes' centres hold at least a quarter of each mode's mass
    # (mode 0 sits exactly on a corner shared by four cells).
    for k in range(8):
        x, y = math.cos(math.pi * k / 4), math.sin(math.pi * k / 4)
        ix, iy = round((x + 1.5) / 3 * 63), round((y + 1.5) / 3 * 63)
        assert p.real_density[iy, ix] * cell > 0.24 / 8, k
    # Scott's kernel (16-20 times the modes' σ) drew a maximum near 1; the truth is 30 times it.
    assert p.real_density.max() > 25


def test_imported_points_are_pictured_by_a_cross_validated_estimate():
    pts = torch.randn(300, 2, generator=torch.Generator().manual_seed(0)) * 0.05
    t = Trainer({**SMALL, "data": {"name": "points", "points": pts.tolist()}})
    p = compute_picture(t, PictureCache())
    assert p.real_density_kind == "kde"
    # A Gaussian of σ 0.05 and 300 points: the normal reference width is 0.05 · 300^(-1/6).
    assert p.real_density_width == pytest.approx(0.05 * 300 ** (-1 / 6), rel=0.5)
    data = {"name": "points", "points": pts.tolist(), "jitter": 0.01}
    jittered = Trainer({**SMALL, "data": data})
    q = compute_picture(jittered, PictureCache())
    assert q.real_density_kind == "exact" and q.real_density_width is None


def test_the_frame_says_which_real_density_it_shows():
    from ganlab.wire.envelope import decode
    from ganlab.wire.messages import frame_message

    points = {"name": "points", "points": [[0, 0], [1, 1], [0, 1]]}
    for data, kind in (({"name": "grid25"}, "exact"), (points, "kde")):
        t = Trainer({**SMALL, "data": data})
        p = compute_picture(t, PictureCache())
        header = decode(frame_message(p, {}, {}, [])).header
        assert header["real_density_kind"] == kind
        assert header["real_density_width"] == p.real_density_width
        assert (header["real_density_width"] is None) == (kind == "exact")


def test_the_real_density_is_kept_until_the_data_grid_or_seed_change():
    t = Trainer({**SMALL, "data": {"name": "points", "points": [[0, 0], [1, 1], [0, 1]]}})
    cache = PictureCache()
    compute_picture(t, cache)
    density, grid = cache.real_density, cache.grid_n
    t.configure({"discriminator": {"neurons": 6}, "view": {"fakes": 100}})
    compute_picture(t, cache)
    assert cache.grid_n is not grid  # the view's other inputs were rebuilt
    assert cache.real_density is density
    for change in ({"view": {"grid": 32}}, {"seed": 5}, {"data": {"name": "ring"}}):
        t.configure(change)
        compute_picture(t, cache)
        assert cache.real_density is not density, change
        density = cache.real_density


def test_optimizer_change_keeps_cached_inputs_and_data_change_refreshes_them():
    t = Trainer({"data": {"name": "ring"}})
    cache = PictureCache()
    compute_picture(t, cache)
    density = cache.real_density
    t.configure({"g_optimizer": {"lr": 0.01}, "generator": {"layers": 3}})
    compute_picture(t, cache)
    assert cache.real_density is density  # nothing the cached inputs depend on changed
    t.configure({"data": {"name": "line"}})
    compute_picture(t, cache)
    assert cache.real_density is not density


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
