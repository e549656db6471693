"""The Dirac-GAN (Mescheder, Geiger and Nowozin 2018): the GAN game in two parameters.

The data is a point mass at 0 on a line, G is one point θ (it puts every sample there) and
D is the line D(x) = ψ·x with no bias. Both players' losses are the engine's own registry
(`OBJECTIVES`, the penalties of losses.py) evaluated on this one-dimensional problem with
autograd (`Game`, the definition), so every loss of the page works here and a new one appears
by itself. Trajectories, tens of thousands of updates, take hand-written closed forms of the
registered objectives instead (`CLOSED`, checked against `Game` by the tests), or `Game`
for an objective not there. The point (θ, ψ) = (0, 0) is the equilibrium: G on the data, D
flat.

Sign convention: the engine's D gives real data high outputs, so its ψ is the paper's -ψ;
the field is the paper's mirrored in ψ and has the same eigenvalues, and the paper's start
(1, 1) is (1, −1) here.

The trajectory follows the config's loss (kind, generator loss, clip bound, WGAN-GP's λ, R1
and R2 γ, label smoothing), the update scheme with D's and G's updates per iteration, both
optimizers with all their settings (the engine's own `make_optimizer`) and the learning-rate
half-life. Networks, data, noise, batch size and packing have no counterpart for one point
and a line; spectral norm, unrolling, instance noise and G's weight average are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ganlab.engine.config import ConfigError, ExperimentConfig, config_error, parse_config
from ganlab.engine.losses import OBJECTIVES, gradient_penalty, r1_penalty, r2_penalty
from ganlab.engine.optimizers import make_optimizer

Tensor = torch.Tensor
# G one unit from the data, and D already scoring it below the data (ψθ < 0): the paper's
# start (1, 1) in its sign convention.
START = (1.0, -1.0)
# Where a trajectory counts as blown up (and stops being computed).
BLOWN_UP = 1e6
# Most points of a path sent to be drawn (the verdict reads every iteration's).
SHOWN = 4000
# Points per axis of the field's grid: odd, so the middle arrow sits on the equilibrium.
GRID = 15


class Request(BaseModel):
    """What the view asks for: the page's config (any part of it; the rest takes defaults),
    how many iterations to follow and from where."""

    model_config = ConfigDict(extra="forbid")
    config: dict[str, object] = Field(default_factory=dict, description="The experiment.")
    steps: int = Field(20_000, ge=10, le=50_000, description="Iterations of training to follow.")
    start: tuple[float, float] = Field(START, description="(θ, ψ) at iteration 0.")

    @property
    def experiment(self) -> ExperimentConfig:
        return parse_config(self.config)


def parse_request(data: object) -> tuple[Request, ExperimentConfig]:
    """The request and its config, or a ConfigError naming the field and what is allowed
    (config fields are named `config.…`)."""
    if not isinstance(data, dict):
        raise ConfigError("", "the body must be a JSON object with config, steps and start")
    try:
        req = Request.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc) from None
    if not all(math.isfinite(x) and abs(x) <= 100 for x in req.start):
        raise ConfigError("start", f"must be two finite numbers within ±100, got {list(req.start)}")
    try:
        return req, req.experiment
    except ConfigError as exc:
        raise ConfigError(f"config.{exc.field}" if exc.field else "config", exc.message) from None


@dataclass(frozen=True)
class Game:
    """The two players' losses at points (θ, ψ), elementwise over tensors of any shape."""

    config: ExperimentConfig

    def d_loss(self, theta: Tensor, psi: Tensor) -> Tensor:
        """D's loss at each point: the objective (real sample 0, fake sample θ, so D's outputs
        are 0 and ψθ) plus the penalties that are on, as the engine adds them."""
        loss = self.config.loss
        obj = OBJECTIVES[loss.kind]
        shape = psi.shape
        psi, theta = psi.reshape(-1, 1, 1), theta.reshape(-1, 1, 1)
        real, fake = torch.zeros_like(theta), theta
        real_part, fake_part = obj.d_terms(psi * real, psi * fake, 1.0 - loss.label_smoothing)
        value = (real_part + fake_part).reshape(-1)

        # Each point is a run of its own (leading axis), with one pack of one 1-D sample.
        def critic(x: Tensor) -> Tensor:
            return psi * x

        if obj.gradient_penalty and loss.gp_weight > 0:
            # D's slope is ψ everywhere, so where on the segment it is measured does not matter.
            mix = torch.full_like(theta, 0.5)
            value = value + loss.gp_weight * gradient_penalty(critic, real, fake.detach(), mix)
        if loss.r1 > 0:
            value = value + loss.r1 * r1_penalty(critic, real)
        if loss.r2 > 0:
            value = value + loss.r2 * r2_penalty(critic, fake)
        return value.reshape(shape)

    def g_loss(self, theta: Tensor, psi: Tensor) -> Tensor:
        """G's loss at each point: the objective's generator term at D's output ψθ."""
        loss = self.config.loss
        obj = OBJECTIVES[loss.kind]
        o = (psi * theta).reshape(-1, 1)
        return obj.g_terms(o, loss.generator == "minimax").reshape(theta.shape)

    def d_grad(self, theta: Tensor, psi: Tensor) -> Tensor:
        """∂(D's loss)/∂ψ at each point (θ held: D's update does not move G)."""
        with torch.enable_grad():
            p = psi.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.d_loss(theta.detach(), p).sum(), p)
        return grad

    def g_grad(self, theta: Tensor, psi: Tensor) -> Tensor:
        """∂(G's loss)/∂θ at each point (ψ held)."""
        with torch.enable_grad():
            t = theta.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.g_loss(t, psi.detach()).sum(), t)
        return grad

    def field(self, theta: Tensor, psi: Tensor) -> tuple[Tensor, Tensor]:
        """The gradient vector field v = (-∂L_G/∂θ, -∂L_D/∂ψ): where plain gradient descent
        of each player on its own loss moves the point."""
        return -self.g_grad(theta, psi), -self.d_grad(theta, psi)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# The fast path: for the registry's objectives, ∂(D's loss)/∂o at D's fake output o = ψθ and
# ∂(G's loss)/∂o (saturating or not), by hand. The real output D(0) = 0 whatever ψ, so the
# real part adds nothing to ∂/∂ψ (label smoothing changes nothing here). A trajectory then
# costs a few float operations per update instead of an autograd pass; an objective missing
# here takes the autograd path (`Game`), which tests check these against.
ScalarGrads = tuple[Callable[[float], float], Callable[[float, bool], float]]
CLOSED: dict[str, ScalarGrads] = {
    "log": (_sigmoid, lambda o, sat: -_sigmoid(o) if sat else _sigmoid(o) - 1.0),
    "lsgan": (lambda o: o, lambda o, sat: o - 1.0),
    "wgan": (lambda o: 1.0, lambda o, sat: -1.0),
    "wgan_gp": (lambda o: 1.0, lambda o, sat: -1.0),
    "hinge": (lambda o: 1.0 if o > -1.0 else 0.0, lambda o, sat: -1.0),
}


def gradients(config: ExperimentConfig) -> tuple[Callable[[float, float], float],
                                                 Callable[[float, float], float]]:  # fmt: skip
    """(∂L_D/∂ψ, ∂L_G/∂θ) as functions of (θ, ψ) floats: closed forms where `CLOSED` has the
    objective, else the autograd path."""
    loss = config.loss
    kind = loss.kind
    if kind not in CLOSED:
        game = Game(config)

        def at(t: float, p: float) -> tuple[Tensor, Tensor]:
            return torch.tensor([t], dtype=torch.float64), torch.tensor([p], dtype=torch.float64)

        return (lambda t, p: float(game.d_grad(*at(t, p))[0]),
                lambda t, p: float(game.g_grad(*at(t, p))[0]))  # fmt: skip
    d_o, g_o = CLOSED[kind]
    sat = loss.generator == "minimax"
    # Penalties on D's slope ψ: λ(|ψ| - 1)² (its derivative 0 at ψ = 0, as autograd's |ψ|),
    # and γ/2·ψ² for R1 and for R2.
    gp = loss.gp_weight if OBJECTIVES[kind].gradient_penalty else 0.0
    gamma = loss.r1 + loss.r2

    def d_grad(t: float, p: float) -> float:
        sign = math.copysign(1.0, p) if p else 0.0
        return d_o(p * t) * t + 2 * gp * (abs(p) - 1.0) * sign + gamma * p

    def g_grad(t: float, p: float) -> float:
        return g_o(p * t, sat) * p

    return d_grad, g_grad


def jacobian_at_equilibrium(config: ExperimentConfig, h: float = 1e-5) -> np.ndarray:
    """The field's Jacobian at (0, 0) by central differences, rows (v_θ, v_ψ), columns
    (θ, ψ): its eigenvalues say how the point behaves near the equilibrium."""
    game = Game(config)
    at = torch.tensor([[h, 0.0], [-h, 0.0], [0.0, h], [0.0, -h]], dtype=torch.float64)
    v_t, v_p = game.field(at[:, 0], at[:, 1])
    v = torch.stack([v_t, v_p], dim=1).numpy()
    return np.stack([(v[0] - v[1]) / (2 * h), (v[2] - v[3]) / (2 * h)], axis=1)


def trajectory(
    config: ExperimentConfig, steps: int, start: tuple[float, float] = START
) -> np.ndarray:
    """(θ, ψ) at the start and after each of `steps` iterations of training, as the engine's
    `iterate` steps: shape (k + 1, 2), shorter when the point blows up (non-finite or beyond
    `BLOWN_UP`; the last row is then where it was found)."""
    d_grad, g_grad = gradients(config)
    t = config.training
    obj = OBJECTIVES[config.loss.kind]
    theta = torch.tensor([start[0]], dtype=torch.float64)
    psi = torch.tensor([start[1]], dtype=torch.float64)
    g_buf, d_buf = torch.zeros_like(theta), torch.zeros_like(psi)
    g_opt = make_optimizer(theta, g_buf, config.g_optimizer)
    d_opt = make_optimizer(psi, d_buf, config.d_optimizer)
    th, ps = start
    out = [(th, ps)]

    def d_step(grad: float) -> float:
        d_buf.fill_(grad)
        d_opt.step()
        if obj.clip_weights:
            psi.clamp_(-config.loss.clip, config.loss.clip)
        return psi.item()

    def g_step(grad: float) -> float:
        g_buf.fill_(grad)
        g_opt.step()
        return theta.item()

    for i in range(steps):
        scale = 0.5 ** (i / t.lr_halflife) if t.lr_halflife else 1.0
        g_opt.lr_scale = d_opt.lr_scale = scale
        if t.scheme == "alternating":
            for _ in range(t.d_steps):
                ps = d_step(d_grad(th, ps))
            for _ in range(t.g_steps):
                th = g_step(g_grad(th, ps))
        else:
            start_th, start_ps = th, ps
            if t.scheme == "extragradient":  # look one update ahead, then step from here
                d, g = d_grad(th, ps), g_grad(th, ps)
                th, ps = g_step(g), d_step(d)
                theta.fill_(start_th)
                psi.fill_(start_ps)
            d, g = d_grad(th, ps), g_grad(th, ps)
            th, ps = g_step(g), d_step(d)
        out.append((th, ps))
        if not (math.isfinite(th) and math.isfinite(ps) and max(abs(th), abs(ps)) < BLOWN_UP):
            break
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True)
class Verdict:
    """What the trajectory does: a short name, a sentence for the learner, and the figures
    it rests on (turns around the equilibrium; final over initial scaled distance)."""

    kind: str  # converges | approaches | circles | spirals_out | blows_up | stops | too_short
    words: str
    turns: float
    ratio: float


def scaled(path: np.ndarray, rate: dict[str, float]) -> np.ndarray:
    """The path in coordinates where small plain-gradient orbits are circles: θ/√rate_θ,
    ψ/√rate_ψ (the linearised flow θ' = a·c·ψ, ψ' = -b·c·θ keeps θ²/a + ψ²/b constant), so
    unequal learning rates do not pass for growth or decay."""
    # A player that never moves (no updates) keeps its coordinate as it is.
    return path / np.sqrt([rate["theta"] or 1.0, rate["psi"] or 1.0])


def verdict(path: np.ndarray, rate: dict[str, float]) -> Verdict:
    """Judge a trajectory by its scaled distance to the equilibrium over its last twentieth
    against the start's, and by how often it went round."""
    end = path[-1]
    if not np.all(np.isfinite(end)) or np.max(np.abs(end)) >= BLOWN_UP:
        words = "the point runs off to infinity: training blows up."
        return Verdict("blows_up", words, math.nan, math.inf)
    s = scaled(path, rate)
    r = np.hypot(s[:, 0], s[:, 1])
    angle = np.unwrap(np.arctan2(s[:, 1], s[:, 0]))
    turns = float(abs(angle[-1] - angle[0]) / (2 * math.pi))
    late = max(2, len(path) // 20)
    ratio = float(r[-late:].mean() / r[0])
    moved = float(np.hypot(*np.diff(path[-late:], axis=0).T).sum())
    reach = float(np.hypot(*path[0]))
    if ratio < 0.02:
        kind, words = (
            "converges",
            (
                "the point closes in on the equilibrium (0, 0), within 2% of the start's scaled "
                "distance: G sits on the data and D is flat."
            ),
        )
    elif moved < 1e-4 * reach:
        kind, words = (
            "stops",
            (
                f"the point stops at θ = {end[0]:.2g}, ψ = {end[1]:.2g}, where the field vanishes "
                "though G is not on the data."
            ),
        )
    elif turns < 1 and 0.5 <= ratio <= 2:
        kind, words = (
            "too_short",
            (
                f"the point goes only {turns:.2f} of a turn round the equilibrium: too little to "
                "tell whether it settles, circles or spirals away; try more iterations or larger "
                "learning rates."
            ),
        )
    elif ratio > 1.25:
        how = "winds" if turns >= 1 else "moves"
        kind, words = (
            "spirals_out",
            (
                f"the point {how} away from the equilibrium (0, 0): its scaled distance grows "
                f"{ratio:.3g}-fold."
            ),
        )
    elif (
        ratio < 0.8
        and turns >= 1
        and abs(r[-late:].mean() / r[-2 * late : -late].mean() - 1) < 0.005
    ):
        # Came in, then settled on an orbit: the last twentieth no nearer than the one before.
        kind, words = (
            "circles",
            (
                f"the point comes in to {ratio:.2f} of the start's scaled distance, then circles "
                f"the equilibrium (0, 0) there and gets no closer ({turns:.1f} turns in all)."
            ),
        )
    elif ratio < 0.8:
        # How it comes in is the lesson: winding in (the game turns it) or heading in.
        if turns >= 1:
            how = f"winds in towards the equilibrium (0, 0) ({turns:.1f} turns)"
        elif turns < 0.25:
            how = "moves towards the equilibrium (0, 0) without going round it"
        else:
            how = "moves towards the equilibrium (0, 0)"
        kind, words = (
            "approaches",
            f"the point {how}, but is still {ratio:.2f} of the start's scaled distance away.",
        )
    else:
        kind, words = (
            "circles",
            (
                f"the point circles the equilibrium (0, 0) ({turns:.1f} turns) and never reaches "
                f"it: its scaled distance stays {ratio:.2f} of the start's."
            ),
        )
    return Verdict(kind, words, turns, ratio)


def extent(path: np.ndarray, least: float = 1.5, most: float = 1e3) -> tuple[float, float]:
    """Half-widths of the picture on θ and on ψ: the trajectory with a margin, at least
    `least` (the start and the equilibrium in view), at most `most`."""
    finite = path[np.all(np.isfinite(path), axis=1)]
    reach = np.abs(finite).max(axis=0) * 1.1 if len(finite) else np.zeros(2)
    return tuple(float(min(most, max(least, x))) for x in reach)  # type: ignore[return-value]


def field_grid(
    config: ExperimentConfig, half: tuple[float, float], n: int = GRID
) -> dict[str, list[float]]:
    """The field at n x n points spread evenly over [-half, half] on each axis (cell
    centres), row-major with θ varying fastest."""
    axes = [(torch.arange(n, dtype=torch.float64) + 0.5) / n * 2 * h - h for h in half]
    psi, theta = torch.meshgrid(axes[1], axes[0], indexing="ij")
    v_t, v_p = Game(config).field(theta.reshape(-1), psi.reshape(-1))
    return {"theta": axes[0].tolist(), "psi": axes[1].tolist(),
            "v_theta": v_t.tolist(), "v_psi": v_p.tolist()}  # fmt: skip


def rates(config: ExperimentConfig) -> dict[str, float]:
    """How far one iteration of plain gradient steps moves each coordinate per unit of the
    field: learning rate times updates per iteration (one each outside alternating)."""
    t = config.training
    alt = t.scheme == "alternating"
    return {"theta": config.g_optimizer.lr * (t.g_steps if alt else 1),
            "psi": config.d_optimizer.lr * (t.d_steps if alt else 1)}  # fmt: skip


def describe(
    config: ExperimentConfig, steps: int, start: tuple[float, float] = START
) -> dict[str, object]:
    """Everything the view draws: the trajectory, the field around it, the verdict, the
    eigenvalues at the equilibrium and, for optimizers other than plain SGD, the verdict
    plain SGD at the same learning rates would get (`plain_sgd`, else None)."""
    path = trajectory(config, steps, start)
    half = extent(path)
    rate = rates(config)
    v = verdict(path, rate)
    plain = plain_sgd(config)
    compare = None if plain is None else verdict(trajectory(plain, steps, start), rate)
    finite = path[np.all(np.isfinite(path), axis=1)]
    every = max(1, math.ceil((len(finite) - 1) / SHOWN))
    shown = np.vstack([finite[:-1:every], finite[-1:]]) if len(finite) > 1 else finite
    return {
        "start": list(start),
        "steps": steps,
        "iterations": len(path) - 1,
        "path": shown.tolist(),
        "half": list(half),
        "field": field_grid(config, half),
        "rates": rate,
        "verdict": {
            "kind": v.kind,
            "words": v.words,
            "turns": _num(v.turns),
            "ratio": _num(v.ratio),
        },
        "eigenvalues": _eigen(config),
        "plain_sgd": None
        if compare is None
        else {
            "kind": compare.kind,
            "words": compare.words,
            "turns": _num(compare.turns),
            "ratio": _num(compare.ratio),
        },
    }


def plain_sgd(config: ExperimentConfig) -> ExperimentConfig | None:
    """The config with both optimizers plain SGD (no momentum) at their learning rates, or
    None if they already are."""
    opts = (config.g_optimizer, config.d_optimizer)
    if all(o.kind == "sgd" and o.momentum == 0 for o in opts):
        return None
    sgd = {"kind": "sgd", "momentum": 0.0}
    return config.model_copy(update={
        "g_optimizer": config.g_optimizer.model_copy(update=sgd),
        "d_optimizer": config.d_optimizer.model_copy(update=sgd),
    })  # fmt: skip


def eigenvalues(config: ExperimentConfig) -> list[complex] | None:
    """The eigenvalues of the field's Jacobian at (0, 0), or None where the field has no
    derivative there (WGAN-GP's |ψ| has a kink at ψ = 0): two step sizes must agree."""
    fine, coarse = jacobian_at_equilibrium(config, 1e-6), jacobian_at_equilibrium(config, 1e-4)
    if not np.allclose(fine, coarse, rtol=1e-3, atol=1e-6):
        return None
    return sorted((complex(z) for z in np.linalg.eigvals(fine)), key=lambda z: (z.imag, z.real))


def _num(x: float) -> float | None:
    """A figure for JSON: None for infinity and NaN."""
    return x if math.isfinite(x) else None


def _eigen(config: ExperimentConfig) -> list[list[float]] | None:
    values = eigenvalues(config)
    return None if values is None else [[round(z.real, 6), round(z.imag, 6)] for z in values]
