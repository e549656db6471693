"""The real density a picture draws: the distribution's own law where it is known exactly,
else a kernel estimate from its data, averaged over each cell of the picture's grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganlab.engine.distributions.base import Distribution
from ganlab.engine.distributions.kde import KDE_POINTS, distinct, estimate


@dataclass(frozen=True)
class GridDensity:
    """`values` (len(gy), len(gx)) float32, row iy, column ix: the mass of the cell around
    each grid point divided by its area. `kind` is "exact" (the law's own) or "kde" (estimated
    from the data, with the cross-validated kernel `width`)."""

    values: np.ndarray
    kind: str
    width: float | None = None


def cell_edges(g: np.ndarray) -> np.ndarray:
    """Edges of the cells centred on the evenly spaced points `g` (half a step beyond each
    end)."""
    g = np.asarray(g, dtype=np.float64)
    half = (g[1] - g[0]) / 2 if len(g) > 1 else 0.5
    return np.concatenate([g - half, g[-1:] + half])


def grid_density(dist: Distribution, gx: np.ndarray, gy: np.ndarray,
                 generator: torch.Generator) -> GridDensity:  # fmt: skip
    """The density averaged over the cell around each point of the grid gx x gy.

    A law known exactly gives each cell's mass in closed form (so a mode narrower than a
    cell shows at its full mass). Otherwise the data (the atoms of an imported set without
    jitter, or KDE_POINTS samples) make a kernel estimate whose width they choose."""
    xe, ye = cell_edges(gx), cell_edges(gy)
    area = np.diff(ye)[:, None] * np.diff(xe)[None, :]
    if dist.law is not None:
        return GridDensity((dist.law.cell_mass(xe, ye) / area).astype(np.float32), "exact")
    data = dist.atoms if dist.atoms is not None else dist.sample(KDE_POINTS, generator).numpy()
    rows, counts = distinct(data)
    if len(rows) < 2:
        # One point: no width can be chosen, and none is needed; its mass lands in one cell.
        mass, _, _ = np.histogram2d(rows[:, 1], rows[:, 0], bins=(ye, xe), weights=counts)
        return GridDensity((mass / counts.sum() / area).astype(np.float32), "exact")
    law, width = estimate(rows, counts, generator)
    return GridDensity((law.cell_mass(xe, ye) / area).astype(np.float32), "kde", width)
