"""Each loss's usual recipe: the training settings it is known to work with.

The page applies a loss's recipe when the learner picks that loss (the learner can change
any of it afterwards); the CLI and run files never apply one by themselves. Every recipe sets
the same fields, so that going back to a loss restores its own settings.
"""

from __future__ import annotations

import copy
from typing import Any

from ganlab.engine.config import ExperimentConfig, merge, parse_config

# log, lsgan and hinge: the app's defaults (D 12.5 times G's rate, two D steps, Adam without
# momentum). The Wasserstein critics take five steps per generator step (Arjovsky et al. 2017;
# Gulrajani et al. 2017), but at rates measured on the app's 2x16 networks from its defaults
# (docs/engine.md, "Recipes"; benchmarks/bench_recipes.py).
_DEFAULT: dict[str, Any] = {
    "training": {"d_steps": 2, "g_steps": 1},
    "d_optimizer": {"kind": "adam", "lr": 5e-3, "beta1": 0.0, "beta2": 0.99},
    "g_optimizer": {"kind": "adam", "lr": 4e-4, "beta1": 0.0, "beta2": 0.99},
}

RECIPES: dict[str, dict[str, Any]] = {
    "log": _DEFAULT,
    "lsgan": _DEFAULT,
    "hinge": _DEFAULT,
    # RMSProp as in the paper, with a critic slower than G: at D's 5e-4 or more the clipped
    # weights sit on their bounds and G crawls (2 of 5 seeds passed on ring, 1 on line).
    "wgan": {
        "training": {"d_steps": 5, "g_steps": 1},
        "d_optimizer": {"kind": "rmsprop", "lr": 2e-4, "beta1": 0.0, "beta2": 0.99},
        "g_optimizer": {"kind": "rmsprop", "lr": 5e-4, "beta1": 0.0, "beta2": 0.99},
    },
    # Adam β = 0.5, 0.9 as in the paper for the critic, 30 times as fast as G; G's β1 = 0.9
    # averages away the critic's batch-to-batch noise that keeps its samples jittering about
    # the data (with 0.5, 4 of 5 seeds passed on gaussians).
    "wgan_gp": {
        "training": {"d_steps": 5, "g_steps": 1},
        "d_optimizer": {"kind": "adam", "lr": 3e-3, "beta1": 0.5, "beta2": 0.9},
        "g_optimizer": {"kind": "adam", "lr": 1e-4, "beta1": 0.9, "beta2": 0.9},
    },
}


def recipe_for(loss_kind: str) -> dict[str, Any]:
    """The recipe of a registered loss, as a partial config (a fresh copy)."""
    return copy.deepcopy(RECIPES[loss_kind])


def with_recipe(loss_kind: str, config: dict[str, Any] | None = None) -> ExperimentConfig:
    """`config` (a partial config; the defaults when None) switched to `loss_kind` with its
    recipe applied, as the page does when a learner picks that loss."""
    switched = merge(config or {}, {"loss": {"kind": loss_kind}})
    return parse_config(merge(switched, recipe_for(loss_kind)))
