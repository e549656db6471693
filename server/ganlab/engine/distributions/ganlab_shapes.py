"""The four shapes of the original GAN Lab, in the unit square.

Throughout, u ~ U(0, 1) and n ~ N(0, 1), drawn independently per axis and per use.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ganlab.engine.distributions.base import Box, Distribution, Mode, mixture_law, mixture_sampler
from ganlab.engine.distributions.laws import blurred_curve
from ganlab.engine.distributions.registry import register

UNIT_BOX = Box(0.0, 1.0, 0.0, 1.0)
GROUP = "ganlab"


def _line(n: int, generator: torch.Generator) -> torch.Tensor:
    # One u shared by both coordinates puts the points on a segment; n thickens it.
    u = torch.rand(n, generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    x = 0.8 - 0.75 * u + 0.01 * noise[:, 0]
    y = 0.6 + 0.3 * u + 0.01 * noise[:, 1]
    return torch.stack([x, y], dim=1)


# The segment _line blurs: u uniform, noise 0.01 per axis.
LINE_LAW = blurred_curve(lambda u: np.stack([0.8 - 0.75 * u, 0.6 + 0.3 * u], axis=1), 0.01)


def _ring(n: int, generator: torch.Generator) -> torch.Tensor:
    angle = 2 * math.pi * torch.rand(n, generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    x = 0.5 + 0.3 * torch.cos(angle) + 0.025 * noise[:, 0]
    y = 0.45 + 0.25 * torch.sin(angle) + 0.025 * noise[:, 1]
    return torch.stack([x, y], dim=1)


def _ellipse(u: np.ndarray) -> np.ndarray:
    angle = 2 * math.pi * u
    return np.stack([0.5 + 0.3 * np.cos(angle), 0.45 + 0.25 * np.sin(angle)], axis=1)


# The ellipse _ring blurs: angle uniform, noise 0.025 per axis.
RING_LAW = blurred_curve(_ellipse, 0.025)

GAUSSIANS_MODES = (
    Mode(mean=(0.3, 0.7), sigma=(0.1, 0.1)),
    Mode(mean=(0.7, 0.4), sigma=(0.05, 0.2)),
)

DISJOINT_MODES = tuple(
    Mode(mean=mean, sigma=(0.025, 0.025)) for mean in ((0.35, 0.75), (0.75, 0.6), (0.45, 0.35))
)

register(
    Distribution(
        name="line",
        title="Line",
        description="A thin slanted segment: points spread evenly along a line.",
        box=UNIT_BOX,
        sampler=_line,
        group=GROUP,
        law=LINE_LAW,
    )
)
register(
    Distribution(
        name="gaussians",
        title="Two Gaussians",
        description="Two Gaussian blobs of equal weight, one round and one tall.",
        box=UNIT_BOX,
        sampler=mixture_sampler(GAUSSIANS_MODES),
        modes=GAUSSIANS_MODES,
        group=GROUP,
        law=mixture_law(GAUSSIANS_MODES),
    )
)
register(
    Distribution(
        name="ring",
        title="Ring",
        description="A noisy ellipse: mass spread around a closed curve.",
        box=UNIT_BOX,
        sampler=_ring,
        group=GROUP,
        law=RING_LAW,
    )
)
register(
    Distribution(
        name="disjoint",
        title="Disjoint",
        description="Three small, well separated Gaussians of equal weight.",
        box=UNIT_BOX,
        sampler=mixture_sampler(DISJOINT_MODES),
        modes=DISJOINT_MODES,
        group=GROUP,
        law=mixture_law(DISJOINT_MODES),
    )
)
