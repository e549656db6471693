"""Precision, recall, density and coverage of generated points, from k-nearest-neighbour balls.

Each point of a set gets a ball around it whose radius is the distance to its k-th nearest
neighbour in its own set (itself not counted). The union of a set's balls estimates where
that set's distribution lives (its "manifold"). With N real points and M generated ones:

* precision (Kynkäänniemi et al. 2019): the share of generated points inside at least one
  real ball. Low: G puts mass where there is no data.
* recall (same paper, the roles swapped): the share of real points inside at least one
  generated ball. Low: part of the data is never produced.
* density (Naeem et al. 2020): the number of (real ball, generated point) pairs with the point
  inside the ball, over k * M. It averages 1 when both sets come from one distribution, and
  exceeds 1 where G piles up in dense parts of the data; unlike precision it is not fooled by
  one far-out real point whose ball is huge.
* coverage (same paper): the share of real points whose own ball holds at least one generated
  point. Unlike recall it uses only real balls, so a few far-off fakes cannot inflate it.

Balls are closed (a point exactly on the radius is inside), so identical sets score 1 on
precision, recall and coverage. k is KNN_K; both papers use 5 (Naeem et al. recommend k = 5
with 10,000 points; fewer points give bigger balls and higher scores, which is why a chart
compares them with two real samples of the same size). A metric row scores KNN_POINTS a side
(knn_columns): at 2,000 the scores cost about as much as the rest of a row without W1.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy.spatial import cKDTree

__all__ = [
    "KNN_COLUMNS",
    "KNN_K",
    "KNN_POINTS",
    "KnnScores",
    "knn_columns",
    "knn_points",
    "knn_radii",
    "knn_scores",
]

KNN_K = 5
# Points a side a metric row scores (benchmarks/bench_metrics.py: ~5 ms at 1,000, ~15 ms at
# 2,000, beside ~15 ms for the rest of a row without W1).
KNN_POINTS = 1000
# The metric row's columns (knn_columns), in the order of the history's columns.
KNN_COLUMNS = ("precision", "recall", "density", "coverage")

# Radii are widened by this relative amount before the ball queries: the tree compares squared
# distances, so a point exactly on a radius (a tie, common on grids of points) could otherwise
# fall out by one rounding. Real gaps between distances are far wider.
_EDGE = 1e-9


@dataclass(frozen=True)
class KnnScores:
    precision: float
    recall: float
    density: float
    coverage: float


def _points(points: object, name: str) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def knn_radii(points: np.ndarray, k: int = KNN_K, tree: cKDTree | None = None) -> np.ndarray:
    """Each point's distance to its k-th nearest neighbour among the others (duplicates count
    as neighbours at distance 0). Needs more than k points."""
    pts = _points(points, "points")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if len(pts) <= k:
        raise ValueError(f"k-NN balls with k={k} need more than {k} points, got {len(pts)}")
    tree = tree if tree is not None else cKDTree(pts)
    # The nearest "neighbour" returned is the point itself (or a duplicate, also at 0): the k
    # others follow, so the (k+1)-th distance is the k-th neighbour's.
    distances, _ = tree.query(pts, k=k + 1)
    return np.asarray(distances[:, k], dtype=np.float64)


def _inside(centres: np.ndarray, radii: np.ndarray, tree: cKDTree) -> tuple[np.ndarray, np.ndarray]:
    """For balls (centres, radii): how many of the tree's points each holds, and which points
    are inside at least one (a boolean per tree point)."""
    found = tree.query_ball_point(centres, radii * (1 + _EDGE), return_sorted=False)
    counts = np.fromiter((len(ix) for ix in found), dtype=np.int64, count=len(found))
    hit = np.zeros(tree.n, dtype=bool)
    hit[np.fromiter(chain.from_iterable(found), dtype=np.int64, count=int(counts.sum()))] = True
    return counts, hit


def knn_scores(real: np.ndarray, fake: np.ndarray, k: int = KNN_K) -> KnnScores:
    """Precision, recall, density and coverage of `fake` against `real` (module docstring),
    both finite (n, 2) arrays of more than `k` points."""
    r = _points(real, "real")
    f = _points(fake, "fake")
    real_tree, fake_tree = cKDTree(r), cKDTree(f)
    real_radii = knn_radii(r, k, real_tree)
    fake_radii = knn_radii(f, k, fake_tree)
    # Fakes inside each real ball: precision, density and coverage all come from these.
    counts, fakes_in = _inside(r, real_radii, fake_tree)
    _, reals_in = _inside(f, fake_radii, real_tree)
    return KnnScores(
        precision=float(fakes_in.mean()),
        recall=float(reals_in.mean()),
        density=float(counts.sum() / (k * len(f))),
        coverage=float((counts > 0).mean()),
    )


def knn_points(samples: int) -> int:
    """How many points a side knn_columns scores of `samples`."""
    return min(samples, KNN_POINTS)


def knn_columns(real: np.ndarray, fake: np.ndarray, k: int = KNN_K) -> dict[str, float]:
    """The four scores as a metric row's columns, on the first knn_points of each set (the
    rows' samples are independent draws, so the first ones are a random subsample)."""
    s = knn_scores(real[: knn_points(len(real))], fake[: knn_points(len(fake))], k)
    return {name: float(getattr(s, name)) for name in KNN_COLUMNS}
