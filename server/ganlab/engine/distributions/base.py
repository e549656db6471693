"""What a distribution is: a sampler in its own coordinates, a view box, known modes, and
its law where that is known exactly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ganlab.engine.distributions.laws import GaussianSum, Law

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
    # The law the sampler draws from, where it has a density known exactly (laws.py).
    law: Law | None = field(default=None, repr=False, compare=False)
    # A law without a density that is a finite set of points (an imported set without
    # jitter): its points, from which a picture estimates a density.
    atoms: np.ndarray | None = field(default=None, repr=False, compare=False)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        out = self.sampler(n, generator)
        assert out.shape == (n, 2) and out.dtype == torch.float32
        return out

    def density(self, points: np.ndarray | torch.Tensor) -> np.ndarray:
        """The exact density at `points` (n, 2), float64; ValueError where it is not known."""
        if self.law is None:
            raise ValueError(f"distribution {self.name!r} has no exact density")
        return self.law.density(np.asarray(points, dtype=np.float64).reshape(-1, 2))

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


def mixture_law(modes: tuple[Mode, ...]) -> GaussianSum:
    """The law `mixture_sampler(modes)` draws from."""
    return GaussianSum(
        np.full(len(modes), 1.0 / len(modes)),
        np.array([m.mean for m in modes], dtype=np.float64),
        np.array([m.sigma for m in modes], dtype=np.float64),
    )
