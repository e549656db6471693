import pytest
import torch

from ganlab.engine.batched import diverged_runs, group_key, step_together
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
        assert la.keys() == lb.keys() == {"d_loss", "d_real", "d_fake", "g_loss"}
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
    ):
        assert group_key(Trainer({**SMALL, **change})) != base, change
    # What does not shape the computation keeps the group.
    for change in ({"seed": 9}, {"g_optimizer": {"lr": 0.01}}, {"data": {"name": "grid25"}}):
        assert group_key(Trainer({**SMALL, **change})) == base, change


@pytest.mark.parametrize(
    "loss", [{"kind": "wgan_gp"}, {"kind": "log", "r1": 1.0}, {"kind": "hinge", "r2": 0.5}]
)
def test_penalties_need_autograd_and_step_alone(loss):
    assert group_key(Trainer({**SMALL, "loss": loss})) is None


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
