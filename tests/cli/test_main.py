"""The `ganlab` command, in-process through `main` and once as a real process."""

from __future__ import annotations

import csv
import errno
import importlib
import json
import math
import os
import signal
import subprocess
import sys
import time
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
from ganlab.engine.trainer import Trainer

# The module, not the `main` function that `ganlab.cli` re-exports under the same name.
CLI = importlib.import_module("ganlab.cli.main")
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


def _bad_inputs(tmp: Path, case: str) -> dict[str, tuple[list[str], list[str]]]:
    (tmp / "invalid.json").write_text('{"generator": {"layers": 3,}}')
    (tmp / "list.json").write_text('[{"generator": {"layers": 3}}]')
    (tmp / "binary.json").write_bytes(b"\xff\xfe\x00\x81 not text")
    (tmp / "a_file").write_text("x")
    (tmp / "deep.json").write_text("[" * 100_000)
    (tmp / "deep_field.json").write_text('{"data": ' + "[" * 100 + "]" * 100 + "}")
    (tmp / "huge_int.json").write_text('{"seed": ' + "9" * 5000 + "}")
    (tmp / "huge_float.json").write_text('{"g_optimizer": {"lr": 1e400}}')
    (tmp / "nan.json").write_text('{"g_optimizer": {"lr": NaN}}')
    (tmp / "adir.json").mkdir()
    if case == "config-too-big":  # valid JSON, which the old code read whole and trained on
        (tmp / "big.json").write_text('{"seed": 1' + " " * (17 << 20) + "}")
    huge = "9" * 5000
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
        "seed-negative": (["--seed", "-1"], ["--seed", "from 0 to 2147483647", "-1"]),
        "config-missing": (["--config", str(tmp / "missing.json")], ["--config", "missing.json"]),
        "config-invalid": (["--config", str(tmp / "invalid.json")], ["--config", "not JSON"]),
        "config-list": (["--config", str(tmp / "list.json")], ["--config", "JSON object"]),
        "config-binary": (["--config", str(tmp / "binary.json")], ["--config", "UTF-8"]),
        "out-under-a-file": (["--out", str(tmp / "a_file" / "out")], ["--out", "a_file"]),
        "unknown-distribution": (["--set", "data.name=nope"], ["data", "unknown distribution"]),
        "drawing-without-strokes": (["--set", "data.name=drawing"], ["data", "strokes"]),
        "unknown-flag": (["--bogus"], ["--bogus"]),
        # Findings of the audit: each gave a traceback (exit 1) or a wrong message before.
        "config-deep": (["--config", str(tmp / "deep.json")], ["--config", "deeper than 32"]),
        "config-deep-field": (
            ["--config", str(tmp / "deep_field.json")],
            ["--config", "deeper than 32"],
        ),
        "config-huge-int": (
            ["--config", str(tmp / "huge_int.json")],
            ["--config", "5000 digits", "at most 20"],
        ),
        "config-1e400": (["--config", str(tmp / "huge_float.json")], ["--config", "too large"]),
        "config-nan": (["--config", str(tmp / "nan.json")], ["--config", "NaN", "finite"]),
        "config-too-big": (["--config", str(tmp / "big.json")], ["--config", "16 MiB"]),
        "config-a-folder": (["--config", str(tmp / "adir.json")], ["--config", "folder"]),
        "config-name-with-newline": (
            ["--config", str(tmp / "two\nlines.json")],
            ["--config", "two\\nlines.json"],
        ),
        "set-deep": (["--set", "seed=" + "[" * 100_000], ["--set seed", "deeper than 32"]),
        "set-huge-int": (["--set", f"seed={huge}"], ["--set seed", "5000 digits"]),
        "set-10-pow-400": (["--set", f"g_optimizer.lr={10**400}"], ["g_optimizer.lr", "digits"]),
        "set-1e400": (["--set", "g_optimizer.lr=1e400"], ["g_optimizer.lr", "too large"]),
        "set-nan": (["--set", "g_optimizer.lr=NaN"], ["g_optimizer.lr", "finite"]),
        "set-deep-key": (["--set", "a." * 20_000 + "b=1"], ["--set", "deeper than 32"]),
        "set-empty-key": (["--set", " =1"], ["--set", "key=value"]),
        "steps-negative": (["--steps", "-5"], ["--steps", "from 1 to 10000000", "-5"]),
        "steps-huge": (["--steps", huge], ["--steps", "from 1 to 10000000"]),
        "steps-too-many": (["--steps", "10000001"], ["--steps", "from 1 to 10000000"]),
        "seed-huge": (["--seed", "2147483648"], ["--seed", "from 0 to 2147483647"]),
        "threads-too-many": (["--threads", "257"], ["--threads", "from 1 to 256"]),
        "out-empty": (["--out", ""], ["--out", "empty"]),
        "out-is-a-file": (["--out", str(tmp / "a_file")], ["--out", "not a folder"]),
        "device-cuda-without-cuda": (["--set", "device=cuda"], ["device", "CUDA"]),
    }


BAD_IDS = [
    "unknown-preset", "layers-too-many", "set-without-equals", "set-unknown-field",
    "set-into-a-value", "set-wrong-type", "steps-zero", "steps-not-a-number", "threads-zero",
    "seed-negative", "config-missing", "config-invalid", "config-list", "config-binary",
    "out-under-a-file", "unknown-distribution", "drawing-without-strokes", "unknown-flag",
    "config-deep", "config-deep-field", "config-huge-int", "config-1e400", "config-nan",
    "config-too-big", "config-a-folder", "config-name-with-newline", "set-deep",
    "set-huge-int", "set-10-pow-400", "set-1e400", "set-nan", "set-deep-key", "set-empty-key",
    "steps-negative", "steps-huge", "steps-too-many", "seed-huge", "threads-too-many",
    "out-empty", "out-is-a-file", "device-cuda-without-cuda",
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_IDS)
def test_bad_input_exits_2_with_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    extra, expected = _bad_inputs(tmp_path, case)[case]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # same answer on a GPU box
    monkeypatch.chdir(tmp_path)  # `--out ""` once meant the current folder
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
    assert len(lines[0]) <= 700, "a huge value must not be echoed whole"
    assert not out.exists()  # nothing trained, nothing written
    assert not (tmp_path / "final.json").exists()


@pytest.mark.parametrize(
    ("blocked", "extra"),
    [("final.json", []), ("samples.csv", []), ("metrics.csv", []), ("snapshot.png", []),
     ("run.safetensors", ["--save-run"])],
)  # fmt: skip
def test_unwritable_output_is_refused_before_training(
    blocked: str,
    extra: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    (out / blocked).mkdir(parents=True)  # a folder where a result file goes: root cannot write it

    def no_training(self: Trainer, *args: Any, **kwargs: Any) -> int:
        raise AssertionError("trained before checking that the results can be written")

    monkeypatch.setattr(Trainer, "train", no_training)
    argv = ["train", "--preset", "line", "--steps", "5", "--out", str(out), "--quiet", *extra]
    code, stdout, stderr = run(argv, capsys)
    assert code == 2 and stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganlab: error: --out: "), stderr
    assert blocked in lines[0] and "not a regular file" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == [blocked]  # the probe left nothing behind


def test_write_failure_after_training_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ganlab.cli.snapshot

    def disk_full(*args: Any, **kwargs: Any) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ganlab.cli.snapshot, "render_png", disk_full)
    monkeypatch.setattr(CLI, "FINAL_SAMPLES", 200)  # the exact W1 costs ~n³
    out = tmp_path / "out"
    argv = ["train", "--preset", "line", "--steps", "5", "--out", str(out), "--quiet"]
    code, _, stderr = run(argv, capsys)
    assert code == 1
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganlab: error: cannot write"), stderr
    assert os.strerror(errno.ENOSPC) in lines[0]


@pytest.mark.usefixtures("sigint_raises")
def test_ctrl_c_stops_training_and_writes_the_results_so_far(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    step = Trainer.step

    def step_then_ctrl_c(self: Trainer) -> None:
        step(self)
        if self.iteration == 30:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(Trainer, "step", step_then_ctrl_c)
    monkeypatch.setattr(CLI, "FINAL_SAMPLES", 200)  # the exact W1 costs ~n³
    out = tmp_path / "out"
    argv = ["train", "--preset", "line", "--steps", "100000", "--out", str(out), "--quiet",
            "--save-run"]  # fmt: skip
    try:
        code, stdout, stderr = run(argv, capsys)
    except KeyboardInterrupt:  # not as pytest's own: that would end the whole session
        pytest.fail("Ctrl-C escaped main as KeyboardInterrupt")
    assert code == 130 and stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ganlab: interrupted at iteration 30 of 100000")
    final = read_json(out / "final.json")
    assert final["interrupted"] is True and final["steps"] == 30
    for name in ("samples.csv", "metrics.csv", "snapshot.png"):
        assert (out / name).stat().st_size > 0
    assert runfile.load(out / "run.safetensors").iteration == 30
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


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


def test_real_process_deep_json_exits_2_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "deep.json"
    config.write_text("[" * 100_000)
    proc = subprocess.run(
        [*_command(), "train", "--preset", "line", "--config", str(config), "--out",
         str(tmp_path / "out")],
        capture_output=True, text=True, timeout=240, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganlab: error: --config"), proc.stderr
    assert not (tmp_path / "out").exists()


def _default_sigint() -> None:
    # A child inherits an ignored SIGINT, and Python then installs no handler for it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_real_process_ctrl_c_exits_130_without_traceback(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*_command(), "train", "--preset", "line", "--steps", "10000000", "--out", str(out),
         "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        preexec_fn=_default_sigint,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not out.exists():  # the folder appears once the config is checked
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the output folder never appeared"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganlab: interrupted"), stderr


def test_real_process_closed_stdout_exits_without_traceback() -> None:
    read, write = os.pipe()
    os.close(read)  # `ganlab presets | head -0`: nobody reads
    try:
        proc = subprocess.run([*_command(), "presets"], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=120, env=_env())  # fmt: skip
    finally:
        os.close(write)
    assert proc.returncode == 1
    assert proc.stderr == ""


def test_real_process_undecodable_out_name_is_printed(tmp_path: Path) -> None:
    out = os.fsencode(tmp_path) + b"/\xff"  # a file name that is not UTF-8
    proc = subprocess.run(
        [*_command(), "train", "--preset", "line", "--steps", "5", "--out", out],
        capture_output=True, timeout=240, env={**_env(), "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    assert b"wrote " + os.fsencode(tmp_path) + b"/\\xff/final.json" in proc.stdout
    assert (Path(os.fsdecode(out)) / "final.json").exists()


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


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, _, err = run(["serve", "--host", "127.0.0.1", "--port", str(port)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err and "choose a free port" in err


def test_serve_on_cuda_without_cuda_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _, err = run(["serve", "--device", "cuda", "--port", "1"], capsys)
    assert code == 2 and "CUDA is not available here" in err


def test_serve_with_a_bad_ray_address_is_one_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(["serve", "--ray", "10.0.0.5", "--port", "1"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("ganlab: error: --ray: ") and "HOST:PORT" in err
    monkeypatch.setenv("GANLAB_RAY_ADDRESS", "head:port")  # the variable's name, then
    code, _, err = run(["serve", "--port", "1"], capsys)
    assert code == 2 and err.startswith("ganlab: error: GANLAB_RAY_ADDRESS: ")


def test_serve_on_ray_without_ray_installed_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: importing it fails
    code, _, err = run(["serve", "--ray", "auto", "--port", "1"], capsys)
    assert code == 2 and err == (
        "ganlab: error: --ray: the Ray engine needs the optional extra: pip install 'ganlab[ray]'\n"
    )


def test_serve_on_a_ray_head_nobody_answers_at_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    with socket.socket() as s:  # a port bound but not listening: connecting is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        code, _, err = run(["serve", "--ray", f"127.0.0.1:{port}", "--port", "1"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"ganlab: error: --ray: cannot join the Ray cluster at 127.0.0.1:{port}")
