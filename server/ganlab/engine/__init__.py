"""The engine: 2D GANs in pure PyTorch (configs, networks, losses, training, pictures,
metrics, run files). Knows nothing of HTTP, websockets or the wire format.

The main names are importable from here: `from ganlab.engine import Trainer, compute_picture`.
They load on first use (PEP 562), so importing a light submodule such as `ganlab.engine.config`
(the CLI's presets and help, the wire's command checks) still does not import PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganlab.engine.config import ConfigError, ExperimentConfig, parse_config
    from ganlab.engine.distributions import DISTRIBUTIONS
    from ganlab.engine.losses import OBJECTIVES
    from ganlab.engine.optimizers import OPTIMIZERS
    from ganlab.engine.picture import Picture, PictureCache, compute_picture
    from ganlab.engine.presets import PRESETS
    from ganlab.engine.trainer import Trainer

# Each public name and the submodule that defines it.
_SOURCES = {
    "Trainer": "trainer",
    "compute_picture": "picture",
    "Picture": "picture",
    "PictureCache": "picture",
    "ExperimentConfig": "config",
    "ConfigError": "config",
    "parse_config": "config",
    "DISTRIBUTIONS": "distributions",
    "OBJECTIVES": "losses",
    "OPTIMIZERS": "optimizers",
    "PRESETS": "presets",
}

__all__ = [
    "DISTRIBUTIONS",
    "OBJECTIVES",
    "OPTIMIZERS",
    "PRESETS",
    "ConfigError",
    "ExperimentConfig",
    "Picture",
    "PictureCache",
    "Trainer",
    "compute_picture",
    "parse_config",
]


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{source}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
