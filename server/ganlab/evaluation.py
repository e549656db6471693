"""One row of metrics for a trainer's current state (losses, gradients and sample quality)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ganlab.metrics import summary

if TYPE_CHECKING:
    from ganlab.trainer import Trainer


def metric_row(
    t: Trainer, samples: int | None = None, w1_samples: int | None = None, w1: bool = True
) -> dict[str, float]:
    """Metrics on `samples` generated and real points (defaults from the config). The same
    evaluation noise and real points are used every time, so rows differ only by training.
    `w1=False` leaves out the Wasserstein-1 distance, by far the most expensive part."""
    c = t.config.metrics
    n = samples or c.samples
    seed = t.config.seed
    fake = t.sample(n, torch.Generator().manual_seed(seed + 7))
    real = t.real_sample(n, torch.Generator().manual_seed(seed + 8))
    row: dict[str, float] = {
        "iteration": float(t.iteration),
        **t.losses(),
        **t.grad_norms(),
    }
    if not np.isfinite(fake).all():
        return row
    row.update(
        summary(
            real,
            fake,
            t.distribution.box,
            t.distribution.modes,
            bins=c.grid,
            w1_points=w1_samples or c.w1_samples,
            rng=np.random.default_rng(seed),
            w1=w1,
        )
    )
    return row
