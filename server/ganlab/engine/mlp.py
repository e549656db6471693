"""Small multilayer perceptrons over flat parameters, with an optional leading run axis.

For networks this small the cost of a training step is almost all per-operation framework
overhead, so a network's parameters live in ONE flat tensor (views give each layer's weight
and bias), and the same code runs one network (flat shape (P,)) or S same-shaped networks of
different runs stacked (flat shape (S, P), one batched matrix product per layer).

Two ways through a network: `functional` for autograd (the general path: any activation, any
loss, penalties, unrolling), and `Layers.forward`/`backward`, hand-written backpropagation
without an autograd graph (the fast path), for activations whose derivative has a closed form
in their output. Tests check the fast path against the general one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

aten = torch.ops.aten
LEAKY_SLOPE = 0.2
Tensor = torch.Tensor


@dataclass(frozen=True)
class Activation:
    # The value, for autograd: all an activation needs.
    forward: Callable[[Tensor], Tensor]
    # Optional speed-ups for the fast path: the same in place (on a layer's fresh affine
    # output, which nothing else holds), and d(loss)/d(pre-activation) from d(loss)/d(output)
    # and the OUTPUT (so only outputs are kept). Without `backward`, networks using this
    # activation train through autograd.
    forward_: Callable[[Tensor], Tensor] | None = None
    backward: Callable[[Tensor, Tensor], Tensor] | None = None

    @property
    def closed_form(self) -> bool:
        return self.backward is not None


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(torch.relu, torch.relu_, lambda g, y: aten.threshold_backward(g, y, 0)),
    "leaky_relu": Activation(
        lambda x: F.leaky_relu(x, LEAKY_SLOPE),
        lambda x: F.leaky_relu_(x, LEAKY_SLOPE),
        lambda g, y: aten.leaky_relu_backward(g, y, LEAKY_SLOPE, True),
    ),
    "tanh": Activation(torch.tanh, torch.tanh_, lambda g, y: aten.tanh_backward(g, y)),
    "elu": Activation(F.elu, F.elu_, lambda g, y: aten.elu_backward(g, 1.0, 1.0, 1.0, True, y)),
    # Their derivatives are not functions of their outputs: autograd only.
    "gelu": Activation(F.gelu),
    "silu": Activation(F.silu),
}

Shapes = list[tuple[int, int]]


def views(flat: Tensor, shapes: Shapes) -> tuple[list[Tensor], list[Tensor]]:
    """Each layer's weight (..., fan_in, fan_out) and bias (..., fan_out) as views of `flat`
    (..., P), in the flat layout: weight then bias, layer by layer."""
    weights, biases, offset = [], [], 0
    for fan_in, fan_out in shapes:
        weights.append(
            flat[..., offset : offset + fan_in * fan_out].unflatten(-1, (fan_in, fan_out))
        )
        offset += fan_in * fan_out
        biases.append(flat[..., offset : offset + fan_out])
        offset += fan_out
    return weights, biases


def _affine(b: Tensor, h: Tensor, w: Tensor) -> Tensor:
    if w.dim() == 2:
        return torch.addmm(b, h, w)
    return torch.baddbmm(b.unsqueeze(-2), h, w)


def functional(flat: Tensor, shapes: Shapes, act: Activation, x: Tensor) -> Tensor:
    """The network's output for autograd, parameters taken from `flat` ((P,) or (S, P) with
    x (n, in) or (S, n, in))."""
    weights, biases = views(flat, shapes)
    h = x
    last = len(shapes) - 1
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = _affine(b, h, w)
        if i < last:
            h = act.forward(h)
    return h


class Layers:
    """A network's (or S stacked networks') layers as views of flat parameters, for the
    fast path: forward keeping every layer's output, and hand-written backpropagation."""

    def __init__(self, flat: Tensor, shapes: Shapes, act: Activation) -> None:
        self.shapes = shapes
        self.act = act
        self.num_layers = len(shapes)
        self.weights, self.biases = views(flat, shapes)
        self.weights_t = [w.transpose(-2, -1) for w in self.weights]
        # Resolved once, not at every layer of every step (the per-call cost is what counts).
        self._act_ = act.forward_ or act.forward
        self._act_backward = act.backward
        stacked = flat.dim() == 2
        self._affine = torch.baddbmm if stacked else torch.addmm
        self._mm = torch.bmm if stacked else torch.mm
        self._biases = [b.unsqueeze(-2) for b in self.biases] if stacked else self.biases

    def forward(self, x: Tensor) -> list[Tensor]:
        """All layer outputs, input first; the last is the network's output."""
        outs, h = [x], x
        last = self.num_layers - 1
        affine, act_ = self._affine, self._act_
        for i, (w, b) in enumerate(zip(self.weights, self._biases, strict=True)):
            h = affine(b, h, w)
            if i < last:
                h = act_(h)
            outs.append(h)
        return outs

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)[-1]

    def backward(
        self,
        outs: list[Tensor],
        grad_out: Tensor,
        into: tuple[list[Tensor], list[Tensor]] | None = None,
        param_grads: bool = True,
        input_grad: bool = False,
    ) -> tuple[Tensor | None, Tensor | None]:
        """Backpropagate `grad_out`. Returns (parameter gradients in the flat layout, or None
        when `into` (a network's gradient views, written in place) or not `param_grads`; the
        gradient with respect to the input when `input_grad`)."""
        act_backward = self._act_backward
        assert act_backward is not None, "no closed form: use the general path"
        parts: list[Tensor] = []
        g = grad_out
        for i in range(self.num_layers - 1, -1, -1):
            if param_grads and into is not None:
                torch.mm(outs[i].t(), g, out=into[0][i])
                torch.sum(g, 0, out=into[1][i])
            elif param_grads:
                parts.append(g.sum(-2))
                parts.append(torch.bmm(outs[i].transpose(-2, -1), g).flatten(-2))
            if i == 0 and not input_grad:
                break
            g = self._mm(g, self.weights_t[i])
            if i > 0:
                g = act_backward(g, outs[i])
        flat = torch.cat(parts[::-1], dim=-1) if parts else None
        return flat, (g if input_grad else None)


class MLP:
    """Dense layers `sizes[0] -> ... -> sizes[-1]`, activation on every hidden layer, linear out."""

    def __init__(
        self,
        sizes: list[int],
        activation: str,
        device: torch.device,
        generator: torch.Generator | None = None,
    ) -> None:
        self.sizes = list(sizes)
        self.activation = activation
        self.act = ACTIVATIONS[activation]
        self.device = device
        self.shapes: Shapes = list(itertools.pairwise(sizes))
        total = sum(i * o + o for i, o in self.shapes)
        self.params = torch.empty(total, device=device)
        self.grad = torch.zeros(total, device=device)
        self.layers = Layers(self.params, self.shapes, self.act)
        self.weights, self.biases = self.layers.weights, self.layers.biases
        self.grad_views = views(self.grad, self.shapes)
        self.init(generator)

    @property
    def num_layers(self) -> int:
        return len(self.shapes)

    def init(self, generator: torch.Generator | None) -> None:
        """PyTorch's default Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        with torch.no_grad():
            values = torch.rand(self.params.numel(), generator=generator)
            offset = 0
            for fan_in, fan_out in self.shapes:
                n = fan_in * fan_out + fan_out
                bound = 1.0 / math.sqrt(fan_in)
                values[offset : offset + n].mul_(2 * bound).sub_(bound)
                offset += n
            self.params.copy_(values.to(self.device))

    def forward(self, x: Tensor) -> list[Tensor]:
        return self.layers.forward(x)

    def __call__(self, x: Tensor) -> Tensor:
        if torch.is_grad_enabled():
            return functional(self.params, self.shapes, self.act, x)
        return self.layers(x)

    def backward(
        self, outs: list[Tensor], grad_out: Tensor, param_grads: bool = True,
        input_grad: bool = False,
    ) -> Tensor | None:  # fmt: skip
        """Backpropagate `grad_out`, writing parameter gradients into `self.grad` when
        `param_grads`; returns the gradient with respect to the input if asked."""
        return self.layers.backward(outs, grad_out, self.grad_views, param_grads, input_grad)[1]

    def functional(self, flat: Tensor, x: Tensor) -> Tensor:
        """The same network for autograd, with parameters taken from `flat`."""
        return functional(flat, self.shapes, self.act, x)

    def layer_grad_norms(self) -> list[float]:
        """Norm of each layer's gradient (weights and bias together)."""
        return [
            float(torch.sqrt(gw.pow(2).sum() + gb.pow(2).sum()))
            for gw, gb in zip(*self.grad_views, strict=True)
        ]


def network_sizes(inputs: int, outputs: int, layers: int, neurons: int) -> list[int]:
    return [inputs, *([neurons] * layers), outputs]
