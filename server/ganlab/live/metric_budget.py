"""Metric rows of a live session, within a share of its time.

Every row, whichever way it comes (playing, a step, slow motion), goes through `record`: a
row is skipped while rows have lately taken more than METRIC_SHARE of the session's time
(its turns on a shared engine process), the Wasserstein-1 distance in it (exact optimal
transport, ~0.1 s at the cap) is left out beyond W1_SHARE, and W1 uses at most `w1_points`
points per side however many the config asks for.
"""

from __future__ import annotations

import time

from ganlab.engine.evaluation import metric_row
from ganlab.engine.trainer import Trainer

METRIC_SHARE = 0.1
W1_SHARE = 0.025


class MetricBudget:
    def __init__(self, w1_points: int) -> None:
        self.w1_points = w1_points
        self.free_at = 0.0
        self.w1_free_at = 0.0

    def record(self, trainer: Trainer, sharing: int = 1) -> bool:
        """Append a metric row to the run's history if the budget allows; whether it did.
        `sharing`: how many sessions take turns on the engine process."""
        start = time.perf_counter()
        if start < self.free_at:
            return False
        with_w1 = start >= self.w1_free_at
        points = min(trainer.config.metrics.w1_samples, self.w1_points)
        trainer.history.append(metric_row(trainer, w1_samples=points, w1=with_w1))
        cost = time.perf_counter() - start
        self.free_at = start + cost * sharing / METRIC_SHARE
        if with_w1:
            self.w1_free_at = start + cost * sharing / W1_SHARE
        return True
