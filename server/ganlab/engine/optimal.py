"""The optimal discriminator lens: the generator's density p_g on the picture's grid, the best
D for the current G, D*(x) = p_data(x) / (p_data(x) + p_g(x)), and the value of the game.

p_g, cell-averaged over the same cells as the real density (distributions/grid_density.py):
- 2-D noise: the pushforward of the noise through G, discretised ("pushforward"). A fine
  latent grid (PUSH_LINES lines per axis) is mapped through G; each latent cell's noise mass
  is spread evenly over its image (bilinear in the cell's four corner images, subdivided until
  a piece is smaller than half a picture cell) and binned. Summing over all cells is the
  change-of-variables formula p_g(x) = Σ over preimages z of p_z(z) / |det J_G(z)|, so it
  holds where G folds the plane too; `folds` says whether it does (det J changes sign: some
  cells come out mirrored). Gaussian noise outside the grid's outer lines (2 * PUSH_TAIL per
  axis) is left out: `covered` is the share the grid holds.
- 1-D noise (G's samples lie on a curve: p_g has no density in the plane) and noise of more
  than 2 dimensions (no grid of the whole noise space): a Gaussian kernel estimate from
  KDE_FAKES fakes of a fixed noise batch, its width along each axis by Scott's rule with
  Silverman's robust spread, min(sd, IQR / 1.349) * n^(-1/6) ("kde"). (Cross-validating the
  width, as for drawn data, cost 0.1-1 s per estimate: too much for every picture.)

D* is the optimum of the cross-entropy game for a fixed G (Goodfellow et al. 2014), and of the
least-squares game with targets 0 and 1; with packing m a pack's optimum is
prod p_data / (prod p_data + prod p_g) over its m points, averaged at a grid point over
partners from the current fakes as the picture's D is (`optimal_d`); one-sided label smoothing
(real target t) scales it by t. Where neither density reaches UNDEFINED_SHARE of an even
spread of its mass over the grid, D* is undefined (NaN): no real or fake points go there, and
nothing says what D should be. (A share of the peak blanked nearly the whole plane for data
with sharp modes, whose peaks are hundreds of times the mean.)

The value V(D, G) = E_data log D(x) + E_g log(1 - D(x)) is at most V(D*, G) = -log 4 + 2 JS.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganlab.engine.distributions.base import Box, Distribution
from ganlab.engine.distributions.grid_density import GridDensity, cell_edges, grid_density
from ganlab.engine.distributions.laws import GaussianSum
from ganlab.engine.streams import noise_sampler

if TYPE_CHECKING:
    from ganlab.engine.trainer import Trainer

PUSH_LINES = 96
# Gaussian noise: the outer lines sit at these tail quantiles, so the grid holds
# (1 - 2 * PUSH_TAIL)^2 = 99.9% of the noise's mass.
PUSH_TAIL = 2.5e-4
# A latent cell whose image spans more than half a picture cell is cut into up to SUB_MAX^2
# pieces, so that a stretched cell spreads its mass instead of dropping it in one bin.
SUB_MAX = 8
PIECE_SPAN = 2.0  # pieces per picture cell the image spans (1 missed 0.01 in total variation)
KDE_FAKES = 2000
UNDEFINED_SHARE = 1e-3
# A fold is reported when the mirrored cells hold more than this share of the noise's mass
# (a nearly flat cell can come out mirrored by rounding alone).
FOLD_SHARE = 1e-3
# The value columns: densities on a VALUE_GRID x VALUE_GRID grid over the box; D* in the
# Monte Carlo average is kept within [CLIP, 1 - CLIP], so one sample in a cell that the
# estimate calls empty costs log(CLIP), not -inf. (The pushforward leaves out the Gaussian
# noise beyond its outer lines, and about 0.3% of fakes landed in cells it called empty: the
# Monte Carlo value then reads a few hundredths below the theory's.)
VALUE_GRID = 32
VALUE_LINES = 64
VALUE_FAKES = 1000
CLIP = 1e-3


@dataclass(frozen=True)
class FakeDensity:
    """p_g on a grid: `values` (ny, nx) float64, mass per area of each cell. `kind`
    "pushforward" (with `folds` and `covered`) or "kde" (from `samples` fakes, kernel
    `width` along x and y)."""

    values: np.ndarray
    kind: str
    folds: bool = False
    covered: float = 1.0
    samples: int = 0
    width: tuple[float, float] | None = None


def latent_lines(kind: str, count: int) -> tuple[torch.Tensor, float, float]:
    """`count` line positions along one latent axis, the noise mass between neighbours (equal
    for every pair) and the share of the axis's mass between the outer lines."""
    if kind == "uniform":
        return torch.linspace(-1.0, 1.0, count, dtype=torch.float64), 1.0 / (count - 1), 1.0
    band = (1 - 2 * PUSH_TAIL) / (count - 1)
    q = PUSH_TAIL + band * torch.arange(count, dtype=torch.float64)
    return math.sqrt(2.0) * torch.erfinv(2 * q - 1), band, 1 - 2 * PUSH_TAIL


@dataclass(frozen=True)
class LensInputs:
    """What p_g needs besides G, fixed for a view: the noise to map (the latent grid, (L*L,
    2), or a fixed batch of KDE_FAKES) and the grid's cell edges in data coordinates."""

    kind: str
    noise: torch.Tensor
    lines: int
    cell_mass: float
    covered: float
    xe: np.ndarray
    ye: np.ndarray
    noise_kind: str = "gaussian"

    def split(self, s: int) -> np.ndarray:
        """Where s pieces of equal noise mass sit in each band, as fractions of the band."""
        return piece_fractions(self.noise_kind, self.lines, s)

    @classmethod
    def build(cls, noise_kind: str, noise_dim: int, gx: np.ndarray, gy: np.ndarray, seed: int,
              lines_per_axis: int = PUSH_LINES, fakes: int = KDE_FAKES) -> LensInputs:  # fmt: skip
        xe, ye = cell_edges(gx), cell_edges(gy)
        if noise_dim == 2:
            lines, mass, share = latent_lines(noise_kind, lines_per_axis)
            u, v = torch.meshgrid(lines, lines, indexing="xy")
            z = torch.stack([u.reshape(-1), v.reshape(-1)], dim=1).float()
            return cls("pushforward", z, lines_per_axis, mass * mass, share * share, xe, ye,
                       noise_kind)  # fmt: skip
        gen = torch.Generator().manual_seed(seed + 10)
        z = noise_sampler(noise_kind, noise_dim)(fakes, gen)
        return cls("kde", z, 0, 0.0, 1.0, xe, ye, noise_kind)

    def density(self, points: np.ndarray) -> FakeDensity:
        """p_g from G's images of `noise` (in data coordinates, same order)."""
        if self.kind == "pushforward":
            grid = np.asarray(points, dtype=np.float64).reshape(self.lines, self.lines, 2)
            values, mirrored = pushforward(grid, self.cell_mass, self.xe, self.ye, self.split)
            return FakeDensity(values, "pushforward", mirrored > FOLD_SHARE, self.covered)
        return kde_density(points, self.xe, self.ye)


@functools.lru_cache(maxsize=64)
def piece_fractions(kind: str, lines: int, s: int) -> np.ndarray:
    """(lines - 1, s): the centres of s equal-mass pieces of each band between neighbouring
    latent lines (latent_lines), as fractions of the band's width."""
    z, band, _ = latent_lines(kind, lines)
    mid = (np.arange(s) + 0.5) / s
    if kind == "uniform":
        return np.tile(mid, (lines - 1, 1))
    q = PUSH_TAIL + band * (np.arange(lines - 1)[:, None] + mid[None, :])
    zq = math.sqrt(2.0) * torch.erfinv(torch.as_tensor(2 * q - 1)).numpy()
    zn = z.numpy()
    return (zq - zn[:-1, None]) / (zn[1:, None] - zn[:-1, None])


def signed_areas(grid: np.ndarray) -> np.ndarray:
    """Signed area of each quadrilateral cell of an (L, L, 2) grid (half the cross product of
    its diagonals): its sign is the sign of det J over the cell."""
    d1 = grid[1:, 1:] - grid[:-1, :-1]
    d2 = grid[:-1, 1:] - grid[1:, :-1]
    return 0.5 * (d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0])


def pushforward(grid: np.ndarray, cell_mass: float, xe: np.ndarray, ye: np.ndarray,
                split: Callable[[int], np.ndarray] | None = None,
                ) -> tuple[np.ndarray, float]:  # fmt: skip
    """Mass per area of each picture cell (edges xe, ye) when every cell of the latent grid's
    image `grid` (L, L, 2) carries `cell_mass` spread evenly over it; and the share of the
    mass on mirrored cells (the minority orientation: 0 when G does not fold).

    Each latent cell is cut into s x s pieces (s up to SUB_MAX, so a piece spans at most half
    a picture cell), placed bilinearly between the cell's corner images; a piece's mass is
    spread over a square of the piece's own area around it, split between the picture cells
    the square overlaps. (Dropping each piece's mass at one point instead aliased: a regular
    lattice of points falls unevenly into the cells, 8% off the true density.)

    `split(s)` gives, for each band between two latent lines (L - 1 of them), where its s
    pieces of equal mass sit as fractions of the band (default: evenly, for uniform noise;
    for Gaussian noise the mass of the outer bands lies near their inner line)."""
    dx, dy = xe[1] - xe[0], ye[1] - ye[0]
    # Corners in units of picture cells from the grid's corner (xe[0], ye[0]).
    cells = (np.asarray(grid, np.float64) - [xe[0], ye[0]]) / [dx, dy]
    a, b = cells[:-1, :-1].reshape(-1, 2), cells[:-1, 1:].reshape(-1, 2)
    c, d = cells[1:, 1:].reshape(-1, 2), cells[1:, :-1].reshape(-1, 2)
    corners = np.stack([a, b, c, d])
    with np.errstate(invalid="ignore"):
        extent = (corners.max(0) - corners.min(0)).max(1)
    span = np.ceil(PIECE_SPAN * np.nan_to_num(extent, nan=0.0))
    pieces = np.clip(span, 1, SUB_MAX).astype(np.int64)
    pieces[~np.isfinite(extent)] = 0  # a cell G sent to inf or NaN is left out
    signed = signed_areas(cells).reshape(-1)
    nx, ny = len(xe) - 1, len(ye) - 1
    lines = grid.shape[0]
    band_x = np.tile(np.arange(lines - 1), lines - 1)  # each cell's band along each axis
    band_y = np.repeat(np.arange(lines - 1), lines - 1)
    centres, sides, weights = [], [], []
    for s in np.unique(pieces[pieces > 0]):
        pick = pieces == s
        f = split(s) if split else np.tile((np.arange(s) + 0.5) / s, (lines - 1, 1))
        # (pieces, cells, 1): piece k of s x s has fraction f[.., k % s] along the first
        # axis and f[.., k // s] along the second.
        u = f[band_x[pick]][:, np.tile(np.arange(s), s)].T[..., None]
        v = f[band_y[pick]][:, np.repeat(np.arange(s), s)].T[..., None]
        # Bilinear in the corners: u runs along the first latent axis, v along the second.
        ap, bp, cp, dp = a[pick], b[pick], c[pick], d[pick]
        pts = ap + u * (bp - ap) + v * (dp - ap) + (u * v) * (ap - bp + cp - dp)
        side = np.broadcast_to(np.sqrt(np.abs(signed[pick])) / s, pts.shape[:2])
        centres.append(pts.reshape(-1, 2))
        sides.append(np.minimum(side.reshape(-1), 1.0))
        weights.append(np.full(side.size, 1.0 / (s * s)))
    if centres:
        mass = _spread(np.concatenate(centres), np.concatenate(sides), np.concatenate(weights),
                       nx, ny)  # fmt: skip
    else:
        mass = np.zeros(ny * nx + 1)
    positive = float((signed > 0).sum())
    negative = float((signed < 0).sum())
    area = np.diff(ye)[:, None] * np.diff(xe)[None, :]
    folded = min(positive, negative) / max(positive + negative, 1.0)
    return mass[:-1].reshape(ny, nx) * cell_mass / area, folded


def _axis_overlap(centre: np.ndarray, side: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For intervals [centre - side/2, centre + side/2] (side <= 1, in cell units): the index
    of the cell holding the left end, and the share of the interval inside that cell (the
    rest lies in the next)."""
    left = centre - side / 2
    first = np.floor(left)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(side > 0, np.minimum(first + 1 - left, side) / side, 1.0)
    return first, share


def _spread(pts: np.ndarray, side: np.ndarray, weight: np.ndarray, nx: int,
            ny: int) -> np.ndarray:  # fmt: skip
    """Masses `weight` on squares of `side` around `pts` (cell units), summed per cell; the
    last bin takes what falls outside the grid."""
    with np.errstate(invalid="ignore"):
        ix, sx = _axis_overlap(pts[:, 0], side)
        iy, sy = _axis_overlap(pts[:, 1], side)
    out = np.zeros(ny * nx + 1)
    for ox, wx in ((0, sx), (1, 1 - sx)):
        for oy, wy in ((0, sy), (1, 1 - sy)):
            jx, jy = ix + ox, iy + oy
            inside = (jx >= 0) & (jx < nx) & (jy >= 0) & (jy < ny)
            index = np.where(inside, jy * nx + jx, ny * nx).astype(np.int64)
            out += np.bincount(index, weights=wx * wy * weight, minlength=ny * nx + 1)
    return out


def kde_width(points: np.ndarray) -> np.ndarray:
    """The kernel's width along each axis by Scott's rule with Silverman's robust spread:
    min(sd, IQR / 1.349) * n^(-1/6) (a spread of 0 falls back to the sd, then to 1e-3 of
    the other axis's or 1e-3)."""
    n = len(points)
    sd = points.std(0)
    q75, q25 = np.percentile(points, [75, 25], axis=0)
    spread = np.minimum(sd, (q75 - q25) / 1.349)
    spread = np.where(spread > 0, spread, sd)
    fallback = max(float(spread.max()) * 1e-3, 1e-3)
    return np.where(spread > 0, spread, fallback) * n ** (-1 / 6)


def kde_density(points: np.ndarray, xe: np.ndarray, ye: np.ndarray) -> FakeDensity:
    """A Gaussian kernel estimate from fake samples (width by kde_width), cell-averaged."""
    pts = np.asarray(points, dtype=np.float64)
    pts = pts[np.isfinite(pts).all(1)]
    area = np.diff(ye)[:, None] * np.diff(xe)[None, :]
    if len(pts) < 2:
        return FakeDensity(np.zeros_like(area), "kde", samples=len(pts))
    width = kde_width(pts)
    law = GaussianSum(np.full(len(pts), 1 / len(pts)), pts, np.tile(width, (len(pts), 1)))
    return FakeDensity(law.cell_mass(xe, ye) / area, "kde", samples=len(pts),
                       width=(float(width[0]), float(width[1])))  # fmt: skip


# Partner tuples drawn for packs of three or more (for packs of two every partner is used).
PARTNER_TUPLES = 512


def partner_ratios(p_data: np.ndarray, p_g: np.ndarray, points: np.ndarray,
                   box: tuple[float, float, float, float]) -> np.ndarray:  # fmt: skip
    """p_g / p_data at `points` (n, 2), read from the (R, R) grids over box (xmin, xmax,
    ymin, ymax) at each point's nearest grid point; points where both are 0 are dropped."""
    r = p_data.shape[0]
    xmin, xmax, ymin, ymax = box
    pts = np.asarray(points, np.float64)
    ix = np.clip(np.rint((pts[:, 0] - xmin) / (xmax - xmin) * (r - 1)), 0, r - 1).astype(int)
    iy = np.clip(np.rint((pts[:, 1] - ymin) / (ymax - ymin) * (r - 1)), 0, r - 1).astype(int)
    p = np.asarray(p_data, np.float64)[iy, ix]
    q = np.asarray(p_g, np.float64)[iy, ix]
    keep = (p > 0) | (q > 0)
    with np.errstate(divide="ignore"):
        return q[keep] / p[keep]


def optimal_d(p_data: np.ndarray, p_g: np.ndarray, packing: int = 1,
              target: float = 1.0, partners: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """The optimal D per cell, float32; NaN where both densities are below UNDEFINED_SHARE of
    the larger mean (cells of equal area: the density of an even spread over the grid).

    Without packing D* = target * p_data / (p_data + p_g). With packing m the best D of a
    pack is target * prod p_data / (prod p_data + prod p_g) over its m points; the picture
    shows D at x averaged over partners from the current fakes (d_side.py), so D* is averaged
    the same way: the mean over partner tuples of target / (1 + r(x) * prod r(y)), r = p_g /
    p_data, with `partners` the ratios r at the fakes (partner_ratios). Without them, packs
    of m copies of x: target / (1 + r(x)^m)."""
    p = np.asarray(p_data, dtype=np.float64)
    q = np.asarray(p_g, dtype=np.float64)
    even = max(float(np.nanmean(p)), float(np.nanmean(q))) if p.size else 0.0
    floor = UNDEFINED_SHARE * even
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = q / p
        if packing == 1:
            d = target / (1.0 + ratio)
        elif partners is None or not len(partners):
            # 1 / (1 + (q/p)^m): the powers of tiny densities would underflow.
            d = target / (1.0 + ratio**packing)
        else:
            if packing == 2:
                tuples = np.asarray(partners, np.float64)
            else:  # a fixed sample of partner tuples: the product of m - 1 partners' ratios
                rng = np.random.default_rng(0)
                pick = rng.integers(0, len(partners), (PARTNER_TUPLES, packing - 1))
                tuples = np.prod(np.asarray(partners, np.float64)[pick], axis=1)
            flat = ratio.reshape(-1, 1)
            # 0 * inf (x where p_g = 0 with a partner off the data) is a real pack: D* = 1.
            both = np.where((flat == 0) & np.isinf(tuples), 0.0, flat * tuples)
            d = (target / (1.0 + both)).mean(axis=1).reshape(ratio.shape)
    d[(p < floor) & (q < floor)] = np.nan
    if not even > 0:  # no density anywhere (or NaN): nothing is known
        d[...] = np.nan
    return d.astype(np.float32)


def value_theory(p_mass: np.ndarray, q_mass: np.ndarray) -> float:
    """-log 4 + 2 JS(P, Q) in nats over bins of probability masses (each summing to 1)."""
    p, q = np.asarray(p_mass, np.float64), np.asarray(q_mass, np.float64)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(p > 0, p * np.log(p / m), 0.0)
        kq = np.where(q > 0, q * np.log(q / m), 0.0)
    return -math.log(4.0) + float(kp.sum() + kq.sum())


def with_outside(mass: np.ndarray) -> np.ndarray:
    """Cell masses plus one bin for the mass outside the grid (never below 0)."""
    flat = np.asarray(mass, np.float64).reshape(-1)
    return np.append(flat, max(0.0, 1.0 - float(flat.sum())))


def value_monte_carlo(real: np.ndarray, fake: np.ndarray, p_mass: np.ndarray,
                      q_mass: np.ndarray, xe: np.ndarray, ye: np.ndarray) -> float:  # fmt: skip
    """V(D*, G) as the mean of log D*(x) over real samples plus the mean of log(1 - D*(x))
    over fake ones, D* = P / (P + Q) of the bin (cell, or outside) each sample falls in.
    `p_mass`, `q_mass` are with_outside() masses over the cells of xe, ye."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = p_mass / (p_mass + q_mass)
    d = np.clip(np.nan_to_num(d, nan=0.5), CLIP, 1 - CLIP)
    at_real = d[_bin_index(np.asarray(real, np.float64), xe, ye)]
    at_fake = d[_bin_index(np.asarray(fake, np.float64), xe, ye)]
    return float(np.log(at_real).mean() + np.log1p(-at_fake).mean())


def _bin_index(points: np.ndarray, xe: np.ndarray, ye: np.ndarray) -> np.ndarray:
    nx, ny = len(xe) - 1, len(ye) - 1
    with np.errstate(invalid="ignore"):
        ix = np.floor((points[:, 0] - xe[0]) / (xe[1] - xe[0]))
        iy = np.floor((points[:, 1] - ye[0]) / (ye[1] - ye[0]))
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    index = np.full(len(points), ny * nx, dtype=np.int64)
    index[inside] = iy[inside].astype(np.int64) * nx + ix[inside].astype(np.int64)
    return index


def value_current(o_real: np.ndarray, o_fake: np.ndarray) -> float:
    """V(D, G) from D's logits on real and fake samples: mean log sigmoid(o_real) plus mean
    log(1 - sigmoid(o_fake)), computed as -softplus(-o) and -softplus(o)."""
    r = torch.as_tensor(np.asarray(o_real, np.float64))
    f = torch.as_tensor(np.asarray(o_fake, np.float64))
    sp = torch.nn.functional.softplus
    return float(-sp(-r).mean() - sp(f).mean())


# ---- the value columns of a metric row -------------------------------------------------------
# Fixed inputs per (data, view of the box, noise): the real density takes tens of ms for data
# known by samples, and must not be paid at every row.
_real: weakref.WeakKeyDictionary[Distribution, dict[tuple[int, int], GridDensity]] = (
    weakref.WeakKeyDictionary()
)
_inputs: dict[tuple[str, int, tuple[float, ...], int], LensInputs] = {}


def value_grid(box: Box, size: int = VALUE_GRID) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(box.xmin, box.xmax, size), np.linspace(box.ymin, box.ymax, size)


def _real_density(dist: Distribution, gx: np.ndarray, gy: np.ndarray, seed: int) -> GridDensity:
    per = _real.setdefault(dist, {})
    key = (len(gx), seed)
    if key not in per:
        per[key] = grid_density(dist, gx, gy, torch.Generator().manual_seed(seed + 9))
    return per[key]


def _lens_inputs(t: Trainer, gx: np.ndarray, gy: np.ndarray) -> LensInputs:
    c = t.config
    key = (c.noise.kind, c.noise.dim, tuple(t.distribution.box.as_list()), c.seed)
    if key not in _inputs:
        if len(_inputs) > 64:
            _inputs.clear()
        _inputs[key] = LensInputs.build(c.noise.kind, c.noise.dim, gx, gy, c.seed, VALUE_LINES,
                                        VALUE_FAKES)  # fmt: skip
    return _inputs[key]


def generated(t: Trainer, inputs: LensInputs) -> np.ndarray:
    """The shown generator's images of the inputs' noise, in data coordinates."""
    with torch.inference_mode():
        return np.asarray(t.normalizer.to_data(t.generate(inputs.noise.to(t.device))))


def value_columns(t: Trainer, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """`v_optimal` (V(D*, G), Monte Carlo on the row's samples, D* from the densities on a
    VALUE_GRID grid), `v_optimal_theory` (-log 4 + 2 JS of the same grid's masses, nats) and,
    for a D that is a probability judging single points (packing 1), `v_current` (V(D, G),
    Monte Carlo on the same samples)."""
    gx, gy = value_grid(t.distribution.box)
    inputs = _lens_inputs(t, gx, gy)
    p_g = inputs.density(generated(t, inputs))
    p_data = _real_density(t.distribution, gx, gy, t.config.seed)
    area = np.diff(inputs.ye)[:, None] * np.diff(inputs.xe)[None, :]
    p_mass = with_outside(p_data.values.astype(np.float64) * area)
    q_mass = with_outside(p_g.values * area)
    out = {
        "v_optimal": value_monte_carlo(real, fake, p_mass, q_mass, inputs.xe, inputs.ye),
        "v_optimal_theory": value_theory(p_mass, q_mass),
    }
    if t.objective.output == "probability" and t.config.discriminator.packing == 1:
        out["v_current"] = value_current(t.discriminate(real), t.discriminate(fake))
    return out
