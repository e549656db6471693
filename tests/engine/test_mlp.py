import pytest
import torch

from ganlab.engine.mlp import ACTIVATIONS, MLP, network_sizes


def _reference_grads(net: MLP, x: torch.Tensor, grad_out: torch.Tensor):
    flat = net.params.detach().clone().requires_grad_(True)
    xx = x.clone().requires_grad_(True)
    out = net.functional(flat, xx)
    gp, gx = torch.autograd.grad(out, (flat, xx), grad_out)
    return out.detach(), gp, gx


@pytest.mark.parametrize("activation", sorted(a for a, f in ACTIVATIONS.items() if f.closed_form))
@pytest.mark.parametrize("layers", [0, 1, 3])
def test_backward_matches_autograd(activation, layers):
    gen = torch.Generator().manual_seed(0)
    net = MLP(network_sizes(4, 3, layers, 7), activation, torch.device("cpu"), gen)
    x = torch.randn(11, 4, generator=gen)
    grad_out = torch.randn(11, 3, generator=gen)
    ref_out, ref_gp, ref_gx = _reference_grads(net, x, grad_out)
    outs = net.forward(x)
    torch.testing.assert_close(outs[-1], ref_out)
    gx = net.backward(outs, grad_out, input_grad=True)
    torch.testing.assert_close(net.grad, ref_gp, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gx, ref_gx, rtol=1e-5, atol=1e-6)


def test_backward_without_param_grads_leaves_grad_untouched():
    net = MLP([2, 5, 1], "relu", torch.device("cpu"), torch.Generator().manual_seed(1))
    net.grad.fill_(7.0)
    x = torch.randn(6, 2)
    gx = net.backward(net.forward(x), torch.ones(6, 1), param_grads=False, input_grad=True)
    assert gx is not None and gx.shape == (6, 2)
    assert torch.all(net.grad == 7.0)


def test_call_equals_forward_and_views_share_storage():
    net = MLP([2, 8, 8, 2], "tanh", torch.device("cpu"), torch.Generator().manual_seed(2))
    x = torch.randn(5, 2)
    torch.testing.assert_close(net(x), net.forward(x)[-1])
    net.params.zero_()
    assert all(float(w.abs().sum()) == 0 for w in net.weights)
    assert torch.all(net(x) == 0)


def test_init_is_pytorch_default_range_and_seeded():
    a = MLP([3, 64, 1], "relu", torch.device("cpu"), torch.Generator().manual_seed(5))
    b = MLP([3, 64, 1], "relu", torch.device("cpu"), torch.Generator().manual_seed(5))
    assert torch.equal(a.params, b.params)
    bound = 1 / 3**0.5
    assert float(a.weights[0].abs().max()) <= bound
    assert float(a.weights[1].abs().max()) <= 1 / 8 + 1e-7  # fan_in 64


def test_layer_grad_norms():
    net = MLP([2, 4, 1], "relu", torch.device("cpu"), torch.Generator().manual_seed(3))
    net.grad.fill_(1.0)
    norms = net.layer_grad_norms()
    assert norms == pytest.approx([(2 * 4 + 4) ** 0.5, (4 + 1) ** 0.5])
