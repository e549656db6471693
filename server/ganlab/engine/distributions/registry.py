"""The named built-in distributions. Adding one is a single `register(Distribution(...))`."""

from __future__ import annotations

from ganlab.engine.distributions.base import Distribution

# Names that stand for custom data and so can never be registered.
RESERVED_NAMES = frozenset({"drawing", "points"})

DISTRIBUTIONS: dict[str, Distribution] = {}


def register(dist: Distribution) -> Distribution:
    """Add `dist` under its name; a name already taken (or reserved) is an error."""
    if dist.name in RESERVED_NAMES:
        raise ValueError(f"distribution name {dist.name!r} is reserved for custom data")
    if dist.name in DISTRIBUTIONS:
        raise ValueError(f"distribution {dist.name!r} is already registered")
    DISTRIBUTIONS[dist.name] = dist
    return dist
