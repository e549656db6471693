"""What a distribution is: a sampler in its own coordinates, a view box, and known modes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

# (n, generator) -> float32 tensor of shape (n, 2) on the CPU, in the distribution's coordinates.
Sampler = Callable[[int, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class Mode:
    """One mixture component: its mean and per-axis standard deviation."""

    mean: tuple[float, float]
    sigma: tuple[float, float]


@dataclass(frozen=True)
class Box:
    """The rectangle a picture of the distribution shows."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float

    @property
    def center(self) -> tuple[float, float]:
        return ((self.xmin + self.xmax) / 2, (self.ymin + self.ymax) / 2)

    @property
    def half_extent(self) -> float:
        """Half the longer side: the isotropic scale that maps the box into [-1, 1]^2."""
        return max(self.xmax - self.xmin, self.ymax - self.ymin) / 2

    def as_list(self) -> list[float]:
        return [self.xmin, self.xmax, self.ymin, self.ymax]


@dataclass(frozen=True)
class Distribution:
    name: str
    title: str
    description: str
    box: Box
    sampler: Sampler = field(repr=False)
    modes: tuple[Mode, ...] = ()
    group: str = "classic"

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        out = self.sampler(n, generator)
        assert out.shape == (n, 2) and out.dtype == torch.float32
        return out

    @property
    def is_mixture(self) -> bool:
        return len(self.modes) > 0


def mixture_sampler(modes: tuple[Mode, ...]) -> Sampler:
    """An equal-weight mixture of axis-aligned Gaussians, one per mode."""
    if not modes:
        raise ValueError("a mixture needs at least one mode")
    means = torch.tensor([m.mean for m in modes], dtype=torch.float32)
    sigmas = torch.tensor([m.sigma for m in modes], dtype=torch.float32)

    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(modes), (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator, dtype=torch.float32)
        return means[idx] + sigmas[idx] * noise

    return sample
