"""metric_row: which keys a row has, divergence, and determinism."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from ganlab.engine.config import merge
from ganlab.engine.distributions import DISTRIBUTIONS
from ganlab.engine.evaluation import metric_row
from ganlab.engine.knn_metrics import KNN_COLUMNS
from ganlab.engine.trainer import Trainer

SMALL: dict[str, Any] = {
    "generator": {"layers": 1, "neurons": 8},
    "discriminator": {"layers": 1, "neurons": 8},
    "training": {"batch_size": 64},
    "metrics": {"every": 100_000, "samples": 300, "w1_samples": 60, "grid": 12},
}
LOSS_KEYS = {"d_loss", "g_loss", "d_real", "d_fake"}
GRAD_KEYS = {"d_grad_norm", "g_grad_norm"}
VALUE_KEYS = {"v_current", "v_optimal", "v_optimal_theory"}  # optimal.value_columns
SAMPLE_KEYS = {"kl_grid", "js_grid", "w1", *KNN_COLUMNS, *VALUE_KEYS}
MODE_KEYS = {"modes_covered", "modes_total", "high_quality_fraction", "reverse_kl"}


def trained(data: str = "gaussians", steps: int = 20, **patch: Any) -> Trainer:
    t = Trainer(merge(SMALL, {"data": {"name": data}, **patch}))
    t.train(steps)
    return t


@pytest.mark.parametrize("data", ["gaussians", "ring8", "disjoint"])
def test_row_of_a_mixture_has_loss_gradient_sample_and_mode_keys(data: str) -> None:
    assert DISTRIBUTIONS[data].is_mixture
    t = trained(data)
    row = metric_row(t)
    assert {"iteration"} | LOSS_KEYS | GRAD_KEYS | SAMPLE_KEYS | MODE_KEYS == set(row)
    assert row["iteration"] == 20.0
    assert all(isinstance(v, float) for v in row.values())
    for key in {"iteration"} | LOSS_KEYS | GRAD_KEYS | SAMPLE_KEYS:
        assert math.isfinite(row[key]), key
    assert row["d_grad_norm"] > 0 and row["g_grad_norm"] > 0
    assert row["modes_total"] == len(DISTRIBUTIONS[data].modes)
    assert 0 <= row["modes_covered"] <= row["modes_total"]
    assert 0.0 <= row["high_quality_fraction"] <= 1.0
    # The losses are the trainer's own latest values.
    for key, value in t.losses().items():
        assert row[key] == value


@pytest.mark.parametrize("data", ["line", "ring", "moons", "swissroll"])
def test_row_of_a_non_mixture_has_no_mode_keys(data: str) -> None:
    assert not DISTRIBUTIONS[data].is_mixture
    row = metric_row(trained(data))
    assert {"iteration"} | LOSS_KEYS | GRAD_KEYS | SAMPLE_KEYS == set(row)
    assert not MODE_KEYS & set(row)


def test_row_before_any_step_has_no_losses_and_zero_gradients() -> None:
    t = Trainer(SMALL)
    row = metric_row(t)
    assert not LOSS_KEYS & set(row)
    assert row["iteration"] == 0.0
    assert row["d_grad_norm"] == 0.0 and row["g_grad_norm"] == 0.0
    assert set(row) >= SAMPLE_KEYS


def test_diverged_generator_gives_a_row_without_sample_metrics() -> None:
    t = trained()
    assert not t.diverged()
    t.G.params.fill_(float("nan"))
    assert t.diverged()
    row = metric_row(t)
    assert not (SAMPLE_KEYS | MODE_KEYS) & set(row)
    assert {"iteration"} | LOSS_KEYS | GRAD_KEYS <= set(row)
    assert row["iteration"] == 20.0


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_discriminator_counts_as_diverged(value: float) -> None:
    t = trained()
    t.D.params[0] = value
    assert t.diverged()


def test_training_stops_at_the_first_row_after_divergence() -> None:
    t = trained(metrics={"every": 5})
    rows_before = len(t.history)
    t.G.params.fill_(float("nan"))
    assert t.train(50) == 5
    assert t.iteration == 25
    assert len(t.history) == rows_before + 1
    assert not SAMPLE_KEYS & set(t.history[-1])


def test_rows_are_deterministic_for_the_same_state() -> None:
    t = trained()
    first, second = metric_row(t), metric_row(t)
    assert first == second
    twin = trained()  # same config and seed, trained the same way
    assert metric_row(twin) == first
    other = trained(seed=1)
    assert metric_row(other) != first


def test_computing_a_row_does_not_disturb_training() -> None:
    a, b = trained(), trained()
    metric_row(a)
    metric_row(a, samples=500, w1_samples=100)
    a.train(10)
    b.train(10)
    assert torch.equal(a.G.params, b.G.params)
    assert torch.equal(a.D.params, b.D.params)


def test_sample_counts_come_from_the_arguments_or_the_config() -> None:
    t = trained()
    explicit = metric_row(t, samples=400, w1_samples=80)
    t.configure({"metrics": {"samples": 400, "w1_samples": 80}})
    assert metric_row(t) == explicit
    t.configure({"metrics": {"samples": 300, "w1_samples": 60}})
    assert metric_row(t)["w1"] != explicit["w1"]


def test_rows_track_training() -> None:
    t = Trainer(merge(SMALL, {"metrics": {"every": 10}}))
    t.train(30)
    assert [r["iteration"] for r in t.history] == [10.0, 20.0, 30.0]
    assert t.history[-1] == metric_row(t)
    assert t.history[0]["w1"] != t.history[-1]["w1"]


@pytest.mark.parametrize("data", ["gaussians", "ring8"])
def test_row_carries_the_per_mode_counts_behind_its_mode_columns(data: str) -> None:
    t = trained(data)
    row = metric_row(t)
    counts = row.mode_counts
    assert counts is not None
    k = len(DISTRIBUTIONS[data].modes)
    assert counts.samples == 300  # the config's metrics.samples
    assert counts.nearest.shape == counts.high_quality.shape == (k,)
    assert int(counts.nearest.sum()) == 300  # every evaluated sample is in one mode's bar
    assert (counts.high_quality <= counts.nearest).all()
    # The columns are these counts summarised.
    assert row["high_quality_fraction"] == counts.high_quality.sum() / 300
    assert row["modes_covered"] == (counts.high_quality > 0).sum()
    q = counts.nearest[counts.nearest > 0] / 300
    assert row["reverse_kl"] == pytest.approx(math.log(k) + float((q * np.log(q)).sum()))
    # They are an attribute, not keys: run files and CSV tables see only the scalars.
    assert all(isinstance(v, float) for v in row.values())


def test_row_without_modes_or_with_non_finite_fakes_has_no_counts() -> None:
    assert metric_row(trained("moons")).mode_counts is None
    t = trained("ring8")
    t.G.params.fill_(float("nan"))
    assert metric_row(t).mode_counts is None


def test_only_the_newest_row_of_a_history_keeps_its_counts() -> None:
    t = trained("ring8", steps=30, metrics={"every": 10})
    assert len(t.history) == 3
    assert [row.mode_counts is not None for row in t.history] == [False, False, True]  # type: ignore[attr-defined]
