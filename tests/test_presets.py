"""Presets: valid configs, GAN Lab's own four, one per benchmark, and a short training each."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch

import ganlab.presets
from ganlab.config import ExperimentConfig, merge, parse_config
from ganlab.distributions import DISTRIBUTIONS
from ganlab.presets import PRESETS, Preset, get_preset
from ganlab.trainer import Trainer

# GAN Lab's presets, transcribed from the table in shared/reference/ganlab.md:
# name: (noise kind, G (UI layers, neurons), D (UI layers, neurons), D lr, G lr, kD, kG).
# GAN Lab's UI "N hidden layers" builds N+1 hidden layers; ours count real layers.
GANLAB_TABLE: dict[str, tuple[str, tuple[int, int], tuple[int, int], float, float, int, int]] = {
    "line": ("uniform", (1, 5), (1, 6), 0.03, 0.01, 2, 1),
    "gaussians": ("gaussian", (1, 8), (1, 8), 0.1, 0.03, 2, 1),
    "ring": ("uniform", (1, 10), (2, 9), 0.1, 0.03, 3, 1),
    "disjoint": ("gaussian", (2, 10), (2, 11), 0.1, 0.03, 1, 1),
}
REFERENCE_CANDIDATES = [
    Path(__file__).resolve().parents[1] / "shared" / "reference" / "ganlab.md",
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "ganlab.md",
]


def full(preset: Preset) -> ExperimentConfig:
    return preset.experiment()


# --------------------------------------------------------------------------- the registry


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_config_validates_and_is_described(name: str) -> None:
    preset = PRESETS[name]
    assert preset.name == name
    config = preset.experiment()
    assert isinstance(config, ExperimentConfig)
    assert config == parse_config(preset.config)
    assert config.data.name in DISTRIBUTIONS
    assert isinstance(preset.description, str) and len(preset.description.strip()) >= 10
    assert isinstance(preset.steps, int) and preset.steps > 0
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), "names must be usable as CLI arguments"


def _declared_preset_names() -> list[str]:
    """Every preset name written in presets.py, duplicates kept (the dict would hide them)."""
    tree = ast.parse(Path(ganlab.presets.__file__).read_text())
    table = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "PRESETS"
    )
    assert table is not None
    names: list[str] = []
    for node in ast.walk(table):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        if node.func.id in ("_ganlab", "_benchmark") and node.args:
            arg = node.args[0]
        elif node.func.id == "Preset":
            arg = next((k.value for k in node.keywords if k.arg == "name"), None)
        else:
            continue
        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        names.append(arg.value)
    return names


def test_preset_names_are_unique() -> None:
    declared = _declared_preset_names()
    assert len(declared) == len(PRESETS)
    assert sorted(declared) == sorted(PRESETS)
    assert len(set(declared)) == len(declared)


def test_descriptions_are_distinct() -> None:
    descriptions = [p.description for p in PRESETS.values()]
    assert len(set(descriptions)) == len(descriptions)


def test_get_preset_returns_the_registered_preset() -> None:
    for name, preset in PRESETS.items():
        assert get_preset(name) is preset


def test_get_preset_unknown_name_lists_the_allowed_names() -> None:
    with pytest.raises(KeyError) as info:
        get_preset("no-such-preset")
    message = info.value.args[0]
    assert "unknown preset 'no-such-preset'" in message
    for name in PRESETS:
        assert name in message


# --------------------------------------------------------------------------- GAN Lab's four


@pytest.mark.parametrize("name", list(GANLAB_TABLE))
def test_ganlab_presets_match_ganlab(name: str) -> None:
    noise, (g_ui, g_n), (d_ui, d_n), d_lr, g_lr, k_d, k_g = GANLAB_TABLE[name]
    c = full(get_preset(name))
    assert c.data.name == name
    assert (c.noise.kind, c.noise.dim) == (noise, 2)
    assert (c.generator.layers, c.generator.neurons) == (g_ui + 1, g_n)
    assert (c.discriminator.layers, c.discriminator.neurons) == (d_ui + 1, d_n)
    assert c.generator.activation == c.discriminator.activation == "relu"
    assert c.discriminator.packing == 1
    for opt, lr in ((c.d_optimizer, d_lr), (c.g_optimizer, g_lr)):
        assert opt.kind == "sgd"
        assert opt.momentum == 0.0
        assert opt.lr == pytest.approx(lr, rel=0, abs=1e-12)
    assert (c.loss.kind, c.loss.generator) == ("log", "non_saturating")
    assert c.loss.r1 == 0.0 and c.loss.label_smoothing == 0.0
    assert c.training.batch_size == 150
    assert (c.training.d_steps, c.training.g_steps) == (k_d, k_g)


def test_presets_module_documents_the_layer_count_convention() -> None:
    doc = ganlab.presets._ganlab.__doc__ or ""
    assert "N+1" in doc and "hidden layers" in doc


def _reference_rows(text: str) -> dict[str, tuple[Any, ...]]:
    rows: dict[str, tuple[Any, ...]] = {}
    start = text.index("Presets it applies")
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] not in GANLAB_TABLE:
            continue
        noise = cells[1].split()[-1]
        g = tuple(int(v) for v in cells[2].split("x"))
        d = tuple(int(v) for v in cells[3].split("x"))
        rows[cells[0]] = (noise, g, d, float(cells[4]), float(cells[5]), int(cells[6]),
                          int(cells[7]))  # fmt: skip
    return rows


def test_transcribed_table_matches_the_reference_document() -> None:
    path = next((p for p in REFERENCE_CANDIDATES if p.exists()), None)
    if path is None:
        pytest.skip("shared/reference/ganlab.md is not present in this checkout")
    text = path.read_text()
    assert _reference_rows(text) == GANLAB_TABLE
    assert "all SGD, log loss" in text and "N+1 hidden layers" in text
    assert "batch 150" in text


# --------------------------------------------------------------------------- coverage


def test_every_benchmark_distribution_has_a_preset() -> None:
    wanted = {n for n, d in DISTRIBUTIONS.items() if d.group in ("benchmark", "classic")}
    assert len(wanted) >= 8  # the registry really has these groups
    covered = {full(p).data.name for p in PRESETS.values()}
    assert wanted - covered == set()


def test_ganlab_distributions_have_their_ganlab_preset() -> None:
    ganlab_group = {n for n, d in DISTRIBUTIONS.items() if d.group == "ganlab"}
    assert ganlab_group == set(GANLAB_TABLE)
    for name in ganlab_group:
        assert full(get_preset(name)).data.name == name


def test_the_collapse_preset_really_collapses() -> None:
    """Trained briefly, every fake sample sits near one or two of ring8's eight modes, while
    the packed benchmark recipe it contrasts with spreads over the ring."""
    import numpy as np
    import torch

    from ganlab.trainer import Trainer

    preset = get_preset("ring8-collapse")
    assert "collapse" in preset.description.lower()
    c = full(preset)
    assert c.discriminator.packing == 1
    assert full(get_preset("ring8")).discriminator.packing > 1
    trainer = Trainer(c)
    trainer.train(800)
    fakes = trainer.sample(1000, torch.Generator().manual_seed(0))
    means = np.array([m.mean for m in trainer.distribution.modes])
    nearest = np.argmin(((fakes[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    counts = np.bincount(nearest, minlength=8)
    assert np.sort(counts)[-2:].sum() >= 0.95 * len(fakes), counts


def test_benchmark_presets_share_the_recipe_and_its_schedule() -> None:
    """Every benchmark preset: packing 2, Adam, rates halving every 7/24 of its own length."""
    benchmark = {n for n, d in DISTRIBUTIONS.items() if d.group == "benchmark"}
    for name in benchmark:
        preset = get_preset(name)
        c = full(preset)
        assert c.discriminator.packing == 2 and c.g_optimizer.kind == "adam", name
        assert c.training.lr_halflife == preset.steps * 7 // 24, name


def test_grid25_uses_the_lighter_discriminator() -> None:
    """grid25's tuned recipe (issue 2): a 2x64 discriminator against a 3x64 generator, 26,000
    steps. Its quality target is checked by benchmarks/bench_quality.py, not here."""
    preset = get_preset("grid25")
    c = full(preset)
    assert (c.generator.layers, c.generator.neurons) == (3, 64)
    assert (c.discriminator.layers, c.discriminator.neurons) == (2, 64)
    assert (c.training.batch_size, preset.steps) == (256, 26_000)
    assert full(get_preset("ring8")).discriminator.layers == 3  # the override is grid25's own


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_trains_briefly_with_finite_losses(name: str) -> None:
    config = merge(PRESETS[name].config, {"metrics": {"every": 100_000}})
    t = Trainer(config)
    g0, d0 = t.G.params.clone(), t.D.params.clone()
    assert t.train(30) == 30
    assert t.iteration == 30
    c = t.config.training
    assert (t.d_updates, t.g_updates) == (30 * c.d_steps, 30 * c.g_steps)
    losses = t.losses()
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= losses.keys()
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert not t.diverged()
    assert not torch.equal(t.G.params, g0) and not torch.equal(t.D.params, d0)
    assert math.isfinite(float(t.sample(64).sum()))
