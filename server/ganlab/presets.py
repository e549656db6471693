"""Named starting points: a distribution with hyperparameters that suit it, and a training length.

Adding a preset is one `Preset(...)` entry. Configs are partial: fields not named keep the
defaults of `ExperimentConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganlab.config import ExperimentConfig, merge, parse_config


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: dict[str, Any] = field(repr=False)
    steps: int = 5000

    def experiment(self) -> ExperimentConfig:
        return parse_config(self.config)


def _ganlab(data: str, noise: str, g: tuple[int, int], d: tuple[int, int], d_lr: float,
            g_lr: float, k_d: int, steps: int, text: str) -> Preset:  # fmt: skip
    """GAN Lab's own preset for one of its shapes. GAN Lab's "N hidden layers" builds N+1
    hidden layers; here layer counts mean what they say, so the counts below are the real ones.
    """
    sgd = {"kind": "sgd"}
    return Preset(
        name=data,
        description=text,
        config={
            "data": {"name": data},
            "noise": {"kind": noise, "dim": 2},
            "generator": {"layers": g[0], "neurons": g[1], "activation": "relu"},
            "discriminator": {"layers": d[0], "neurons": d[1], "activation": "relu"},
            "loss": {"kind": "log"},
            "g_optimizer": {**sgd, "lr": g_lr},
            "d_optimizer": {**sgd, "lr": d_lr},
            "training": {"batch_size": 150, "d_steps": k_d, "g_steps": 1},
        },
        steps=steps,
    )


def _benchmark(data: str, steps: int, text: str, **overrides: Any) -> Preset:
    """A tuned recipe for the research benchmarks: non-saturating log loss, PacGAN packing 2,
    Adam with betas (0.5, 0.9), three hidden layers of 64, and learning rates that halve
    every 7/24 of the run (so the last quarter sharpens the modes at a small step size)."""
    base: dict[str, Any] = {
        "data": {"name": data},
        "noise": {"kind": "gaussian", "dim": 2},
        "generator": {"layers": 3, "neurons": 64, "activation": "relu"},
        "discriminator": {"layers": 3, "neurons": 64, "activation": "relu", "packing": 2},
        "loss": {"kind": "log"},
        "g_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.9},
        "d_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.9},
        "training": {"batch_size": 256, "d_steps": 1, "g_steps": 1,
                     "lr_halflife": steps * 7 // 24},
    }  # fmt: skip
    return Preset(name=data, description=text, config=merge(base, overrides), steps=steps)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _ganlab("line", "uniform", (2, 5), (2, 6), 0.03, 0.01, 2, 3000,
                "GAN Lab's simple line: a thin segment from uniform noise."),
        _ganlab("gaussians", "gaussian", (2, 8), (2, 8), 0.1, 0.03, 2, 3000,
                "GAN Lab's default: a mixture of two Gaussians of different shapes."),
        _ganlab("ring", "uniform", (2, 10), (3, 9), 0.1, 0.03, 3, 4000,
                "GAN Lab's ring: an ellipse; watch the manifold close into a loop."),
        _ganlab("disjoint", "gaussian", (3, 10), (3, 11), 0.1, 0.03, 1, 4000,
                "GAN Lab's three disjoint regions: G must tear its manifold apart."),
        _benchmark("ring8", 6000, "Eight tight Gaussians on the unit circle (PacGAN benchmark)."),
        # A 2x64 D: cheaper per step, and the recipe that held over 25 seeds (engine.md).
        _benchmark("grid25", 26000,
                   "25 Gaussians on a 5x5 grid (PacGAN/VEEGAN benchmark), packing 2: all modes.",
                   discriminator={"layers": 2}),
        _benchmark("8gaussians", 6000, "WGAN-GP's eight Gaussians on a circle of radius √2."),
        _benchmark("25gaussians", 12000, "WGAN-GP's 25 Gaussians, scaled into [-1.4, 1.4]²."),
        _benchmark("swissroll", 10000, "A 2D swiss roll: a long thin spiral band."),
        _benchmark("moons", 6000, "Two interleaved half moons."),
        _benchmark("spiral", 10000, "Two interleaved spiral arms."),
        _benchmark("checkerboard", 10000, "Eight uniform squares of a 4x4 checkerboard."),
        Preset(
            name="ring8-collapse",
            description="Mode collapse: a vanilla GAN (no packing, slow D) on ring8 piles all "
            "its samples onto one mode and hops between modes.",
            config={
                "data": {"name": "ring8"},
                "noise": {"kind": "gaussian", "dim": 2},
                "generator": {"layers": 2, "neurons": 128},
                "discriminator": {"layers": 2, "neurons": 128, "packing": 1},
                "loss": {"kind": "log"},
                "g_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5},
                "d_optimizer": {"kind": "adam", "lr": 1e-4, "beta1": 0.5},
                "training": {"batch_size": 512},
            },
            steps=3000,
        ),
    )
}  # fmt: skip


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}") from None
