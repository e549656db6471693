"""Partner averaging: what D says about one point when D judges packs of m points (PacGAN).

D never judges a lone point. During G's update a fake is packed with m - 1 other fakes of
the batch, in a random slot; during D's, a real sample with m - 1 other reals. So the
picture's value (or G-loss gradient) at a point x is the mean over every pack of x with
partners from a pool (the picture's own fakes, or its shown reals), x in each slot.

That mean is taken by quadrature, not by drawing partners: the pool is split into K
clusters by k-means, and x is packed with each cluster's centre standing for the cluster's
points, weighted by the cluster's share of the pool. Centres are the clusters' means, so the
rule is exact for any D that is linear in the partner over each cluster; its error shrinks
with the clusters' spread. x takes each of the m slots (weight 1/m each). For m = 2 that is
2K packs per point. For m > 2 the m - 1 partner columns take every tuple of centres (the
product rule of the product of the pool's cluster shares: the partners of a real pack are
independent draws), with fewer clusters so the rows stay bounded (`column_clusters`). With
K at least the pool's size every pool point is its own centre and the rule is the exact mean.

The centres are fitted once per view for the fixed reals, and refitted at every picture for
the fakes, starting from the previous picture's centres (a few Lloyd steps), so the clusters
follow the fakes and the picture does not flicker. The first fit starts from k-means++ with
the view's seed, so a view always draws the same picture. Measured against the exact mean
over every pool point on ring8 and grid25 (`benchmarks/bench_picture.py --accuracy`,
docs/engine.md): tests/engine/test_picture_partners.py checks the targets.
"""

from __future__ import annotations

import itertools

import torch

# Clusters of the pool for packing 2 (2K packs per point).
CLUSTERS = 24
# Lloyd steps for a fit from k-means++, and from the previous picture's centres.
COLD_STEPS = 12
WARM_STEPS = 3


def column_clusters(m: int, k: int) -> int:
    """Clusters per partner column for packs of m: k for m = 2; for m > 2 the most c whose
    m * c^(m-1) packs stay within twice the 2k of packing 2."""
    if m <= 2:
        return k
    c = 1
    while m * (c + 1) ** (m - 1) <= 4 * k:
        c += 1
    return c


def kmeans_pp(pool: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """k-means++ seeding: k pool points, each next one drawn with probability proportional
    to its squared distance from the nearest already chosen."""
    n = pool.shape[0]
    first = int(torch.randint(n, (1,), generator=gen))
    chosen = [first]
    d2 = (pool - pool[first]).pow(2).sum(1)
    for _ in range(k - 1):
        total = float(d2.sum())
        # All points on the chosen ones (duplicates): any point will do.
        probs = d2 / total if total > 0 else torch.full_like(d2, 1.0 / n)
        nxt = int(torch.multinomial(probs.cpu().double(), 1, generator=gen))
        chosen.append(nxt)
        d2 = torch.minimum(d2, (pool - pool[nxt]).pow(2).sum(1))
    return pool[chosen].clone()


def lloyd(
    pool: torch.Tensor, centres: torch.Tensor, steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """`steps` Lloyd iterations from `centres` (k, 2); returns the centres (the means of their
    clusters) and the weights (each cluster's share of the pool). A cluster left empty
    restarts at the pool points farthest from their centres, so no pack is wasted."""
    n, k = pool.shape[0], centres.shape[0]
    c = centres.clone()
    for _ in range(steps + 1):
        near, assign = torch.cdist(pool, c).min(1)
        counts = torch.bincount(assign, minlength=k)
        sums = torch.zeros_like(c).index_add_(0, assign, pool)
        means = sums.div_(counts.clamp(min=1)[:, None].to(pool.dtype))
        full = counts > 0
        if bool(full.all()):
            c = means
        else:
            c = torch.where(full[:, None], means, c)
            empty = (~full).nonzero().reshape(-1)
            c[empty] = pool[near.topk(len(empty)).indices]
    # The last pass's means were computed from its assignment: weights from that one.
    return c, counts.to(pool.dtype) / n


class Partners:
    """The quadrature for packs of m from one pool: K centres with weights, and the rows
    that pack points with them. `fit` (re)computes the centres; `packs`, `mean` and `grad`
    use the latest fit."""

    def __init__(self, m: int, k: int, seed: int) -> None:
        self.m, self.k = m, column_clusters(m, k)
        self.seed = seed
        self.centres: torch.Tensor | None = None
        self.weights = torch.ones(0)
        # Row r of a point's block: x in slot slot[r], partner columns take centres
        # tuples[r] (indices into the centres); laid out slot-major. source[r, s] is the
        # centre in slot s, or k (a zero row) in x's slot.
        tuples = torch.tensor(list(itertools.product(range(self.k), repeat=m - 1)))
        tuples = tuples.reshape(-1, m - 1).repeat(m, 1)
        self.rows = tuples.shape[0]  # packs per point
        self.slot = torch.arange(m).repeat_interleave(self.rows // m)
        others = torch.arange(m)[None] != self.slot[:, None]
        source = torch.full((self.rows, m), self.k, dtype=torch.long)
        source[others] = tuples.reshape(-1)
        self.tuples, self.source = tuples, source
        self.mask = (~others).float()[:, :, None]

    def fit(self, pool: torch.Tensor, warm: bool = True) -> None:
        """Cluster `pool` (n, 2): from the previous centres when `warm` and there are some,
        else from k-means++ with the seed. A pool of at most K points is its own centres.
        Points that are not finite (a diverged G) are left out; with none left, so is D."""
        finite = torch.isfinite(pool).all(1)
        if not bool(finite.all()):
            if not bool(finite.any()):
                self.centres = torch.full((self.k, 2), float("nan"), dtype=pool.dtype,
                                          device=pool.device)  # fmt: skip
                self.weights = torch.full_like(self.centres[:, 0], 1.0 / self.k)
                self._layout(pool.device, pool.dtype)
                return
            pool = pool[finite]
        n = pool.shape[0]
        if n <= self.k:
            # Every point its own centre; repeat the last to keep K rows, at weight 0.
            idx = torch.arange(self.k, device=pool.device).clamp(max=n - 1)
            self.centres = pool[idx].clone()
            w = torch.zeros(self.k, dtype=pool.dtype, device=pool.device)
            self.weights = w.index_fill_(0, torch.arange(n, device=pool.device), 1.0 / n)
        else:
            start = self.centres
            if start is None or not warm or not bool(torch.isfinite(start).all()):
                gen = torch.Generator().manual_seed(self.seed)
                start = kmeans_pp(pool.cpu(), self.k, gen).to(pool.device)
                steps = COLD_STEPS
            else:
                steps = WARM_STEPS
            self.centres, self.weights = lloyd(pool, start.to(pool.dtype), steps)
        self._layout(pool.device, pool.dtype)

    def _layout(self, device: torch.device, dtype: torch.dtype) -> None:
        """Each row's partners (template, with x's slot zero) and weight."""
        assert self.centres is not None
        table = torch.cat([self.centres, self.centres.new_zeros(1, 2)])
        self.template = table[self.source.to(device)]
        self.row_weight = self.weights[self.tuples.to(device)].prod(1) / self.m
        self.mask_on = self.mask.to(device=device, dtype=dtype)

    def packs(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2) points as (N * rows, 2m) packs: point i's packs are rows i * rows + r."""
        out = self.template[None] + self.mask_on[None] * x[:, None, None, :]
        return out.reshape(-1, 2 * self.m)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """(N * rows,) values per pack -> (N,) each point's weighted mean."""
        return values.reshape(-1, self.rows) @ self.row_weight.to(values.dtype)

    def grad(self, g: torch.Tensor) -> torch.Tensor:
        """(N * rows, 2m) gradients at packs -> (N, 2): each point's own slot, weighted."""
        per = g.reshape(-1, self.rows, self.m, 2) * self.mask_on.to(g.dtype)
        return torch.einsum("nrsd,r->nd", per, self.row_weight.to(g.dtype))
