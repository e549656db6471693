"""Where the exact gradient of D's output bias is zero, the engine's is exactly zero.

A Wasserstein critic's loss, mean D(fake) - mean D(real), does not change when a constant is
added to D's output, so its output bias has gradient 0 (the WGAN-GP, R1 and R2 penalties depend
on grad_x D only, which the bias does not touch); a hinge loss has gradient 0 there whenever
as many real as fake packs are inside the margin. Summed in float32 the real and the fake
halves used to leave about 3e-8 of one sign at every step, which Adam and RMSProp scale to an
lr-sized step: WGAN-GP's mean D output drifted to -3.4 in 1,000 steps. The batch of 150 makes
1/150 inexact in binary; a power of two would hide the rounding.
"""

import pytest
import torch

from ganlab.engine.step import group_key, step_together
from ganlab.engine.trainer import Trainer

STEPS = 1000
SMALL = {
    "data": {"name": "ring8"},
    "generator": {"layers": 1, "neurons": 8},
    "training": {"batch_size": 150, "d_steps": 1, "g_steps": 1},
}
# Every optimizer with the settings that shape its update. None has weight decay (the only
# option that would move a parameter whose gradient is zero).
OPTIMIZERS = [
    {"kind": "sgd", "lr": 0.05},
    {"kind": "sgd", "lr": 0.05, "momentum": 0.9},
    {"kind": "adam"},  # D's defaults: lr 5e-3, β = 0, 0.99
    {"kind": "adam", "lr": 1e-4, "beta1": 0.5, "beta2": 0.9},
    {"kind": "rmsprop", "lr": 1e-3},
    {"kind": "rmsprop", "lr": 1e-3, "alpha": 0.9, "momentum": 0.5},
]
OPTIMIZER_IDS = ["sgd", "sgd-momentum", "adam", "adam-wgan-gp-paper", "rmsprop", "rmsprop-momentum"]


def config(loss: dict, packing: int, optimizer: dict, seed: int = 0) -> dict:
    d = {"layers": 1, "neurons": 8, "packing": packing}
    return {**SMALL, "loss": loss, "discriminator": d, "d_optimizer": optimizer, "seed": seed}


def exact_bias_grad(t: Trainer) -> float:
    """d(D's loss)/d(output bias) of the last D step, computed independently of the engine:
    0 for the Wasserstein losses; for the hinge, (fakes inside the margin - reals inside it)
    / packs, both counts exact integers."""
    assert t._last_d is not None
    o_real, o_fake = t._last_d
    if t.config.loss.kind == "hinge":
        return (int((o_fake > -1).sum()) - int((o_real < 1).sum())) / o_real.shape[0]
    assert t.config.loss.kind in ("wgan", "wgan_gp")
    return 0.0


def start_bias(t: Trainer) -> float:
    """The output bias where it must stay: weight clipping (plain WGAN) projects every
    parameter into [-clip, clip] once, the output bias included; nothing else may move it."""
    b = t.D.params[-1]
    if t.objective.clip_weights:
        b = b.clamp(-t.config.loss.clip, t.config.loss.clip)
    return float(b)


def assert_untouched(t: Trainer, start: float) -> None:
    assert float(t.D.params[-1]) == start
    assert float(t.D.grad[-1]) == 0.0
    # No step ever left anything for the output bias in the optimizer's state (Adam's and
    # RMSProp's square averages keep a trace of every gradient for thousands of steps).
    for name, buf in t.d_opt.buffers.items():
        assert float(buf[-1]) == 0.0, name


LOSSES = [{"kind": "wgan"}, {"kind": "wgan_gp"}]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=OPTIMIZER_IDS)
@pytest.mark.parametrize("packing", [1, 2])
@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss["kind"])
def test_a_wasserstein_critic_keeps_its_output_bias_alone(loss, packing, optimizer):
    t = Trainer(config(loss, packing, optimizer))
    start = start_bias(t)
    for _ in range(STEPS):
        t.step()
    assert not t.diverged()
    assert_untouched(t, start)


@pytest.mark.parametrize("penalty", ["r1", "r2"])
@pytest.mark.parametrize("packing", [1, 2])
def test_an_r1_or_r2_penalty_keeps_a_wasserstein_output_bias_alone(packing, penalty):
    t = Trainer(config({"kind": "wgan", penalty: 1.0}, packing, {"kind": "adam"}))
    assert t.needs_autograd
    start = start_bias(t)
    for _ in range(STEPS):
        t.step()
    assert_untouched(t, start)


@pytest.mark.parametrize("packing", [1, 2])
def test_a_group_keeps_every_wasserstein_output_bias_alone(packing):
    # group_key ignores the optimizers: one group steps a run with each of them.
    runs = [
        Trainer(config({"kind": "wgan"}, packing, opt, seed=s)) for s, opt in enumerate(OPTIMIZERS)
    ]
    assert len({group_key(t) for t in runs}) == 1
    starts = [start_bias(t) for t in runs]
    for _ in range(STEPS):
        step_together(runs)
    for t, start in zip(runs, starts, strict=True):
        assert_untouched(t, start)


@pytest.mark.parametrize("grouped", [False, True], ids=["alone", "group"])
@pytest.mark.parametrize("kind", ["log", "lsgan", "hinge"])
def test_other_losses_still_move_their_output_bias(kind, grouped):
    """The others have a real gradient there: the check above can tell a bias that moves."""
    runs = [Trainer(config({"kind": kind}, 1, {"kind": "adam"}, seed=s)) for s in range(2)]
    starts = [float(t.D.params[-1]) for t in runs]
    for _ in range(STEPS):
        if grouped:
            step_together(runs)
        else:
            for t in runs:
                t.step()
    for t, start in zip(runs, starts, strict=True):
        assert abs(float(t.D.params[-1]) - start) > 1e-3


@pytest.mark.parametrize("grouped", [False, True], ids=["alone", "group"])
@pytest.mark.parametrize("packing", [1, 2])
def test_a_balanced_hinge_gives_its_output_bias_exactly_zero(packing, grouped):
    """The hinge's output-bias gradient is the balance of packs inside the margin, exactly:
    0 in the first steps, while every pack is inside, and whenever the counts tie."""
    runs = [Trainer(config({"kind": "hinge"}, packing, {"kind": "adam"}, seed=s)) for s in (0, 1)]
    balanced = 0
    for _ in range(300):
        if grouped:
            step_together(runs)
        else:
            for t in runs:
                t.step()
        for t in runs:
            want = exact_bias_grad(t)
            assert float(t.D.grad[-1]) == pytest.approx(want, rel=1e-6, abs=0.0)
            balanced += want == 0.0
    assert balanced >= 20  # the zero case was exercised, not only the others


def test_only_the_output_bias_is_special():
    """The other parameters of a Wasserstein critic keep learning."""
    cfg = config({"kind": "wgan_gp"}, 1, {"kind": "adam"})
    cfg["discriminator"]["activation"] = "tanh"  # no dead unit keeps a zero gradient
    t = Trainer(cfg)
    before = t.D.params.clone()
    for _ in range(20):
        t.step()
    moved = (t.D.params != before)[:-1]
    assert bool(moved.all())
    assert torch.equal(t.D.params[-1], before[-1])


VARIANT_CHANGES = {
    "general-path": {},
    "spectral-norm": {"discriminator": {"layers": 1, "neurons": 8, "spectral_norm": True}},
    "extragradient": {"training": {"batch_size": 150, "scheme": "extragradient"}},
    "unrolled": {"training": {"batch_size": 150, "unrolled_steps": 2}},
    "instance-noise": {"training": {"batch_size": 150, "instance_noise": 0.2}},
    "gelu": {"discriminator": {"layers": 1, "neurons": 8, "activation": "gelu"}},
}


@pytest.mark.parametrize("variant", sorted(VARIANT_CHANGES))
def test_every_variant_keeps_a_wgan_gp_output_bias_alone(variant):
    """The general path and every variant give the output bias its exact zero too, alone
    and in a group (fewer steps: several of these take the slower autograd path)."""
    change = VARIANT_CHANGES[variant]
    runs = [
        Trainer({**config({"kind": "wgan_gp"}, 1, opt, seed=s), **change},
                closed_forms=variant != "general-path")
        for s, opt in enumerate(OPTIMIZERS[2:5])
    ]  # fmt: skip
    starts = [start_bias(t) for t in runs]
    for _ in range(STEPS // 10):
        runs[0].step()
        step_together(runs[1:])
    for t, start in zip(runs, starts, strict=True):
        assert t.d_updates > 0
        assert_untouched(t, start)
