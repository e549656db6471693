"""The data distributions a GAN can learn: built-ins by name, or custom drawn/imported data."""

from __future__ import annotations

from typing import TYPE_CHECKING

# Importing these modules registers the built-ins, in this order.
# isort: off
from ganlab.engine.distributions import ganlab_shapes  # noqa: F401
from ganlab.engine.distributions import benchmarks  # noqa: F401
from ganlab.engine.distributions import classics  # noqa: F401

# isort: on
from ganlab.engine.distributions.base import Box, Distribution, Mode
from ganlab.engine.distributions.custom import (
    PointsError,
    from_points,
    from_strokes,
    parse_points,
    validate_custom,
)
from ganlab.engine.distributions.registry import DISTRIBUTIONS, register

if TYPE_CHECKING:
    from ganlab.engine.config import DataConfig

__all__ = [
    "DISTRIBUTIONS",
    "Box",
    "Distribution",
    "Mode",
    "PointsError",
    "from_points",
    "from_strokes",
    "parse_points",
    "register",
    "resolve",
    "validate_custom",
]


def resolve(data: DataConfig) -> Distribution:
    """The distribution a data config names: a drawing, imported points, or a built-in."""
    if data.name == "drawing":
        return from_strokes(data.strokes or [], data.brush_width)
    if data.name == "points":
        return from_points(data.points or [], data.jitter)
    try:
        return DISTRIBUTIONS[data.name]
    except KeyError:
        allowed = ", ".join([*DISTRIBUTIONS, "drawing", "points"])
        raise ValueError(f"unknown distribution {data.name!r}; allowed: {allowed}") from None
