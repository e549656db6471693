"""One training iteration for many runs at once, when their networks have the same shapes.

A live server trains many small sessions side by side. For networks this small a step is
almost all per-operation overhead (see mlp.py), so stepping S runs with one batched matrix
product per layer costs little more than stepping one. Each run keeps its own weights,
optimizer, random streams and counters: the group stacks the weights for the forward and
backward passes, hands each run its own gradient, and lets each run's optimizer apply it.
A run steps exactly as it would alone (same samples, same update rule), up to the rounding
of the batched matrix products.

Runs that need autograd (gradient penalties: WGAN-GP, R1, R2) or differ in anything that shapes the
computation have different `group_key`s and step alone.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import torch

from ganlab.engine.mlp import MLP, layer_outputs
from ganlab.engine.optimizers import step_all
from ganlab.engine.trainer import Trainer


def group_key(t: Trainer) -> Hashable | None:
    """Runs with equal keys can step together; None: this run steps alone."""
    if t.needs_autograd:
        return None
    c = t.config
    return (
        str(t.device),
        tuple(t.G.sizes),
        t.G.activation,
        tuple(t.D.sizes),
        t.D.activation,
        c.discriminator.packing,
        c.training.batch_size,
        c.training.d_steps,
        c.training.g_steps,
        c.loss.kind,
        c.loss.generator,
        c.loss.label_smoothing,
    )


class _Stacked:
    """The same-shaped networks of S runs as batched layer weights, input first."""

    def __init__(self, nets: Sequence[MLP]) -> None:
        first = nets[0]
        self.act = first.act
        self.num_layers = first.num_layers
        flat = torch.stack([n.params for n in nets])
        self.weights, self.biases, offset = [], [], 0
        for fan_in, fan_out in first.shapes:
            w = flat[:, offset : offset + fan_in * fan_out].view(len(nets), fan_in, fan_out)
            offset += fan_in * fan_out
            self.weights.append(w)
            self.biases.append(flat[:, offset : offset + fan_out].unsqueeze(1))
            offset += fan_out

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return layer_outputs(self.weights, self.biases, self.act, x, torch.baddbmm)

    def backward(
        self, outs: list[torch.Tensor], grad_out: torch.Tensor, param_grads: bool = True
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(S, P) parameter gradients in each run's flat layout (None unless `param_grads`)
        and the gradient with respect to the input."""
        parts: list[torch.Tensor] = []
        g = grad_out
        for i in range(self.num_layers - 1, -1, -1):
            if param_grads:
                parts.append(g.sum(1))
                parts.append(torch.bmm(outs[i].transpose(1, 2), g).flatten(1))
            g = torch.bmm(g, self.weights[i].transpose(1, 2))
            if i > 0:
                g = self.act.backward(g, outs[i])
        flat = torch.cat(parts[::-1], dim=1) if param_grads else None
        return flat, g


def _give_grads(nets: Sequence[MLP], flat: torch.Tensor) -> None:
    torch._foreach_copy_([n.grad for n in nets], list(flat.unbind(0)))


def _d_update(runs: Sequence[Trainer], g_stack: _Stacked) -> None:
    t0 = runs[0]
    m = t0.config.discriminator.packing
    packs, n = t0._batch()
    real = torch.stack([t.data_stream.take(n) for t in runs])
    z = torch.stack([t.noise_stream.take(n) for t in runs])
    fake = g_stack.forward(z)[-1]
    x = torch.cat([real, fake], dim=1).view(len(runs), 2 * packs, 2 * m)
    d_stack = _Stacked([t.D for t in runs])
    outs = d_stack.forward(x)
    o = outs[-1]
    o_real, o_fake = o[:, :packs], o[:, packs:]
    g_real, g_fake = t0.objective.d_grad(o_real, o_fake, 1.0 - t0.config.loss.label_smoothing)
    flat, _ = d_stack.backward(outs, torch.cat([g_real, g_fake], dim=1))
    assert flat is not None
    exact = t0.objective.d_bias_grad(o_real, o_fake)
    if exact is not None:  # the output bias is each run's last parameter (see Trainer)
        flat[:, -1:] = exact
    _give_grads([t.D for t in runs], flat)
    for t, r, f in zip(runs, o_real.unbind(0), o_fake.unbind(0), strict=True):
        t._last_d = (r, f)
        t.d_opt.lr_scale = t._lr_scale()
    step_all([t.d_opt for t in runs])
    for t in runs:
        t._d_applied()


def _g_update(runs: Sequence[Trainer], g_stack: _Stacked) -> None:
    t0 = runs[0]
    m = t0.config.discriminator.packing
    packs, n = t0._batch()
    z = torch.stack([t.noise_stream.take(n) for t in runs])
    g_outs = g_stack.forward(z)
    fake = g_outs[-1]
    d_stack = _Stacked([t.D for t in runs])
    d_outs = d_stack.forward(fake.reshape(len(runs), packs, 2 * m))
    o = d_outs[-1]
    g_o = t0.objective.g_grad(o, t0.config.loss.generator == "minimax")
    _, g_x = d_stack.backward(d_outs, g_o, param_grads=False)
    flat, _ = g_stack.backward(g_outs, g_x.reshape(len(runs), n, 2))
    assert flat is not None
    _give_grads([t.G for t in runs], flat)
    for t, last in zip(runs, o.unbind(0), strict=True):
        t._last_g = last
        t.g_opt.lr_scale = t._lr_scale()
    step_all([t.g_opt for t in runs])
    for t in runs:
        t.g_updates += 1


def step_together(runs: Sequence[Trainer]) -> None:
    """One iteration of every run; they must share one `group_key` (not None)."""
    if len(runs) == 1:
        runs[0].step()
        return
    t = runs[0].config.training
    with torch.inference_mode():
        g_stack = _Stacked([r.G for r in runs])
        for _ in range(t.d_steps):
            _d_update(runs, g_stack)
        for i in range(t.g_steps):
            if i:  # G changed: stack its new weights
                g_stack = _Stacked([r.G for r in runs])
            _g_update(runs, g_stack)
    for r in runs:
        r.iteration += 1


def diverged_runs(runs: Sequence[Trainer]) -> list[bool]:
    """`Trainer.diverged` of each run, in one check for all of them."""
    with torch.inference_mode():
        g = torch.isfinite(torch.stack([t.G.params for t in runs])).all(1)
        d = torch.isfinite(torch.stack([t.D.params for t in runs])).all(1)
        return [not ok for ok in (g & d).tolist()]
