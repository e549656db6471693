"""A small multilayer perceptron with hand-written backpropagation.

For networks this small the cost of a training step is almost all per-operation framework
overhead, so the parameters live in ONE flat tensor (views give each layer's weight and
bias), gradients in another, and forward/backward are written out with as few tensor
operations as possible: no autograd graph, no module hooks. `functional` is the same network
for autograd, used where second derivatives are needed (gradient penalties) and by tests as
the reference for `backward`.
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


@dataclass(frozen=True)
class ActivationFns:
    forward: Callable[[torch.Tensor], torch.Tensor]
    # d(loss)/d(pre-activation) from d(loss)/d(output) and the OUTPUT (so only outputs are kept).
    backward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    # The same as `forward`, overwriting its input: for a layer's fresh affine output, which
    # nothing else holds (one allocation less per layer).
    forward_: Callable[[torch.Tensor], torch.Tensor]


ACTIVATIONS: dict[str, ActivationFns] = {
    "relu": ActivationFns(torch.relu, lambda g, y: aten.threshold_backward(g, y, 0), torch.relu_),
    "leaky_relu": ActivationFns(
        lambda x: F.leaky_relu(x, LEAKY_SLOPE),
        lambda g, y: aten.leaky_relu_backward(g, y, LEAKY_SLOPE, True),
        lambda x: F.leaky_relu_(x, LEAKY_SLOPE),
    ),
    "tanh": ActivationFns(torch.tanh, lambda g, y: aten.tanh_backward(g, y), torch.tanh_),
    "elu": ActivationFns(F.elu, lambda g, y: aten.elu_backward(g, 1.0, 1.0, 1.0, True, y), F.elu_),
}


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
        self.shapes = list(itertools.pairwise(sizes))
        total = sum(i * o + o for i, o in self.shapes)
        self.params = torch.empty(total, device=device)
        self.grad = torch.zeros(total, device=device)
        self.weights, self.biases = self._views(self.params)
        self.grad_weights, self.grad_biases = self._views(self.grad)
        self.weights_t = [w.t() for w in self.weights]
        self.init(generator)

    @property
    def num_layers(self) -> int:
        return len(self.shapes)

    def _views(self, flat: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        weights, biases, offset = [], [], 0
        for fan_in, fan_out in self.shapes:
            weights.append(flat[offset : offset + fan_in * fan_out].view(fan_in, fan_out))
            offset += fan_in * fan_out
            biases.append(flat[offset : offset + fan_out])
            offset += fan_out
        return weights, biases

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

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """All layer outputs, input first; the last is the network's output."""
        return layer_outputs(self.weights, self.biases, self.act, x)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        last = self.num_layers - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.addmm(b, h, w)
            if i < last:
                h = self.act.forward_(h)
        return h

    def backward(
        self,
        outs: list[torch.Tensor],
        grad_out: torch.Tensor,
        param_grads: bool = True,
        input_grad: bool = False,
    ) -> torch.Tensor | None:
        """Backpropagate `grad_out`; writes parameter gradients into `self.grad` (overwriting)
        when `param_grads`, and returns the gradient with respect to the input if asked."""
        g = grad_out
        for i in range(self.num_layers - 1, -1, -1):
            if param_grads:
                torch.mm(outs[i].t(), g, out=self.grad_weights[i])
                torch.sum(g, 0, out=self.grad_biases[i])
            if i == 0 and not input_grad:
                return None
            g = torch.mm(g, self.weights_t[i])
            if i > 0:
                g = self.act.backward(g, outs[i])
        return g

    def functional(self, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The same network for autograd, with parameters taken from `flat`."""
        weights, biases = self._views(flat)
        h = x
        last = self.num_layers - 1
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            h = torch.addmm(b, h, w)
            if i < last:
                h = self.act.forward(h)
        return h

    def layer_grad_norms(self) -> list[float]:
        """Norm of each layer's gradient (weights and bias together)."""
        return [
            float(torch.sqrt(gw.pow(2).sum() + gb.pow(2).sum()))
            for gw, gb in zip(self.grad_weights, self.grad_biases, strict=True)
        ]


def layer_outputs(
    weights: list[torch.Tensor],
    biases: list[torch.Tensor],
    act: ActivationFns,
    x: torch.Tensor,
    affine: Callable[..., torch.Tensor] = torch.addmm,
) -> list[torch.Tensor]:
    """Every layer's output, input first, activation on all but the last; `affine` is
    addmm for one network, baddbmm for several stacked (batched.py)."""
    outs, h = [x], x
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = affine(b, h, w)
        if i < last:
            h = act.forward_(h)
        outs.append(h)
    return outs


def network_sizes(inputs: int, outputs: int, layers: int, neurons: int) -> list[int]:
    return [inputs, *([neurons] * layers), outputs]
