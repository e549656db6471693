import pytest
import torch

from ganlab.engine.losses import OBJECTIVES
from ganlab.engine.mlp import ACTIVATIONS
from ganlab.engine.step import diverged_runs, group_key, lone, step_together
from ganlab.engine.trainer import Trainer

SMALL = {
    "data": {"name": "ring8"},
    "generator": {"layers": 2, "neurons": 16},
    "discriminator": {"layers": 2, "neurons": 16},
    "training": {"batch_size": 64},
    "metrics": {"every": 50, "samples": 200, "w1_samples": 100},
}


def pairs(configs):
    """Each config twice: one run to step in a group, one to step alone."""
    return [Trainer(c) for c in configs], [Trainer(c) for c in configs]


def assert_same_runs(grouped, alone, tol=1e-5):
    for a, b in zip(grouped, alone, strict=True):
        assert (a.iteration, a.d_updates, a.g_updates) == (b.iteration, b.d_updates, b.g_updates)
        torch.testing.assert_close(a.G.params, b.G.params, atol=tol, rtol=tol)
        torch.testing.assert_close(a.D.params, b.D.params, atol=tol, rtol=tol)
        torch.testing.assert_close(a.G.grad, b.G.grad, atol=tol, rtol=tol)
        for k, v in a.d_opt.state().items():
            torch.testing.assert_close(v, b.d_opt.state()[k], atol=tol, rtol=tol)
        assert a.data_stream.offset == b.data_stream.offset
        assert a.noise_stream.offset == b.noise_stream.offset
        la, lb = a.losses(), b.losses()
        assert la.keys() == lb.keys() and {"d_loss", "d_real", "d_fake", "g_loss"} <= la.keys()
        for k in la:
            assert la[k] == pytest.approx(lb[k], abs=1e-4)


def run(grouped, alone, iterations):
    for _ in range(iterations):
        step_together(grouped)
        for t in alone:
            t.step()


@pytest.mark.parametrize(
    "loss",
    [
        {"kind": "log"},
        {"kind": "log", "generator": "minimax", "label_smoothing": 0.1},
        {"kind": "lsgan"},
        {"kind": "wgan"},
        {"kind": "hinge"},
    ],
)
@pytest.mark.parametrize("packing", [1, 3])
def test_a_group_steps_each_run_as_it_would_alone(loss, packing):
    d = {"layers": 2, "neurons": 16, "packing": packing}
    configs = [{**SMALL, "seed": s, "loss": loss, "discriminator": d} for s in range(3)]
    grouped, alone = pairs(configs)
    assert len({group_key(t) for t in grouped}) == 1
    run(grouped, alone, 20)
    assert_same_runs(grouped, alone)
    # Different seeds stay different runs: the group does not mix their weights.
    assert not torch.equal(grouped[0].G.params, grouped[1].G.params)


def test_runs_with_their_own_optimizer_settings_and_schedules_group():
    training = {"batch_size": 64, "d_steps": 2, "g_steps": 2, "lr_halflife": 7}
    configs = [
        {**SMALL, "seed": 0},
        {**SMALL, "seed": 1, "g_optimizer": {"lr": 3e-3}},
        {**SMALL, "seed": 2, "d_optimizer": {"kind": "sgd", "lr": 0.05, "momentum": 0.5}},
        {**SMALL, "seed": 3, "g_optimizer": {"kind": "rmsprop"}, "training": training},
        {**SMALL, "seed": 4, "training": training},
        {**SMALL, "seed": 5, "noise": {"kind": "uniform"}, "data": {"name": "line"}},
    ]
    grouped, alone = pairs(configs)
    keys = [group_key(t) for t in grouped]
    assert keys[0] == keys[1] == keys[2] == keys[5] and keys[3] == keys[4] != keys[0]
    run(grouped[:3] + grouped[5:], alone[:3] + alone[5:], 15)
    run(grouped[3:5], alone[3:5], 15)
    assert_same_runs(grouped, alone)


def test_a_group_of_one_is_a_plain_step():
    (a,), (b,) = pairs([SMALL])
    run([a], [b], 10)
    assert torch.equal(a.G.params, b.G.params) and torch.equal(a.D.params, b.D.params)


def test_what_shapes_the_computation_splits_groups():
    base = group_key(Trainer(SMALL))
    for change in (
        {"generator": {"layers": 3}},
        {"discriminator": {"neurons": 8}},
        {"discriminator": {"activation": "tanh"}},
        {"noise": {"dim": 3}},
        {"training": {"batch_size": 32}},
        {"loss": {"kind": "lsgan"}},
        {"loss": {"r1": 0.5}},
        {"discriminator": {"spectral_norm": True}},
        {"training": {"scheme": "simultaneous"}},
        {"training": {"unrolled_steps": 1}},
        {"generator": {"activation": "gelu"}},
    ):
        assert group_key(Trainer({**SMALL, **change})) != base, change
    # What does not shape the computation keeps the group.
    for change in (
        {"seed": 9},
        {"g_optimizer": {"lr": 0.01}},
        {"data": {"name": "grid25"}},
        {"generator": {"ema": 0.99}},
        {"training": {"batch_size": 64, "instance_noise": 0.1}},
    ):
        assert group_key(Trainer({**SMALL, **change})) == base, change


VARIANTS = {
    "wgan_gp": {"loss": {"kind": "wgan_gp"}},
    "r1": {"loss": {"kind": "log", "r1": 1.0}},
    "r2_hinge": {"loss": {"kind": "hinge", "r2": 0.5}},
    "spectral_norm": {"discriminator": {"layers": 2, "neurons": 16, "spectral_norm": True}},
    "ema": {"generator": {"layers": 2, "neurons": 16, "ema": 0.9}},
    "instance_noise": {"training": {"batch_size": 64, "instance_noise": 0.3}},
    "unrolled": {"training": {"batch_size": 64, "unrolled_steps": 2}},
    "simultaneous": {"training": {"batch_size": 64, "scheme": "simultaneous"}},
    "extragradient": {"training": {"batch_size": 64, "scheme": "extragradient"}},
    "gelu_silu": {
        "generator": {"layers": 2, "neurons": 16, "activation": "gelu"},
        "discriminator": {"layers": 2, "neurons": 16, "activation": "silu"},
    },
    "wgan_clip_packing": {
        "loss": {"kind": "wgan"},
        "discriminator": {"layers": 2, "neurons": 16, "packing": 2},
    },
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_groups_and_steps_each_run_as_alone(name):
    """Runs with a variant (autograd's general path included) group with each other and step
    as they would alone; per-run fields (seed, optimizer settings) may differ."""
    configs = [
        {**SMALL, **VARIANTS[name], "seed": s, "g_optimizer": {"lr": 1e-3 * (s + 1)}}
        for s in range(3)
    ]
    grouped, alone = pairs(configs)
    assert len({group_key(t) for t in grouped}) == 1
    # EMA and instance noise are per-run fields: such runs group with plain ones too.
    per_run = name in ("ema", "instance_noise")
    assert (group_key(grouped[0]) == group_key(Trainer(SMALL))) == per_run
    run(grouped, alone, 6)
    assert_same_runs(grouped, alone, tol=2e-5)


def test_the_general_path_groups_and_matches_alone():
    configs = [{**SMALL, "seed": s} for s in range(3)]
    grouped = [Trainer(c, closed_forms=False) for c in configs]
    alone = [Trainer(c, closed_forms=False) for c in configs]
    assert group_key(grouped[0]) != group_key(Trainer(SMALL))  # never mixed with fast runs
    run(grouped, alone, 6)
    assert_same_runs(grouped, alone)


def test_per_run_fields_are_exactly_those_the_step_applies_per_run():
    """Every field in PER_RUN_FIELDS may differ inside a group, and the grouped step honours
    it: runs differing in each of them step as they would alone."""
    configs = [
        {**SMALL, "seed": 0},
        {**SMALL, "seed": 1, "loss": {"kind": "log"}, "generator": {"layers": 2, "neurons": 16,
                                                                   "ema": 0.5}},
        {**SMALL, "seed": 2, "training": {"batch_size": 64, "instance_noise": 0.2,
                                          "instance_noise_anneal": 5, "lr_halflife": 3}},
        {**SMALL, "seed": 3, "noise": {"kind": "uniform"}, "data": {"name": "line"},
         "view": {"grid": 32}, "metrics": {"every": 7}},
        {**SMALL, "seed": 4, "d_optimizer": {"kind": "rmsprop", "lr": 0.002}},
    ]  # fmt: skip
    grouped, alone = pairs(configs)
    assert len({group_key(t) for t in grouped}) == 1
    run(grouped, alone, 8)
    assert_same_runs(grouped, alone)
    avg = [t.averaged_generator() for t in grouped]
    torch.testing.assert_close(avg[1], alone[1].averaged_generator())
    clip = [{**SMALL, "seed": s, "loss": {"kind": "wgan", "clip": 0.02 * (s + 1)}} for s in (0, 1)]
    grouped, alone = pairs(clip)
    run(grouped, alone, 4)
    assert_same_runs(grouped, alone)
    assert float(grouped[0].D.params.abs().max()) <= 0.02 + 1e-7


def test_metric_rows_and_divergence_checks_work_after_grouped_steps():
    grouped, _ = pairs([{**SMALL, "seed": s} for s in range(2)])
    for _ in range(5):
        step_together(grouped)
    for t in grouped:
        row = t.record()
        assert row["iteration"] == 5 and row["d_loss"] == row["d_loss"]
        assert not t.diverged()


def test_a_diverged_run_does_not_leak_into_its_group():
    grouped, alone = pairs([{**SMALL, "seed": s} for s in range(3)])
    for t in (grouped[1], alone[1]):
        t.D.params.fill_(float("nan"))
    run(grouped, alone, 5)
    assert grouped[1].diverged()
    assert diverged_runs(grouped) == [t.diverged() for t in grouped] == [False, True, False]
    assert_same_runs([grouped[0], grouped[2]], [alone[0], alone[2]])
    assert not grouped[0].diverged() and not grouped[2].diverged()


CLOSED_FORM_ACTIVATIONS = sorted(a for a, f in ACTIVATIONS.items() if f.closed_form)


@pytest.mark.parametrize("packing", [1, 2])
@pytest.mark.parametrize("activation", CLOSED_FORM_ACTIVATIONS)
@pytest.mark.parametrize("loss", sorted(OBJECTIVES))
def test_the_fast_path_gives_the_general_paths_gradients(loss, activation, packing):
    """Hand-written backpropagation from the closed forms equals autograd of the loss's
    value, for D's and G's gradients, every objective, activation and packing."""
    net = {"layers": 2, "neurons": 16, "activation": activation}
    extra = {"label_smoothing": 0.1} if loss in ("log", "lsgan") else {}
    cfg = {**SMALL, "generator": net, "discriminator": {**net, "packing": packing},
           "loss": {"kind": loss, "gp_weight": 0.0, **extra}}  # fmt: skip
    fast, general = Trainer(cfg), Trainer(cfg, closed_forms=False)
    assert lone(fast).closed_form_d and lone(fast).closed_form_g
    assert not lone(general).closed_form_d and not lone(general).closed_form_g
    fast.train(5)  # somewhere past the start
    general.load_state(fast.state())
    for t in (fast, general):
        with lone(t).mode():
            lone(t).d_gradients()
            lone(t).g_gradients()
    assert float(fast.D.grad.abs().max()) > 0 and float(fast.G.grad.abs().max()) > 0
    torch.testing.assert_close(fast.D.grad, general.D.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(fast.G.grad, general.G.grad, rtol=1e-4, atol=1e-6)
