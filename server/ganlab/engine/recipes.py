"""Each loss's usual recipe: the training settings it is known to work with.

The page applies a loss's recipe when the learner picks that loss (the learner can change
any of it afterwards); the CLI and run files never apply one by themselves. Every recipe sets
the same fields, so that going back to a loss restores its own settings.
"""

from __future__ import annotations

import copy
from typing import Any

# log, lsgan and hinge: the app's defaults (D 12.5 times G's rate, two D steps, Adam without
# momentum). The Wasserstein critics take five steps per generator step (Arjovsky et al. 2017;
# Gulrajani et al. 2017), WGAN-GP with Adam β = 0.5, 0.9.
_DEFAULT: dict[str, Any] = {
    "training": {"d_steps": 2, "g_steps": 1},
    "d_optimizer": {"kind": "adam", "lr": 5e-3, "beta1": 0.0, "beta2": 0.99},
    "g_optimizer": {"kind": "adam", "lr": 4e-4, "beta1": 0.0, "beta2": 0.99},
}

RECIPES: dict[str, dict[str, Any]] = {
    "log": _DEFAULT,
    "lsgan": _DEFAULT,
    "hinge": _DEFAULT,
    "wgan": {
        "training": {"d_steps": 5, "g_steps": 1},
        "d_optimizer": {"kind": "rmsprop", "lr": 5e-4, "beta1": 0.0, "beta2": 0.99},
        "g_optimizer": {"kind": "rmsprop", "lr": 5e-4, "beta1": 0.0, "beta2": 0.99},
    },
    "wgan_gp": {
        "training": {"d_steps": 5, "g_steps": 1},
        "d_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.9},
        "g_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.9},
    },
}


def recipe_for(loss_kind: str) -> dict[str, Any]:
    """The recipe of a registered loss, as a partial config (a fresh copy)."""
    return copy.deepcopy(RECIPES[loss_kind])
