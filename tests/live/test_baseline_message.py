"""The real-vs-real baseline a session sends: in `hello` and every `config` event, computed
once per data and metrics settings, never while drawing a frame."""

from __future__ import annotations

import pickle
import time
from typing import Any

import pytest

import ganlab.live.session as session_module
from ganlab.engine.evaluation import real_baseline
from ganlab.live.session import Limits, Out, Session

SMALL = {"generator": {"neurons": 8}, "discriminator": {"neurons": 8},
         "view": {"grid": 16, "fakes": 24, "reals": 24}, "device": "cpu",
         "metrics": {"samples": 400, "w1_samples": 80, "grid": 10}}  # fmt: skip


def text(outs: list[Out], kind: str) -> dict[str, Any]:
    return next(o.data for o in outs if o.kind == "text" and o.data["type"] == kind)


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int]]:
    """The (samples, W1 points, grid) of every baseline computed."""
    calls: list[tuple[int, int, int]] = []

    def counting(dist, samples, w1_points, grid):  # type: ignore[no-untyped-def]
        calls.append((samples, w1_points, grid))
        return real_baseline(dist, samples, w1_points, grid)

    monkeypatch.setattr(session_module, "real_baseline", counting)
    monkeypatch.setattr(session_module, "_BASELINES", {})  # no baselines from other tests
    return calls


def test_sessions_on_the_same_data_share_one_computation(
    computed: list[tuple[int, int, int]],
) -> None:
    """A client opening session after session on the same data costs one computation, not
    one each (each is ~0.3 s of its engine process); other data gets its own."""
    for i in range(3):
        s = Session(f"s{i}", {**SMALL, "seed": i, "data": {"name": "ring8"}})
        assert "baseline" in text(s.attach({"session": f"s{i}"}), "hello")
    assert computed == [(400, 80, 10)]
    other = Session("t", {**SMALL, "data": {"name": "grid25"}})
    text(other.attach({"session": "t"}), "hello")
    assert len(computed) == 2


def test_hello_carries_the_baseline_of_the_data(computed: list[tuple[int, int, int]]) -> None:
    s = Session("s", {**SMALL, "data": {"name": "ring8"}})
    hello = text(s.attach({"session": "s"}), "hello")
    b = hello["baseline"]
    assert (b["samples"], b["w1_samples"], b["pairs"]) == (400, 80, 12)
    assert b["percentiles"] == [5.0, 95.0]
    expected = real_baseline(s.trainer.distribution, 400, 80, 10)
    knn = {"precision", "recall", "density", "coverage"}
    assert set(b["metrics"]) == set(expected) == {"kl_grid", "js_grid", "w1", "reverse_kl"} | knn
    for name, band in expected.items():
        assert b["metrics"][name] == {"mean": band.mean, "low": band.low, "high": band.high}
    assert computed == [(400, 80, 10)]


def test_w1_points_are_the_live_cap(computed: list[tuple[int, int, int]]) -> None:
    s = Session("s", {**SMALL, "metrics": {"w1_samples": 900}}, Limits(w1_points=120))
    assert text(s.attach({"session": "s"}), "hello")["baseline"]["w1_samples"] == 120


def test_recomputed_only_when_data_or_metric_sizes_change(
    computed: list[tuple[int, int, int]],
) -> None:
    s = Session("s", SMALL)
    first = text(s.attach({"session": "s"}), "hello")["baseline"]
    # A learning rate, a reset, a new `every`: the same baseline, not computed again.
    lr = text(s.handle({"type": "config", "set": {"g_optimizer": {"lr": 0.01}}}), "config")
    reset = text(s.handle({"type": "reset"}), "config")
    every = text(s.handle({"type": "config", "set": {"metrics": {"every": 7}}}), "config")
    assert lr["baseline"] == reset["baseline"] == every["baseline"] == first
    assert len(computed) == 1
    # Other data: another baseline (with reverse KL once the data has modes).
    grid25 = text(s.handle({"type": "data", "set": {"name": "grid25"}}), "config")["baseline"]
    assert grid25["metrics"]["w1"] != first["metrics"]["w1"] and "reverse_kl" in grid25["metrics"]
    # Another grid or sample count: another baseline of those sizes.
    finer = text(s.handle({"type": "config", "set": {"metrics": {"grid": 20}}}), "config")
    assert finer["baseline"]["metrics"]["kl_grid"] != grid25["metrics"]["kl_grid"]
    assert computed == [(400, 80, 10), (400, 80, 10), (400, 80, 20)]


def test_frames_never_compute_it(computed: list[tuple[int, int, int]]) -> None:
    s = Session("s", SMALL)
    s.attach({"session": "s"})
    s.handle({"type": "config", "set": {"metrics": {"grid": 12}}})
    before = len(computed)
    s.handle({"type": "play"})
    for _ in range(3):
        s.train_slice(0.02)
        s.frame(time.perf_counter())
    assert len(computed) == before == 2


def test_a_moved_session_keeps_its_baseline(computed: list[tuple[int, int, int]]) -> None:
    s = Session("s", SMALL)
    first = text(s.attach({"session": "s"}), "hello")["baseline"]
    moved = pickle.loads(pickle.dumps(s))
    assert text(moved.attach({"session": "s"}), "hello")["baseline"] == first
    assert len(computed) == 1
