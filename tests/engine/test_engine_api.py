"""The engine's public face: the names `ganlab.engine` hands out, and `Trainer.discriminate`."""

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import torch

import ganlab.engine
from ganlab.engine import picture, trainer
from ganlab.engine.picture import PictureCache, compute_picture

# --------------------------------------------------------------------------- the package


def test_the_main_names_come_from_the_package():
    from ganlab.engine import (
        DISTRIBUTIONS,
        OBJECTIVES,
        OPTIMIZERS,
        PRESETS,
        ConfigError,
        ExperimentConfig,
        PictureCache,
        Trainer,
        compute_picture,
        parse_config,
    )

    assert Trainer is trainer.Trainer and compute_picture is picture.compute_picture
    assert PictureCache is picture.PictureCache
    assert isinstance(parse_config({"seed": 3}), ExperimentConfig)
    with pytest.raises(ConfigError):
        parse_config({"seed": -1})
    assert "ring8" in DISTRIBUTIONS and "wgan_gp" in OBJECTIVES and "adam" in OPTIMIZERS
    assert "grid25" in PRESETS
    # Every advertised name resolves, and dir() lists them.
    for name in ganlab.engine.__all__:
        assert getattr(ganlab.engine, name) is not None
    assert set(ganlab.engine.__all__) <= set(dir(ganlab.engine))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Trainr'"):
        _ = ganlab.engine.Trainr
    with pytest.raises(ImportError):
        from ganlab.engine import Trainr  # noqa: F401


def imports_torch(statement: str) -> bool:
    """Whether a fresh interpreter has PyTorch loaded after `statement`."""
    code = f"{statement}; import sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def test_importing_the_package_or_its_light_parts_does_not_load_torch():
    """The CLI's presets and help and the wire's envelope stay quick to import."""
    assert not imports_torch("import ganlab.engine")
    assert not imports_torch("import ganlab.engine.config, ganlab.engine.presets")
    assert not imports_torch("import ganlab.wire.envelope")
    assert imports_torch("from ganlab.engine import Trainer")  # the check can tell


# --------------------------------------------------------------------------- discriminate

SMALL = {
    "data": {"name": "ring8"},
    "generator": {"layers": 1, "neurons": 8},
    "training": {"batch_size": 64},
}


def reference_d(t: trainer.Trainer, points: np.ndarray) -> np.ndarray:
    """D by plain torch.nn in float64, from the trainer's weights and the distribution's box:
    normalised = (point - box centre) / longer half-side, each point packed with m copies."""
    layers: list[torch.nn.Module] = []
    act = {"relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh(), "elu": torch.nn.ELU(),
           "leaky_relu": torch.nn.LeakyReLU(0.2)}[t.D.activation]  # fmt: skip
    for i, (w, b) in enumerate(zip(t.D.weights, t.D.biases, strict=True)):
        linear = torch.nn.Linear(*w.shape).double()
        with torch.no_grad():
            linear.weight.copy_(w.t())  # the engine keeps (in, out); Linear keeps (out, in)
            linear.bias.copy_(b)
        layers += [linear, act] if i < t.D.num_layers - 1 else [linear]
    box = t.distribution.box
    x = (torch.tensor(points, dtype=torch.float64) - torch.tensor(box.center)) / box.half_extent
    with torch.no_grad():
        out = torch.nn.Sequential(*layers)(x.repeat(1, t.config.discriminator.packing))
    return out.reshape(-1).numpy()


@pytest.mark.parametrize("packing", [1, 2])
@pytest.mark.parametrize(("kind", "activation"), [("log", "relu"), ("wgan_gp", "tanh")])
def test_discriminate_is_d_at_points_in_data_coordinates(packing, kind, activation):
    d = {"layers": 2, "neurons": 16, "packing": packing, "activation": activation}
    t = trainer.Trainer({**SMALL, "discriminator": d, "loss": {"kind": kind}})
    t.train(30)  # weights away from their initialisation
    box = t.distribution.box
    points = np.array(
        [box.center, [box.xmin, box.ymin], [box.xmax, box.ymax], [1.5, -0.25], [-3.0, 2.0]]
    )
    got = t.discriminate(points)
    assert got.shape == (5,) and got.dtype == np.float32
    np.testing.assert_allclose(got, reference_d(t, points), rtol=1e-5, atol=1e-6)
    assert len(set(got.tolist())) == 5  # distinct points, distinct values: the check bites
    # Any array-like: a list, a tensor, integers, Fractions, and no points at all.
    np.testing.assert_array_equal(t.discriminate(points.tolist()), got)
    np.testing.assert_array_equal(t.discriminate(torch.tensor(points)), got)
    np.testing.assert_array_equal(
        t.discriminate([[Fraction(3, 2), Fraction(-1, 4)]]), t.discriminate([[1.5, -0.25]])
    )
    assert t.discriminate([[1, 2]]).shape == (1,)
    assert t.discriminate(np.zeros((0, 2))).shape == (0,)


def _heatmap_and_discriminate(packing):
    t = trainer.Trainer({**SMALL, "discriminator": {"packing": packing}})
    t.train(20)
    pic = compute_picture(t, PictureCache())
    r = t.config.view.grid
    xmin, xmax, ymin, ymax = pic.box
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, r), np.linspace(ymin, ymax, r), indexing="xy")
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    raw = t.discriminate(points)
    drawn = t.objective.prob(torch.from_numpy(raw)).numpy().reshape(r, r)
    return t, points, raw, drawn, pic.d_grid


def test_discriminate_is_what_the_heatmap_draws():
    _, _, _, drawn, heatmap = _heatmap_and_discriminate(1)
    np.testing.assert_allclose(drawn, heatmap, rtol=1e-5, atol=1e-6)


def test_discriminate_under_packing_judges_packs_of_copies():
    t, points, raw, drawn, heatmap = _heatmap_and_discriminate(3)
    copies = t.normalizer.from_data(torch.from_numpy(points).float()).repeat(1, 3)
    with torch.inference_mode():
        np.testing.assert_allclose(raw, t.judge(copies).reshape(-1).numpy(), rtol=1e-5, atol=1e-6)
    # The heatmap averages over partners instead (d_side.py), which differs.
    assert np.abs(drawn - heatmap).max() > 1e-3


@pytest.mark.parametrize(
    "points",
    [
        [1.0, 2.0],
        [[1.0, 2.0, 3.0]],
        np.zeros((2, 2, 1)),
        [[1.0, 2.0], [3.0]],
        [["a", "b"]],
        "points",
        None,
        [[True, False]],
        [[1j, 2.0]],
        [[math.nan, 0.0]],
        [[0.0, math.inf]],
        [[1e300, 0.0]],
        [[10**400, 0.0]],
    ],
)
def test_discriminate_refuses_anything_but_n_points(points):
    t = trainer.Trainer(SMALL)
    with pytest.raises(ValueError, match=r"points must be an array of shape \(n, 2\)"):
        t.discriminate(points)
