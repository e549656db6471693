"""Spectral normalisation's power iteration against torch.linalg's singular values."""

import torch

from ganlab.engine import spectral
from ganlab.engine.mlp import MLP, views

SIZES = [4, 16, 8, 1]


def net(seed: int = 0) -> MLP:
    return MLP(SIZES, "relu", torch.device("cpu"), torch.Generator().manual_seed(seed))


def largest_singular_values(flat: torch.Tensor, shapes) -> list[float]:
    weights, _ = views(flat, shapes)
    return [float(torch.linalg.matrix_norm(w, ord=2)) for w in weights]


def test_the_estimate_approaches_the_largest_singular_value():
    d = net()
    vectors = spectral.start_vectors(d.params, d.shapes, torch.Generator().manual_seed(1))
    spectral.power_iteration_(d.params, d.shapes, vectors, times=200)
    got = [float(s) for s in spectral.sigmas(d.params, d.shapes, vectors)]
    want = largest_singular_values(d.params, d.shapes)
    for g, w in zip(got, want, strict=True):
        assert abs(g - w) <= 1e-4 * w
    # Unit vectors, kept in place.
    assert all(abs(float(u.norm()) - 1) < 1e-5 and abs(float(v.norm()) - 1) < 1e-5
               for u, v in vectors)  # fmt: skip


def test_normalized_weights_have_spectral_norm_one_and_biases_untouched():
    d = net(2)
    vectors = spectral.start_vectors(d.params, d.shapes, torch.Generator().manual_seed(3))
    spectral.power_iteration_(d.params, d.shapes, vectors, times=200)
    flat = spectral.normalized(d.params, d.shapes, vectors)
    for s in largest_singular_values(flat, d.shapes):
        assert abs(s - 1) < 1e-4
    _, b_new = views(flat, d.shapes)
    for a, b in zip(d.biases, b_new, strict=True):
        assert torch.equal(a, b)
    assert max(largest_singular_values(d.params, d.shapes)) > 1.2  # so the check means something


def test_stacked_runs_equal_each_run_alone():
    nets = [net(s) for s in range(3)]
    per_run = [spectral.start_vectors(n.params, n.shapes, torch.Generator().manual_seed(s))
               for s, n in enumerate(nets)]  # fmt: skip
    flat = torch.stack([n.params for n in nets])
    together = spectral.normalized(flat, nets[0].shapes, spectral.stacked(per_run))
    for i, n in enumerate(nets):
        alone = spectral.normalized(n.params, n.shapes, per_run[i])
        torch.testing.assert_close(together[i], alone)


def test_sigma_is_differentiated_with_u_and_v_fixed():
    d = net(4)
    vectors = spectral.start_vectors(d.params, d.shapes, torch.Generator().manual_seed(5))
    flat = d.params.detach().clone().requires_grad_(True)
    (s0,) = spectral.sigmas(flat, d.shapes, vectors)[:1]
    (grad,) = torch.autograd.grad(s0, flat)
    # d(u.W v)/dW = u v^T in torch's layout: the first layer's block, zero elsewhere.
    u, v = vectors[0]
    fan_in, fan_out = d.shapes[0]
    want = torch.outer(v, u).flatten()  # the engine's layout is (fan_in, fan_out)
    torch.testing.assert_close(grad[: fan_in * fan_out], want)
    assert float(grad[fan_in * fan_out :].abs().max()) == 0.0
