import math

import pytest
import torch

from ganlab.engine.config import LossConfig
from ganlab.engine.losses import OBJECTIVES, batch_losses, gradient_penalty, r1_penalty, r2_penalty

O_REAL = torch.tensor([[2.0], [-1.0], [0.5]])
O_FAKE = torch.tensor([[-3.0], [0.0], [1.5], [0.2]])


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
@pytest.mark.parametrize("target", [1.0, 0.9])
def test_d_grad_matches_autograd(name, target):
    obj = OBJECTIVES[name]
    r = O_REAL.clone().requires_grad_(True)
    f = O_FAKE.clone().requires_grad_(True)
    gr, gf = torch.autograd.grad(obj.d_value(r, f, target), (r, f))
    cr, cf = obj.d_grad(O_REAL.clone(), O_FAKE.clone(), target)
    torch.testing.assert_close(cr, gr)
    torch.testing.assert_close(cf, gf)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
@pytest.mark.parametrize("saturating", [False, True])
def test_g_grad_matches_autograd(name, saturating):
    obj = OBJECTIVES[name]
    f = O_FAKE.clone().requires_grad_(True)
    (gf,) = torch.autograd.grad(obj.g_value(f, saturating), f)
    torch.testing.assert_close(obj.g_grad(O_FAKE.clone(), saturating), gf)


def test_log_loss_values_by_hand():
    log = OBJECTIVES["log"]
    zero = torch.zeros(1, 1)
    # D outputs 1/2 everywhere: -log(1/2) for real and for fake.
    assert float(log.d_value(zero, zero, 1.0)) == pytest.approx(2 * math.log(2))
    assert float(log.g_value(zero, False)) == pytest.approx(math.log(2))
    assert float(log.g_value(zero, True)) == pytest.approx(-math.log(2))
    o = torch.tensor([[math.log(3.0)]])  # D = 3/4
    assert float(log.g_value(o, False)) == pytest.approx(-math.log(0.75))


def test_gradient_signs():
    """Each loss pushes D up on real and down on fake, and G towards higher D."""
    for name, obj in OBJECTIVES.items():
        half = torch.full((2, 1), 0.5)
        gr, gf = obj.d_grad(half.clone(), half.clone(), 1.0)
        assert torch.all(gr < 0) and torch.all(gf > 0), name
        for saturating in (False, True):
            assert torch.all(obj.g_grad(half.clone(), saturating) < 0), name


def test_saturation_of_minimax_generator_loss():
    """Where D confidently rejects fakes, the minimax G gradient vanishes, the other does not."""
    log = OBJECTIVES["log"]
    o = torch.tensor([[-10.0]])
    assert abs(float(log.g_grad(o, True))) < 1e-4
    assert abs(float(log.g_grad(o, False))) > 0.99


def test_least_squares_and_hinge_by_hand():
    ls, hinge = OBJECTIVES["lsgan"], OBJECTIVES["hinge"]
    r, f = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.0], [2.0]])
    assert float(ls.d_value(r, f, 1.0)) == pytest.approx(0.5 * (0.5 + 2.0))
    assert float(hinge.d_value(r, f, 1.0)) == pytest.approx(0.5 + 2.0)
    assert float(OBJECTIVES["wgan"].d_value(r, f, 1.0)) == pytest.approx(1.0 - 0.5)


def test_penalties_by_hand():
    w = torch.tensor([[3.0], [4.0]])  # linear critic with gradient norm 5

    def critic(x):
        return x @ w

    x = torch.randn(6, 2)
    assert float(gradient_penalty(critic, x, x + 1, torch.rand(6, 1))) == pytest.approx(16.0)
    assert float(r1_penalty(critic, x)) == pytest.approx(12.5)
    assert float(r2_penalty(critic, x + 3)) == pytest.approx(12.5)


def test_probability_output():
    assert float(OBJECTIVES["log"].prob(torch.zeros(1))) == 0.5
    assert float(OBJECTIVES["wgan"].prob(torch.tensor([3.0]))) == 3.0


@pytest.mark.parametrize(
    ("name", "smoothing"), [*((n, 0.0) for n in OBJECTIVES), ("log", 0.1), ("lsgan", 0.1)]
)
def test_batch_losses_match_the_values_and_means(name, smoothing):
    obj = OBJECTIVES[name]
    loss = LossConfig(kind=name, label_smoothing=smoothing)
    gen = torch.Generator().manual_seed(3)
    o_real, o_fake, o_g = (torch.randn(40, 1, generator=gen) for _ in range(3))
    got = batch_losses(obj, loss, (o_real, o_fake), o_g)
    want = {
        "d_loss": float(obj.d_value(o_real, o_fake, 1.0 - smoothing)),
        "d_real": float(obj.prob(o_real).mean()),
        "d_fake": float(obj.prob(o_fake).mean()),
        "g_loss": float(obj.g_value(o_g, saturating=False)),
    }
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def test_batch_losses_before_any_update_and_with_uneven_columns():
    obj, loss = OBJECTIVES["log"], LossConfig()
    assert batch_losses(obj, loss, None, None) == {}
    o = torch.zeros(5, 1)
    assert batch_losses(obj, loss, None, o) == {"g_loss": pytest.approx(math.log(2))}
    # Columns of different lengths (never from the trainer) still give each its own mean.
    got = batch_losses(obj, loss, (torch.zeros(3, 1), torch.zeros(7, 1)), None)
    assert got["d_loss"] == pytest.approx(2 * math.log(2)) and got["d_real"] == 0.5


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_d_bias_grad_is_the_derivative_for_a_shift_of_every_output(name):
    """d(D loss)/d(output bias) = d/ds of the loss with s added to every output, at s = 0."""
    obj = OBJECTIVES[name]
    exact = obj.d_bias_grad(O_REAL, O_FAKE)
    if name in ("log", "lsgan"):  # never exactly 0 in practice: the summed d_grad serves
        assert exact is None
        return
    assert exact is not None and exact.shape == (1,)

    def shift_grad(o_real: torch.Tensor) -> torch.Tensor:
        s = torch.zeros(1, requires_grad=True)
        (grad,) = torch.autograd.grad(obj.d_value(o_real + s, O_FAKE + s, 1.0), s)
        return grad

    torch.testing.assert_close(exact, shift_grad(O_REAL))
    # Stacked runs (step.py): one value per run.
    stacked = obj.d_bias_grad(torch.stack([O_REAL, O_REAL + 5]), torch.stack([O_FAKE, O_FAKE]))
    assert stacked is not None and stacked.shape == (2, 1)
    torch.testing.assert_close(stacked, torch.stack([shift_grad(O_REAL), shift_grad(O_REAL + 5)]))


def test_d_bias_grad_is_exactly_zero_where_the_exact_value_is():
    """Over 150 packs (1/150 is inexact in binary) d_bias_grad gives 0 exactly."""
    gen = torch.Generator().manual_seed(0)
    o_real, o_fake = torch.randn(150, 1, generator=gen), torch.randn(150, 1, generator=gen)
    for name in ("wgan", "wgan_gp"):
        assert float(OBJECTIVES[name].d_bias_grad(o_real, o_fake)) == 0.0
    hinge = OBJECTIVES["hinge"]
    inside_real, inside_fake = o_real * 0.1, o_fake * 0.1  # every pack inside the margin
    assert float(hinge.d_bias_grad(inside_real, inside_fake)) == 0.0
    # 5 reals pushed out of the margin: (150 - 145) / 150.
    outside = inside_real.clone()
    outside[:5] = 2.0
    assert float(hinge.d_bias_grad(outside, inside_fake)) == pytest.approx(5 / 150, rel=1e-7)
