import pytest
import torch

from ganlab.engine.config import OptimizerConfig
from ganlab.engine.optimizers import make_optimizer, step_all


def _run_both(cfg: OptimizerConfig, reference_factory, steps=25):
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(10, generator=gen)
    grads = [torch.randn(10, generator=gen) for _ in range(steps)]
    params, grad = start.clone(), torch.zeros(10)
    ours = make_optimizer(params, grad, cfg)
    ref_param = torch.nn.Parameter(start.clone())
    ref = reference_factory([ref_param])
    for g in grads:
        grad.copy_(g)
        ours.step()
        ref_param.grad = g.clone()
        ref.step()
    return params, ref_param.detach()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch(momentum):
    cfg = OptimizerConfig(kind="sgd", lr=0.05, momentum=momentum)
    ours, ref = _run_both(cfg, lambda p: torch.optim.SGD(p, lr=0.05, momentum=momentum))
    torch.testing.assert_close(ours, ref)


def test_adam_matches_torch():
    cfg = OptimizerConfig(kind="adam", lr=0.01, beta1=0.5, beta2=0.9)
    ours, ref = _run_both(cfg, lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.5, 0.9), eps=1e-8))
    torch.testing.assert_close(ours, ref)


def test_adam_fallback_matches_fused():
    cfg = OptimizerConfig(kind="adam", lr=0.01)
    params_a, grad_a = torch.ones(5), torch.zeros(5)
    params_b, grad_b = torch.ones(5), torch.zeros(5)
    a, b = make_optimizer(params_a, grad_a, cfg), make_optimizer(params_b, grad_b, cfg)
    b._fused = False
    for k in range(10):
        grad_a.fill_(k - 4.5)
        grad_b.fill_(k - 4.5)
        a.step()
        b.step()
    torch.testing.assert_close(params_a, params_b)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_matches_torch(momentum):
    cfg = OptimizerConfig(kind="rmsprop", lr=0.01, momentum=momentum, alpha=0.9)
    ours, ref = _run_both(
        cfg, lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=momentum, eps=1e-8)
    )
    torch.testing.assert_close(ours, ref)


def test_state_round_trip():
    cfg = OptimizerConfig(kind="adam", lr=0.01)
    params, grad = torch.ones(4), torch.full((4,), 0.3)
    opt = make_optimizer(params, grad, cfg)
    opt.step()
    state = {k: v.clone() for k, v in opt.state().items()}
    params2 = params.clone()
    opt2 = make_optimizer(params2, grad, cfg)
    opt2.load(state)
    opt.step()
    opt2.step()
    torch.testing.assert_close(params, params2)
    assert opt2.steps == 2


def test_step_all_gives_what_each_step_would():
    configs = [
        OptimizerConfig(kind="adam", lr=0.01),
        OptimizerConfig(kind="adam", lr=0.01),  # shares a fused call with the first
        OptimizerConfig(kind="adam", lr=0.02, beta2=0.9),
        OptimizerConfig(kind="sgd", lr=0.05, momentum=0.9),
        OptimizerConfig(kind="rmsprop", lr=0.01),
    ]
    gen = torch.Generator().manual_seed(1)
    together = [make_optimizer(torch.randn(7, generator=gen), torch.zeros(7), c) for c in configs]
    alone = [make_optimizer(o.params.clone(), torch.zeros(7), o.config) for o in together]
    together[1].steps = alone[1].steps = 3  # a run further along than its group mates
    for _ in range(12):
        for a, b in zip(together, alone, strict=True):
            g = torch.randn(7, generator=gen)
            a.grad.copy_(g)
            b.grad.copy_(g)
        step_all(together)
        for b in alone:
            b.step()
    for a, b in zip(together, alone, strict=True):
        assert a.steps == b.steps
        torch.testing.assert_close(a.params, b.params)
        for name, buf in a.buffers.items():
            torch.testing.assert_close(buf, b.buffers[name])


def test_step_all_falls_back_when_the_fused_update_fails(monkeypatch):
    cfg = OptimizerConfig(kind="adam", lr=0.01)
    together = [make_optimizer(torch.ones(4) * k, torch.zeros(4), cfg) for k in (1, 2)]
    alone = [make_optimizer(o.params.clone(), torch.zeros(4), cfg) for o in together]
    for o in alone:
        o._fused = False

    def broken(*args, **kwargs):
        raise RuntimeError("no fused Adam in this build")

    monkeypatch.setattr(torch, "_fused_adam_", broken)
    for k in range(5):
        for a, b in zip(together, alone, strict=True):
            a.grad.fill_(k - 2.5)
            b.grad.fill_(k - 2.5)
        step_all(together)
        for b in alone:
            b.step()
    assert not any(o._fused for o in together)
    for a, b in zip(together, alone, strict=True):
        assert a.steps == b.steps == 5
        torch.testing.assert_close(a.params, b.params)


@pytest.mark.parametrize(
    "settings",
    [
        {"kind": "sgd", "lr": 0.1},
        {"kind": "sgd", "lr": 0.1, "momentum": 0.9},
        {"kind": "adam", "lr": 0.01, "beta1": 0.5, "beta2": 0.9},
        {"kind": "rmsprop", "lr": 0.01},
        {"kind": "rmsprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.5},
    ],
    ids=["sgd", "sgd-momentum", "adam", "rmsprop", "rmsprop-momentum"],
)
def test_simulate_gives_what_step_does_and_changes_nothing(settings):
    """`simulate` (unrolled steps) follows the optimizer's own update from a copy of its
    state, three steps in a row, and leaves the optimizer and its parameters alone."""
    gen = torch.Generator().manual_seed(0)
    params = torch.randn(20, generator=gen)
    grad = torch.zeros(20)
    opt = make_optimizer(params, grad, OptimizerConfig(**settings))
    grad.copy_(torch.randn(20, generator=gen))
    opt.step()  # some state to start from
    before = (params.clone(), {k: v.clone() for k, v in opt.buffers.items()}, opt.steps)
    sim, state = params.clone(), opt.sim_state()
    grads = [torch.randn(20, generator=gen) for _ in range(3)]
    for g in grads:
        sim, state = opt.simulate(sim, g, state)
    assert torch.equal(params, before[0]) and opt.steps == before[2]
    assert all(torch.equal(v, before[1][k]) for k, v in opt.buffers.items())
    for g in grads:
        grad.copy_(g)
        opt.step()
    torch.testing.assert_close(sim, params, rtol=1e-5, atol=1e-6)
    assert state["steps"] == opt.steps


def test_simulate_is_differentiable_and_finite_where_a_gradient_is_exactly_zero():
    params = torch.ones(3)
    opt = make_optimizer(params, torch.zeros(3), OptimizerConfig(kind="adam", lr=0.1))
    w = torch.tensor([1.0, 2.0, 0.0], requires_grad=True)
    g = w * 3  # the last coordinate's gradient is exactly 0
    new, _ = opt.simulate(params.clone(), g, opt.sim_state())
    (dw,) = torch.autograd.grad(new.sum(), w)
    assert torch.isfinite(dw).all()
