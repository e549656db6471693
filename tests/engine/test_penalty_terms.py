"""D's penalties as their own loss terms (step.py `Group.d_loss`, losses.py `batch_losses`):
each recorded value is the weighted penalty that D's update added to its objective, checked
against a plain-torch computation on the same batch."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from ganlab.engine.evaluation import metric_row
from ganlab.engine.step import group_key, step_together
from ganlab.engine.trainer import Trainer
from ganlab.wire.messages import HISTORY_COLUMNS, history_array

SMALL: dict[str, Any] = {
    "data": {"name": "ring8"},
    "generator": {"layers": 2, "neurons": 16},
    "discriminator": {"layers": 2, "neurons": 16},
    "training": {"batch_size": 64},
    "metrics": {"every": 5, "samples": 200, "w1_samples": 100},
}
PENALTIES = ("d_gp", "d_r1", "d_r2")
# Configs with penalties on, and which terms each must record.
CASES = [
    ({"kind": "wgan_gp", "gp_weight": 10.0}, {"d_gp"}),
    ({"kind": "log", "r1": 3.0}, {"d_r1"}),
    ({"kind": "lsgan", "r2": 5.0}, {"d_r2"}),
    ({"kind": "wgan_gp", "gp_weight": 2.0, "r1": 1.5, "r2": 0.5}, {"d_gp", "d_r1", "d_r2"}),
]


def config(loss: dict[str, Any], packing: int = 1, **extra: Any) -> dict[str, Any]:
    return {**SMALL, "loss": loss, "discriminator": {**SMALL["discriminator"],
            "packing": packing}, **extra}  # fmt: skip


def _plain_critic(t: Trainer) -> Callable[[torch.Tensor], torch.Tensor]:
    """t's D as a plain torch function of packs, with copies of its weights (ReLU hidden)."""
    ws = [w.detach().clone() for w in t.D.weights]
    bs = [b.detach().clone() for b in t.D.biases]

    def critic(x: torch.Tensor) -> torch.Tensor:
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            x = torch.nn.functional.linear(x, w.t(), b)
            if i < len(ws) - 1:
                x = torch.relu(x)
        return x

    return critic


def _slope(critic: Callable[[torch.Tensor], torch.Tensor], at: torch.Tensor) -> torch.Tensor:
    """grad_x of critic at each pack, by torch.autograd."""
    x = at.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x)
    return g


def reference_terms(twin: Trainer) -> dict[str, float]:
    """The objective and the weighted penalties of the twin's next D update, computed from a
    batch drawn from its streams as the step draws it, by plain torch."""
    c = twin.config.loss
    m = twin.config.discriminator.packing
    packs, n = twin._batch()
    with torch.no_grad():
        real = twin.data_stream.take(n).reshape(packs, 2 * m)
        fake = twin.G(twin.noise_stream.take(n)).reshape(packs, 2 * m)
    critic = _plain_critic(twin)
    out: dict[str, float] = {}
    with torch.no_grad():
        real_part, fake_part = twin.objective.d_terms(critic(real), critic(fake), 1.0)
        out["d_loss"] = float(real_part.mean() + fake_part.mean())
    if c.kind == "wgan_gp" and c.gp_weight > 0:
        mix = twin.mix_stream.take(packs)
        between = real + mix * (fake - real)
        gp = (_slope(critic, between).norm(dim=1) - 1).pow(2).mean()
        out["d_gp"] = c.gp_weight * float(gp)
    if c.r1 > 0:
        out["d_r1"] = c.r1 * 0.5 * float(_slope(critic, real).pow(2).sum(dim=1).mean())
    if c.r2 > 0:
        out["d_r2"] = c.r2 * 0.5 * float(_slope(critic, fake).pow(2).sum(dim=1).mean())
    return out


@pytest.mark.parametrize("packing", [1, 2])
@pytest.mark.parametrize(("loss", "terms"), CASES)
def test_each_recorded_penalty_is_the_weighted_penalty_of_that_update(
    loss: dict[str, Any], terms: set[str], packing: int
) -> None:
    cfg = config(loss, packing)
    t, twin = Trainer(cfg), Trainer(cfg)
    # Some training first, so the networks are not at their start; both stay identical.
    t.train(3)
    twin.train(3)
    want = reference_terms(twin)
    t.step_d()
    got = t.losses()
    assert {k for k in got if k in PENALTIES} == terms
    for name in ("d_loss", *terms):
        assert got[name] == pytest.approx(want[name], rel=1e-4, abs=1e-6), name
    assert got["d_total"] == pytest.approx(got["d_loss"] + sum(got[k] for k in terms), rel=1e-9)
    # The penalty is a real part of D's loss here, so a wrong recording could not pass.
    assert max(abs(got[k]) for k in terms) > 1e-4


def test_the_total_is_what_d_minimised() -> None:
    """d_grad_norm is the norm of the gradient of d_total, not of d_loss alone."""
    cfg = config({"kind": "wgan_gp", "gp_weight": 10.0})
    t, twin = Trainer(cfg), Trainer(cfg)
    t.train(2)
    twin.train(2)
    m = twin.config.discriminator.packing
    packs, n = twin._batch()
    with torch.no_grad():
        real = twin.data_stream.take(n).reshape(packs, 2 * m)
        fake = twin.G(twin.noise_stream.take(n)).reshape(packs, 2 * m)
    mix = twin.mix_stream.take(packs)
    params = [p.detach().clone().requires_grad_(True) for p in (*twin.D.weights, *twin.D.biases)]
    ws, bs = params[: len(params) // 2], params[len(params) // 2 :]

    def critic(x: torch.Tensor) -> torch.Tensor:
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            x = torch.nn.functional.linear(x, w.t(), b)
            x = torch.relu(x) if i < len(ws) - 1 else x
        return x

    objective = critic(fake).mean() - critic(real).mean()
    x = (real + mix * (fake - real)).requires_grad_(True)
    (slope,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    total = objective + 10.0 * (slope.norm(dim=1) - 1).pow(2).mean()

    def norm(loss: torch.Tensor) -> float:
        grads = torch.autograd.grad(loss, params, retain_graph=True)
        return float(torch.sqrt(torch.stack([g.pow(2).sum() for g in grads]).sum()))

    norm_total, norm_objective = norm(total), norm(objective)
    t.step_d()
    assert t.grad_norms()["d_grad_norm"] == pytest.approx(norm_total, rel=1e-4)
    assert abs(norm_total - norm_objective) > 1e-2 * norm_total  # the two can be told apart


@pytest.mark.parametrize(("loss", "terms"), CASES)
def test_runs_stepped_together_record_their_own_penalties_as_alone(
    loss: dict[str, Any], terms: set[str]
) -> None:
    configs = [config(loss, seed=s) for s in (0, 1, 2)]
    grouped = [Trainer(c) for c in configs]
    alone = [Trainer(c) for c in configs]
    assert len({group_key(t) for t in grouped}) == 1
    for _ in range(4):
        step_together(grouped)
        for t in alone:
            t.step()
    for g, a in zip(grouped, alone, strict=True):
        got, want = g.losses(), a.losses()
        assert set(got) == set(want)
        for name in (*terms, "d_total"):
            assert got[name] == pytest.approx(want[name], rel=1e-4, abs=1e-6), name
    # Each run's own value, not run 0's nor the group's sum.
    for name in terms:
        values = [g.losses()[name] for g in grouped]
        assert len({round(v, 7) for v in values}) == 3, name
        assert all(v != pytest.approx(sum(values), rel=1e-3) for v in values), name


@pytest.mark.parametrize(
    "loss",
    [
        {"kind": "log"},
        {"kind": "wgan"},  # weight clipping: no penalty in the loss
        {"kind": "wgan_gp", "gp_weight": 0.0},
        {"kind": "hinge", "r1": 0.0, "r2": 0.0},
        {"kind": "log", "gp_weight": 10.0},  # the weight alone turns nothing on
    ],
)
def test_no_penalty_no_terms(loss: dict[str, Any]) -> None:
    t = Trainer(config(loss))
    t.train(5)
    losses = t.losses()
    assert not {*PENALTIES, "d_total"} & set(losses)
    assert "d_loss" in losses
    assert not {*PENALTIES, "d_total"} & set(metric_row(t, w1=False))
    for phase, values in t.walk("d"):
        if phase == "loss":
            assert set(values) == {"d_loss"}


def test_a_penalty_turned_off_leaves_with_the_next_d_update() -> None:
    t = Trainer(config({"kind": "log", "r1": 2.0, "r2": 1.0}))
    t.train(3)
    assert {"d_r1", "d_r2", "d_total"} <= set(t.losses())
    t.configure({"loss": {"r1": 0.0}})
    t.step_d()
    assert {k for k in t.losses() if k in PENALTIES} == {"d_r2"}
    t.configure({"loss": {"r2": 0.0}})
    t.step_d()
    assert not {*PENALTIES, "d_total"} & set(t.losses())
    t.configure({"loss": {"r1": 4.0}})
    t.step_d()
    assert {k for k in t.losses() if k in PENALTIES} == {"d_r1"}
    t.reset()
    assert t.losses() == {}


@pytest.mark.parametrize(("loss", "terms"), CASES[:3])
def test_the_walkthrough_shows_the_terms_of_its_own_update(
    loss: dict[str, Any], terms: set[str]
) -> None:
    cfg = config(loss, packing=2)
    t, twin = Trainer(cfg), Trainer(cfg)
    t.train(2)
    twin.train(2)
    want = reference_terms(twin)
    phases = dict(t.walk("d"))
    shown = phases["loss"]
    assert set(shown) == {"d_loss", *terms, "d_total"}
    for name in ("d_loss", *terms):
        assert shown[name] == pytest.approx(want[name], rel=1e-4, abs=1e-6), name
    assert shown["d_total"] == pytest.approx(shown["d_loss"] + sum(shown[k] for k in terms))
    # The finished walk was that update: the metric row reads the same values.
    losses = t.losses()
    for name in (*terms, "d_total"):
        assert losses[name] == pytest.approx(shown[name], rel=1e-6), name


def test_metric_rows_and_history_carry_the_terms_and_old_rows_read_as_gaps() -> None:
    t = Trainer(config({"kind": "wgan_gp", "gp_weight": 10.0}))
    t.train(10)
    rows = t.history
    assert len(rows) == 2
    assert all({"d_gp", "d_total"} <= set(r) and not {"d_r1", "d_r2"} & set(r) for r in rows)
    arr = history_array(rows)
    col = HISTORY_COLUMNS.index
    assert arr[-1, col("d_gp")] == pytest.approx(rows[-1]["d_gp"], rel=1e-6)
    assert arr[-1, col("d_total")] == pytest.approx(rows[-1]["d_total"], rel=1e-6)
    assert math.isnan(arr[-1, col("d_r1")]) and math.isnan(arr[-1, col("d_r2")])
    # A row of an older run file, before these columns: the old ones keep their places.
    old = history_array([{"iteration": 100.0, "d_loss": 0.5, "g_loss": 0.7}])
    assert list(HISTORY_COLUMNS[:3]) == ["iteration", "d_loss", "g_loss"]
    assert old[0, 1] == 0.5 and old[0, 2] == np.float32(0.7)
    assert all(math.isnan(old[0, col(k)]) for k in (*PENALTIES, "d_total"))
