"""The training variants' presets: each is valid, uses its variant where its twin does not,
and on seeds 0 and 1 shows the effect it claims against that twin (the same config with the
variant set back), by the margin benchmarks/bench_variants.py states.

The definitions (preset, twin, measured quantity, claimed side, margin, test length) live in
the benchmark, which measures the same claims over seeds 0-4 at each preset's own length; the
tests train for a shorter length at which the effect already shows.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ganlab.engine.config import ExperimentConfig, merge
from ganlab.engine.presets import PRESETS, get_preset


def _load_bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_variants.py"
    spec = importlib.util.spec_from_file_location("bench_variants", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
VARIANTS: dict[str, Any] = bench.VARIANTS

# Whether a config uses each preset's variant: true for the preset, false for its twin.
USES: dict[str, Callable[[ExperimentConfig], bool]] = {
    "ring8-unrolled": lambda c: c.training.unrolled_steps > 0,
    "ring8-spectral": lambda c: c.discriminator.spectral_norm,
    "disjoint-instance-noise": lambda c: c.training.instance_noise > 0,
    "gaussians-r2": lambda c: c.loss.r2 > 0,
    "gaussians-ema": lambda c: c.generator.ema > 0 and c.view.average,
    "gaussians-simultaneous": lambda c: c.training.scheme == "simultaneous",
    "gaussians-extragradient": lambda c: c.training.scheme == "extragradient",
    "moons-gelu": lambda c: c.generator.activation == "gelu",
}


def test_every_new_variant_has_a_preset() -> None:
    assert set(VARIANTS) == set(USES)
    assert set(VARIANTS) <= set(PRESETS)
    configs = [get_preset(name).experiment() for name in VARIANTS]
    assert any(c.discriminator.spectral_norm for c in configs)
    assert any(c.generator.ema > 0 and c.view.average for c in configs)
    assert any(c.training.unrolled_steps > 0 for c in configs)
    assert any(c.training.instance_noise > 0 for c in configs)
    assert any(c.loss.r2 > 0 for c in configs)
    assert {"simultaneous", "extragradient"} <= {c.training.scheme for c in configs}
    assert any(c.generator.activation in ("gelu", "silu") for c in configs)


@pytest.mark.parametrize("name", list(USES))
def test_variant_preset_uses_its_variant_and_its_twin_does_not(name: str) -> None:
    preset = get_preset(name)
    variant = VARIANTS[name]
    config, twin = preset.experiment(), variant.twin()
    assert USES[name](config) and not USES[name](twin)
    # The twin is the preset with the variant's fields set back, nothing else.
    assert twin.model_dump() == merge(config.model_dump(), variant.off)
    assert twin != config
    assert variant.measure in ("ratio", "modes", "swing", "bend")
    assert variant.preset_is in ("lower", "higher") and variant.by >= 1
    assert 0 < variant.test_iterations <= preset.steps <= 4000
    assert "measured" in preset.description.lower()


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", list(USES))
def test_variant_preset_beats_its_twin(name: str, seed: int) -> None:
    """Trained for the test length on the seed, the preset's claimed quantity lies on the
    claimed side of its twin's, by the variant's margin."""
    variant = VARIANTS[name]
    values = []
    for config in (get_preset(name).experiment(), variant.twin()):
        t, centres = bench.train(config.model_copy(update={"seed": seed}), variant.test_iterations)
        values.append(bench.measure(variant.measure, t, centres))
    on, off = values
    assert not math.isnan(on) and not math.isnan(off)
    assert variant.holds(on, off), (variant.measure, on, off)


def test_the_claim_check_refuses_a_tie_and_the_wrong_side() -> None:
    """`holds` is what the test above relies on: a twin that equals the preset fails."""
    lower = VARIANTS["gaussians-r2"]
    assert lower.holds(1.0, 10.0) and not lower.holds(5.0, 5.0) and not lower.holds(10.0, 1.0)
    assert not lower.holds(math.nan, 1.0)
    higher = VARIANTS["ring8-unrolled"]
    assert higher.holds(8.0, 1.0) and not higher.holds(3.0, 3.0) and not higher.holds(1.0, 8.0)


def test_bend_tells_a_piecewise_linear_map_from_a_smooth_one() -> None:
    """The bend measure at initialisation: a ReLU generator's lines turn in corners, a GELU
    generator's (same weights) barely turn between neighbouring points."""
    from ganlab.engine.trainer import Trainer

    base = get_preset("moons-gelu").config
    relu = Trainer(merge(base, {"generator": {"activation": "relu"}}))
    gelu = Trainer(base)
    assert bend_of(relu) > 5 * bend_of(gelu)


def bend_of(t: Any) -> float:
    value: float = bench.bend(t)
    assert math.isfinite(value)
    return value


def test_swing_is_zero_for_a_still_centre_and_inf_for_nan() -> None:
    import numpy as np

    still = [np.array([0.2, -0.1])] * 4
    assert bench.swing(still) == 0.0
    moving = [np.array([0.0, 0.0]), np.array([1.0, 0.0])]
    assert bench.swing(moving) == pytest.approx(0.5)
    assert bench.swing([np.array([math.nan, 0.0])] * 3) == math.inf
