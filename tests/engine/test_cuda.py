"""The CUDA path: training, pictures, run files and device moves on a GPU (skipped without one)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from ganlab.engine import runfile
from ganlab.engine.config import merge
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.trainer import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

SMALL: dict[str, Any] = {
    "data": {"name": "ring8"},
    "generator": {"layers": 2, "neurons": 16},
    "discriminator": {"layers": 2, "neurons": 16, "packing": 2},
    "g_optimizer": {"kind": "adam", "lr": 2e-3},
    "d_optimizer": {"kind": "adam", "lr": 2e-3},
    "training": {"batch_size": 64, "lr_halflife": 50},
    "metrics": {"every": 10, "samples": 200, "w1_samples": 50},
}


def _on(device: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return merge(SMALL, {"device": device, **(extra or {})})


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"loss": {"kind": "wgan_gp", "gp_weight": 1.0}},
        {"loss": {"r1": 0.5}},
        {"g_optimizer": {"kind": "rmsprop", "lr": 1e-3}, "d_optimizer": {"kind": "sgd"}},
    ],
)
def test_trains_on_cuda(extra: dict[str, Any]) -> None:
    t = Trainer(_on("cuda", extra))
    assert t.device.type == "cuda" and t.G.params.device.type == "cuda"
    g0 = t.G.params.clone()
    assert t.train(30) == 30
    assert not torch.equal(t.G.params, g0) and not t.diverged()
    assert len(t.history) == 3 and np.isfinite(t.history[-1]["d_loss"])
    fake = t.sample(100)
    assert fake.shape == (100, 2) and fake.dtype == np.float32 and np.isfinite(fake).all()


def test_cuda_run_is_close_to_the_cpu_run() -> None:
    """Same seed, same streams: only floating-point rounding differs between devices."""
    a, b = Trainer(_on("cpu")), Trainer(_on("cuda"))
    a.train(5)
    b.train(5)
    torch.testing.assert_close(b.G.params.cpu(), a.G.params, rtol=1e-3, atol=1e-4)


def test_picture_on_cuda() -> None:
    t = Trainer(_on("cuda"))
    t.train(5)
    p = compute_picture(t, PictureCache())
    assert p.fake.shape == (240, 2) and p.d_grid.shape == (64, 64)
    for arr in (p.fake, p.fake_d, p.fake_grad, p.real_d, p.d_grid, p.manifold):
        assert isinstance(arr, np.ndarray) and np.isfinite(arr).all()


def test_walk_on_cuda() -> None:
    t = Trainer(_on("cuda"))
    phases = [name for name, _ in t.walk("g")]
    assert phases == ["generate", "classify", "loss", "gradients", "update"]
    assert t.g_updates == 1


def test_saved_on_cuda_loads_on_cpu_and_continues_alike() -> None:
    t = Trainer(_on("cuda"))
    t.train(20)
    data = runfile.dumps(t)
    on_cpu = runfile.loads(data, device="cpu")
    on_cuda = runfile.loads(data)
    assert on_cpu.device.type == "cpu" and on_cuda.device.type == "cuda"
    for name, value in t.state().items():
        assert torch.equal(on_cpu.state()[name], value), name
        assert torch.equal(on_cuda.state()[name], value), name
    # Continuing on the same device is exact; on another device, close.
    t.train(5)
    on_cuda.train(5)
    on_cpu.train(5)
    assert torch.equal(on_cuda.G.params, t.G.params)
    torch.testing.assert_close(on_cpu.G.params, t.G.params.cpu(), rtol=1e-3, atol=1e-4)


def test_configure_moves_between_devices() -> None:
    t = Trainer(_on("cpu"))
    t.train(10)
    before = t.state()
    assert t.configure({"device": "cuda"}) == {"device"}
    assert t.device.type == "cuda" and t.D.params.device.type == "cuda"
    for name, value in t.state().items():
        assert torch.equal(value, before[name]), name
    t.train(5)
    t.configure({"device": "cpu"})
    assert t.device.type == "cpu" and t.G.params.device.type == "cpu"
    t.train(5)
    assert t.iteration == 20 and not t.diverged()


def test_runs_step_together_on_cuda_as_they_would_alone():
    from ganlab.engine.step import group_key, step_together

    grouped = [Trainer(_on("cuda", {"seed": s})) for s in range(3)]
    alone = [Trainer(_on("cuda", {"seed": s})) for s in range(3)]
    assert group_key(grouped[0]) == group_key(grouped[2]) is not None
    for _ in range(20):
        step_together(grouped)
        for t in alone:
            t.step()
    for a, b in zip(grouped, alone, strict=True):
        assert a.G.params.is_cuda and a.iteration == b.iteration == 20
        torch.testing.assert_close(a.G.params, b.G.params, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(a.D.params, b.D.params, atol=1e-4, rtol=1e-4)
    # A CUDA run and a CPU run never share a group.
    assert group_key(Trainer(_on("cpu"))) != group_key(grouped[0])
