"""Classic 2D toy sets: two moons, a two-armed spiral and a checkerboard."""

from __future__ import annotations

import math

import numpy as np
import torch

from ganlab.engine.distributions.base import Box, Distribution
from ganlab.engine.distributions.laws import Curve, UniformBoxes, blurred_curve, mix
from ganlab.engine.distributions.registry import register

GROUP = "classic"


def _moons(n: int, generator: torch.Generator) -> torch.Tensor:
    # Upper half circle around (0, 0) and a lower one around (1, 0.5); shifted by (0.5, 0.25)
    # so that the pair is centred on the origin.
    angle = math.pi * torch.rand(n, generator=generator)
    lower = torch.randint(0, 2, (n,), generator=generator).bool()
    noise = torch.randn(n, 2, generator=generator)
    x = torch.where(lower, 1 - torch.cos(angle), torch.cos(angle))
    y = torch.where(lower, 0.5 - torch.sin(angle), torch.sin(angle))
    return torch.stack([x - 0.5, y - 0.25], dim=1) + 0.05 * noise


def _upper_moon(u: np.ndarray) -> np.ndarray:
    a = math.pi * u
    return np.stack([np.cos(a) - 0.5, np.sin(a) - 0.25], axis=1)


def _lower_moon(u: np.ndarray) -> np.ndarray:
    a = math.pi * u
    return np.stack([0.5 - np.cos(a), 0.25 - np.sin(a)], axis=1)


# Each half circle with probability 1/2, its angle uniform, then noise 0.05 per axis.
MOONS_LAW = mix([(0.5, blurred_curve(_upper_moon, 0.05)), (0.5, blurred_curve(_lower_moon, 0.05))])

SPIRAL_TURNS = 2.0
SPIRAL_RADIUS = 1.8


def _spiral(n: int, generator: torch.Generator) -> torch.Tensor:
    # Archimedean arms r ∝ θ; s = sqrt(u) makes the density roughly even along the arm
    # (arc length grows like r dθ ∝ s ds).
    s = torch.sqrt(torch.rand(n, generator=generator))
    arm = torch.randint(0, 2, (n,), generator=generator).float()
    noise = torch.randn(n, 2, generator=generator)
    angle = 2 * math.pi * SPIRAL_TURNS * s + math.pi * arm
    radius = SPIRAL_RADIUS * s
    points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return points + 0.04 * noise


def _arm(arm: int) -> Curve:
    def curve(s: np.ndarray) -> np.ndarray:
        angle = 2 * math.pi * SPIRAL_TURNS * s + math.pi * arm
        return np.stack([SPIRAL_RADIUS * s * np.cos(angle), SPIRAL_RADIUS * s * np.sin(angle)], 1)

    return curve


def _square(s: np.ndarray) -> np.ndarray:
    return s * s  # s = sqrt(u) has P(s <= v) = v²


# Each arm with probability 1/2, s with distribution function s², then noise 0.04 per axis.
SPIRAL_LAW = mix([(0.5, blurred_curve(_arm(arm), 0.04, _square)) for arm in (0, 1)])


def _checkerboard(n: int, generator: torch.Generator) -> torch.Tensor:
    # Unit cells (i, j), i, j in 0..3, over [-2, 2]^2; dark when i + j is even: 8 cells.
    col = torch.randint(0, 4, (n,), generator=generator)
    row = 2 * torch.randint(0, 2, (n,), generator=generator) + col % 2
    offset = torch.rand(n, 2, generator=generator)
    cells = torch.stack([col, row], dim=1).float()
    return cells + offset - 2.0


# The eight dark cells: columns 0..3, rows of the same parity, each with probability 1/8.
_DARK = [(col, 2 * half + col % 2) for col in range(4) for half in range(2)]
CHECKERBOARD_LAW = UniformBoxes(
    np.full(8, 1 / 8), np.array([(c - 2, c - 1, r - 2, r - 1) for c, r in _DARK], dtype=float)
)


register(
    Distribution(
        name="moons",
        title="Two moons",
        description="Two interleaved noisy half circles.",
        box=Box(-2.0, 2.0, -2.0, 2.0),
        sampler=_moons,
        group=GROUP,
        law=MOONS_LAW,
    )
)
register(
    Distribution(
        name="spiral",
        title="Spiral",
        description="Two interleaved spiral arms of two turns each.",
        box=Box(-2.5, 2.5, -2.5, 2.5),
        sampler=_spiral,
        group=GROUP,
        law=SPIRAL_LAW,
    )
)
register(
    Distribution(
        name="checkerboard",
        title="Checkerboard",
        description="Uniform on the eight dark cells of a 4×4 checkerboard.",
        box=Box(-2.5, 2.5, -2.5, 2.5),
        sampler=_checkerboard,
        group=GROUP,
        law=CHECKERBOARD_LAW,
    )
)
