"""Optimizers that update one flat parameter tensor in a handful of in-place operations.

They follow the update rules of torch.optim's SGD, Adam and RMSprop (tests compare them),
but work on a single tensor so that a step costs a few operations, not a few per layer.
Changing the learning rate or betas keeps the state; `state` and `load` save and restore it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ganlab.engine.config import OptimizerConfig

EPS = 1e-8
Tensor = torch.Tensor
# An optimizer's state for a simulated update: its buffers and its step count.
SimState = dict[str, torch.Tensor | int]


class FlatOptimizer:
    def __init__(self, params: torch.Tensor, grad: torch.Tensor, config: OptimizerConfig) -> None:
        self.params = params
        self.grad = grad
        self.config = config
        self.steps = 0
        self.buffers: dict[str, torch.Tensor] = {}
        # Multiplies config.lr: the trainer's learning-rate schedule sets it.
        self.lr_scale = 1.0

    @property
    def lr(self) -> float:
        return self.config.lr * self.lr_scale

    def step(self) -> None:
        raise NotImplementedError

    def simulate(self, params: Tensor, grad: Tensor, state: SimState) -> tuple[Tensor, SimState]:
        """The same update rule without touching anything: new parameters and state from
        `params`, `grad` and a state from `sim_state()`, differentiable (unrolled steps)."""
        raise NotImplementedError

    def sim_state(self) -> SimState:
        """A copy of the optimizer's state for `simulate`."""
        return {**{k: v.detach().clone() for k, v in self.buffers.items()}, "steps": self.steps}

    def state(self) -> dict[str, torch.Tensor]:
        out = {name: buf for name, buf in self.buffers.items()}
        out["steps"] = torch.tensor([self.steps], dtype=torch.int64)
        return out

    def load(self, state: dict[str, torch.Tensor]) -> None:
        self.steps = int(state["steps"][0])
        for name, buf in self.buffers.items():
            buf.copy_(state[name].to(buf.device))

    def _buffer(self, name: str) -> torch.Tensor:
        buf = self.buffers.get(name)
        if buf is None:
            buf = self.buffers[name] = torch.zeros_like(self.params)
        return buf


class SGD(FlatOptimizer):
    def __init__(self, params: torch.Tensor, grad: torch.Tensor, config: OptimizerConfig) -> None:
        super().__init__(params, grad, config)
        self._buffer("momentum")

    def step(self) -> None:
        c = self.config
        self.steps += 1
        if c.momentum == 0.0:
            self.params.add_(self.grad, alpha=-self.lr)
            return
        buf = self.buffers["momentum"]
        # torch.optim.SGD starts the buffer at the first gradient.
        if self.steps == 1:
            buf.copy_(self.grad)
        else:
            buf.mul_(c.momentum).add_(self.grad)
        self.params.add_(buf, alpha=-self.lr)

    def simulate(self, params: Tensor, grad: Tensor, state: SimState) -> tuple[Tensor, SimState]:
        c, steps = self.config, int(state["steps"]) + 1
        if c.momentum == 0.0:
            return params - self.lr * grad, {**state, "steps": steps}
        buf = grad if steps == 1 else _t(state["momentum"]) * c.momentum + grad
        return params - self.lr * buf, {**state, "momentum": buf, "steps": steps}


def _t(x: Tensor | int) -> Tensor:
    assert isinstance(x, Tensor)
    return x


def _sqrt(x: Tensor) -> Tensor:
    """sqrt with a finite derivative at 0 (where the value is below EPS's reach anyway): a
    coordinate whose gradient is exactly 0 must not turn a differentiated update into NaN."""
    return x.clamp_min(1e-30).sqrt()


class Adam(FlatOptimizer):
    def __init__(self, params: torch.Tensor, grad: torch.Tensor, config: OptimizerConfig) -> None:
        super().__init__(params, grad, config)
        self._buffer("exp_avg")
        self._buffer("exp_avg_sq")
        self._step_tensor = torch.zeros((), device=params.device)
        self._fused = hasattr(torch, "_fused_adam_")
        self._denom = torch.empty_like(params)

    def step(self) -> None:
        c = self.config
        self.steps += 1
        m, v = self.buffers["exp_avg"], self.buffers["exp_avg_sq"]
        if self._fused and _fused_adam([self]):
            return
        m.lerp_(self.grad, 1 - c.beta1)
        v.mul_(c.beta2).addcmul_(self.grad, self.grad, value=1 - c.beta2)
        bias1 = 1 - c.beta1**self.steps
        bias2 = 1 - c.beta2**self.steps
        torch.sqrt(v, out=self._denom).div_(bias2**0.5).add_(EPS)
        self.params.addcdiv_(m, self._denom, value=-self.lr / bias1)

    def simulate(self, params: Tensor, grad: Tensor, state: SimState) -> tuple[Tensor, SimState]:
        c, steps = self.config, int(state["steps"]) + 1
        m = _t(state["exp_avg"]).lerp(grad, 1 - c.beta1)
        v = _t(state["exp_avg_sq"]) * c.beta2 + (1 - c.beta2) * grad * grad
        denom = _sqrt(v / (1 - c.beta2**steps)) + EPS
        new = params - (self.lr / (1 - c.beta1**steps)) * m / denom
        return new, {"exp_avg": m, "exp_avg_sq": v, "steps": steps}


class RMSProp(FlatOptimizer):
    def __init__(self, params: torch.Tensor, grad: torch.Tensor, config: OptimizerConfig) -> None:
        super().__init__(params, grad, config)
        self._buffer("square_avg")
        self._buffer("momentum")
        self._denom = torch.empty_like(params)

    def step(self) -> None:
        c = self.config
        self.steps += 1
        sq = self.buffers["square_avg"]
        sq.mul_(c.alpha).addcmul_(self.grad, self.grad, value=1 - c.alpha)
        torch.sqrt(sq, out=self._denom).add_(EPS)
        if c.momentum > 0:
            buf = self.buffers["momentum"]
            buf.mul_(c.momentum).addcdiv_(self.grad, self._denom)
            self.params.add_(buf, alpha=-self.lr)
        else:
            self.params.addcdiv_(self.grad, self._denom, value=-self.lr)

    def simulate(self, params: Tensor, grad: Tensor, state: SimState) -> tuple[Tensor, SimState]:
        c = self.config
        sq = _t(state["square_avg"]) * c.alpha + (1 - c.alpha) * grad * grad
        step = grad / (_sqrt(sq) + EPS)
        out: SimState = {**state, "square_avg": sq, "steps": int(state["steps"]) + 1}
        if c.momentum > 0:
            step = out["momentum"] = _t(state["momentum"]) * c.momentum + step
        return params - self.lr * step, out


def _fused_adam(adams: Sequence[Adam]) -> bool:
    """One fused update of Adams that share lr and betas, whose `steps` already count it.
    False (and no fused path for them from now on) where this build has none that works."""
    c = adams[0].config
    try:
        for a in adams:
            a._step_tensor.fill_(a.steps)
        torch._fused_adam_(
            [a.params for a in adams], [a.grad for a in adams],
            [a.buffers["exp_avg"] for a in adams], [a.buffers["exp_avg_sq"] for a in adams],
            [], [a._step_tensor for a in adams], lr=adams[0].lr, beta1=c.beta1, beta2=c.beta2,
            weight_decay=0.0, eps=EPS, amsgrad=False, maximize=False,
        )  # fmt: skip
        return True
    except (RuntimeError, TypeError, NotImplementedError):
        for a in adams:
            a._fused = False
        return False


def step_all(opts: Sequence[FlatOptimizer]) -> None:
    """Step several optimizers (of runs stepped together): Adams with the same settings share
    one fused call, the others step one by one. Each gives what its own `step` would."""
    shared: dict[tuple[float, float, float], list[Adam]] = {}
    for opt in opts:
        if isinstance(opt, Adam) and opt._fused:
            shared.setdefault((opt.lr, opt.config.beta1, opt.config.beta2), []).append(opt)
        else:
            opt.step()
    for adams in shared.values():
        for a in adams:
            a.steps += 1
        if not _fused_adam(adams):
            for a in adams:  # as Adam.step does without the fused path
                a.steps -= 1
                a.step()


OPTIMIZERS: dict[str, type[FlatOptimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSProp}


def make_optimizer(
    params: torch.Tensor, grad: torch.Tensor, config: OptimizerConfig
) -> FlatOptimizer:
    return OPTIMIZERS[config.kind](params, grad, config)
