"""Named starting points: a distribution with hyperparameters that suit it, and a training length.

Adding a preset is one `Preset(...)` entry. Configs are partial: fields not named keep the
defaults of `ExperimentConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganlab.engine.config import ExperimentConfig, merge, parse_config


@dataclass(frozen=True)
class Preset:
    name: str
    title: str  # what a learner reads in a menu
    description: str
    config: dict[str, Any] = field(repr=False)
    steps: int = 5000

    def experiment(self) -> ExperimentConfig:
        return parse_config(self.config)


def _ganlab(data: str, title: str, noise: str, generator: tuple[int, int], steps: int,
            text: str, r1: float = 0.0) -> Preset:  # fmt: skip
    """One of GAN Lab's four shapes, with GAN Lab's noise kind, ReLU networks, log loss and
    non-saturating generator loss, but a recipe that reaches the quality bar of
    `evaluation.judge_preset` on its own length. GAN Lab's own settings (SGD, D lr 0.03-0.1,
    G lr 0.01-0.03, 1-3 D steps, two hidden layers of 5-11, since its UI's "N hidden layers"
    build N+1 hidden layers) missed the bar on most seeds: a stub instead of the line, two of
    the three disjoint regions (docs/engine.md).

    The recipe: Adam with β1 = 0 (momentum makes GANs circle their equilibrium), a
    discriminator four times as fast as the generator, and learning rates that halve every
    fifth of the run, so the last fifth sharpens at a small step size. `r1` > 0 adds an R1
    penalty, for shapes whose regions must trade mass across empty gaps: it keeps D smooth
    enough that samples between regions are pulled to the emptier one, at the price of a
    nearly uniform heatmap."""
    return Preset(
        name=data,
        title=title,
        description=text,
        config={
            "data": {"name": data},
            "noise": {"kind": noise, "dim": 2},
            "generator": {"layers": generator[0], "neurons": generator[1], "activation": "relu"},
            "discriminator": {"layers": 3, "neurons": 32, "activation": "relu", "packing": 1},
            "loss": {"kind": "log", "generator": "non_saturating", "r1": r1},
            "g_optimizer": {"kind": "adam", "lr": 5e-4, "beta1": 0.0, "beta2": 0.99},
            "d_optimizer": {"kind": "adam", "lr": 2e-3, "beta1": 0.0, "beta2": 0.99},
            "training": {"batch_size": 256, "d_steps": 1, "g_steps": 1,
                         "lr_halflife": steps // 5},
        },
        steps=steps,
    )  # fmt: skip


def _benchmark(data: str, title: str, steps: int, text: str, **overrides: Any) -> Preset:
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
    return Preset(name=data, title=title, description=text, config=merge(base, overrides),
                  steps=steps)  # fmt: skip


# A jittery setup the scheme and EMA presets share: hinge loss and plain SGD at a high rate
# for both small networks, one D step per G step. Alternating updates keep G near the two
# Gaussians, but its samples shake from one step to the next.
_HIGH_RATE_SGD: dict[str, Any] = {
    "data": {"name": "gaussians"},
    "noise": {"kind": "gaussian", "dim": 2},
    "generator": {"layers": 2, "neurons": 32, "activation": "relu"},
    "discriminator": {"layers": 2, "neurons": 32, "activation": "relu", "packing": 1},
    "loss": {"kind": "hinge"},
    "g_optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.0},
    "d_optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.0},
    "training": {"batch_size": 128, "d_steps": 1, "g_steps": 1},
}


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        # A line is nearly an affine image of the noise square: one hidden layer suffices.
        _ganlab("line", "Simple line (GAN Lab)", "uniform", (1, 32), 4000,
                "GAN Lab's simple line: a thin segment from uniform noise."),
        _ganlab("gaussians", "Two Gaussians (GAN Lab's default)", "gaussian", (3, 32), 3000,
                "GAN Lab's default: a mixture of two Gaussians of different shapes."),
        _ganlab("ring", "Ring (GAN Lab)", "uniform", (3, 32), 3000,
                "GAN Lab's ring: an ellipse; watch the manifold close into a loop."),
        # Without R1 the regions keep the shares they got early on: 1 of 5 seeds passed.
        _ganlab("disjoint", "Three disjoint regions (GAN Lab)", "gaussian", (3, 32), 5000,
                "GAN Lab's three disjoint regions: G must tear its manifold apart.", r1=1.0),
        _benchmark("ring8", "Ring of eight Gaussians", 6000,
                   "Eight tight Gaussians on the unit circle (PacGAN benchmark)."),
        # A 2x64 D: cheaper per step, and the recipe that held over 25 seeds (engine.md).
        _benchmark("grid25", "Grid of 25 Gaussians", 26000,
                   "25 Gaussians on a 5x5 grid (PacGAN/VEEGAN benchmark), packing 2: all modes.",
                   discriminator={"layers": 2}),
        # The WGAN-GP paper's data, not its loss: its recipe (5 critic steps, Adam 1e-4,
        # betas 0.5 and 0.9) found 1 of 8 modes in 15,000 steps here (docs/engine.md).
        _benchmark("8gaussians", "Eight Gaussians on a circle of radius √2", 6000,
                   "The WGAN-GP paper's eight Gaussians, learned with the log-loss recipe of "
                   "the other benchmarks."),
        _benchmark("25gaussians", "Small grid of 25 Gaussians", 12000,
                   "The WGAN-GP paper's 25 Gaussians, scaled into [-1.4, 1.4]², learned with "
                   "the log-loss recipe of the other benchmarks."),
        _benchmark("swissroll", "Swiss roll", 10000, "A 2D swiss roll: a long thin spiral band."),
        _benchmark("moons", "Two moons", 6000, "Two interleaved half moons."),
        _benchmark("spiral", "Two spirals", 10000, "Two interleaved spiral arms."),
        _benchmark("checkerboard", "Checkerboard", 10000,
                   "Eight uniform squares of a 4x4 checkerboard."),
        Preset(
            name="ring8-collapse",
            title="Mode collapse on eight Gaussians",
            # Measured (seeds 0-2, every 500 iterations to 3,000): one blob 2-21σ wide whose
            # centre sat 2-41σ (median 18σ) from the nearest mode; at most 41% of samples
            # within 3σ of a mode at any check, 0% at most (mode spacing: about 38σ).
            description="Mode collapse: a vanilla GAN (no packing, slow D) on ring8 gathers "
            "its samples into one blob that D chases around the ring; the blob seldom lands on "
            "a mode and mostly sits between modes.",
            config={
                "data": {"name": "ring8"},
                "noise": {"kind": "gaussian", "dim": 2},
                "generator": {"layers": 2, "neurons": 128},
                "discriminator": {"layers": 2, "neurons": 128, "packing": 1},
                "loss": {"kind": "log"},
                "g_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.999},
                "d_optimizer": {"kind": "adam", "lr": 1e-4, "beta1": 0.5, "beta2": 0.999},
                "training": {"batch_size": 512, "d_steps": 1},
            },
            steps=3000,
        ),
        # The training variants, one preset each, every one measured against its twin with
        # the variant off (benchmarks/bench_variants.py, seeds 0-4: medians, ranges in brackets).
        # Measured: 7 of 8 modes covered (6-8), W1 ratio 3.5; unrolled_steps 0: 0 (0-1), 33.
        Preset(
            name="ring8-unrolled",
            title="Unrolled GAN on eight Gaussians",
            description="The mode-collapse setup, smaller, with G's gradient taken through five "
            "simulated D updates (Metz et al. 2017): G's samples spread round the ring instead "
            "of piling onto one mode. Measured on five seeds: 6-8 of the 8 modes covered, "
            "against 0-1 with unrolled steps set to 0.",
            config={
                "data": {"name": "ring8"},
                "noise": {"kind": "gaussian", "dim": 2},
                "generator": {"layers": 2, "neurons": 64},
                "discriminator": {"layers": 2, "neurons": 64, "packing": 1},
                "loss": {"kind": "log"},
                "g_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.999},
                "d_optimizer": {"kind": "adam", "lr": 1e-4, "beta1": 0.5, "beta2": 0.999},
                "training": {"batch_size": 128, "d_steps": 1, "unrolled_steps": 5},
            },
            steps=1500,
        ),
        # Measured: W1 ratio 6.3 (5.0-8.6), 7-8 modes; spectral_norm off: 47 (23-118), 0 modes.
        Preset(
            name="ring8-spectral",
            title="Spectral norm tames a fast discriminator",
            description="A fast D (Adam at 0.01, three steps per G step) against a G trained by "
            "plain SGD, which moves as far as D's slopes push it. Spectral normalisation keeps "
            "those slopes bounded: G's samples spread calmly onto the ring. Without it they are "
            "flung across the picture. Measured on five seeds: W1 ratio 5-9 with it, 23-118 "
            "without.",
            config={
                "data": {"name": "ring8"},
                "noise": {"kind": "gaussian", "dim": 2},
                "generator": {"layers": 2, "neurons": 32},
                "discriminator": {"layers": 2, "neurons": 32, "packing": 1,
                                  "spectral_norm": True},
                "loss": {"kind": "log"},
                "g_optimizer": {"kind": "sgd", "lr": 0.05, "momentum": 0.0},
                "d_optimizer": {"kind": "adam", "lr": 1e-2, "beta1": 0.5, "beta2": 0.999},
                "training": {"batch_size": 128, "d_steps": 3},
            },
            steps=2000,
        ),
        # Measured: W1 ratio 4.2 (1.4-5.9), 3/3 regions; instance_noise 0: 34 (14-50), 1-2.
        Preset(
            name="disjoint-instance-noise",
            title="Instance noise on three disjoint regions",
            description="A fast, sharp D and the original minimax G loss, whose gradient "
            "vanishes where D is sure. Noise added to every point D sees (σ 0.5, fading to 0 "
            "over 1,000 iterations) keeps D unsure, so G reaches all three regions; without it "
            "G mostly stays stuck on one. Measured on five seeds: all 3 regions and W1 ratio 1.4-6 "
            "with noise, 1-2 regions and 14-50 without.",
            config={
                "data": {"name": "disjoint"},
                "noise": {"kind": "gaussian", "dim": 2},
                "generator": {"layers": 2, "neurons": 32},
                "discriminator": {"layers": 3, "neurons": 64, "packing": 1},
                "loss": {"kind": "log", "generator": "minimax"},
                "g_optimizer": {"kind": "adam", "lr": 5e-4, "beta1": 0.5, "beta2": 0.999},
                "d_optimizer": {"kind": "adam", "lr": 1e-2, "beta1": 0.5, "beta2": 0.999},
                "training": {"batch_size": 128, "d_steps": 5, "instance_noise": 0.5,
                             "instance_noise_anneal": 1000},
            },
            steps=1500,
        ),
        # Measured: W1 ratio 4.5 (3.0-6.1), 2/2 modes; r2 0: 27 (17-33), 1/2 modes.
        Preset(
            name="gaussians-r2",
            title="R2 penalty calms a restless GAN",
            description="Adam with strong momentum (β1 0.9) at equal rates keeps G from "
            "settling: its samples swing across the picture. An R2 penalty (γ 10) on D's "
            "gradient at the fake samples damps the swinging and G settles on both Gaussians. "
            "Measured on five seeds: W1 ratio 3-6 with R2, 17-33 and one Gaussian without.",
            config={
                "data": {"name": "gaussians"},
                "noise": {"kind": "gaussian", "dim": 2},
                "generator": {"layers": 2, "neurons": 32},
                "discriminator": {"layers": 2, "neurons": 32, "packing": 1},
                "loss": {"kind": "log", "r2": 10.0},
                "g_optimizer": {"kind": "adam", "lr": 2e-3, "beta1": 0.9, "beta2": 0.999},
                "d_optimizer": {"kind": "adam", "lr": 2e-3, "beta1": 0.9, "beta2": 0.999},
                "training": {"batch_size": 128, "d_steps": 1},
            },
            steps=1500,
        ),
        # Measured: W1 ratio 2.9 (2.4-4.1) for the average, 4.5 (3.6-9.9) for the live G.
        Preset(
            name="gaussians-ema",
            title="Moving average of a shaky generator",
            description="Hinge loss and plain SGD at a high rate: G stays near the two "
            "Gaussians, but its samples shake from step to step. The page shows the moving "
            "average of G's weights (EMA 0.99), which holds still and fits better; turn the "
            "averaged view off to see the live G shake. Measured on five seeds: W1 ratio "
            "2.4-4.1 for the average, 3.6-9.9 for the live G.",
            config=merge(_HIGH_RATE_SGD, {"generator": {"ema": 0.99}, "view": {"average": True}}),
            steps=1500,
        ),
        # Measured: swing 0.52 (0.20-0.71), W1 ratio 20; alternating: 0.12 (0.07-0.16), 4.5.
        Preset(
            name="gaussians-simultaneous",
            title="Simultaneous updates swing",
            description="The shaky high-rate SGD setup with both networks updated from the same "
            "point each iteration, not in turn: G's samples keep swinging around the Gaussians "
            "instead of settling. Measured on five seeds: the centre of G's samples wanders "
            "about four times as far late in the run as with alternating updates.",
            config=merge(_HIGH_RATE_SGD, {"training": {"scheme": "simultaneous"}}),
            steps=1500,
        ),
        # Measured: swing 0.077 (0.046-0.10), W1 ratio 3.1; simultaneous: 0.52, 20.
        Preset(
            name="gaussians-extragradient",
            title="Extragradient settles simultaneous updates",
            description="The simultaneous-updates setup, but each update first looks one step "
            "ahead and then steps from where it was with the gradients found there (Gidel et "
            "al. 2019): G settles on both Gaussians. Measured on five seeds: the centre of G's "
            "samples wanders a sixth as far as with plain simultaneous updates.",
            config=merge(_HIGH_RATE_SGD, {"training": {"scheme": "extragradient"}}),
            steps=1500,
        ),
        # Measured: sharpest bend 0.8° (0.6-1.6) finely sampled, 35° at the page's grid
        # points; ReLU: 36° (26-84), 52° (larger on 4 seeds of 5); W1 ratio 2.7 vs 2.9.
        Preset(
            name="moons-gelu",
            title="Smooth manifold from a GELU generator",
            description="A generator with the smooth GELU activation instead of ReLU, which "
            "makes G piecewise flat: G's manifold is one smooth surface, not flat pieces meeting "
            "at creases, and it fits the moons as well. The difference is fine-grained: on the "
            "page's finest latent grid, shown here, the lines bend less sharply on most seeds. "
            "Measured on five seeds: sharpest bend along a finely sampled grid line about 1° "
            "with GELU, 26-84° with ReLU.",
            config={
                "data": {"name": "moons"},
                "noise": {"kind": "gaussian", "dim": 2},
                "generator": {"layers": 2, "neurons": 32, "activation": "gelu"},
                "discriminator": {"layers": 2, "neurons": 32, "activation": "relu",
                                  "packing": 2},
                "loss": {"kind": "log"},
                "g_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.9},
                "d_optimizer": {"kind": "adam", "lr": 1e-3, "beta1": 0.5, "beta2": 0.9},
                "training": {"batch_size": 256, "d_steps": 1, "lr_halflife": 500},
                "view": {"manifold": 64},  # the finest grid the page draws
            },
            steps=1500,
        ),
    )
}  # fmt: skip


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}") from None
