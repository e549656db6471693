"""Run files: exact round trips, exact continuation after a load, and hostile input."""

from __future__ import annotations

import io
import json
import math
import pickle
import struct
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganlab.engine import runfile
from ganlab.engine.config import merge
from ganlab.engine.runfile import RunFileError
from ganlab.engine.trainer import Trainer

SMALL: dict[str, Any] = {
    "generator": {"layers": 2, "neurons": 8},
    "discriminator": {"layers": 2, "neurons": 8},
    "training": {"batch_size": 32},
    "metrics": {"every": 10, "samples": 200, "w1_samples": 50, "grid": 10},
}
ADAM = merge(SMALL, {"g_optimizer": {"kind": "adam", "lr": 3e-3},
                     "d_optimizer": {"kind": "adam", "lr": 3e-3}})  # fmt: skip
SGD_MOMENTUM = merge(
    SMALL,
    {
        "g_optimizer": {"kind": "sgd", "lr": 0.02, "momentum": 0.9},
        "d_optimizer": {"kind": "sgd", "lr": 0.05, "momentum": 0.9},
        "training": {"d_steps": 2},
    },
)
WGAN_GP = merge(SMALL, {"loss": {"kind": "wgan_gp", "gp_weight": 1.0}, "seed": 3})
RMSPROP_R1 = merge(
    SMALL,
    {
        "g_optimizer": {"kind": "rmsprop", "lr": 1e-3, "momentum": 0.5},
        "d_optimizer": {"kind": "rmsprop", "lr": 1e-3},
        "loss": {"r1": 0.5},
        "data": {"name": "ring8"},
        "discriminator": {"packing": 2},
    },
)
# A learning-rate schedule: the rate depends on the iteration, which the file must restore.
HALFLIFE = merge(SGD_MOMENTUM, {"training": {"lr_halflife": 10}})
# Every variant with state of its own: spectral norm's vectors, the moving average of G, the
# instance noise stream (and extragradient and unrolled steps, which move optimizer state).
VARIANTS = merge(
    ADAM,
    {
        "discriminator": {"spectral_norm": True},
        "generator": {"ema": 0.9},
        "training": {"instance_noise": 0.2, "instance_noise_anneal": 100, "unrolled_steps": 1,
                     "scheme": "extragradient"},
    },
)  # fmt: skip
CONFIGS = {"adam": ADAM, "sgd_momentum": SGD_MOMENTUM, "wgan_gp": WGAN_GP,
           "rmsprop_r1": RMSPROP_R1, "halflife": HALFLIFE, "variants": VARIANTS}  # fmt: skip


def trained(config: dict[str, Any], iterations: int = 25) -> Trainer:
    t = Trainer(config)
    t.train(iterations)
    return t


def assert_same_run(a: Trainer, b: Trainer) -> None:
    assert a.config == b.config
    assert (a.iteration, a.d_updates, a.g_updates) == (b.iteration, b.d_updates, b.g_updates)
    sa, sb = a.state(), b.state()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert sa[name].dtype == sb[name].dtype, name
        assert torch.equal(sa[name], sb[name]), name
    assert a.history == b.history


def header_of(data: bytes) -> dict[str, Any]:
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + size])


def parts(data: bytes) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    return safetensors.torch.load(data), header_of(data)["__metadata__"]


def rebuild(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    return safetensors.torch.save(tensors, metadata=metadata)


def raw_file(header: Any, body: bytes = b"") -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


@pytest.fixture(scope="module")
def saved() -> bytes:
    """A valid run file of a short Adam run (with a metric history)."""
    torch.set_num_threads(1)
    return runfile.dumps(trained(ADAM, 20))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", list(CONFIGS))
def test_dumps_loads_restores_config_counters_weights_optimizer_and_history(name: str) -> None:
    t = trained(CONFIGS[name])
    assert t.history, "the run should have metric rows to save"
    assert t.g_opt.steps > 0 and t.d_opt.steps > 0
    loaded = runfile.loads(runfile.dumps(t))
    assert loaded is not t
    assert_same_run(t, loaded)
    assert torch.equal(loaded.G.params, t.G.params)
    assert torch.equal(loaded.D.params, t.D.params)
    assert loaded.g_opt.steps == t.g_opt.steps and loaded.d_opt.steps == t.d_opt.steps
    for key, buf in t.d_opt.buffers.items():
        assert torch.equal(loaded.d_opt.buffers[key], buf), key


def test_save_and_load_through_a_file(tmp_path: Path) -> None:
    t = trained(SGD_MOMENTUM)
    path = runfile.save(t, tmp_path / "run.safetensors")
    assert path == tmp_path / "run.safetensors" and path.stat().st_size > 0
    assert_same_run(t, runfile.load(path))
    assert_same_run(t, runfile.loads(path.read_bytes()))
    assert_same_run(t, runfile.load(str(path)))


def test_history_with_infinities_round_trips() -> None:
    t = trained(ADAM, 10)
    t.history = [{"iteration": 10.0, "reverse_kl": math.inf, "w1": 0.25}, {"iteration": 20.0}]
    assert runfile.loads(runfile.dumps(t)).history == t.history


def test_device_argument_overrides_the_saved_device() -> None:
    t = trained(merge(ADAM, {"device": "cpu"}), 5)
    loaded = runfile.loads(runfile.dumps(t), device="cpu")
    assert loaded.config.device == "cpu" and loaded.device.type == "cpu"
    assert torch.equal(loaded.G.params, t.G.params)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_training_on_after_a_load_is_bit_identical(name: str) -> None:
    original = trained(CONFIGS[name], 25)
    data = runfile.dumps(original)
    loaded = runfile.loads(data)
    at_save = loaded.G.params.clone(), loaded.D.params.clone()
    original.train(30)
    loaded.train(30)
    # Training really went on (a frozen run would compare equal trivially).
    assert not torch.equal(loaded.G.params, at_save[0])
    assert not torch.equal(loaded.D.params, at_save[1])
    assert torch.equal(loaded.G.params, original.G.params)
    assert torch.equal(loaded.D.params, original.D.params)
    assert_same_run(original, loaded)
    if name == "wgan_gp":  # the gradient penalty's interpolation stream was in use
        assert int(runfile.loads(data).state()["stream.mix.position"][0]) > 0
    if name == "variants":  # their own state was in the file and in use
        state = runfile.loads(data).state()
        assert int(state["stream.instance.position"][0]) > 0
        assert int(state["g.average_count"][0]) > 0 and "d.spectral.0.u" in state


@pytest.mark.parametrize("name", ["wgan_gp", "halflife", "variants"])
def test_single_updates_after_a_load_are_bit_identical(name: str) -> None:
    original = trained(CONFIGS[name], 7)
    original.step_d()  # save in the middle of an iteration
    loaded = runfile.loads(runfile.dumps(original))
    for t in (original, loaded):
        t.step_g()
        t.step_d()
        t.step_d()
    assert torch.equal(loaded.G.params, original.G.params)
    assert torch.equal(loaded.D.params, original.D.params)


@pytest.mark.parametrize(
    "change",
    [
        {"noise": {"kind": "uniform"}},
        {"data": {"name": "ring"}},
        {"generator": {"neurons": 6}},
        {"d_optimizer": {"lr": 1e-2}},
        {"d_optimizer": {"kind": "sgd", "lr": 1e-2}},
        {"discriminator": {"spectral_norm": True}},
        {"generator": {"ema": 0.5}},
        {"training": {"instance_noise": 0.3}},
    ],
    ids=["noise", "data", "generator", "d-lr", "d-optimizer-kind", "sn-on", "ema-on", "noise-on"],
)
def test_continuation_is_exact_after_a_mid_run_config_change(change: dict[str, Any]) -> None:
    # A change that restarts a random stream, rebuilds a net or swaps an optimizer, saved
    # before the next step, must still reload to exactly the same future.
    original = trained(ADAM, 12)
    original.configure(change)
    loaded = runfile.loads(runfile.dumps(original))
    original.train(15)
    loaded.train(15)
    assert torch.equal(loaded.G.params, original.G.params)
    assert torch.equal(loaded.D.params, original.D.params)


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("size", [0, 1, 7, 8, 64, 4096, 100_000])
def test_random_bytes_are_rejected(size: int) -> None:
    data = np.random.default_rng(size).bytes(size)
    with pytest.raises(RunFileError, match="not a run file"):
        runfile.loads(data)


def test_random_bytes_behind_a_plausible_header_length_are_rejected() -> None:
    body = np.random.default_rng(1).bytes(500)
    with pytest.raises(RunFileError, match="header is not JSON"):
        runfile.loads(struct.pack("<Q", 200) + body)


@pytest.mark.parametrize("keep", [3, 12, 0.5, 0.9, -1])
def test_truncated_files_are_rejected(saved: bytes, keep: float, tmp_path: Path) -> None:
    cut = int(len(saved) * keep) if isinstance(keep, float) else keep % len(saved)
    assert 0 < cut < len(saved)
    path = tmp_path / "cut.safetensors"
    path.write_bytes(saved[:cut])
    with pytest.raises(RunFileError, match="run file"):
        runfile.load(path)


def test_truncated_tensor_data_is_reported_as_damaged_tensors(saved: bytes) -> None:
    with pytest.raises(RunFileError, match="tensors are damaged"):
        runfile.loads(saved[:-16])


def test_safetensors_file_without_our_metadata_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "plain.safetensors"
    safetensors.torch.save_file({"weight": torch.zeros(4, 3)}, path)
    with pytest.raises(RunFileError, match="not a ganlab run file"):
        runfile.load(path)
    other = safetensors.torch.save({"weight": torch.zeros(2)}, metadata={"format": "pt"})
    with pytest.raises(RunFileError, match="not a ganlab run file"):
        runfile.loads(other)


def test_header_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(RunFileError, match="not a ganlab run file"):
        runfile.loads(raw_file([1, 2, 3]))


def test_deeply_nested_header_is_rejected() -> None:
    # Fewer lists than a header may hold, nested far deeper than the parser goes.
    with pytest.raises(RunFileError, match="header is not JSON"):
        runfile.loads(raw_file(b"[" * 50_000 + b"]" * 50_000))


@pytest.mark.parametrize("version", ["2", "0", "", None])
def test_wrong_version_is_rejected(saved: bytes, version: str | None) -> None:
    tensors, meta = parts(saved)
    if version is None:
        del meta["version"]
    else:
        meta["version"] = version
    with pytest.raises(RunFileError, match="unsupported run file version"):
        runfile.loads(rebuild(tensors, meta))


@pytest.mark.parametrize(
    ("patch", "field", "detail"),
    [
        ({"generator": {"layers": 99}}, "generator.layers", "<= 8"),
        ({"training": {"batch_size": 0}}, "training.batch_size", ">= 1"),
        ({"loss": {"kind": "bogus"}}, "loss.kind", "must be one of"),
        ({"data": {"name": "nope"}}, "data", "unknown distribution"),
        ({"extra": 1}, "extra", "not a known field"),
    ],
)
def test_config_out_of_range_is_rejected(
    saved: bytes, patch: dict[str, Any], field: str, detail: str
) -> None:
    tensors, meta = parts(saved)
    meta["config"] = json.dumps(merge(json.loads(meta["config"]), patch))
    with pytest.raises(RunFileError, match="config is invalid") as info:
        runfile.loads(rebuild(tensors, meta))
    assert field in str(info.value) and detail in str(info.value)


@pytest.mark.parametrize(
    "meta_patch",
    [{"config": "{not json"}, {"history": "[{"}, {"config": None}],
    ids=["config-not-json", "history-not-json", "config-missing"],
)
def test_damaged_metadata_is_rejected(saved: bytes, meta_patch: dict[str, Any]) -> None:
    tensors, meta = parts(saved)
    for key, value in meta_patch.items():
        if value is None:
            del meta[key]
        else:
            meta[key] = value
    with pytest.raises(RunFileError, match="metadata is damaged"):
        runfile.loads(rebuild(tensors, meta))


def test_metadata_values_that_are_not_strings_are_rejected(saved: bytes) -> None:
    # safetensors itself only writes strings, but a hand-made header can hold anything.
    _, meta = parts(saved)
    meta["config"] = 5  # type: ignore[assignment]
    with pytest.raises(RunFileError, match="metadata is damaged"):
        runfile.loads(raw_file({"__metadata__": meta}))


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ('{"iteration": 1}', "history is damaged"),
        ("[1, 2]", "history is damaged"),
        ('[{"w1": "x"}]', "damaged"),
        ('[{"w1": [1]}]', "damaged"),
        ('[{"w1": 1' + "0" * 400 + "}]", "damaged"),
        ('[{"w1": ' + "9" * 5000 + "}]", "digits"),
        ('[{"w1": 1e400}, {"w1": -' + "7" * 4301 + "}]", "digits"),
        ('[{"w1": true}]', "damaged"),
        ('[{"w1": {"a": 1}}]', "damaged"),
        ("[[1]]", "damaged"),
        (json.dumps([{f"m{i}": 1.0 for i in range(runfile.MAX_ROW_KEYS + 1)}]), "damaged"),
        (json.dumps([{"m" * (runfile.MAX_KEY_CHARS + 1): 1.0}]), "damaged"),
    ],
    ids=[
        "object",
        "numbers",
        "string-value",
        "list-value",
        "huge-int",
        "int-5000-digits",
        "int-4301-digits",
        "bool-value",
        "object-value",
        "list-row",
        "too-many-keys",
        "long-key",
    ],
)
def test_damaged_history_is_rejected(saved: bytes, history: str, message: str) -> None:
    tensors, meta = parts(saved)
    meta["history"] = history
    with pytest.raises(RunFileError, match=message) as info:
        runfile.loads(rebuild(tensors, meta))
    assert len(str(info.value)) < 200


def with_meta(saved: bytes, **changes: str) -> bytes:
    tensors, meta = parts(saved)
    return rebuild(tensors, {**meta, **changes})


def test_history_values_may_be_null_ints_or_huge_but_finite(saved: bytes) -> None:
    history = '[{"iteration": 10, "w1": null, "kl_grid": 1' + "0" * 300 + "}]"
    t = runfile.loads(with_meta(saved, history=history))
    assert t.history == [{"iteration": 10.0, "kl_grid": 1e300}]  # null: no value, as in charts


def test_a_history_of_millions_of_rows_is_refused_before_it_is_parsed(saved: bytes) -> None:
    data = with_meta(saved, history="[" + ",".join(["{}"] * 5_000_000) + "]")  # 15 MB
    tracemalloc.start()
    try:
        with pytest.raises(RunFileError, match=f"at most {runfile.MAX_HISTORY_ROWS} history rows"):
            runfile.loads(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * len(data)  # a copy of the header at most, nothing built per row


def test_one_row_over_the_limit_is_refused_naming_it(saved: bytes) -> None:
    history = "[" + ",".join(["{}"] * (runfile.MAX_HISTORY_ROWS + 1)) + "]"
    with pytest.raises(RunFileError, match=f"at most {runfile.MAX_HISTORY_ROWS} are allowed"):
        runfile.loads(with_meta(saved, history=history))


def test_a_history_at_the_limit_loads(saved: bytes) -> None:
    rows = [{"iteration": float(i), "w1": 0.25} for i in range(runfile.MAX_HISTORY_ROWS)]
    assert runfile.loads(with_meta(saved, history=json.dumps(rows))).history == rows


def test_saving_a_longer_history_thins_it_so_that_the_file_loads() -> None:
    t = trained(ADAM, 5)
    t.history = [{"iteration": float(i)} for i in range(runfile.MAX_HISTORY_ROWS + 7)]
    rows = runfile.loads(runfile.dumps(t)).history
    assert len(rows) == runfile.MAX_HISTORY_ROWS
    assert rows[0] == t.history[0] and rows[-1] == t.history[-1]
    iterations = [r["iteration"] for r in rows]
    assert iterations == sorted(set(iterations))  # in order, none twice


def config_with(saved: bytes, section: str | None, key: str, raw: str) -> bytes:
    """The saved file with one config value replaced by raw JSON text."""
    _, meta = parts(saved)
    config = json.loads(meta["config"])
    (config[section] if section else config)[key] = "@RAW@"
    return with_meta(saved, config=json.dumps(config).replace('"@RAW@"', raw))


@pytest.mark.parametrize(
    ("section", "key", "raw", "message"),
    [
        (None, "seed", "1" + "0" * 300, "config is invalid: seed: must be <= 2147483647"),
        ("d_optimizer", "lr", "1" + "0" * 300, "config is invalid: d_optimizer.lr"),
        ("d_optimizer", "lr", "1e400", "config is invalid: d_optimizer.lr"),
        ("generator", "layers", "-1" + "0" * 350, "config is invalid: generator.layers"),
        (None, "seed", "9" * 5000, "config holds a number of 5000 digits"),
        ("training", "batch_size", "1" * 4301, "config holds a number of 4301 digits"),
    ],
    ids=["int-300-digits", "float-field-int-300-digits", "float-1e400", "negative-351-digits",
         "int-5000-digits", "int-4301-digits"],
)  # fmt: skip
def test_huge_numbers_in_the_config_give_a_short_run_file_error(
    saved: bytes, section: str | None, key: str, raw: str, message: str
) -> None:
    with pytest.raises(RunFileError, match=message) as info:
        runfile.loads(config_with(saved, section, key, raw))
    assert len(str(info.value)) < 200


def test_a_huge_integer_in_the_tensor_header_is_a_run_file_error(saved: bytes) -> None:
    _, meta = parts(saved)
    entry = {"dtype": "F32", "shape": ["@RAW@"], "data_offsets": [0, 4]}
    text = json.dumps({"__metadata__": meta, "x": entry}).replace('"@RAW@"', "9" * 5000)
    with pytest.raises(RunFileError, match="not a run file: header holds a number of 5000"):
        runfile.loads(raw_file(text.encode(), b"\0" * 8))


def test_a_long_version_is_quoted_only_in_part(saved: bytes) -> None:
    with pytest.raises(RunFileError, match="unsupported run file version") as info:
        runfile.loads(with_meta(saved, version="9" * 1_000_000))
    assert len(str(info.value)) < 150


@pytest.mark.parametrize("name", ["g.params", "d_opt.exp_avg", "stream.noise.position", "counters"])
def test_missing_tensor_is_rejected(saved: bytes, name: str) -> None:
    tensors, meta = parts(saved)
    del tensors[name]
    with pytest.raises(RunFileError, match=f"lacks tensors: {name}"):
        runfile.loads(rebuild(tensors, meta))


def test_wrong_shape_from_an_edited_config_is_rejected() -> None:
    data = runfile.dumps(trained(merge(SMALL, {"generator": {"neurons": 8}}), 3))
    tensors, meta = parts(data)
    config = json.loads(meta["config"])
    config["generator"]["neurons"] = 16
    meta["config"] = json.dumps(config)
    with pytest.raises(RunFileError, match=r"tensor g\.params has shape"):
        runfile.loads(rebuild(tensors, meta))


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("d.params", lambda t: t[:-1].clone()),
        ("g.params", lambda t: t.double()),
        ("counters", lambda t: t.int()),
        ("g_opt.exp_avg", lambda t: t.half()),
    ],
    ids=["short", "float64", "int32-counters", "float16-state"],
)
def test_wrong_shape_or_dtype_is_rejected(saved: bytes, name: str, replacement: Any) -> None:
    tensors, meta = parts(saved)
    tensors[name] = replacement(tensors[name])
    with pytest.raises(RunFileError, match=rf"tensor {name} has shape"):
        runfile.loads(rebuild(tensors, meta))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("g.params", math.nan),
        ("d.params", math.inf),
        ("d.params", -math.inf),
        ("g_opt.exp_avg_sq", math.nan),
        ("d_opt.exp_avg", math.inf),
    ],
)
def test_non_finite_weights_or_optimizer_state_are_rejected(
    saved: bytes, name: str, value: float
) -> None:
    tensors, meta = parts(saved)
    tensors[name] = tensors[name].clone()
    tensors[name][3] = value
    with pytest.raises(RunFileError, match=rf"tensor {name} holds NaN or infinite"):
        runfile.loads(rebuild(tensors, meta))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("stream.data.position", [-5, 16_384]),
        ("stream.noise.position", [0, 10**12]),
        ("stream.mix.position", [200, 100]),
        ("stream.data.position", [0, 4 * 16_384]),
    ],
    ids=["negative-offset", "huge-chunk", "offset-past-chunk", "oversized-chunk"],
)
def test_impossible_stream_positions_are_rejected(
    saved: bytes, name: str, value: list[int]
) -> None:
    tensors, meta = parts(saved)
    tensors[name] = torch.tensor(value, dtype=torch.int64)
    with pytest.raises(RunFileError, match=rf"tensor {name} holds an impossible stream position"):
        runfile.loads(rebuild(tensors, meta))


@pytest.mark.parametrize("name", ["counters", "g_opt.steps"])
def test_negative_counts_are_rejected(saved: bytes, name: str) -> None:
    tensors, meta = parts(saved)
    tensors[name] = -tensors[name] - 1
    with pytest.raises(RunFileError, match=rf"tensor {name} holds negative counts"):
        runfile.loads(rebuild(tensors, meta))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("counters", [2**63 - 1] * 3),
        ("counters", [20, 2**53 + 1, 20]),
        ("g_opt.steps", [2**63 - 1]),
        ("d_opt.steps", [2**53 + 1]),
    ],
    ids=["int64-max", "d-updates", "g-steps-int64-max", "d-steps"],
)
def test_counts_past_2_53_are_rejected(saved: bytes, name: str, value: list[int]) -> None:
    tensors, meta = parts(saved)
    tensors[name] = torch.tensor(value, dtype=torch.int64)
    with pytest.raises(RunFileError, match=rf"tensor {name} holds counts over {runfile.MAX_COUNT}"):
        runfile.loads(rebuild(tensors, meta))


def test_counts_of_2_53_load_and_save_again(saved: bytes) -> None:
    tensors, meta = parts(saved)
    tensors["counters"] = torch.tensor([runfile.MAX_COUNT] * 3, dtype=torch.int64)
    t = runfile.loads(rebuild(tensors, meta))
    assert (t.iteration, t.d_updates, t.g_updates) == (2**53, 2**53, 2**53)
    assert runfile.loads(runfile.dumps(t)).iteration == 2**53


def test_damaged_random_generator_state_is_rejected(saved: bytes) -> None:
    tensors, meta = parts(saved)
    tensors["stream.data.generator"] = tensors["stream.data.generator"][:100].clone()
    with pytest.raises(RunFileError, match="state is damaged"):
        runfile.loads(rebuild(tensors, meta))


@pytest.mark.parametrize("size", [2**63, 2**64 - 1, runfile.MAX_HEADER + 1])
def test_huge_header_length_is_rejected(saved: bytes, size: int) -> None:
    with pytest.raises(RunFileError, match="bad header length"):
        runfile.loads(struct.pack("<Q", size) + saved[8:])


def test_header_length_past_the_end_is_rejected(saved: bytes) -> None:
    with pytest.raises(RunFileError, match="bad header length"):
        runfile.loads(struct.pack("<Q", len(saved) - 7) + saved[8:])


def test_too_large_file_is_rejected(saved: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runfile, "MAX_BYTES", len(saved) - 1)
    with pytest.raises(RunFileError, match="too large"):
        runfile.loads(saved)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_run_saved_on_cuda_opens_on_cpu_only_with_a_device_override(saved: bytes) -> None:
    tensors, meta = parts(saved)
    config = json.loads(meta["config"])
    config["device"] = "cuda"
    meta["config"] = json.dumps(config)
    data = rebuild(tensors, meta)
    with pytest.raises(RunFileError, match="device"):
        runfile.loads(data)
    assert runfile.loads(data, device="cpu").device.type == "cpu"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1,
                      max_size=4))  # fmt: skip
def test_corrupted_bytes_load_or_raise_run_file_error_only(
    saved: bytes, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(saved)
    (size,) = struct.unpack("<Q", saved[:8])
    for where, xor in flips:
        # Aim most flips at the header and metadata, where the parsing happens.
        data[where % (8 + size) if where % 3 else where % len(data)] ^= xor
    try:
        t = runfile.loads(bytes(data))
    except RunFileError as exc:
        assert str(exc)
    else:
        assert isinstance(t, Trainer)
        assert not t.diverged()


# --------------------------------------------------------------------------- no unpickling


class _Exploit:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_pickle_and_torch_save_files_are_rejected_without_running_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payloads = {"pickle": pickle.dumps(_Exploit(marker))}
    buf = io.BytesIO()
    torch.save({"g.params": torch.zeros(3), "exploit": _Exploit(marker)}, buf)
    payloads["torch.save"] = buf.getvalue()
    assert not marker.exists()
    for name, payload in payloads.items():
        path = tmp_path / f"{name}.bin"
        path.write_bytes(payload)
        with pytest.raises(RunFileError):
            runfile.load(path)
        assert not marker.exists(), name


def test_header_claiming_pickled_tensor_content_is_rejected(saved: bytes, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    body = pickle.dumps(_Exploit(marker))
    _, meta = parts(saved)
    header = {
        "__metadata__": meta,
        "g.params": {"dtype": "PICKLE", "shape": [len(body)], "data_offsets": [0, len(body)]},
    }
    with pytest.raises(RunFileError, match="tensors are damaged"):
        runfile.loads(raw_file(header, body))
    assert not marker.exists()


def test_loading_never_calls_an_unpickler(saved: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("run files must not be unpickled")

    for module, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"),
                         (torch, "load")]:  # fmt: skip
        monkeypatch.setattr(module, name, forbidden)
    t = runfile.loads(saved)
    assert t.iteration == 20
