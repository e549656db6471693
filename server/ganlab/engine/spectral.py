"""Spectral normalisation (Miyato et al. 2018): each weight matrix divided by an estimate of
its largest singular value, kept by power iteration, as torch.nn.utils.parametrizations.
spectral_norm does (tests compare the two).

Weights are in the engine's layout (..., fan_in, fan_out), the transpose of torch's; each
layer keeps u (fan_out) and v (fan_in), with an optional leading run axis like the weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganlab.engine.mlp import Shapes, views

Tensor = torch.Tensor
EPS = 1e-12
# Power iterations when the vectors are first drawn, as torch does, so that the first
# estimate is already close.
START_ITERATIONS = 15
Vectors = list[tuple[Tensor, Tensor]]


def start_vectors(flat: Tensor, shapes: Shapes, generator: torch.Generator) -> Vectors:
    """Random unit u and v for each layer of the network with parameters `flat` (P,)."""
    out: Vectors = []
    for fan_in, fan_out in shapes:
        u = F.normalize(torch.randn(fan_out, generator=generator), dim=0, eps=EPS)
        v = F.normalize(torch.randn(fan_in, generator=generator), dim=0, eps=EPS)
        out.append((u.to(flat.device), v.to(flat.device)))
    power_iteration_(flat, shapes, out, START_ITERATIONS)
    return out


def power_iteration_(flat: Tensor, shapes: Shapes, vectors: Vectors, times: int = 1) -> None:
    """Refine every layer's u and v in place: u = normalize(W v), v = normalize(W^T u) in
    torch's layout (the weight matrix W maps fan_in to fan_out)."""
    weights, _ = views(flat.detach(), shapes)
    with torch.no_grad():
        for w, (u, v) in zip(weights, vectors, strict=True):
            for _ in range(times):
                u.copy_(F.normalize(_times_v(w, v), dim=-1, eps=EPS))
                v.copy_(F.normalize((w @ u.unsqueeze(-1)).squeeze(-1), dim=-1, eps=EPS))


def _times_v(w: Tensor, v: Tensor) -> Tensor:
    """W v in torch's layout: (..., fan_out)."""
    return (v.unsqueeze(-2) @ w).squeeze(-2)


def sigmas(flat: Tensor, shapes: Shapes, vectors: Vectors) -> list[Tensor]:
    """Each layer's estimate u . W v (shape (...,)), differentiable in `flat`."""
    weights, _ = views(flat, shapes)
    return [(u * _times_v(w, v)).sum(-1) for w, (u, v) in zip(weights, vectors, strict=True)]


def normalized(flat: Tensor, shapes: Shapes, vectors: Vectors) -> Tensor:
    """`flat` with every weight matrix divided by its σ estimate (biases as they are); u and v
    are constants here (no power iteration), so autograd differentiates through σ only."""
    weights, biases = views(flat, shapes)
    parts: list[Tensor] = []
    for w, b, s in zip(weights, biases, sigmas(flat, shapes, vectors), strict=True):
        parts += [(w / s[..., None, None]).flatten(-2), b]
    return torch.cat(parts, dim=-1)


def stacked(per_run: list[Vectors]) -> Vectors:
    """The vectors of several runs, each layer's u and v stacked along a leading run axis."""
    return [
        (torch.stack([r[i][0] for r in per_run]), torch.stack([r[i][1] for r in per_run]))
        for i in range(len(per_run[0]))
    ]
