"""D's side of a picture: D's values at the samples and the grid, and the generator loss's
gradient at the fakes and at the gradient field's points, from one call of the training
step's own `step.pull`.

Without packing every point is one row. With packing m (PacGAN) D judges packs, so each
point is judged in `k` packs (2 x 24 for m = 2) with the centres of the k-means clusters of a
pool as partners, and the values and gradients are their weighted mean: the quadrature of the
mean over every partner in the pool (partners.py):
- fakes, the heatmap grid and the field's points get partners from the picture's own fakes:
  D's value there is what a fake placed there would score in G's update, and the gradient
  what that update's loss pulls it by (so the arrows follow the heatmap's slope);
- real samples get partners from the shown reals, as D sees reals in its own update.
The reals' clusters are fitted once per view; the fakes' are refitted at every picture from
the previous picture's centres (3 Lloyd steps: 0.4 ms for 240 fakes, bench_picture.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from ganlab.engine.partners import CLUSTERS, Partners
from ganlab.engine.step import lone, pull

if TYPE_CHECKING:
    from ganlab.engine.trainer import Trainer

# Beyond this many rows the grid's packs are judged in chunks (grid 256 with packing would
# hold gigabytes of activations at once).
ROWS_AT_ONCE = 1 << 19


@dataclass
class DSide:
    """Probabilities (or scores) `fake_d`, `real_d`, `d_grid` (flat) and G-loss gradients
    `fake_grad`, `field_grad` in normalised coordinates."""

    fake_d: torch.Tensor
    real_d: torch.Tensor
    d_grid: torch.Tensor
    fake_grad: torch.Tensor
    field_grad: torch.Tensor


def field_points(f: int, box: tuple[float, float, float, float]) -> torch.Tensor:
    """(f * f, 2) centres of an f x f grid of cells over box (xmin, xmax, ymin, ymax), row iy
    from ymin up, column ix from xmin: arrows there never sit on the box's edge."""
    xmin, xmax, ymin, ymax = box
    u = (torch.arange(f, dtype=torch.float32) + 0.5) / max(f, 1)
    xs, ys = torch.meshgrid(xmin + u * (xmax - xmin), ymin + u * (ymax - ymin), indexing="xy")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


class Judged:
    """The fixed rows of D's side for one view: reals (packed with real partners), the
    heatmap grid and the field's points, all normalised; and the two quadratures (fakes,
    reals). `k` is the packs per point (1 without packing)."""

    def __init__(self, real_n: torch.Tensor, grid_n: torch.Tensor, field_n: torch.Tensor,
                 m: int, seed: int) -> None:  # fmt: skip
        self.m, self.nr, self.nfield = m, real_n.shape[0], field_n.shape[0]
        self.field_n = field_n
        if m == 1:
            self.partners: Partners | None = None
            self.k = 1
            self.real_rows, self.grid_rows = real_n, grid_n
            return
        self.partners = Partners(m, CLUSTERS, seed)
        self.k = self.partners.rows
        reals = Partners(m, CLUSTERS, seed + 1)
        reals.fit(real_n)  # the reals are fixed per view: clustered once
        self.real_rows = reals.packs(real_n)
        self.reals = reals
        self.grid_n = grid_n

    def judge(self, t: Trainer, fake_n: torch.Tensor) -> DSide:
        """D's side at the current fakes `fake_n` (normalised), under inference mode."""
        obj, nf = t.objective, fake_n.shape[0]
        head = torch.cat([fake_n, self.field_n])
        if self.partners is None:
            grid_rows = self.grid_rows
        else:
            self.partners.fit(fake_n)  # from the previous picture's centres
            head = self.partners.packs(head)
            grid_rows = self.partners.packs(self.grid_n)
        h, nr = head.shape[0], self.real_rows.shape[0]
        d_flat, group = t.d_params(), lone(t)
        # Rows: the fakes and the field's points (whose packs' own G losses are
        # differentiated), then reals and grid (only judged): the training step's own code.
        if h + nr + grid_rows.shape[0] <= ROWS_AT_ONCE:
            o, g = pull(d_flat, group, torch.cat([head, self.real_rows, grid_rows]), h)
        else:
            o, g = pull(d_flat, group, torch.cat([head, self.real_rows]), h)
            chunks = [t.judge(part) for part in grid_rows.split(ROWS_AT_ONCE)]
            o = torch.cat([o, *chunks])
        p = obj.prob(o).reshape(-1)
        g = g.reshape(h, -1)
        if self.partners is None:
            values = p
            grads = g
        else:
            values = torch.cat([self.partners.mean(p[: h]),
                                self.reals.mean(p[h : h + nr]),
                                self.partners.mean(p[h + nr :])])  # fmt: skip
            grads = self.partners.grad(g)
        nh = nf + self.nfield
        return DSide(
            fake_d=values[:nf],
            real_d=values[nh : nh + self.nr],
            d_grid=values[nh + self.nr :],
            fake_grad=grads[:nf],
            field_grad=grads[nf:],
        )
