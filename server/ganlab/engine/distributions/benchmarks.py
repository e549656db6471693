"""The standard mode-collapse benchmarks of the GAN literature."""

from __future__ import annotations

import math

import numpy as np
import torch

from ganlab.engine.distributions.base import Box, Distribution, Mode, mixture_law, mixture_sampler
from ganlab.engine.distributions.laws import blurred_curve
from ganlab.engine.distributions.registry import register

GROUP = "benchmark"


def _isotropic(means: list[tuple[float, float]], sigma: float) -> tuple[Mode, ...]:
    return tuple(Mode(mean=(float(x), float(y)), sigma=(sigma, sigma)) for x, y in means)


# k = 0..7 over 2πk/8: eight distinct angles (linspace(0, 2π, 8) would repeat the first).
RING8_MODES = _isotropic(
    [(math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)) for k in range(8)], 0.01
)

GRID25_MODES = _isotropic([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], 0.05)

# The "8 Gaussians" of the WGAN-GP code: points 2·unit + 0.02·n, all divided by 1.414.
_S8 = 1.414
_UNITS8 = [
    (1.0, 0.0),
    (-1.0, 0.0),
    (0.0, 1.0),
    (0.0, -1.0),
    (1 / math.sqrt(2), 1 / math.sqrt(2)),
    (1 / math.sqrt(2), -1 / math.sqrt(2)),
    (-1 / math.sqrt(2), 1 / math.sqrt(2)),
    (-1 / math.sqrt(2), -1 / math.sqrt(2)),
]
GAUSSIANS8_MODES = _isotropic([(2 * x / _S8, 2 * y / _S8) for x, y in _UNITS8], 0.02 / _S8)

# The "25 Gaussians" of the same code: points (2x, 2y) + 0.05·n, all divided by 2.828.
_S25 = 2.828
GAUSSIANS25_MODES = _isotropic(
    [(2 * x / _S25, 2 * y / _S25) for x in range(-2, 3) for y in range(-2, 3)], 0.05 / _S25
)


def _swissroll(n: int, generator: torch.Generator) -> torch.Tensor:
    # scikit-learn's make_swiss_roll, keeping (x, z): its height column 21·u2 is unused here.
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
    noise = torch.randn(n, 2, generator=generator)
    x = t * torch.cos(t) + 0.25 * noise[:, 0]
    z = t * torch.sin(t) + 0.25 * noise[:, 1]
    return torch.stack([x, z], dim=1) / 7.5


def _roll(u: np.ndarray) -> np.ndarray:
    # The spiral _swissroll blurs, for u in [0, 1]: t = 1.5π(1 + 2u), uniform as there.
    t = 1.5 * math.pi * (1 + 2 * u)
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 7.5


SWISSROLL_LAW = blurred_curve(_roll, 0.25 / 7.5)


def _mixture(
    name: str, title: str, description: str, modes: tuple[Mode, ...], half: float
) -> Distribution:
    return Distribution(
        name=name,
        title=title,
        description=description,
        box=Box(-half, half, -half, half),
        sampler=mixture_sampler(modes),
        modes=modes,
        group=GROUP,
        law=mixture_law(modes),
    )


register(
    _mixture(
        "ring8",
        "Ring of 8",
        "Eight tight Gaussians evenly spaced on the unit circle.",
        RING8_MODES,
        1.5,
    )
)
register(
    _mixture(
        "grid25",
        "Grid of 25",
        "Twenty-five tight Gaussians on a 5×5 grid with spacing 2.",
        GRID25_MODES,
        6.0,
    )
)
register(
    _mixture(
        "8gaussians",
        "8 Gaussians on a circle",
        "Eight Gaussians on a circle of radius 2/1.414: the toy data set of the WGAN-GP paper "
        "(Gulrajani et al. 2017).",
        GAUSSIANS8_MODES,
        2.5,
    )
)
register(
    _mixture(
        "25gaussians",
        "25 Gaussians on a small grid",
        "A 5×5 grid of Gaussians scaled by 1/2.828: the toy data set of the WGAN-GP paper "
        "(Gulrajani et al. 2017).",
        GAUSSIANS25_MODES,
        2.0,
    )
)
register(
    Distribution(
        name="swissroll",
        title="Swiss roll",
        description="A noisy 2D Swiss roll spiral (scikit-learn style, scaled by 1/7.5).",
        box=Box(-2.5, 2.5, -2.5, 2.5),
        sampler=_swissroll,
        group=GROUP,
        law=SWISSROLL_LAW,
    )
)
