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

import itertools
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganlab.engine import spectral
from ganlab.engine.config import ConfigError, ExperimentConfig, parse_config, updated
from ganlab.engine.distributions import Distribution, resolve
from ganlab.engine.losses import (
    OBJECTIVES,
    Objective,
    batch_losses,
)
from ganlab.engine.mlp import MLP, Layers, network_sizes
from ganlab.engine.optimizers import FlatOptimizer, make_optimizer
from ganlab.engine.step import Group, iterate, lone
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


def _shape(section: Any, *besides: str) -> dict[str, Any]:
    """A network section's fields that shape its network: all but `besides` (a change of
    those keeps the weights)."""
    return section.model_dump(exclude=set(besides))


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
    def __init__(
        self, config: ExperimentConfig | dict[str, Any] | None = None, closed_forms: bool = True
    ) -> None:
        # False: every gradient through autograd (the general path), for tests and benchmarks.
        self.closed_forms = closed_forms
        self._group_key: Hashable | None = None
        self._lone_group: Group | None = None
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
        # The weighted penalties D's last update added to its loss, by name (step.py d_loss):
        # read with _last_d, whose update made them.
        self._last_penalties: dict[str, torch.Tensor] = {}
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
        self.instance_noise_stream = Stream(
            lambda n, g: torch.randn(n, 2, generator=g),
            torch.Generator().manual_seed(c.seed + 4),
            self.device,
        )
        self._group_key = self._lone_group = None
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
        self._last_g = self._lone_group = None
        self._restart_average()

    def _restart_average(self) -> None:
        """The moving average starts again at G's next update (a new G, or EMA turned on)."""
        self.g_average: torch.Tensor | None = None
        self.g_average_count = 0
        if self.config.generator.ema > 0:  # a buffer from the start, so run files hold it
            self.g_average = torch.zeros_like(self.G.params)

    def _build_discriminator(self) -> None:
        c = self.config
        d = c.discriminator
        sizes = network_sizes(2 * d.packing, 1, d.layers, d.neurons)
        self.D = MLP(sizes, d.activation, self.device, self._init_gen)
        self.d_opt = make_optimizer(self.D.params, self.D.grad, c.d_optimizer)
        self._last_d = self._lone_group = None
        self._last_penalties = {}
        self._start_spectral()

    def _start_spectral(self) -> None:
        self._sn_vectors: spectral.Vectors = []
        if self.config.discriminator.spectral_norm:
            self._sn_vectors = spectral.start_vectors(self.D.params, self.D.shapes, self._init_gen)

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
        self._group_key = self._lone_group = None
        if _shape(new.generator, "ema") != _shape(old.generator, "ema") or \
                new.noise.dim != old.noise.dim:  # fmt: skip
            self._build_generator()
        else:
            if "g_optimizer" in changed:
                self.g_opt = self._reoptimize(self.g_opt, self.G, new.g_optimizer)
            if (new.generator.ema > 0) != (old.generator.ema > 0):
                self._restart_average()
        if _shape(new.discriminator, "spectral_norm") != _shape(old.discriminator, "spectral_norm"):
            self._build_discriminator()
        else:
            if "d_optimizer" in changed:
                self.d_opt = self._reoptimize(self.d_opt, self.D, new.d_optimizer)
            if new.discriminator.spectral_norm != old.discriminator.spectral_norm:
                self._start_spectral()
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
        for stream in self._streams().values():
            stream.device = device
        self._build_generator()
        self._build_discriminator()
        self.load_state(state)

    # ------------------------------------------------------------------ stepping
    @property
    def objective(self) -> Objective:
        return OBJECTIVES[self.config.loss.kind]

    @property
    def has_penalties(self) -> bool:
        c = self.config.loss
        return (self.objective.gradient_penalty and c.gp_weight > 0) or c.r1 > 0 or c.r2 > 0

    @property
    def needs_autograd(self) -> bool:
        """Whether D's update goes through autograd (the general path)."""
        return not lone(self).closed_form_d

    def _batch(self) -> tuple[int, int]:
        """(packs, samples): D sees batch_size // packing packs; the remainder is dropped."""
        m = self.config.discriminator.packing
        packs = max(1, self.config.training.batch_size // m)
        return packs, packs * m

    def _lr_scale(self) -> float:
        """The learning-rate schedule's factor at the current iteration (1 = constant)."""
        halflife = self.config.training.lr_halflife
        return 0.5 ** (self.iteration / halflife) if halflife else 1.0

    def instance_noise_sigma(self) -> float:
        """σ of the instance noise at the current iteration: linear from its start to 0."""
        t = self.config.training
        return t.instance_noise * max(0.0, 1.0 - self.iteration / t.instance_noise_anneal)

    def _d_applied(self, count: bool = True) -> None:
        if self.objective.clip_weights:
            self.D.params.clamp_(-self.config.loss.clip, self.config.loss.clip)
        if count:
            self.d_updates += 1

    def _g_applied(self) -> None:
        decay = self.config.generator.ema
        if decay > 0:
            if self.g_average is None or self.g_average_count == 0:
                self.g_average = self.G.params.clone()
            else:
                self.g_average.lerp_(self.G.params, 1 - decay)
            self.g_average_count += 1
        self.g_updates += 1

    def spectral_vectors(self) -> spectral.Vectors:
        """D's power-iteration vectors (u, v) per layer (spectral norm on), else []."""
        return self._sn_vectors

    def spectral_step(self) -> None:
        """One power iteration of every layer's vectors (at each of D's gradients)."""
        spectral.power_iteration_(self.D.params, self.D.shapes, self._sn_vectors)

    def d_params(self) -> torch.Tensor:
        """D's parameters as D uses them: spectrally normalised where that is on."""
        if not self.config.discriminator.spectral_norm:
            return self.D.params
        return spectral.normalized(self.D.params, self.D.shapes, self._sn_vectors)

    def averaged_generator(self) -> torch.Tensor | None:
        """The moving average of G's parameters (generator.ema > 0, after G's first update
        since it was turned on), else None."""
        if self.config.generator.ema == 0 or not self.g_average_count:
            return None
        return self.g_average

    def shown_generator(self) -> torch.Tensor:
        """G's parameters as pictures, samples and metrics show them (view.average)."""
        avg = self.averaged_generator() if self.config.view.average else None
        return self.G.params if avg is None else avg

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """The shown generator's output at noise z (normalised coordinates)."""
        flat = self.shown_generator()
        return self.G.layers(z) if flat is self.G.params else \
            Layers(flat, self.G.shapes, self.G.act)(z)  # fmt: skip

    def judge(self, x: torch.Tensor) -> torch.Tensor:
        """D's raw output at packs x, in normalised coordinates."""
        flat = self.d_params()
        return self.D.layers(x) if flat is self.D.params else \
            Layers(flat, self.D.shapes, self.D.act)(x)  # fmt: skip

    def step_d(self) -> None:
        """One discriminator update."""
        group = lone(self)
        with group.mode():
            group.d_gradients()
            group.d_apply()

    def step_g(self) -> None:
        """One generator update."""
        group = lone(self)
        with group.mode():
            group.g_gradients()
            group.g_apply()

    def step(self) -> None:
        """One iteration, by the config's training scheme (step.py)."""
        iterate([self])

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

    def walk_plan(self) -> list[str]:
        """The single updates slow motion takes for one iteration: d_steps of D's, then
        g_steps of G's; under the simultaneous and extragradient schemes (which walks cannot
        show joint) one of each, as many as those schemes make."""
        t = self.config.training
        if t.scheme != "alternating":
            return ["d", "g"]
        return ["d"] * t.d_steps + ["g"] * t.g_steps

    def walk(self, which: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The five phases of one update ('d' or 'g') with their real intermediate values:
        generate, classify, loss, gradients, update. The update is applied when the last
        phase is reached, so a finished walk is exactly one `step_d` or `step_g`."""
        if which not in ("d", "g"):
            raise ValueError("which must be 'd' or 'g'")
        trace: Trace = {}
        group = lone(self)
        with group.mode():
            (group.d_gradients if which == "d" else group.g_gradients)(trace)
        for phase in ("generate", "classify", "loss", "gradients"):
            yield phase, trace[phase]
        net = self.D if which == "d" else self.G
        before = net.params.clone()
        with group.mode():
            (group.d_apply if which == "d" else group.g_apply)()
        result: dict[str, Any] = {"param_change": float((net.params - before).norm())}
        if which == "g":
            with torch.inference_mode():
                z = torch.from_numpy(trace["generate"]["noise"]).to(self.device)
                result["fake"] = self.normalizer.to_data(self.G(z))
        yield "update", result

    # ------------------------------------------------------------------ reading
    def losses(self) -> dict[str, float]:
        """Latest D and G losses and mean D outputs, computed from the last batch's outputs;
        with penalties on, each weighted penalty of D's last update and D's total loss
        (`losses.batch_losses`)."""
        return batch_losses(self.objective, self.config.loss, self._last_d, self._last_g,
                            self._last_penalties)  # fmt: skip

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
            return self.normalizer.to_data(self.generate(z))

    def discriminate(self, points: Any) -> np.ndarray:
        """D's raw output at `points`, an array-like of shape (n, 2) in the distribution's
        coordinates: a float32 array of shape (n,), holding logits for the log loss and
        scores for the others (`objective.prob` turns them into what pictures draw). With
        packing m, D judges m points at once: each point is judged as a pack of m copies
        of itself (the picture's heatmap instead averages over packs with partners from the
        current fakes: d_side.py). Raises ValueError for anything else."""
        x = torch.from_numpy(points_array(points)).to(self.device)
        packs = self.normalizer.from_data(x).repeat(1, self.config.discriminator.packing)
        with torch.inference_mode():
            return _np(self.judge(packs).reshape(-1))

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
        for name, stream in self._streams().items():
            out.update({f"stream.{name}.{k}": v for k, v in stream.state().items()})
        for i, (u, v) in enumerate(self._sn_vectors):
            out[f"d.spectral.{i}.u"], out[f"d.spectral.{i}.v"] = u, v
        if self.g_average is not None:
            out["g.average"] = self.g_average
            out["g.average_count"] = torch.tensor([self.g_average_count], dtype=torch.int64)
        counters = [self.iteration, self.d_updates, self.g_updates]
        out["counters"] = torch.tensor(counters, dtype=torch.int64)
        return {k: v.detach().cpu().contiguous().clone() for k, v in out.items()}

    def _streams(self) -> dict[str, Stream]:
        """The run's random streams by name; instance noise's only while it is on (so run
        files of runs without it stay as they were)."""
        out = {"data": self.data_stream, "noise": self.noise_stream, "mix": self.mix_stream}
        if self.config.training.instance_noise > 0:
            out["instance"] = self.instance_noise_stream
        return out

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            self.G.params.copy_(state["g.params"].to(self.device))
            self.D.params.copy_(state["d.params"].to(self.device))
        self._init_gen.set_state(state["init_generator"])
        for prefix, opt in (("g_opt", self.g_opt), ("d_opt", self.d_opt)):
            opt.load(
                {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}
            )
        for name, stream in self._streams().items():
            p = f"stream.{name}."
            stream.load({k[len(p) :]: v for k, v in state.items() if k.startswith(p)})
        with torch.no_grad():
            for i, (u, v) in enumerate(self._sn_vectors):
                u.copy_(state[f"d.spectral.{i}.u"].to(self.device))
                v.copy_(state[f"d.spectral.{i}.v"].to(self.device))
            if self.g_average is not None:
                self.g_average.copy_(state["g.average"].to(self.device))
                self.g_average_count = int(state["g.average_count"][0])
        self.iteration, self.d_updates, self.g_updates = (int(v) for v in state["counters"])
        self._last_d = self._last_g = None
