"""Training throughput: the engine against a textbook eager PyTorch loop, in the same run.

Configuration (fixed by the benchmark, one CPU thread): 2D Gaussian noise, G and D with two
hidden layers of 16 ReLU units, batch 150, log loss with the non-saturating generator loss,
Adam (lr 1e-3) for both, one D and one G update per iteration.

Prints both rates and their ratio, the time to compute one picture at the default
resolution, and the time from an architecture change to the end of the next training step.
Then the general (autograd) path's rate on the same configuration, and the rate of each
training variant (this configuration with that one field changed), each also as a ratio to
the textbook loop measured in the same run.
Then the live server's case: 10 runs of this configuration (different seeds) stepped
together in one batched iteration (step.py), against the engine stepping them one by one.

    .venv/bin/python benchmarks/bench_training.py [--iterations N] [--repeats R] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch
from torch import nn

from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.step import step_together
from ganlab.engine.trainer import Trainer

CONFIG = {
    "data": {"name": "gaussians"},
    "noise": {"kind": "gaussian", "dim": 2},
    "generator": {"layers": 2, "neurons": 16, "activation": "relu"},
    "discriminator": {"layers": 2, "neurons": 16, "activation": "relu"},
    "loss": {"kind": "log", "generator": "non_saturating"},
    "g_optimizer": {"kind": "adam", "lr": 1e-3},
    "d_optimizer": {"kind": "adam", "lr": 1e-3},
    "training": {"batch_size": 150, "d_steps": 1, "g_steps": 1},
    "device": "cpu",
}
BATCH = 150


def textbook_loop(iterations: int) -> float:
    """The loop a tutorial writes: nn.Sequential, BCE with logits, Adam, zero_grad/backward/step.
    Returns seconds per iteration."""
    torch.manual_seed(0)

    def mlp(n_in: int, n_out: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, n_out)
        )

    gen, disc = mlp(2, 2), mlp(2, 1)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    means = torch.tensor([[0.3, 0.7], [0.7, 0.4]])
    sigmas = torch.tensor([[0.1, 0.1], [0.05, 0.2]])

    def real_batch() -> torch.Tensor:
        k = torch.randint(0, 2, (BATCH,))
        return means[k] + sigmas[k] * torch.randn(BATCH, 2)

    start = time.perf_counter()
    for _ in range(iterations):
        opt_d.zero_grad()
        fake = gen(torch.randn(BATCH, 2)).detach()
        loss_d = bce(disc(real_batch()), ones) + bce(disc(fake), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(disc(gen(torch.randn(BATCH, 2))), ones)
        loss_g.backward()
        opt_g.step()
    return (time.perf_counter() - start) / iterations


# Each training variant: the benchmark's configuration with one change.
VARIANTS: dict[str, dict[str, Any]] = {
    "spectral_norm": {"discriminator": {**CONFIG["discriminator"], "spectral_norm": True}},
    "ema 0.999": {"generator": {**CONFIG["generator"], "ema": 0.999}},
    "unrolled_steps 5": {"training": {**CONFIG["training"], "unrolled_steps": 5}},
    "instance_noise 0.1": {"training": {**CONFIG["training"], "instance_noise": 0.1}},
    "r1 1": {"loss": {**CONFIG["loss"], "r1": 1.0}},
    "r2 1": {"loss": {**CONFIG["loss"], "r2": 1.0}},
    "wgan_gp": {"loss": {"kind": "wgan_gp"}},
    "simultaneous": {"training": {**CONFIG["training"], "scheme": "simultaneous"}},
    "extragradient": {"training": {**CONFIG["training"], "scheme": "extragradient"}},
    "gelu": {"generator": {**CONFIG["generator"], "activation": "gelu"},
             "discriminator": {**CONFIG["discriminator"], "activation": "gelu"}},
    "silu": {"generator": {**CONFIG["generator"], "activation": "silu"},
             "discriminator": {**CONFIG["discriminator"], "activation": "silu"}},
}  # fmt: skip


def engine_loop(
    iterations: int, change: dict[str, Any] | None = None, closed_forms: bool = True
) -> float:
    trainer = Trainer({**CONFIG, **(change or {})}, closed_forms=closed_forms)
    trainer.step()  # the first step draws the streams' first chunks
    start = time.perf_counter()
    for _ in range(iterations):
        trainer.step()
    return (time.perf_counter() - start) / iterations


def group_loop(iterations: int, runs: int = 10) -> float:
    """Seconds per iteration of each of `runs` runs, all stepped together."""
    trainers = [Trainer({**CONFIG, "seed": s}) for s in range(runs)]
    start = time.perf_counter()
    for _ in range(iterations):
        step_together(trainers)
    return (time.perf_counter() - start) / (iterations * runs)


def picture_time(repeats: int = 200) -> float:
    trainer = Trainer(CONFIG)
    trainer.train(200)
    cache = PictureCache()
    compute_picture(trainer, cache)  # builds the cached fixed inputs once
    start = time.perf_counter()
    for _ in range(repeats):
        compute_picture(trainer, cache)
    return (time.perf_counter() - start) / repeats


def architecture_change_latency(change: dict[str, Any] | None = None) -> float:
    """Seconds from a config change that rebuilds both networks to the end of the next step."""
    trainer = Trainer({**CONFIG, **(change or {})})
    trainer.train(100)
    start = time.perf_counter()
    trainer.configure({"generator": {"layers": 4, "neurons": 64}, "discriminator": {"layers": 3}})
    trainer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    torch.set_num_threads(1)
    engine_loop(300)  # warm-up both paths
    textbook_loop(300)
    # Interleave so that drift of the machine's speed hits both alike; keep the best of each.
    engine, textbook, group, general = [], [], [], []
    variants: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.repeats):
        engine.append(engine_loop(args.iterations))
        textbook.append(textbook_loop(args.iterations))
        group.append(group_loop(args.iterations // 10))
        general.append(engine_loop(args.iterations // 3, closed_forms=False))
        for name, change in VARIANTS.items():
            variants[name].append(engine_loop(args.iterations // 6, change))
    result = {
        "engine_it_per_s": 1.0 / min(engine),
        "textbook_it_per_s": 1.0 / min(textbook),
        "speedup": min(textbook) / min(engine),
        "engine_it_per_s_median": 1.0 / statistics.median(engine),
        "textbook_it_per_s_median": 1.0 / statistics.median(textbook),
        "group_of_10_run_iterations_per_s": 1.0 / min(group),
        "group_speedup": min(engine) / min(group),
        "picture_ms": picture_time() * 1000,
        "architecture_change_ms": architecture_change_latency() * 1000,
        "general_path_it_per_s": 1.0 / min(general),
        "general_path_speedup": min(textbook) / min(general),
        "variants_it_per_s": {name: 1.0 / min(v) for name, v in variants.items()},
        "variants_speedup": {name: min(textbook) / min(v) for name, v in variants.items()},
        # The slowest path's case: autograd for D with spectral norm and GELU in both nets.
        "architecture_change_general_ms": architecture_change_latency(
            {**VARIANTS["gelu"], "discriminator": {**VARIANTS["gelu"]["discriminator"],
                                                   "spectral_norm": True}}
        ) * 1000,
    }  # fmt: skip
    if args.json:
        print(json.dumps(result))
        return
    print(f"engine     {result['engine_it_per_s']:8.0f} it/s")
    print(f"textbook   {result['textbook_it_per_s']:8.0f} it/s")
    print(f"speedup    {result['speedup']:8.2f} x   (target >= 4)")
    print(f"10 runs together {result['group_of_10_run_iterations_per_s']:6.0f} run-iterations/s "
          f"in all, {result['group_speedup']:.2f} x stepping them one by one")  # fmt: skip
    print(f"picture    {result['picture_ms']:8.3f} ms  (target < 2)")
    print(f"arch change to next step {result['architecture_change_ms']:.1f} ms  (target < 300)")
    print(f"  with spectral norm and GELU {result['architecture_change_general_ms']:.1f} ms")
    print(f"general path {result['general_path_it_per_s']:6.0f} it/s  "
          f"({result['general_path_speedup']:.2f} x the textbook loop)")  # fmt: skip
    for name in VARIANTS:
        print(f"  {name:20s} {result['variants_it_per_s'][name]:6.0f} it/s  "
              f"({result['variants_speedup'][name]:.2f} x the textbook loop)")  # fmt: skip


if __name__ == "__main__":
    main()
