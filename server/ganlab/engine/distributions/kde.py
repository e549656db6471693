"""A kernel density estimate whose width the data choose, for laws known only by samples.

The width maximizes the leave-one-out log-likelihood (likelihood cross-validation): each
held-out point is scored by the estimate built from all the other points, over a log grid of
widths, coarse then fine around the best. Scott's rule assumes one Gaussian blob; on the
tight mixtures of the benchmarks it was 16-20 times too wide (tests/engine/test_density.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ganlab.engine.distributions.laws import GaussianSum

# At most this many distinct points make an estimate, and at most HELD_OUT of them are scored
# (about 20 ms on one core; the estimate is made once per view of the data).
KDE_POINTS = 2000
HELD_OUT = 400
# The coarse grid spans these multiples of the data's spread, a factor 2 apart; the fine grid
# spans a factor 2 either side of the coarse best, 2^(1/4) apart.
SPAN = (1e-4, 2.0)
FINE_STEPS = 4
# exp() of anything lower is clamped here: float32 denormals are slow, and the terms are nil.
_FLOOR = -80.0


@dataclass(frozen=True)
class Bandwidth:
    """The chosen width, and every width tried with its mean held-out log-likelihood."""

    width: float
    widths: np.ndarray
    scores: np.ndarray


def distinct(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of `points` (n, 2) and how often each occurs."""
    rows, counts = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0,
                             return_counts=True)  # fmt: skip
    return rows, counts.astype(np.float64)


def _subset(n: int, k: int, generator: torch.Generator) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return torch.randperm(n, generator=generator)[:k].numpy()


def loo_log_likelihood(points: np.ndarray, counts: np.ndarray, widths: np.ndarray,
                       held: np.ndarray) -> np.ndarray:  # fmt: skip
    """Mean log-likelihood, per width, of the held-out rows `held` of distinct `points` (with
    `counts` copies each) under the isotropic Gaussian estimate from all the other points.

    A point and its copies are left out together: a copy left in would reward width 0."""
    x, c = torch.as_tensor(points), torch.as_tensor(counts)
    idx = torch.as_tensor(held)
    d2 = torch.cdist(x[idx], x).pow(2)
    d2[torch.arange(len(idx)), idx] = math.inf
    nearest = d2.min(dim=1).values
    # Measured from each row's nearest other point, so that the largest term is exp(0).
    shifted = (d2 - nearest[:, None]).float()
    others = c.sum() - c[idx]
    weight = c[idx] / c[idx].sum()
    buf = torch.empty_like(shifted)
    cf = c.float()
    scores = []
    for w in widths:
        torch.mul(shifted, -0.5 / float(w) ** 2, out=buf)
        near = torch.log((buf.clamp_(min=_FLOOR).exp_() @ cf).double())
        log_f = near - nearest / (2 * w**2) - math.log(2 * math.pi * w**2) - torch.log(others)
        scores.append(float((weight * log_f).sum()))
    return np.asarray(scores)


def cv_width(points: np.ndarray, generator: torch.Generator,
             counts: np.ndarray | None = None) -> Bandwidth:  # fmt: skip
    """The kernel width that maximizes the leave-one-out log-likelihood of distinct `points`
    (`counts` copies each, 1 when None). Needs at least two distinct points."""
    c = np.ones(len(points)) if counts is None else np.asarray(counts, dtype=np.float64)
    if len(points) < 2:
        raise ValueError("a width can be chosen from two distinct points or more")
    mean = (points * c[:, None]).sum(0) / c.sum()
    spread = math.sqrt(float((((points - mean) ** 2) * c[:, None]).sum() / c.sum() / 2))
    held = _subset(len(points), HELD_OUT, generator)
    lo, hi = math.log2(SPAN[0] * spread), math.log2(SPAN[1] * spread)
    coarse = 2.0 ** np.arange(lo, hi + 1e-9)
    coarse_scores = loo_log_likelihood(points, c, coarse, held)
    best = float(coarse[int(np.argmax(coarse_scores))])
    steps = np.arange(-FINE_STEPS + 1, FINE_STEPS) / FINE_STEPS
    fine = best * 2.0 ** steps[steps != 0]
    fine_scores = loo_log_likelihood(points, c, fine, held)
    widths = np.concatenate([coarse, fine])
    scores = np.concatenate([coarse_scores, fine_scores])
    order = np.argsort(widths)
    widths, scores = widths[order], scores[order]
    return Bandwidth(float(widths[int(np.argmax(scores))]), widths, scores)


def kde(points: np.ndarray, width: float, counts: np.ndarray | None = None) -> GaussianSum:
    """The estimate itself: a Gaussian of width `width` on every point, weighted by `counts`."""
    c = np.ones(len(points)) if counts is None else np.asarray(counts, dtype=np.float64)
    means = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return GaussianSum(c / c.sum(), means, np.full_like(means, width))


def estimate(rows: np.ndarray, counts: np.ndarray,
             generator: torch.Generator) -> tuple[GaussianSum, float]:  # fmt: skip
    """The cross-validated estimate from distinct `rows` with `counts` copies each (see
    `distinct`), thinned to KDE_POINTS rows at random; and its width."""
    keep = _subset(len(rows), KDE_POINTS, generator)
    rows, counts = rows[keep], counts[keep]
    width = cv_width(rows, generator, counts).width
    return kde(rows, width, counts), width
