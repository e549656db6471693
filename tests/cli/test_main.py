"""The `ganlab` command, in-process through `main` and once as a real process."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ganlab.cli.main import FINAL_SAMPLES, main
from ganlab.engine import runfile
from ganlab.engine.config import ExperimentConfig
from ganlab.engine.distributions import DISTRIBUTIONS
from ganlab.engine.presets import PRESETS, get_preset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SAMPLE_KEYS = {"kl_grid", "js_grid", "w1"}
LOSS_KEYS = {"d_loss", "g_loss"}
MODE_KEYS = {"modes_covered", "modes_total", "high_quality_fraction"}


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)  # `train --threads` sets it for the process


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def train(out: Path, *extra: str, preset: str = "gaussians", steps: int = 20) -> int:
    argv = ["train", "--preset", preset, "--steps", str(steps), "--out", str(out), "--quiet"]
    return main([*argv, *extra])


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture(scope="module")
def gaussians_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`train --preset gaussians --steps 200 --save-run`, shared by the output checks."""
    out = tmp_path_factory.mktemp("gaussians") / "out"
    code = main(["train", "--preset", "gaussians", "--steps", "200", "--out", str(out),
                 "--quiet", "--save-run"])  # fmt: skip
    assert code == 0
    return out


# --------------------------------------------------------------------------- presets


def test_presets_lists_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["presets"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(PRESETS)
    for line, preset in zip(lines, PRESETS.values(), strict=True):
        assert line.split()[0] == preset.name
        assert f"{preset.title}: {preset.description}" in line
        assert f"({preset.steps} steps)" in line


# --------------------------------------------------------------------------- train outputs


def test_train_writes_final_json(gaussians_run: Path) -> None:
    final = read_json(gaussians_run / "final.json")
    assert {"config", "steps", "train_seconds", "iterations_per_second", "metrics"} <= set(final)
    assert final["steps"] == 200
    assert ExperimentConfig.model_validate(final["config"]) == get_preset("gaussians").experiment()
    assert final["train_seconds"] > 0 and final["iterations_per_second"] > 0
    assert final["diverged"] is False
    metrics = final["metrics"]
    assert set(metrics) >= SAMPLE_KEYS | LOSS_KEYS | MODE_KEYS
    assert metrics["iteration"] == 200
    for key in SAMPLE_KEYS | LOSS_KEYS | MODE_KEYS:
        assert isinstance(metrics[key], float) and math.isfinite(metrics[key]), key
    assert metrics["modes_total"] == len(DISTRIBUTIONS["gaussians"].modes)
    assert 0 <= metrics["modes_covered"] <= metrics["modes_total"]
    assert 0.0 <= metrics["high_quality_fraction"] <= 1.0
    assert metrics["kl_grid"] >= 0 and 0 <= metrics["js_grid"] <= 1 and metrics["w1"] >= 0


def test_train_writes_samples_csv(gaussians_run: Path) -> None:
    header, rows = read_csv(gaussians_run / "samples.csv")
    assert header == ["x", "y"]
    assert len(rows) >= 2500 and len(rows) == FINAL_SAMPLES
    values = np.array(rows, dtype=np.float64)
    assert values.shape == (len(rows), 2)
    assert np.isfinite(values).all()
    assert values.std(axis=0).min() > 0  # really samples, not one repeated point


def test_train_writes_metrics_csv(gaussians_run: Path) -> None:
    header, rows = read_csv(gaussians_run / "metrics.csv")
    assert header[0] == "iteration"
    assert set(header) >= LOSS_KEYS | SAMPLE_KEYS
    assert rows
    iterations = [float(r[0]) for r in rows]
    assert iterations == sorted(iterations) and len(set(iterations)) == len(iterations)
    assert iterations[-1] == 200 and iterations[0] > 0
    for row in rows:
        assert len(row) == len(header)


def test_train_writes_snapshot_png(gaussians_run: Path) -> None:
    path = gaussians_run / "snapshot.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 10_000
    assert png_size(path) == (600, 600)


def test_save_run_writes_a_loadable_run_file(gaussians_run: Path) -> None:
    t = runfile.load(gaussians_run / "run.safetensors")
    assert t.iteration == 200
    assert t.config == get_preset("gaussians").experiment().model_copy(
        update={"metrics": t.config.metrics}
    )
    _, metric_rows = read_csv(gaussians_run / "metrics.csv")
    assert len(t.history) == len(metric_rows)
    # The saved weights are the ones that produced samples.csv.
    _, rows = read_csv(gaussians_run / "samples.csv")
    written = np.array(rows, dtype=np.float64)
    np.testing.assert_allclose(t.sample(FINAL_SAMPLES), written, rtol=1e-5, atol=1e-5)


def test_non_mixture_preset_has_no_mode_metrics(tmp_path: Path) -> None:
    assert not DISTRIBUTIONS["line"].is_mixture
    assert train(tmp_path / "line", preset="line") == 0
    metrics = read_json(tmp_path / "line" / "final.json")["metrics"]
    assert set(metrics) >= SAMPLE_KEYS | LOSS_KEYS
    assert not (MODE_KEYS | {"reverse_kl"}) & set(metrics)


def test_config_file_merges_over_the_preset_and_set_over_both(tmp_path: Path) -> None:
    config = tmp_path / "patch.json"
    config.write_text(json.dumps({"generator": {"layers": 1, "neurons": 12},
                                  "training": {"batch_size": 64}}))  # fmt: skip
    out = tmp_path / "out"
    code = train(out, "--config", str(config), "--set", "generator.layers=3",
                 "--set", "loss.kind=hinge", "--save-run")  # fmt: skip
    assert code == 0
    c = ExperimentConfig.model_validate(read_json(out / "final.json")["config"])
    preset = get_preset("gaussians").experiment()
    assert c.generator.neurons == 12 and c.training.batch_size == 64  # from the file
    assert c.generator.layers == 3 and c.loss.kind == "hinge"  # --set wins over the file
    # Everything not named keeps the preset's value.
    assert c.d_optimizer == preset.d_optimizer and c.g_optimizer == preset.g_optimizer
    assert c.noise == preset.noise and c.discriminator == preset.discriminator
    assert c.training.d_steps == preset.training.d_steps
    # ... and the run really trained with them.
    t = runfile.load(out / "run.safetensors")
    assert t.G.sizes == [2, 12, 12, 12, 2]
    assert t.objective.name == "hinge"


def test_seed_makes_runs_reproducible(tmp_path: Path) -> None:
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        assert train(tmp_path / name, "--seed", seed, steps=15) == 0
    a, b, c = ((tmp_path / n / "samples.csv").read_bytes() for n in "abc")
    assert a == b
    assert a != c
    assert read_json(tmp_path / "a" / "final.json")["config"]["seed"] == 7
    assert read_json(tmp_path / "c" / "final.json")["config"]["seed"] == 8


# --------------------------------------------------------------------------- bad input


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], list[str]]]:
    (tmp / "invalid.json").write_text('{"generator": {"layers": 3,}}')
    (tmp / "list.json").write_text('[{"generator": {"layers": 3}}]')
    (tmp / "binary.json").write_bytes(b"\xff\xfe\x00\x81 not text")
    (tmp / "a_file").write_text("x")
    return {
        "unknown-preset": (["--preset", "nope"], ["--preset", "unknown preset 'nope'", "ring8"]),
        "layers-too-many": (["--set", "generator.layers=99"], ["generator.layers", "<= 8", "99"]),
        "set-without-equals": (["--set", "nonsense"], ["--set", "key=value", "nonsense"]),
        "set-unknown-field": (["--set", "generator.bogus=1"], ["generator.bogus", "not a known"]),
        "set-into-a-value": (["--set", "seed=3", "--set", "seed.x=1"], ["seed.x", "nested"]),
        "set-wrong-type": (["--set", "generator.layers=many"], ["generator.layers"]),
        "steps-zero": (["--steps", "0"], ["--steps", "0"]),
        "steps-not-a-number": (["--steps", "x"], ["--steps", "'x'"]),
        "threads-zero": (["--threads", "0"], ["--threads"]),
        "seed-negative": (["--seed", "-1"], ["seed", ">= 0"]),
        "config-missing": (["--config", str(tmp / "missing.json")], ["--config", "missing.json"]),
        "config-invalid": (["--config", str(tmp / "invalid.json")], ["--config", "not JSON"]),
        "config-list": (["--config", str(tmp / "list.json")], ["--config", "JSON object"]),
        "config-binary": (["--config", str(tmp / "binary.json")], ["--config", "UTF-8"]),
        "out-under-a-file": (["--out", str(tmp / "a_file" / "out")], ["--out", "a_file"]),
        "unknown-distribution": (["--set", "data.name=nope"], ["data", "unknown distribution"]),
        "drawing-without-strokes": (["--set", "data.name=drawing"], ["data", "strokes"]),
        "unknown-flag": (["--bogus"], ["--bogus"]),
    }


BAD_IDS = [
    "unknown-preset", "layers-too-many", "set-without-equals", "set-unknown-field",
    "set-into-a-value", "set-wrong-type", "steps-zero", "steps-not-a-number", "threads-zero",
    "seed-negative", "config-missing", "config-invalid", "config-list", "config-binary",
    "out-under-a-file", "unknown-distribution", "drawing-without-strokes", "unknown-flag",
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_IDS)
def test_bad_input_exits_2_with_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra, expected = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    argv = ["train", "--preset", "gaussians", "--steps", "5", "--out", str(out), "--quiet"]
    code, stdout, stderr = run([*argv, *extra], capsys)
    assert code == 2
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ganlab: error: ")
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert "Traceback" not in stderr
    assert not out.exists()  # nothing trained, nothing written


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], "command"), (["frobnicate"], "frobnicate"), (["train", "--preset", "line"], "--out")],
)
def test_bad_command_line_exits_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, stderr = run(argv, capsys)
    assert code == 2
    assert stderr.startswith("ganlab: error: ") and len(stderr.splitlines()) == 1
    assert expected in stderr


# --------------------------------------------------------------------------- a real process


def _command() -> list[str]:
    script = Path(sys.executable).parent / "ganlab"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ganlab.cli"]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "100"}


def test_real_process_trains_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "proc"
    proc = subprocess.run(
        [*_command(), "train", "--preset", "line", "--steps", "10", "--out", str(out)],
        capture_output=True, text=True, timeout=240, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"wrote {out}/final.json" in proc.stdout
    for name in ("final.json", "samples.csv", "metrics.csv", "snapshot.png"):
        assert (out / name).stat().st_size > 0
    assert read_json(out / "final.json")["steps"] == 10


def test_real_process_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "binary.json"
    config.write_bytes(b"\xff\xfe\x00\x81")
    proc = subprocess.run(
        [*_command(), "train", "--preset", "line", "--config", str(config), "--set",
         "generator.layers=99", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=240, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganlab: error: --config")
    assert proc.stdout == ""


def test_serve_rejects_bad_port(capsys):
    from ganlab.cli.main import main

    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganlab: error: --port") and "Traceback" not in err


def test_serve_rejects_bad_device(capsys):
    from ganlab.cli.main import main

    assert main(["serve", "--device", "tpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganlab: error: --device") and "Traceback" not in err
