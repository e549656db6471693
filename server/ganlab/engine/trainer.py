"""The training engine: two networks, their optimizers, data and noise, and the update steps.

Coordinates: networks work in NORMALISED coordinates, the distribution's view box mapped into
[-1, 1]^2 by one isotropic scale (so every distribution suits the same learning rates);
everything the engine hands out (samples, gradients, pictures) is in the distribution's own
coordinates.

Speed: the fast path runs under inference mode with hand-written backward passes (see
mlp.py); only gradient penalties (WGAN-GP, R1), which need second derivatives, go through
autograd. No compilation, so a change of architecture trains on the very next step.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganlab.engine.config import ConfigError, ExperimentConfig, parse_config, updated
from ganlab.engine.distributions import Distribution, resolve
from ganlab.engine.losses import (
    OBJECTIVES,
    Objective,
    batch_losses,
    gradient_penalty,
    r1_penalty,
    r2_penalty,
)
from ganlab.engine.mlp import MLP, network_sizes
from ganlab.engine.optimizers import FlatOptimizer, make_optimizer
from ganlab.engine.streams import Stream, noise_sampler

Trace = dict[str, dict[str, Any]]
# Every configuration a picture may depend on gets a new number (pictures cache by it).
VIEW_VERSIONS = itertools.count(1)
# The config sections a picture's fixed inputs depend on (packing: how the grid is judged).
VIEW_INPUTS = frozenset({"data", "noise", "view", "discriminator", "seed", "device"})


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "must be 'auto' or 'cpu': CUDA is not available here")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(frozen=True)
class Normalizer:
    """data = normalised * scale + center."""

    center: tuple[float, float]
    scale: float

    @classmethod
    def for_distribution(cls, dist: Distribution) -> Normalizer:
        return cls(dist.box.center, dist.box.half_extent)

    def to_data(self, x: torch.Tensor) -> np.ndarray:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return (x * self.scale + c).cpu().numpy().astype(np.float32, copy=False)

    def from_data(self, x: torch.Tensor) -> torch.Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return (x - c) / self.scale


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy().astype(np.float32, copy=False)


POINTS_SHAPE = "points must be an array of shape (n, 2) of finite numbers"


def points_array(points: Any) -> np.ndarray:
    """Any array-like of n points as an (n, 2) float32 array; ValueError saying what is
    allowed for anything else (strings, booleans, complex numbers, other shapes, NaN)."""
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().numpy()
    try:
        arr = np.asarray(points)
        if arr.dtype.kind == "O":  # e.g. lists holding Fractions or Decimals
            arr = arr.astype(np.float64)
    except (TypeError, ValueError, OverflowError):  # ragged lists, non-numbers, huge ints
        raise ValueError(f"{POINTS_SHAPE}, got {type(points).__name__}") from None
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{POINTS_SHAPE}, got values of type {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{POINTS_SHAPE}, got shape {arr.shape}")
    with np.errstate(over="ignore"):  # beyond float32's range: refused just below
        out = arr.astype(np.float32)
    if not np.isfinite(out).all():
        raise ValueError(f"{POINTS_SHAPE} (within float32's range), got NaN or infinity")
    return out


class Trainer:
    def __init__(self, config: ExperimentConfig | dict[str, Any] | None = None) -> None:
        if config is None:
            config = ExperimentConfig()
        elif isinstance(config, dict):
            config = parse_config(config)
        self.config = config
        self.history: list[dict[str, float]] = []
        self.reset()

    # ------------------------------------------------------------------ building
    def reset(self) -> None:
        """Start the run over from the config's seed."""
        c = self.config
        self.device = resolve_device(c.device)
        self.iteration = self.d_updates = self.g_updates = 0
        self.history = []
        self._last_d: tuple[torch.Tensor, torch.Tensor] | None = None
        self._last_g: torch.Tensor | None = None
        self._init_gen = torch.Generator().manual_seed(c.seed)
        self._set_distribution()
        self.data_stream = Stream(
            self._draw_real, torch.Generator().manual_seed(c.seed + 1), self.device
        )
        self.noise_stream = Stream(
            noise_sampler(c.noise.kind, c.noise.dim),
            torch.Generator().manual_seed(c.seed + 2),
            self.device,
        )
        self.mix_stream = Stream(
            lambda n, g: torch.rand(n, 1, generator=g),
            torch.Generator().manual_seed(c.seed + 3),
            self.device,
        )
        self._build_generator()
        self._build_discriminator()
        self.view_version = next(VIEW_VERSIONS)

    def _set_distribution(self) -> None:
        self.distribution = resolve(self.config.data)
        self.normalizer = Normalizer.for_distribution(self.distribution)

    def _draw_real(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return self.normalizer.from_data(self.distribution.sample(n, gen))

    def _build_generator(self) -> None:
        c = self.config
        sizes = network_sizes(c.noise.dim, 2, c.generator.layers, c.generator.neurons)
        self.G = MLP(sizes, c.generator.activation, self.device, self._init_gen)
        self.g_opt = make_optimizer(self.G.params, self.G.grad, c.g_optimizer)
        self._last_g = None

    def _build_discriminator(self) -> None:
        c = self.config
        d = c.discriminator
        sizes = network_sizes(2 * d.packing, 1, d.layers, d.neurons)
        self.D = MLP(sizes, d.activation, self.device, self._init_gen)
        self.d_opt = make_optimizer(self.D.params, self.D.grad, c.d_optimizer)
        self._last_d = None

    def configure(self, change: ExperimentConfig | dict[str, Any]) -> set[str]:
        """Apply a new or partial config between two steps without losing the run.

        Returns the names of the top-level sections that changed. Raises ConfigError, leaving
        everything as it was, if the change is invalid."""
        new = change if isinstance(change, ExperimentConfig) else updated(self.config, change)
        old = self.config
        changed = {k for k in type(new).model_fields if getattr(new, k) != getattr(old, k)}
        if "device" in changed:
            device = resolve_device(new.device)  # validate before touching anything
        self.config = new
        if "device" in changed and device != self.device:
            self._move_to(device)
        if "data" in changed:
            self._set_distribution()
            self.data_stream.restart(self._draw_real)
        if "noise" in changed:
            self.noise_stream.restart(noise_sampler(new.noise.kind, new.noise.dim))
        if "generator" in changed or new.noise.dim != old.noise.dim:
            self._build_generator()
        elif "g_optimizer" in changed:
            self.g_opt = self._reoptimize(self.g_opt, self.G, new.g_optimizer)
        if "discriminator" in changed:
            self._build_discriminator()
        elif "d_optimizer" in changed:
            self.d_opt = self._reoptimize(self.d_opt, self.D, new.d_optimizer)
        if changed & VIEW_INPUTS:
            self.view_version = next(VIEW_VERSIONS)
        return changed

    def _reoptimize(self, opt: FlatOptimizer, net: MLP, cfg: Any) -> FlatOptimizer:
        """Same kind: keep the state and take the new settings; new kind: fresh state."""
        if cfg.kind == opt.config.kind:
            opt.config = cfg
            return opt
        return make_optimizer(net.params, net.grad, cfg)

    def _move_to(self, device: torch.device) -> None:
        state = self.state()
        self.device = device
        for stream in (self.data_stream, self.noise_stream, self.mix_stream):
            stream.device = device
        self._build_generator()
        self._build_discriminator()
        self.load_state(state)

    # ------------------------------------------------------------------ stepping
    @property
    def objective(self) -> Objective:
        return OBJECTIVES[self.config.loss.kind]

    @property
    def needs_autograd(self) -> bool:
        c = self.config.loss
        return self.objective.gradient_penalty or c.r1 > 0 or c.r2 > 0

    def _mode(self) -> contextlib.AbstractContextManager[Any]:
        # Inference mode is the cheapest; penalties need tensors autograd may save.
        return torch.no_grad() if self.needs_autograd else torch.inference_mode()

    def _batch(self) -> tuple[int, int]:
        """(packs, samples): D sees batch_size // packing packs; the remainder is dropped."""
        m = self.config.discriminator.packing
        packs = max(1, self.config.training.batch_size // m)
        return packs, packs * m

    def _d_compute(self, trace: Trace | None = None) -> None:
        m = self.config.discriminator.packing
        packs, n = self._batch()
        real = self.data_stream.take(n)
        z = self.noise_stream.take(n)
        fake = self.G(z)
        x = torch.cat([real, fake]).view(2 * packs, 2 * m)
        obj, target = self.objective, 1.0 - self.config.loss.label_smoothing
        if self.needs_autograd:
            o = self._d_autograd(x, packs)
        else:
            outs = self.D.forward(x)
            o = outs[-1]
            g_real, g_fake = obj.d_grad(o[:packs], o[packs:], target)
            self.D.backward(outs, torch.cat([g_real, g_fake]))
        exact = obj.d_bias_grad(o[:packs], o[packs:])
        if exact is not None:  # where it can be exactly 0, no rounding residue (losses.py)
            self.D.grad_biases[-1].copy_(exact)
        self._last_d = (o[:packs], o[packs:])
        if trace is not None:
            norm = self.normalizer
            trace["generate"] = {"noise": _np(z), "fake": norm.to_data(fake),
                                 "real": norm.to_data(real)}  # fmt: skip
            trace["classify"] = {
                "d_real": _np(obj.prob(o[:packs]).repeat_interleave(m)),
                "d_fake": _np(obj.prob(o[packs:]).repeat_interleave(m)),
            }
            trace["loss"] = {"d_loss": float(obj.d_value(o[:packs], o[packs:], target))}
            trace["gradients"] = self._grad_trace(self.D)

    def _d_autograd(self, x: torch.Tensor, packs: int) -> torch.Tensor:
        c = self.config.loss
        obj = self.objective
        with torch.enable_grad():
            flat = self.D.params.detach().requires_grad_(True)

            def critic(inp: torch.Tensor) -> torch.Tensor:
                return self.D.functional(flat, inp)

            o = critic(x)
            loss = obj.d_value(o[:packs], o[packs:], 1.0 - c.label_smoothing)
            if obj.gradient_penalty and c.gp_weight > 0:
                mix = self.mix_stream.take(packs)
                loss = loss + c.gp_weight * gradient_penalty(critic, x[:packs], x[packs:], mix)
            if c.r1 > 0:
                loss = loss + c.r1 * r1_penalty(critic, x[:packs])
            if c.r2 > 0:  # at the fakes of this update, detached: G gets no gradient here
                loss = loss + c.r2 * r2_penalty(critic, x[packs:])
            (grad,) = torch.autograd.grad(loss, flat)
        self.D.grad.copy_(grad)
        return o.detach()

    def _lr_scale(self) -> float:
        """The learning-rate schedule's factor at the current iteration (1 = constant)."""
        halflife = self.config.training.lr_halflife
        return 0.5 ** (self.iteration / halflife) if halflife else 1.0

    def _d_apply(self) -> None:
        # Set at every update, so single steps, walks and reloaded runs follow the schedule.
        self.d_opt.lr_scale = self._lr_scale()
        self.d_opt.step()
        self._d_applied()

    def _d_applied(self) -> None:
        if self.objective.clip_weights:
            self.D.params.clamp_(-self.config.loss.clip, self.config.loss.clip)
        self.d_updates += 1

    def _g_compute(self, trace: Trace | None = None) -> None:
        m = self.config.discriminator.packing
        packs, n = self._batch()
        z = self.noise_stream.take(n)
        g_outs = self.G.forward(z)
        fake = g_outs[-1]
        d_outs = self.D.forward(fake.reshape(packs, 2 * m))
        o = d_outs[-1]
        obj, saturating = self.objective, self.config.loss.generator == "minimax"
        g_o = obj.g_grad(o, saturating)
        g_x = self.D.backward(d_outs, g_o, param_grads=False, input_grad=True)
        assert g_x is not None
        self.G.backward(g_outs, g_x.reshape(n, 2))
        self._last_g = o
        if trace is not None:
            norm = self.normalizer
            trace["generate"] = {"noise": _np(z), "fake": norm.to_data(fake)}
            trace["classify"] = {"d_fake": _np(obj.prob(o).repeat_interleave(m))}
            trace["loss"] = {"g_loss": float(obj.g_value(o, saturating))}
            # Per-sample arrows: gradient of each pack's own loss (the mean's times `packs`).
            arrows = _np(g_x.reshape(n, 2) * (packs / norm.scale))
            trace["gradients"] = {**self._grad_trace(self.G), "fake_grad": arrows}

    def _g_apply(self) -> None:
        self.g_opt.lr_scale = self._lr_scale()
        self.g_opt.step()
        self.g_updates += 1

    @staticmethod
    def _grad_trace(net: MLP) -> dict[str, Any]:
        norms = net.layer_grad_norms()
        return {"layer_grad_norms": norms, "grad_norm": float(np.sqrt(np.sum(np.square(norms))))}

    def step_d(self) -> None:
        """One discriminator update."""
        with self._mode():
            self._d_compute()
            self._d_apply()

    def step_g(self) -> None:
        """One generator update."""
        with torch.inference_mode():
            self._g_compute()
            self._g_apply()

    def step(self) -> None:
        """One iteration: d_steps discriminator updates, then g_steps generator updates."""
        t = self.config.training
        with self._mode():
            for _ in range(t.d_steps):
                self._d_compute()
                self._d_apply()
            for _ in range(t.g_steps):
                self._g_compute()
                self._g_apply()
        self.iteration += 1

    def train(
        self,
        iterations: int,
        on_row: Callable[[dict[str, float]], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> int:
        """Run iterations, recording a metric row every `metrics.every` of them.
        Stops early on divergence or when `should_stop()`; returns iterations done."""
        every = self.config.metrics.every
        for done in range(iterations):
            self.step()
            if self.iteration % every == 0:
                row = self.record()
                if on_row is not None:
                    on_row(row)
                if self.diverged():
                    return done + 1
            if should_stop is not None and should_stop():
                return done + 1
        return iterations

    def walk(self, which: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The five phases of one update ('d' or 'g') with their real intermediate values:
        generate, classify, loss, gradients, update. The update is applied when the last
        phase is reached, so a finished walk is exactly one `step_d` or `step_g`."""
        if which not in ("d", "g"):
            raise ValueError("which must be 'd' or 'g'")
        trace: Trace = {}
        mode = self._mode() if which == "d" else torch.inference_mode()
        with mode:
            (self._d_compute if which == "d" else self._g_compute)(trace)
        for phase in ("generate", "classify", "loss", "gradients"):
            yield phase, trace[phase]
        net = self.D if which == "d" else self.G
        before = net.params.clone()
        with mode:
            (self._d_apply if which == "d" else self._g_apply)()
        result: dict[str, Any] = {"param_change": float((net.params - before).norm())}
        if which == "g":
            with torch.inference_mode():
                z = torch.from_numpy(trace["generate"]["noise"]).to(self.device)
                result["fake"] = self.normalizer.to_data(self.G(z))
        yield "update", result

    # ------------------------------------------------------------------ reading
    def losses(self) -> dict[str, float]:
        """Latest D and G losses and mean D outputs, computed from the last batch's outputs."""
        return batch_losses(self.objective, self.config.loss, self._last_d, self._last_g)

    def grad_norms(self) -> dict[str, float]:
        with torch.inference_mode():
            return {
                "d_grad_norm": float(self.D.grad.norm()),
                "g_grad_norm": float(self.G.grad.norm()),
            }

    def diverged(self) -> bool:
        """True once any weight is NaN or infinite: training cannot recover from that."""
        with torch.inference_mode():
            return not bool(
                torch.isfinite(self.G.params).all() & torch.isfinite(self.D.params).all()
            )

    def sample(self, n: int, generator: torch.Generator | None = None) -> np.ndarray:
        """n generated points in the distribution's coordinates."""
        gen = generator or torch.Generator().manual_seed(self.config.seed + 7)
        z = noise_sampler(self.config.noise.kind, self.config.noise.dim)(n, gen).to(self.device)
        with torch.inference_mode():
            return self.normalizer.to_data(self.G(z))

    def discriminate(self, points: Any) -> np.ndarray:
        """D's raw output at `points`, an array-like of shape (n, 2) in the distribution's
        coordinates: a float32 array of shape (n,), holding logits for the log loss and
        scores for the others (`objective.prob` turns them into what pictures draw). With
        packing m, D judges m points at once: each point is judged as a pack of m copies
        of itself, as the picture's heatmap does. Raises ValueError for anything else."""
        x = torch.from_numpy(points_array(points)).to(self.device)
        packs = self.normalizer.from_data(x).repeat(1, self.config.discriminator.packing)
        with torch.inference_mode():
            return _np(self.D(packs).reshape(-1))

    def real_sample(self, n: int, generator: torch.Generator | None = None) -> np.ndarray:
        gen = generator or torch.Generator().manual_seed(self.config.seed + 8)
        return self.distribution.sample(n, gen).numpy()

    def record(self) -> dict[str, float]:
        """Compute a metric row for the current state and append it to the history."""
        from ganlab.engine.evaluation import metric_row

        row = metric_row(self)
        self.history.append(row)
        return row

    # ------------------------------------------------------------------ saving
    def state(self) -> dict[str, torch.Tensor]:
        """Every tensor of the run (weights, optimizer state, random streams)."""
        out: dict[str, torch.Tensor] = {
            "g.params": self.G.params,
            "d.params": self.D.params,
            "init_generator": self._init_gen.get_state(),
        }
        for prefix, opt in (("g_opt", self.g_opt), ("d_opt", self.d_opt)):
            out.update({f"{prefix}.{k}": v for k, v in opt.state().items()})
        for name, stream in (("data", self.data_stream), ("noise", self.noise_stream),
                             ("mix", self.mix_stream)):  # fmt: skip
            out.update({f"stream.{name}.{k}": v for k, v in stream.state().items()})
        counters = [self.iteration, self.d_updates, self.g_updates]
        out["counters"] = torch.tensor(counters, dtype=torch.int64)
        return {k: v.detach().cpu().contiguous().clone() for k, v in out.items()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            self.G.params.copy_(state["g.params"].to(self.device))
            self.D.params.copy_(state["d.params"].to(self.device))
        self._init_gen.set_state(state["init_generator"])
        for prefix, opt in (("g_opt", self.g_opt), ("d_opt", self.d_opt)):
            opt.load(
                {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}
            )
        for name, stream in (("data", self.data_stream), ("noise", self.noise_stream),
                             ("mix", self.mix_stream)):  # fmt: skip
            p = f"stream.{name}."
            stream.load({k[len(p) :]: v for k, v in state.items() if k.startswith(p)})
        self.iteration, self.d_updates, self.g_updates = (int(v) for v in state["counters"])
        self._last_d = self._last_g = None
