"""What one training iteration and one picture of a config cost, in floating-point operations.

A live session shares a CPU core with others; these estimates let the server refuse a config
so large that one of its steps or pictures would stall every session beside it.
"""

from __future__ import annotations

from itertools import pairwise

from ganlab.engine.config import ExperimentConfig
from ganlab.engine.mlp import network_sizes


def _weights(sizes: list[int]) -> int:
    return sum(a * b for a, b in pairwise(sizes))


def iteration_flops(c: ExperimentConfig) -> float:
    """Multiply-adds x 2 of one iteration: forward and backward (x3) of both networks over
    the batch, for each update the training scheme makes (an upper bound)."""
    m = c.discriminator.packing
    g = _weights(network_sizes(c.noise.dim, 2, c.generator.layers, c.generator.neurons))
    d = _weights(network_sizes(2 * m, 1, c.discriminator.layers, c.discriminator.neurons))
    b, t, loss = c.training.batch_size, c.training, c.loss
    # Each gradient penalty differentiates D's input gradient again: about twice D's pass more.
    penalties = (loss.kind == "wgan_gp" and loss.gp_weight > 0) + (loss.r1 > 0) + (loss.r2 > 0)
    # A D update: G forward on the batch, D forward+backward on reals and fakes (packs).
    d_update = 2 * b * g + 6 * (2 * b / m) * d * (1 + 2 * penalties)
    # A G update: G and D forward+backward on the batch; each unrolled step is a D update
    # whose gradient is differentiated again (about three times its cost) and G's pass.
    g_update = 6 * b * g + 6 * (b / m) * d + t.unrolled_steps * 3 * (6 * b * g + d_update)
    if t.scheme == "alternating":
        return t.d_steps * d_update + t.g_steps * g_update
    # One update of each, or, for extragradient, a look-ahead and an update of each.
    return (2 if t.scheme == "extragradient" else 1) * (d_update + g_update)


def picture_flops(c: ExperimentConfig) -> float:
    """One picture: D over the heatmap grid and the shown samples, G over the latent grid
    and the fixed noise, and D's backward pass for the gradient arrows."""
    m = c.discriminator.packing
    g = _weights(network_sizes(c.noise.dim, 2, c.generator.layers, c.generator.neurons))
    d = _weights(network_sizes(2 * m, 1, c.discriminator.layers, c.discriminator.neurons))
    v = c.view
    latent = 4 * v.manifold if c.noise.dim == 1 else v.manifold**2
    return 2 * d * (v.grid**2 + v.reals + 2 * v.fakes) + 2 * g * (latent + v.fakes)
