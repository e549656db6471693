"""The training variants (spectral norm, EMA, instance noise, schemes, unrolled steps, GELU and
SiLU, the general path) against independent plain-PyTorch references.

Each reference draws its batches from a fresh twin Trainer's streams in the order the
contract states, copies the twin's weights into torch.nn layers, and updates them with
torch.optim (or, for unrolled steps, by the optimizer's rule written out by hand). Each test
also checks that the variant moves the result by more than the tolerance, so it can fail.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ganlab.engine.config import merge
from ganlab.engine.trainer import Trainer

RTOL, ATOL = 1e-5, 1e-6
# How far a variant must move a result, well beyond the tolerance above.
MOVED = 1e-4

SMALL: dict[str, Any] = {
    "data": {"name": "ring8"},
    "generator": {"layers": 2, "neurons": 16},
    "discriminator": {"layers": 2, "neurons": 16},
    "training": {"batch_size": 64, "d_steps": 1, "g_steps": 1},
    "metrics": {"every": 10_000},
    "device": "cpu",
}
SGD_D = {"kind": "sgd", "lr": 0.2, "momentum": 0.0}
SGD_G = {"kind": "sgd", "lr": 0.5, "momentum": 0.0}
ADAM = {"kind": "adam", "lr": 0.01, "beta1": 0.5, "beta2": 0.9}

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,  # exact (erf) form
    "silu": nn.SiLU,
}
CLOSED_FORM_ACTIVATIONS = ["relu", "leaky_relu", "tanh", "elu"]
LOSS_KINDS = ["log", "lsgan", "wgan", "wgan_gp", "hinge"]


def _cfg(**sections: dict[str, Any]) -> dict[str, Any]:
    return merge(SMALL, sections)


# --------------------------------------------------------------------------- plain torch


def _plain(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    activation: str,
    vectors: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> nn.Sequential:
    """torch.nn Linear layers holding copies of (fan_in, fan_out) weights and biases; with
    `vectors`, each wrapped in torch's spectral_norm with those (u, v) in its buffers."""
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        lin = nn.Linear(*w.shape)
        with torch.no_grad():
            lin.weight.copy_(w.t())
            lin.bias.copy_(b)
        if vectors is not None:
            spectral_norm(lin)
            sn = lin.parametrizations.weight[0]
            u, v = vectors[i]
            assert sn._u.shape == u.shape and sn._v.shape == v.shape  # u: fan_out, v: fan_in
            with torch.no_grad():
                sn._u.copy_(u)
                sn._v.copy_(v)
        layers += [lin, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1])


def _unflatten(flat: torch.Tensor, sizes: Sequence[int]) -> tuple[list, list]:
    """The engine's flat layout: per layer, a (fan_in, fan_out) weight then its bias."""
    weights, biases, at = [], [], 0
    for fan_in, fan_out in itertools.pairwise(sizes):
        weights.append(flat[at : at + fan_in * fan_out].view(fan_in, fan_out))
        at += fan_in * fan_out
        biases.append(flat[at : at + fan_out])
        at += fan_out
    return weights, biases


def _linears(net: nn.Sequential) -> list[nn.Linear]:
    return [m for m in net if isinstance(m, nn.Linear)]


def _flat(net: nn.Sequential) -> torch.Tensor:
    """A plain network's parameters in the engine's flat layout (the unnormalised weights)."""
    parts = []
    for lin in _linears(net):
        w = lin.parametrizations.weight.original if parametrize.is_parametrized(lin) else lin.weight
        parts += [w.detach().t().reshape(-1), lin.bias.detach()]
    return torch.cat(parts)


def _torch_opt(params: Any, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    if cfg["kind"] == "sgd":
        return torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg["momentum"])
    return torch.optim.Adam(params, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=1e-8)


def _d_loss(kind: str, o_real: torch.Tensor, o_fake: torch.Tensor) -> torch.Tensor:
    if kind == "log":
        bce = F.binary_cross_entropy_with_logits
        return bce(o_real, torch.ones_like(o_real)) + bce(o_fake, torch.zeros_like(o_fake))
    if kind == "lsgan":
        return 0.5 * (o_real - 1).pow(2).mean() + 0.5 * o_fake.pow(2).mean()
    if kind == "hinge":
        return F.relu(1 - o_real).mean() + F.relu(1 + o_fake).mean()
    return o_fake.mean() - o_real.mean()  # wgan


def _g_loss(kind: str, o_fake: torch.Tensor) -> torch.Tensor:
    if kind == "log":  # non-saturating: -log D(G(z))
        return F.binary_cross_entropy_with_logits(o_fake, torch.ones_like(o_fake))
    if kind == "lsgan":
        return 0.5 * (o_fake - 1).pow(2).mean()
    return -o_fake.mean()


def _set_grads(params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor]) -> None:
    for p, g in zip(params, grads, strict=True):
        p.grad = g.detach().clone()


class Twin:
    """A trainer in the same state as the one under test: its streams give the same batches,
    its weights live on as plain torch.nn networks `d` and `g`. Their torch optimizers start
    afresh, so a trained trainer is a source only for stateless SGD."""

    def __init__(
        self,
        source: dict[str, Any] | Trainer,
        vectors: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> None:
        self.t = source if isinstance(source, Trainer) else Trainer(source)
        c = self.t.config
        self.kind = c.loss.kind
        self.clip = c.loss.clip if c.loss.kind == "wgan" else None
        self.m = c.discriminator.packing
        self.packs, self.n = self.t._batch()
        self.d = _plain(self.t.D.weights, self.t.D.biases, c.discriminator.activation, vectors)
        self.g = _plain(self.t.G.weights, self.t.G.biases, c.generator.activation)
        self.d_opt = _torch_opt(self.d.parameters(), c.d_optimizer.model_dump())
        self.g_opt = _torch_opt(self.g.parameters(), c.g_optimizer.model_dump())

    def real(self) -> torch.Tensor:
        return self.t.data_stream.take(self.n).clone()

    def z(self) -> torch.Tensor:
        return self.t.noise_stream.take(self.n).clone()

    def eps(self, count: int) -> torch.Tensor:
        return self.t.instance_noise_stream.take(count).clone()

    def d_loss_at(self, real: torch.Tensor, fake: torch.Tensor, d: Any = None) -> torch.Tensor:
        x = torch.cat([real, fake]).view(2 * self.packs, 2 * self.m)
        o = (self.d if d is None else d)(x)
        return _d_loss(self.kind, o[: self.packs], o[self.packs :])

    def g_loss_at(self, fake: torch.Tensor, d: Any = None) -> torch.Tensor:
        o = (self.d if d is None else d)(fake.reshape(self.packs, 2 * self.m))
        return _g_loss(self.kind, o)

    def clip_d(self) -> None:
        if self.clip is not None:
            with torch.no_grad():
                for p in self.d.parameters():
                    p.clamp_(-self.clip, self.clip)

    def d_update(self, sigma: float = 0.0) -> None:
        """One D update: real, z (then 2n instance-noise draws when sigma > 0), SGD/Adam."""
        real, z = self.real(), self.z()
        fake = self.g(z).detach()
        if sigma > 0:
            eps = self.eps(2 * self.n)
            real, fake = real + sigma * eps[: self.n], fake + sigma * eps[self.n :]
        self.d_opt.zero_grad()
        self.d_loss_at(real, fake).backward()
        self.d_opt.step()
        self.clip_d()

    def g_update(self, sigma: float = 0.0) -> None:
        """One G update: z (then n instance-noise draws when sigma > 0), D left alone."""
        fake = self.g(self.z())
        if sigma > 0:
            fake = fake + sigma * self.eps(self.n)
        params = list(self.g.parameters())
        _set_grads(params, torch.autograd.grad(self.g_loss_at(fake), params))
        self.g_opt.step()

    def joint_grads(self) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        """D's and G's gradients at the current parameters: D's batch (real n, z n), then G's z."""
        real, z = self.real(), self.z()
        d_params = list(self.d.parameters())
        d_grads = torch.autograd.grad(self.d_loss_at(real, self.g(z).detach()), d_params)
        g_params = list(self.g.parameters())
        g_grads = torch.autograd.grad(self.g_loss_at(self.g(self.z())), g_params)
        return d_grads, g_grads

    def step_both(self, grads: tuple[Sequence[torch.Tensor], Sequence[torch.Tensor]]) -> None:
        _set_grads(list(self.d.parameters()), grads[0])
        _set_grads(list(self.g.parameters()), grads[1])
        self.d_opt.step()
        self.g_opt.step()
        self.clip_d()


def _assert_params(t: Trainer, twin: Twin) -> None:
    torch.testing.assert_close(t.D.params, _flat(twin.d), rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(t.G.params, _flat(twin.g), rtol=RTOL, atol=ATOL)


def _gap(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


# --------------------------------------------------------------------------- spectral norm


def _vectors(t: Trainer) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(u.detach().clone(), v.detach().clone()) for u, v in t.spectral_vectors()]


@pytest.mark.parametrize(
    ("optimizer", "packing", "updates"),
    [(SGD_D, 1, 1), (SGD_D, 2, 1), (ADAM, 1, 3)],
    ids=["sgd", "sgd-packing2", "adam-3-updates"],
)
def test_spectral_norm_d_updates_equal_torch_parametrization(optimizer, packing, updates):
    """Every D update does one power iteration (torch's train() mode) and divides each
    weight, the output layer's included, by u·(W v); u and v end as torch's buffers do."""
    cfg = _cfg(discriminator={"packing": packing, "spectral_norm": True}, d_optimizer=optimizer)
    t = Trainer(cfg)
    vectors = _vectors(t)
    assert len(vectors) == t.D.num_layers
    for (u, v), w in zip(vectors, t.D.weights, strict=True):
        assert u.shape == (w.shape[1],) and v.shape == (w.shape[0],)
        torch.testing.assert_close(u.norm(), torch.tensor(1.0))
        # The build's last power iteration ends with v = normalize(W_t^T u) (w is W_t^T).
        torch.testing.assert_close(v, F.normalize(w @ u, dim=0), rtol=RTOL, atol=ATOL)
    for _ in range(updates):
        t.step_d()
    twin = Twin(cfg, vectors)
    twin.d.train()
    for _ in range(updates):
        twin.d_update()
    _assert_params(t, twin)
    for (u, v), lin in zip(t.spectral_vectors(), _linears(twin.d), strict=True):
        sn = lin.parametrizations.weight[0]
        torch.testing.assert_close(u, sn._u, rtol=RTOL, atol=ATOL)
        torch.testing.assert_close(v, sn._v, rtol=RTOL, atol=ATOL)
    unnormalised = Twin(cfg)
    for _ in range(updates):
        unnormalised.d_update()
    assert _gap(t.D.params, _flat(unnormalised.d)) > MOVED


def test_spectral_norm_g_update_uses_the_current_vectors_unchanged():
    """G's update sees D normalised by the current u, v (torch's eval() mode) and leaves
    u, v and D as they are."""
    cfg = _cfg(discriminator={"spectral_norm": True}, g_optimizer=SGD_G)
    t = Trainer(cfg)
    vectors = _vectors(t)
    d_before = t.D.params.clone()
    t.step_g()
    for (u, v), (u0, v0) in zip(t.spectral_vectors(), vectors, strict=True):
        assert torch.equal(u, u0) and torch.equal(v, v0)
    assert torch.equal(t.D.params, d_before)
    twin = Twin(cfg, vectors)
    twin.d.eval()
    twin.g_update()
    _assert_params(t, twin)
    unnormalised = Twin(cfg)
    unnormalised.g_update()
    assert _gap(t.G.params, _flat(unnormalised.g)) > MOVED


def test_spectral_vectors_survive_a_state_round_trip():
    cfg = _cfg(discriminator={"spectral_norm": True})
    a = Trainer(cfg)
    a.train(5)
    b = Trainer(cfg)
    moved = zip(a.spectral_vectors(), _vectors(b), strict=True)
    assert any(not torch.equal(ua, ub) for (ua, _), (ub, _) in moved)  # D updates moved u
    b.load_state(a.state())
    for (ua, va), (ub, vb) in zip(a.spectral_vectors(), b.spectral_vectors(), strict=True):
        assert torch.equal(ua, ub) and torch.equal(va, vb)
    a.train(3)
    b.train(3)
    assert torch.equal(a.D.params, b.D.params) and torch.equal(a.G.params, b.G.params)


def _normalised_slope(t: Trainer, pairs: int = 4000) -> float:
    """The largest |D(a) - D(b)| / |a - b| over random far and near pairs of points, with
    distances in normalised coordinates (data distance / scale)."""
    gen = torch.Generator().manual_seed(11)
    center = torch.tensor(t.normalizer.center, dtype=torch.float64)
    scale = t.normalizer.scale
    a = torch.rand(pairs, 2, generator=gen, dtype=torch.float64) * 3 - 1.5
    far = torch.rand(pairs, 2, generator=gen, dtype=torch.float64) * 3 - 1.5
    near = a + 0.01 * torch.randn(pairs, 2, generator=gen, dtype=torch.float64)
    slopes = []
    for b in (far, near):
        pa = (a * scale + center).float()
        pb = (b * scale + center).float()
        da = torch.from_numpy(t.discriminate(pa)).double()
        db = torch.from_numpy(t.discriminate(pb)).double()
        dist = (pa.double() - pb.double()).norm(dim=1) / scale
        slopes.append(float(((da - db).abs() / dist).max()))
    return max(slopes)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_spectral_norm_keeps_d_1_lipschitz_in_normalised_coordinates(activation):
    """Each normalised layer has spectral norm about 1 and relu / leaky relu are 1-Lipschitz,
    so no pair of points may show a slope much above 1; a log-loss D without it is far
    steeper after the same training."""

    def trained(sn: bool) -> Trainer:
        t = Trainer(_cfg(discriminator={"activation": activation, "spectral_norm": sn}))
        t.train(300)
        return t

    assert _normalised_slope(trained(True)) <= 1.02
    assert _normalised_slope(trained(False)) > 1.02  # without it, D is steeper


# --------------------------------------------------------------------------- EMA


class _Flat(nn.Module):
    """One parameter holding G's flat weights, for AveragedModel."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.zeros(size))


def _ema_reference(decay: float, size: int) -> tuple[_Flat, AveragedModel]:
    holder = _Flat(size)
    return holder, AveragedModel(holder, multi_avg_fn=get_ema_multi_avg_fn(decay))


def _feed(holder: _Flat, avg: AveragedModel, params: torch.Tensor) -> None:
    with torch.no_grad():
        holder.p.copy_(params)
    avg.update_parameters(holder)


def test_ema_equals_averaged_model_fed_every_g_update():
    decay = 0.9
    t = Trainer(_cfg(generator={"ema": decay}))
    holder, avg = _ema_reference(decay, t.G.params.numel())
    for _ in range(6):
        t.step()  # d_steps 1, g_steps 1: each ends with a G update
        _feed(holder, avg, t.G.params)
    for _ in range(2):
        t.step_g()
        _feed(holder, avg, t.G.params)
    got = t.averaged_generator()
    assert got is not None and got.shape == t.G.params.shape
    torch.testing.assert_close(got, avg.module.p.detach(), rtol=RTOL, atol=ATOL)
    assert _gap(got, t.G.params) > MOVED


def test_no_ema_means_no_averaged_generator():
    t = Trainer(SMALL)
    t.train(3)
    assert t.averaged_generator() is None


def _sample_by_hand(t: Trainer, flat: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """n points of the generator with weights `flat`, from Gaussian noise (the default)."""
    c = t.config
    z = torch.randn(n, c.noise.dim, generator=torch.Generator().manual_seed(seed))
    sizes = [c.noise.dim] + [c.generator.neurons] * c.generator.layers + [2]
    g = _plain(*_unflatten(flat, sizes), c.generator.activation)
    with torch.no_grad():
        return g(z) * t.normalizer.scale + torch.tensor(t.normalizer.center)


def test_sample_shows_the_averaged_generator_when_view_average():
    t = Trainer(_cfg(generator={"ema": 0.8}, view={"average": True}))
    t.train(6)
    averaged = t.averaged_generator()
    assert averaged is not None
    got = torch.from_numpy(t.sample(300, torch.Generator().manual_seed(5)))
    want = _sample_by_hand(t, averaged, 300, 5)
    torch.testing.assert_close(got, want, rtol=RTOL, atol=1e-5)
    t.configure({"view": {"average": False}})
    plain = torch.from_numpy(t.sample(300, torch.Generator().manual_seed(5)))
    torch.testing.assert_close(plain, _sample_by_hand(t, t.G.params, 300, 5), rtol=RTOL, atol=1e-5)
    assert _gap(got, plain) > MOVED


def test_a_new_generator_shape_restarts_the_average():
    decay = 0.9
    t = Trainer(_cfg(generator={"ema": decay}))
    t.train(5)
    t.configure({"generator": {"neurons": 8}})
    holder, avg = _ema_reference(decay, t.G.params.numel())
    t.step()
    averaged = t.averaged_generator()
    assert averaged is not None and torch.equal(averaged, t.G.params)  # started over: a copy
    _feed(holder, avg, t.G.params)
    for _ in range(3):
        t.step()
        _feed(holder, avg, t.G.params)
    averaged = t.averaged_generator()
    assert averaged is not None
    torch.testing.assert_close(averaged, avg.module.p.detach(), rtol=RTOL, atol=ATOL)


def test_the_average_survives_a_state_round_trip():
    cfg = _cfg(generator={"ema": 0.9})
    a = Trainer(cfg)
    a.train(6)
    b = Trainer(cfg)
    b.load_state(a.state())
    got, want = b.averaged_generator(), a.averaged_generator()
    assert got is not None and want is not None and torch.equal(got, want)
    a.train(3)
    b.train(3)
    got, want = b.averaged_generator(), a.averaged_generator()
    assert got is not None and want is not None and torch.equal(got, want)
    assert _gap(want, a.G.params) > MOVED


# --------------------------------------------------------------------------- instance noise


@pytest.mark.parametrize("packing", [1, 2])
def test_instance_noise_d_update_adds_sigma_eps_to_real_then_fake(packing):
    sigma = 0.3
    cfg = _cfg(
        discriminator={"packing": packing}, training={"instance_noise": sigma}, d_optimizer=SGD_D
    )
    t = Trainer(cfg)
    t.step_d()
    twin = Twin(cfg)
    twin.d_update(sigma)
    _assert_params(t, twin)
    quiet = Twin(cfg)
    quiet.d_update()
    assert _gap(t.D.params, _flat(quiet.d)) > MOVED


def test_instance_noise_g_update_adds_sigma_eps_to_the_fakes():
    sigma = 0.3
    cfg = _cfg(training={"instance_noise": sigma}, g_optimizer=SGD_G)
    t = Trainer(cfg)
    t.step_g()
    twin = Twin(cfg)
    twin.g_update(sigma)
    _assert_params(t, twin)
    quiet = Twin(cfg)
    quiet.g_update()
    assert _gap(t.G.params, _flat(quiet.g)) > MOVED


def _trained(cfg: dict[str, Any], iterations: int) -> Trainer:
    t = Trainer(cfg)
    t.train(iterations)
    return t


@pytest.mark.parametrize(("iterations", "factor"), [(5, 0.5), (10, 0.0), (14, 0.0)])
def test_instance_noise_anneals_linearly(iterations, factor):
    """σ_t = σ0 · max(0, 1 − t/anneal) at the update's iteration t (anneal 10 here)."""
    sigma = 0.4
    cfg = _cfg(training={"instance_noise": sigma, "instance_noise_anneal": 10}, d_optimizer=SGD_D)
    t = _trained(cfg, iterations)
    twin, full = Twin(_trained(cfg, iterations)), Twin(_trained(cfg, iterations))
    t.step_d()
    twin.d_update(sigma * factor)
    _assert_params(t, twin)
    full.d_update(sigma)
    assert _gap(t.D.params, _flat(full.d)) > MOVED


def test_instance_noise_zero_trains_bit_for_bit_as_without_the_field():
    a, b = Trainer(SMALL), Trainer(_cfg(training={"instance_noise": 0.0}))
    a.train(20)
    b.train(20)
    assert torch.equal(a.G.params, b.G.params) and torch.equal(a.D.params, b.D.params)
    assert a.losses() == b.losses()
    c = Trainer(_cfg(training={"instance_noise": 0.1}))
    c.train(20)
    assert not torch.equal(a.D.params, c.D.params)


# --------------------------------------------------------------------------- schemes


OPTIMIZER_PAIRS = [(SGD_D, SGD_G), (ADAM, ADAM)]


@pytest.mark.parametrize(("d_opt", "g_opt"), OPTIMIZER_PAIRS, ids=["sgd", "adam"])
def test_simultaneous_takes_both_gradients_at_the_same_point(d_opt, g_opt):
    cfg = _cfg(training={"scheme": "simultaneous"}, d_optimizer=d_opt, g_optimizer=g_opt)
    t = Trainer(cfg)
    t.step()
    assert (t.iteration, t.d_updates, t.g_updates) == (1, 1, 1)
    twin = Twin(cfg)
    twin.step_both(twin.joint_grads())
    _assert_params(t, twin)
    # Alternating (D first, then G at D's new point) gives another G.
    alternating = Trainer(_cfg(d_optimizer=d_opt, g_optimizer=g_opt))
    alternating.step()
    assert _gap(t.G.params, alternating.G.params) > MOVED


@pytest.mark.parametrize(("d_opt", "g_opt"), OPTIMIZER_PAIRS, ids=["sgd", "adam"])
@pytest.mark.parametrize(
    "loss", [{"kind": "log"}, {"kind": "wgan", "clip": 0.2}], ids=["log", "wgan"]
)
def test_extragradient_steps_from_the_start_with_look_ahead_gradients(d_opt, g_opt, loss):
    cfg = _cfg(
        training={"scheme": "extragradient"}, d_optimizer=d_opt, g_optimizer=g_opt, loss=loss
    )
    t = Trainer(cfg)
    t.step()
    assert (t.iteration, t.d_updates, t.g_updates) == (1, 1, 1)
    twin = Twin(cfg)
    kept = [p.detach().clone() for p in (*twin.d.parameters(), *twin.g.parameters())]
    twin.step_both(twin.joint_grads())  # to the look-ahead point; optimizer state advances
    look_ahead = twin.joint_grads()
    with torch.no_grad():
        for p, k in zip((*twin.d.parameters(), *twin.g.parameters()), kept, strict=True):
            p.data.copy_(k)
    twin.step_both(look_ahead)
    _assert_params(t, twin)
    if "clip" in loss:
        assert float(t.D.params.abs().max()) <= loss["clip"] + 1e-7
    simultaneous = Trainer(merge(cfg, {"training": {"scheme": "simultaneous"}}))
    simultaneous.step()
    assert _gap(t.G.params, simultaneous.G.params) > MOVED


# --------------------------------------------------------------------------- unrolled steps


def _simulated_step(
    theta: dict[str, torch.Tensor],
    grads: Sequence[torch.Tensor],
    cfg: dict[str, Any],
    state: dict[str, dict[str, Any]],
) -> dict[str, torch.Tensor]:
    """One step of D's optimizer rule as differentiable tensor math (state: a copy)."""
    out = {}
    for (name, p), g in zip(theta.items(), grads, strict=True):
        if cfg["kind"] == "sgd":
            out[name] = p - cfg["lr"] * g
            continue
        s = state[name]
        b1, b2 = cfg["beta1"], cfg["beta2"]
        s["step"] += 1
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        # Where v is 0, so is every gradient so far (a unit dead for all samples): its step
        # stays 0 whatever G does, so nothing flows back (torch's sqrt would give 0·∞ = NaN).
        alive = s["v"] > 0
        root = torch.where(alive, torch.where(alive, s["v"], 1.0).sqrt(), 0.0)
        denom = root / (1 - b2 ** s["step"]) ** 0.5 + 1e-8
        out[name] = p - cfg["lr"] / (1 - b1 ** s["step"]) * s["m"] / denom
    return out


def _functional(net: nn.Module, theta: dict[str, torch.Tensor]) -> Any:
    return lambda x: functional_call(net, theta, (x,))


def _unrolled_g_update(twin: Twin, k: int, d_cfg: dict[str, Any]) -> None:
    """G's update through k simulated D updates, unrolled by hand (Metz et al. 2017)."""
    z = twin.z()
    theta = {n: p.detach().clone().requires_grad_(True) for n, p in twin.d.named_parameters()}
    state = {}
    for name, p in twin.d.named_parameters():
        s = twin.d_opt.state.get(p, {})
        state[name] = {
            "step": int(s["step"]) if s else 0,
            "m": s["exp_avg"].clone() if s else torch.zeros_like(p),
            "v": s["exp_avg_sq"].clone() if s else torch.zeros_like(p),
        }
    for _ in range(k):
        real, fake = twin.real(), twin.g(twin.z())  # fake keeps G's graph
        loss = twin.d_loss_at(real, fake, _functional(twin.d, theta))
        grads = torch.autograd.grad(loss, list(theta.values()), create_graph=True)
        theta = _simulated_step(theta, grads, d_cfg, state)
    params = list(twin.g.parameters())
    g_loss = twin.g_loss_at(twin.g(z), _functional(twin.d, theta))
    _set_grads(params, torch.autograd.grad(g_loss, params))
    twin.g_opt.step()


@pytest.mark.parametrize(
    ("d_opt", "activation"),
    [(SGD_D, "relu"), ({**ADAM, "lr": 0.05}, "relu"), ({**ADAM, "lr": 0.05}, "leaky_relu")],
    ids=["sgd", "adam", "adam-leaky"],
)
@pytest.mark.parametrize("k", [1, 3])
def test_unrolled_g_update_backpropagates_through_simulated_d_updates(d_opt, activation, k):
    cfg = _cfg(
        discriminator={"activation": activation},
        training={"unrolled_steps": k},
        d_optimizer=d_opt,
        g_optimizer=SGD_G,
    )
    t = Trainer(cfg)
    t.step_d()
    t.step_d()  # so that Adam's simulation starts from a state of its own
    d_params = t.D.params.clone()
    d_state = {k: v.clone() for k, v in t.state().items() if k.startswith("d_opt.")}
    t.step_g()
    assert torch.equal(t.D.params, d_params)
    after = {k: v for k, v in t.state().items() if k.startswith("d_opt.")}
    assert after.keys() == d_state.keys()
    assert all(torch.equal(after[k], d_state[k]) for k in d_state)
    twin = Twin(cfg)
    twin.d_update()
    twin.d_update()
    _unrolled_g_update(twin, k, d_opt)
    _assert_params(t, twin)
    plain = Twin(cfg)
    plain.d_update()
    plain.d_update()
    plain.g_update()
    assert _gap(t.G.params, _flat(plain.g)) > MOVED


# --------------------------------------------------------------------------- GELU and SiLU


@pytest.mark.parametrize("activation", ["gelu", "silu"])
def test_gelu_and_silu_updates_equal_torch_nn(activation):
    nets = {"activation": activation}
    cfg = _cfg(generator=nets, discriminator=nets, d_optimizer=ADAM, g_optimizer=ADAM)
    t = Trainer(cfg)
    for _ in range(3):
        t.step_d()
    twin = Twin(cfg)
    for _ in range(3):
        twin.d_update()
    _assert_params(t, twin)
    t = Trainer(cfg)
    for _ in range(3):
        t.step_g()
    twin = Twin(cfg)
    for _ in range(3):
        twin.g_update()
    _assert_params(t, twin)
    relu = Twin(_cfg(d_optimizer=ADAM, g_optimizer=ADAM))
    for _ in range(3):
        relu.g_update()
    assert _gap(t.G.params, _flat(relu.g)) > MOVED


# --------------------------------------------------------------------------- general path


@pytest.mark.parametrize("packing", [1, 2])
@pytest.mark.parametrize("activation", CLOSED_FORM_ACTIVATIONS)
@pytest.mark.parametrize("loss", LOSS_KINDS)
def test_the_general_path_trains_as_the_closed_forms(loss, activation, packing):
    """Both ways to a gradient agree. SGD (with momentum) keeps their rounding differences at
    rounding size: Adam's first steps are about lr · sign(gradient), so a component that
    rounds to ±1e-9 either way would differ by 2 lr."""
    nets = {"activation": activation}
    sgd = {"kind": "sgd", "lr": 0.01, "momentum": 0.5}
    cfg = _cfg(
        generator=nets,
        discriminator={**nets, "packing": packing},
        loss={"kind": loss, "clip": 0.2},
        training={"d_steps": 2},
        d_optimizer=sgd,
        g_optimizer=sgd,
    )
    fast, general = Trainer(cfg), Trainer(cfg, closed_forms=False)
    start = fast.D.params.clone(), fast.G.params.clone()
    fast.train(4)
    general.train(4)
    torch.testing.assert_close(general.D.params, fast.D.params, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(general.G.params, fast.G.params, rtol=RTOL, atol=ATOL)
    assert _gap(fast.D.params, start[0]) > MOVED and _gap(fast.G.params, start[1]) > MOVED
