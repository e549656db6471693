"""Exact laws of the built-in samplers: their density at points and their mass in grid cells.

Two kinds cover every sampler here. A `GaussianSum` is a weighted sum of axis-aligned
Gaussians: a mixture exactly, or a curve blurred by Gaussian noise, which is the integral of a
Gaussian along the curve and is computed by quadrature (`blurred_curve`). `UniformBoxes` is a
weighted sum of uniform rectangles (the checkerboard). Both give the mass of every cell of a
grid in closed form, so a picture can show the density averaged over each of its cells: a mode
narrower than a cell is then neither missed nor aliased, and a fine histogram of many samples
converges to exactly these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

# Quadrature nodes along a blurred curve lie at most this many σ apart: the midpoint rule is
# then off by under 0.1% of the peak density anywhere (most, in relative terms, in the faint
# tails past a curve's ends: 1% at 5% of the peak; tests/engine/test_density.py).
NODE_SPACING = 0.25
# At most this many nodes per curve; past it (a brush far thinner than a grid cell) the nodes
# are still far closer than any cell, which is what cell masses need.
MAX_NODES = 65_536
# Work in blocks of about this many (point, component) pairs, to bound memory.
_BLOCK = 1 << 22
# Standardized distances are clamped here before ndtr and exp: beyond, the values underflow
# into denormal numbers, which cost ten times more to compute (and are nil anyway).
_Z_MAX = 30.0

# A curve: an array of parameters t in [0, 1] to the (len(t), 2) points c(t).
Curve = Callable[[np.ndarray], np.ndarray]


class Law(Protocol):
    """A probability law on the plane with a density."""

    def density(self, points: np.ndarray) -> np.ndarray:
        """The density at each of `points` (n, 2): an (n,) float64 array."""
        ...

    def cell_mass(self, xedges: np.ndarray, yedges: np.ndarray) -> np.ndarray:
        """The probability of each cell [xedges[i], xedges[i+1]] x [yedges[j], yedges[j+1]]:
        an (len(yedges) - 1, len(xedges) - 1) float64 array, row j, column i."""
        ...


def _t(a: np.ndarray | Sequence[float]) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _interval_mass(edges: torch.Tensor, mean: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """(cells, k): the mass each 1D Gaussian puts in each interval between `edges`."""
    z = ((edges[:, None] - mean[None, :]) / sigma[None, :]).clamp_(-_Z_MAX, _Z_MAX)
    # Above the mean, as differences of 1 - Φ(z) = Φ(-z): ndtr keeps its precision in the
    # lower tail, where 1 - Φ(z) would round to 0.
    below, above = torch.special.ndtr(z), torch.special.ndtr(-z)
    upper = mean[None, :] < edges[:-1, None]
    return torch.where(upper, above[:-1] - above[1:], below[1:] - below[:-1])


@dataclass(frozen=True)
class GaussianSum:
    """Σ_k w_k N(mean_k, diag(sigma_k²)): weights (k,), means (k, 2), sigmas (k, 2)."""

    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray

    def __post_init__(self) -> None:
        k = len(self.weights)
        if self.means.shape != (k, 2) or self.sigmas.shape != (k, 2):
            raise ValueError("weights, means and sigmas must be (k,), (k, 2) and (k, 2)")
        if not (self.sigmas > 0).all():
            raise ValueError("every sigma must be positive")

    def density(self, points: np.ndarray) -> np.ndarray:
        p = _t(points).reshape(-1, 2)
        w, mu, s = _t(self.weights), _t(self.means), _t(self.sigmas)
        norm = w / (2 * math.pi * s[:, 0] * s[:, 1])
        out = torch.zeros(p.shape[0], dtype=torch.float64)
        step = max(1, _BLOCK // max(1, len(w)))
        for i in range(0, p.shape[0], step):
            z = ((p[i : i + step, None, :] - mu[None]) / s[None]).clamp_(-_Z_MAX, _Z_MAX)
            out[i : i + step] = torch.exp(-0.5 * (z * z).sum(-1)) @ norm
        return out.numpy()

    def cell_mass(self, xedges: np.ndarray, yedges: np.ndarray) -> np.ndarray:
        xe, ye = _t(xedges), _t(yedges)
        out = torch.zeros(len(ye) - 1, len(xe) - 1, dtype=torch.float64)
        # Each Gaussian's mass in a cell is its x interval's mass times its y interval's, so
        # the sum over components is one matrix product (per block of components).
        step = max(1, _BLOCK // max(1, len(xe) + len(ye)))
        for i in range(0, len(self.weights), step):
            w = _t(self.weights[i : i + step])
            mu, s = _t(self.means[i : i + step]), _t(self.sigmas[i : i + step])
            mx = _interval_mass(xe, mu[:, 0], s[:, 0])
            my = _interval_mass(ye, mu[:, 1], s[:, 1])
            out += (my * w[None, :]) @ mx.T
        return out.numpy()


@dataclass(frozen=True)
class UniformBoxes:
    """Σ_k w_k U(box_k): weights (k,), boxes (k, 4) as (xmin, xmax, ymin, ymax)."""

    weights: np.ndarray
    boxes: np.ndarray

    def __post_init__(self) -> None:
        if self.boxes.shape != (len(self.weights), 4):
            raise ValueError("weights and boxes must be (k,) and (k, 4)")
        b = self.boxes
        if not ((b[:, 1] > b[:, 0]) & (b[:, 3] > b[:, 2])).all():
            raise ValueError("every box must have a positive width and height")

    def density(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        b = self.boxes
        inside = (
            (p[:, None, 0] >= b[None, :, 0]) & (p[:, None, 0] < b[None, :, 1])
            & (p[:, None, 1] >= b[None, :, 2]) & (p[:, None, 1] < b[None, :, 3])
        )  # fmt: skip
        area = (b[:, 1] - b[:, 0]) * (b[:, 3] - b[:, 2])
        return np.asarray(inside @ (self.weights / area), dtype=np.float64)

    def cell_mass(self, xedges: np.ndarray, yedges: np.ndarray) -> np.ndarray:
        def overlap(edges: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
            e = np.asarray(edges, dtype=np.float64)
            o = np.minimum(e[1:, None], hi[None]) - np.maximum(e[:-1, None], lo[None])
            return np.clip(o, 0.0, None) / (hi - lo)[None]

        b = self.boxes
        ox, oy = overlap(xedges, b[:, 0], b[:, 1]), overlap(yedges, b[:, 2], b[:, 3])
        return np.asarray((oy * self.weights[None]) @ ox.T, dtype=np.float64)


def gaussian_mixture(means: Sequence[Sequence[float]], sigmas: Sequence[Sequence[float]],
                     weights: Sequence[float] | None = None) -> GaussianSum:  # fmt: skip
    """A mixture of axis-aligned Gaussians, of equal weights unless `weights` says otherwise."""
    k = len(means)
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
    return GaussianSum(w, np.asarray(means, np.float64), np.asarray(sigmas, np.float64))


def _node_count(curve: Curve, spacing: float) -> int:
    """Parameter steps on [0, 1] so that consecutive points of `curve` are at most `spacing`
    apart (measured on a fine probe of the curve)."""
    probe = np.asarray(curve(np.linspace(0.0, 1.0, 4097)), dtype=np.float64)
    speed = float(np.linalg.norm(np.diff(probe, axis=0), axis=1).max()) * 4096
    return int(min(MAX_NODES, max(1, math.ceil(speed / spacing))))


def blurred_curve(curve: Curve, sigma: float, cdf: Curve | None = None) -> GaussianSum:
    """The law of c(t) + σ·n, n ~ N(0, I), with c = `curve` and t in [0, 1] distributed by
    `cdf` (uniform when None).

    Its density is the integral of a Gaussian of width σ along the curve, here by the
    midpoint rule: each step of t becomes one Gaussian at its midpoint, weighted by the mass
    `cdf` gives the step."""
    count = _node_count(curve, NODE_SPACING * sigma)
    edges = np.linspace(0.0, 1.0, count + 1)
    mass = np.diff(edges if cdf is None else np.asarray(cdf(edges), dtype=np.float64))
    means = np.asarray(curve((edges[:-1] + edges[1:]) / 2), dtype=np.float64)
    return GaussianSum(mass, means, np.full((count, 2), float(sigma)))


def mix(parts: Sequence[tuple[float, GaussianSum]]) -> GaussianSum:
    """Σ_i p_i · law_i, for weights p_i that sum to 1."""
    return GaussianSum(
        np.concatenate([p * law.weights for p, law in parts]),
        np.concatenate([law.means for _, law in parts]),
        np.concatenate([law.sigmas for _, law in parts]),
    )


def blurred_segments(starts: np.ndarray, deltas: np.ndarray, weights: np.ndarray,
                     sigma: float) -> GaussianSum:  # fmt: skip
    """The law of a point uniform on segment i (from starts[i] along deltas[i]), chosen with
    probability weights[i], plus σ·n. A segment of length 0 is a dot. Midpoint rule along
    each segment, nodes at most NODE_SPACING·σ apart (fewer in all than MAX_NODES)."""
    lengths = np.linalg.norm(deltas, axis=1)
    step = max(NODE_SPACING * sigma, float(lengths.sum()) / MAX_NODES)
    counts = np.maximum(1, np.ceil(lengths / step)).astype(np.int64)
    seg = np.repeat(np.arange(len(lengths)), counts)
    first = np.cumsum(counts) - counts
    frac = (np.arange(len(seg)) - first[seg] + 0.5) / counts[seg]
    means = starts[seg] + frac[:, None] * deltas[seg]
    return GaussianSum(weights[seg] / counts[seg], means, np.full_like(means, float(sigma)))
