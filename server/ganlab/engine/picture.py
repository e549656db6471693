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
  With packing m, a grid point is judged as a pack of m copies of itself.
- `manifold`: (M, M, 2) a latent grid mapped through G, with `manifold_density` (M-1, M-1)
  the probability mass of each latent cell divided by the area of its image; for 1D noise a
  curve (K, 2) with density (K-1,) per segment (mass per length). For noise of more than two
  dimensions the grid spans the first two and holds the rest at 0.
- `real_density` (R, R): the real data's density averaged over the grid cell around each grid
  point (distributions/grid_density.py): the law's own where it is known exactly
  (`real_density_kind` "exact"), else a kernel estimate from the data whose width
  (`real_density_width`) likelihood cross-validation chose ("kde").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganlab.engine.distributions import Distribution
from ganlab.engine.distributions.grid_density import grid_density
from ganlab.engine.step import lone, pull
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
    arrays: tuple[str, ...] = field(
        default=(
            "real", "real_d", "fake", "fake_noise", "fake_d", "fake_grad", "d_grid",
            "manifold", "manifold_density", "real_density",
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
        self.grid_n = norm.from_data(grid).repeat(1, c.discriminator.packing).to(dev)
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
        # together; D judges the fakes (packed per picture), then these fixed real packs and
        # grid points.
        self.g_input = torch.cat([self.noise, self.latent])
        real_packed, self.real_count = _packed(self.real_n, c.discriminator.packing)
        self.real_packs = real_packed.shape[0]
        self.d_fixed = torch.cat([real_packed, self.grid_n])
        self.center = torch.tensor(norm.center, device=dev)
        self.noise_np = self.noise.cpu().numpy()  # one array for every picture of this view
        self.version = t.view_version


def _packed(x: torch.Tensor, m: int) -> tuple[torch.Tensor, int]:
    """Rows of x grouped into packs of m, padding with the first rows; returns the count."""
    n = x.shape[0]
    pad = (-n) % m
    if pad:
        x = torch.cat([x, x[:pad]])
    return x.reshape(-1, 2 * m), n


def compute_picture(t: Trainer, cache: PictureCache) -> Picture:
    cache.refresh(t)
    c, norm, obj = t.config, t.normalizer, t.objective
    m = c.discriminator.packing
    with torch.inference_mode():
        nf = cache.noise.shape[0]
        g_all = t.generate(cache.g_input)
        fake_n = g_all[:nf]
        packed, n = _packed(fake_n, m)
        k = packed.shape[0]
        # D's output everywhere and the gradient of each fake pack's own generator loss: the
        # training step's own code (step.pull).
        o_all, g_x = pull(t.d_params(), lone(t), torch.cat([packed, cache.d_fixed]), k)
        fake_grad = g_x.reshape(-1, 2)[:n] / norm.scale
        p = obj.prob(o_all)
        fake_d, real_d = p[:k].reshape(-1), p[k : k + cache.real_packs].reshape(-1)
        if m > 1:  # every sample of a pack gets the pack's value
            fake_d = fake_d.repeat_interleave(m)[:n]
            real_d = real_d.repeat_interleave(m)[: cache.real_count]
        r = c.view.grid
        d_grid = p[k + cache.real_packs :].view(r, r)
        data = (g_all * norm.scale + cache.center).cpu().numpy()
        manifold = data[nf:].reshape(*cache.latent_shape, 2)
        return Picture(
            box=t.distribution.box.as_list(),
            output=obj.output,
            real=cache.real,
            real_d=real_d.cpu().numpy(),
            fake=data[:nf],
            fake_noise=cache.noise_np,
            fake_d=fake_d.cpu().numpy(),
            fake_grad=fake_grad.cpu().numpy(),
            d_grid=d_grid.cpu().numpy(),
            manifold=manifold,
            manifold_density=manifold_density(manifold, cache.cell_mass),
            real_density=cache.real_density.values,
            real_density_kind=cache.real_density.kind,
            real_density_width=cache.real_density.width,
        )
