"""The picture of the current training state: every number a view needs, in one cheap call.

Fixed inputs (the fake samples' noise, the shown real samples, the heatmap grid, the latent
grid and the real density) are computed once per configuration and cached, so a picture
costs a few small forward passes. All coordinates are the distribution's own.

Arrays:
- `real` (Nr, 2) a fixed subset of real samples and `real_d` (Nr,) D's value on them.
- `fake` (Nf, 2) G applied to a FIXED noise batch `fake_noise` (Nf, noise dim), so each dot
  keeps its identity between pictures; `fake_d` (Nf,) D's value on them; `fake_grad` (Nf, 2)
  the gradient of the generator's loss for that sample with respect to the sample (the
  direction G's update pushes it is minus this).
- `d_grid` (R, R) D's value on a grid over the box, row iy from ymin up, column ix from xmin.
- `g_field` (F, F, 2), F = view.field (0: empty): the generator loss's gradient for a fake
  placed at the centre of each of F x F cells over the box (row iy from ymin up), like
  `fake_grad` but over the whole plane.
- With packing m, D judges packs: each of these values and gradients is the mean over every
  partner from a pool, the current fakes for fakes, grid and field and the shown reals for
  `real_d`, taken by quadrature: the point packed with the centres of the pool's k-means
  clusters in every slot, weighted by cluster share (`partners` packs; d_side.py,
  partners.py).
- `manifold`: (M, M, 2) a latent grid mapped through G, with `manifold_density` (M-1, M-1)
  the probability mass of each latent cell divided by the area of its image; for 1D noise a
  curve (K, 2) with density (K-1,) per segment (mass per length). For noise of more than two
  dimensions the grid spans the first two and holds the rest at 0.
- `real_density` (R, R): the real data's density averaged over the grid cell around each grid
  point (distributions/grid_density.py): the law's own where it is known exactly
  (`real_density_kind` "exact"), else a kernel estimate from the data whose width
  (`real_density_width`) likelihood cross-validation chose ("kde").
- `d_optimal` (R, R), only with view.optimal: the optimal discriminator D* on the grid from
  `real_density` and the generator's density `fake_density` (optimal.py, which says how p_g
  is obtained); NaN where neither density says anything. None otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganlab.engine.d_side import Judged, field_points
from ganlab.engine.distributions import Distribution
from ganlab.engine.distributions.grid_density import grid_density
from ganlab.engine.optimal import FakeDensity, LensInputs, generated, optimal_d, partner_ratios
from ganlab.engine.streams import noise_sampler

if TYPE_CHECKING:
    from ganlab.engine.trainer import Trainer


@dataclass
class Picture:
    box: list[float]
    output: str
    real: np.ndarray
    real_d: np.ndarray
    fake: np.ndarray
    fake_noise: np.ndarray
    fake_d: np.ndarray
    fake_grad: np.ndarray
    d_grid: np.ndarray
    manifold: np.ndarray
    manifold_density: np.ndarray
    real_density: np.ndarray
    real_density_kind: str
    real_density_width: float | None
    g_field: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 2), np.float32))
    partners: int = 1  # packs each value and gradient of D's side is a weighted mean of (1: none)
    d_optimal: np.ndarray | None = None
    fake_density: FakeDensity | None = None
    arrays: tuple[str, ...] = field(
        default=(
            "real", "real_d", "fake", "fake_noise", "fake_d", "fake_grad", "d_grid",
            "manifold", "manifold_density", "real_density", "g_field",
        ),
        repr=False,
    )  # fmt: skip


def _normal_quantiles(p: torch.Tensor) -> torch.Tensor:
    return math.sqrt(2.0) * torch.erfinv(2 * p - 1)


# For Gaussian noise the outermost lines sit at these tail quantiles: the grid's square then
# holds (1 - 2 * LATENT_TAIL)^2 = 99.2% of the noise's mass (at (i + 0.5) / count it held
# 90.7% with 21 lines, leaving the generator's tails undrawn).
LATENT_TAIL = 0.002


def latent_lines(kind: str, count: int) -> tuple[torch.Tensor, float]:
    """Positions of `count` latent grid lines along one axis, and the mass between two
    neighbours (equal for every pair, so density shading is comparable across cells)."""
    if kind == "uniform":
        return torch.linspace(-1.0, 1.0, count), 1.0 / (count - 1)
    # Gaussian: lines at equally spaced quantiles, so each band holds the same mass.
    band = (1 - 2 * LATENT_TAIL) / (count - 1)
    quantiles = LATENT_TAIL + band * torch.arange(count, dtype=torch.float64)
    return _normal_quantiles(quantiles).float(), band


def quad_areas(grid: np.ndarray) -> np.ndarray:
    """Area of each quadrilateral cell of an (M, M, 2) grid of points: half the cross
    product of its diagonals."""
    d1 = grid[1:, 1:] - grid[:-1, :-1]
    d2 = grid[:-1, 1:] - grid[1:, :-1]
    return 0.5 * np.abs(d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0])


def manifold_density(points: np.ndarray, mass: float) -> np.ndarray:
    """Mass per area of each warped cell (2D) or mass per length of each segment (1D)."""
    if points.ndim == 3:
        size = quad_areas(points.astype(np.float64))
    else:
        size = np.linalg.norm(np.diff(points.astype(np.float64), axis=0), axis=1)
    return (mass / np.maximum(size, 1e-12)).astype(np.float32)


class PictureCache:
    """The fixed inputs of a picture, rebuilt when the trainer's view version changes."""

    def __init__(self) -> None:
        self.version = -1
        self.density_data: Distribution | None = None
        self.density_grid: tuple[int, int] | None = None

    def refresh(self, t: Trainer) -> None:
        if self.version == t.view_version:
            return
        c, dev, norm = t.config, t.device, t.normalizer
        box = t.distribution.box
        seed = c.seed
        noise_gen = torch.Generator().manual_seed(seed + 5)
        self.noise = noise_sampler(c.noise.kind, c.noise.dim)(c.view.fakes, noise_gen).to(dev)
        real = t.distribution.sample(c.view.reals, torch.Generator().manual_seed(seed + 6))
        self.real = real.numpy()
        self.real_n = norm.from_data(real).to(dev)
        r = c.view.grid
        gx = torch.linspace(box.xmin, box.xmax, r)
        gy = torch.linspace(box.ymin, box.ymax, r)
        xs, ys = torch.meshgrid(gx, gy, indexing="xy")
        grid = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
        self.grid_n = norm.from_data(grid).to(dev)
        # The real density depends on the data, the grid and the seed only, so a new D or
        # another view setting keeps it (an estimate from data costs tens of milliseconds).
        if self.density_data is not t.distribution or self.density_grid != (r, seed):
            self.real_density = grid_density(
                t.distribution, gx.numpy(), gy.numpy(), torch.Generator().manual_seed(seed + 9)
            )
            self.density_data, self.density_grid = t.distribution, (r, seed)
        lines, mass = latent_lines(c.noise.kind, c.view.manifold)
        if c.noise.dim == 1:
            lines, mass = latent_lines(c.noise.kind, 4 * c.view.manifold)
            latent = lines[:, None]
            self.latent_shape: tuple[int, ...] = (lines.shape[0],)
        else:
            u, v = torch.meshgrid(lines, lines, indexing="xy")
            latent = torch.zeros(u.numel(), c.noise.dim)
            latent[:, 0], latent[:, 1] = u.reshape(-1), v.reshape(-1)
            self.latent_shape = (lines.shape[0], lines.shape[0])
            mass = mass * mass
        self.latent = latent.to(dev)
        self.cell_mass = mass
        # One pass of each network per picture: G maps the fakes' noise and the latent grid
        # together; D judges the fakes, the gradient field's points, the reals and the grid
        # (d_side.py: with packing, each in packs with partners).
        self.g_input = torch.cat([self.noise, self.latent])
        arrows_at = field_points(c.view.field, (box.xmin, box.xmax, box.ymin, box.ymax))
        self.judged = Judged(self.real_n, self.grid_n, norm.from_data(arrows_at).to(dev),
                             c.discriminator.packing, seed + 10)  # fmt: skip
        self.center = torch.tensor(norm.center, device=dev)
        self.noise_np = self.noise.cpu().numpy()  # one array for every picture of this view
        # The optimal-discriminator lens's fixed noise, only when it is on (its cost is then
        # one more pass of G over a fine latent grid per picture).
        self.lens = (
            LensInputs.build(c.noise.kind, c.noise.dim, gx.numpy(), gy.numpy(), seed)
            if c.view.optimal
            else None
        )
        self.version = t.view_version


def compute_picture(t: Trainer, cache: PictureCache) -> Picture:
    cache.refresh(t)
    c, norm, obj = t.config, t.normalizer, t.objective
    m = c.discriminator.packing
    with torch.inference_mode():
        nf = cache.noise.shape[0]
        g_all = t.generate(cache.g_input)
        fake_n = g_all[:nf]
        # D's values and the generator loss's gradients (d_side.py: step.pull, averaged over
        # partners under packing).
        side = cache.judged.judge(t, fake_n)
        fake_grad = side.fake_grad / norm.scale
        fake_d, real_d = side.fake_d, side.real_d
        r, f = c.view.grid, c.view.field
        d_grid = side.d_grid.view(r, r)
        g_field = (side.field_grad / norm.scale).reshape(f, f, 2)
        data = (g_all * norm.scale + cache.center).cpu().numpy()
        manifold = data[nf:].reshape(*cache.latent_shape, 2)
        d_optimal = fake_density = None
        if cache.lens is not None:
            fake_density = cache.lens.density(generated(t, cache.lens))
            # One-sided label smoothing (log and lsgan only) moves D's optimum to t * D*.
            target = 1.0 - c.loss.label_smoothing
            # Under packing D* is averaged over the same fake partners as D (d_side.py).
            box = t.distribution.box
            ratios = partner_ratios(cache.real_density.values, fake_density.values, data[:nf],
                                    (box.xmin, box.xmax, box.ymin, box.ymax))  # fmt: skip
            d_optimal = optimal_d(cache.real_density.values, fake_density.values, m, target,
                                  ratios if m > 1 else None)  # fmt: skip
        return Picture(
            box=t.distribution.box.as_list(),
            output=obj.output,
            real=cache.real,
            real_d=real_d.cpu().numpy(),
            fake=data[:nf],
            fake_noise=cache.noise_np,
            fake_d=fake_d.cpu().numpy(),
            fake_grad=fake_grad.cpu().numpy(),
            g_field=g_field.cpu().numpy(),
            partners=cache.judged.k,
            d_grid=d_grid.cpu().numpy(),
            manifold=manifold,
            manifold_density=manifold_density(manifold, cache.cell_mass),
            real_density=cache.real_density.values,
            real_density_kind=cache.real_density.kind,
            real_density_width=cache.real_density.width,
            d_optimal=d_optimal,
            fake_density=fake_density,
        )
