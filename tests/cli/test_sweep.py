"""`ganlab sweep`: the seed spec, the interval, and real sweeps through `main`."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.stats
import torch

from ganlab.cli import sweep
from ganlab.cli.main import FINAL_SAMPLES, main
from ganlab.cli.sweep import (
    MAX_SEEDS,
    Interval,
    mass_thresholds,
    parse_seeds,
    seed_range,
    t_interval,
    within,
)
from ganlab.engine import evaluation, step
from ganlab.engine.config import ExperimentConfig
from ganlab.engine.evaluation import metric_row, verdict
from ganlab.engine.presets import get_preset
from ganlab.engine.trainer import Trainer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STEPS = 40
SEEDS = [0, 3]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)  # `--threads` sets it for the process


@pytest.fixture
def small_final(monkeypatch: pytest.MonkeyPatch) -> None:
    """Final rows and verdicts on 300 points, not 2,500: for tests of what a sweep does with
    its runs, not of the values (exact W1 on 2,500 points costs about a second a run)."""
    monkeypatch.setattr(sweep, "FINAL_SAMPLES", 300)
    monkeypatch.setattr(evaluation, "JUDGE_SAMPLES", 300)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """`main(argv)` with stdout and stderr captured, on a wide console (no folded tables)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "200")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- seed specs


@pytest.mark.parametrize(
    ("spec", "seeds"),
    [
        ("0-9", list(range(10))),
        ("3", [3]),
        ("0,2,5", [0, 2, 5]),
        ("0-4,8", [0, 1, 2, 3, 4, 8]),
        (" 7 - 9 , 1 ", [7, 8, 9, 1]),  # spaces are fine; the order is the one given
        ("4-4", [4]),
        (f"0-{MAX_SEEDS - 1}", list(range(MAX_SEEDS))),
        ("2147483647", [2147483647]),
    ],
)
def test_seed_specs(spec: str, seeds: list[int]) -> None:
    assert parse_seeds(spec) == seeds


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "got an empty list"),
        ("  ", "got an empty list"),
        ("a", "give seeds like 0-9"),
        ("1,,2", "give seeds like 0-9"),
        ("1-", "give seeds like 0-9"),
        ("-1", "give seeds like 0-9"),
        ("1.5", "give seeds like 0-9"),
        ("0-3-5", "give seeds like 0-9"),
        ("9" * 30, "give seeds like 0-9"),
        ("5-2", "the range 5-2 is empty"),
        ("2147483648", "outside the config's range 0-2147483647"),
        ("0-2147483648", "outside the config's range"),
        (f"0-{MAX_SEEDS}", f"more than {MAX_SEEDS} seeds"),
        ("0-60,70-130", f"more than {MAX_SEEDS} seeds"),
        ("0-2000000000", f"more than {MAX_SEEDS} seeds"),
        ("1,1", "seed 1 is listed twice"),
        ("0-3,2", "seed 2 is listed twice"),
    ],
)
def test_bad_seed_specs_say_why(spec: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse_seeds(spec)


def test_the_seed_range_is_the_configs() -> None:
    seed = ExperimentConfig.model_json_schema()["properties"]["seed"]
    assert seed_range() == (seed["minimum"], seed["maximum"])


# --------------------------------------------------------------------------- the interval


@pytest.mark.parametrize("n", [2, 3, 5, 10, 40])
def test_t_interval_matches_scipy(n: int) -> None:
    values = np.random.default_rng(n).lognormal(size=n)
    got = t_interval(values.tolist())
    sem = values.std(ddof=1) / math.sqrt(n)
    low, high = scipy.stats.t.interval(0.95, n - 1, loc=values.mean(), scale=sem)
    assert got.n == n
    assert got.mean == pytest.approx(values.mean(), rel=1e-12)
    assert got.low == pytest.approx(low, rel=1e-10)
    assert got.high == pytest.approx(high, rel=1e-10)


def test_t_interval_by_hand() -> None:
    """1, 2, 3, 4, 5: mean 3, s = √2.5, and t(0.975, 4) = 2.776 from a printed t table."""
    got = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.776 * math.sqrt(2.5) / math.sqrt(5)
    assert got.mean == 3.0
    assert got.low == pytest.approx(3 - half, abs=2e-3)
    assert got.high == pytest.approx(3 + half, abs=2e-3)


def test_t_interval_covers_the_mean_95_percent_of_the_time() -> None:
    """Over 4,000 samples of 5 normal values, the interval holds the true mean about 95% of
    the time (binomial standard error 0.35 percentage points)."""
    rng = np.random.default_rng(0)
    hits = 0
    trials = 4000
    for sample in rng.normal(2.0, 3.0, size=(trials, 5)):
        s = t_interval(sample.tolist())
        assert s.low is not None and s.high is not None
        hits += s.low <= 2.0 <= s.high
    assert abs(hits / trials - 0.95) < 0.015


def test_t_interval_is_undefined_below_two_values() -> None:
    assert t_interval([]) == Interval(None, None, None, 0)
    assert t_interval([4.5]) == Interval(4.5, None, None, 1)
    # Non-finite values (a diverged run) are not values: n counts the finite ones.
    assert t_interval([math.nan, 2.0, math.inf]) == Interval(2.0, None, None, 1)
    assert t_interval([1.0, 1.0, 1.0]) == Interval(1.0, 1.0, 1.0, 3)


def test_intervals_are_cut_to_the_metrics_range() -> None:
    wide = Interval(0.9, 0.7, 1.1, 3)
    assert within("recall", wide) == Interval(0.9, 0.7, 1.0, 3)
    assert within("w1", Interval(0.1, -0.2, 0.4, 3)) == Interval(0.1, 0.0, 0.4, 3)
    assert within("d_loss", Interval(0.1, -0.2, 0.4, 3)) == Interval(0.1, -0.2, 0.4, 3)
    assert within("no_such_metric", wide) == wide
    assert within("recall", Interval(0.9, None, None, 1)) == Interval(0.9, None, None, 1)
    # Modes covered is bounded by the data's modes, a column of the rows themselves.
    rows = [{"modes_total": 8.0}, {"modes_total": 8.0}]
    assert within("modes_covered", Interval(5, -3.6, 13.6, 3), rows) == Interval(5, 0.0, 8.0, 3)


def test_every_column_of_a_row_says_what_it_measures() -> None:
    """The printed table explains each metric: a column added to metric rows needs its line
    in sweep.METRICS (a penalty on, so its columns are in the row too)."""
    config = get_preset("gaussians").experiment()
    t = Trainer(config.model_copy(update={"loss": config.loss.model_copy(update={"r1": 1.0})}))
    t.step()
    row = metric_row(t, samples=200, w1_samples=100)
    assert "d_r1" in row
    assert set(row) - {"iteration"} <= set(sweep.METRICS), set(row) - set(sweep.METRICS)
    for name, (_, _, high) in sweep.METRICS.items():
        assert isinstance(high, float) or high in sweep.METRICS, name


def test_mass_thresholds_against_brute_force() -> None:
    """The threshold for a share q is the largest cell value whose cells at or above it hold
    at least q of the mass: checked by trying every cell value."""
    density = np.random.default_rng(1).gamma(0.5, size=(20, 30))
    total = density.sum()
    got = mass_thresholds(density, (0.9, 0.6, 0.3))
    for q, threshold in zip((0.9, 0.6, 0.3), got, strict=True):
        best = max(v for v in np.unique(density) if density[density >= v].sum() >= q * total)
        assert threshold == best
    assert mass_thresholds(np.zeros((4, 4))) == []


# --------------------------------------------------------------------------- a real sweep


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`sweep --preset gaussians --seeds 0,3 --steps 40`, shared by the checks below."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    seeds = ",".join(map(str, SEEDS))
    code, stdout, stderr = run_main(["sweep", "--preset", "gaussians", "--seeds", seeds,
                                     "--steps", str(STEPS), "--out", str(out)])  # fmt: skip
    return {"code": code, "out": out, "stdout": stdout, "stderr": stderr}


def test_sweep_writes_every_file(swept: dict[str, Any]) -> None:
    assert swept["code"] == 0, swept["stderr"]
    out: Path = swept["out"]
    for name in sweep.SWEEP_FILES:
        assert (out / name).stat().st_size > 0, name
    assert (out / "sweep.png").read_bytes()[:8] == PNG_SIGNATURE
    assert f"wrote {out}/sweep.csv" in swept["stdout"]
    assert "2 seeds in 1 group" in swept["stdout"]


def test_sweep_rows_are_what_each_seed_gives_alone(swept: dict[str, Any]) -> None:
    """The grouped step trains each seed as it trains alone (up to the rounding of batched
    products), its row is the final row `ganlab train` writes (2,500 samples), and its bar
    columns are `evaluation.verdict`'s."""
    rows = {int(r["seed"]): r for r in read_csv(swept["out"] / "sweep.csv")}
    assert list(rows) == SEEDS
    seed = SEEDS[1]  # not the first of its group
    t = Trainer(get_preset("gaussians").experiment().model_copy(update={"seed": seed}))
    for _ in range(STEPS):
        t.step()
    alone = metric_row(t, samples=FINAL_SAMPLES, w1_samples=FINAL_SAMPLES)
    row = rows[seed]
    assert row["iterations"] == str(STEPS) and row["diverged"] == "false"
    metrics = set(alone) - {"iteration"}
    assert metrics <= set(row), metrics - set(row)
    for key in metrics:
        assert float(row[key]) == pytest.approx(alone[key], rel=1e-4, abs=1e-6), key
    assert float(rows[SEEDS[0]]["w1"]) != pytest.approx(alone["w1"], rel=1e-3)  # seeds differ
    v = verdict(t)
    assert float(row["w1_real_baseline"]) == pytest.approx(v.baseline_w1, rel=1e-9)
    assert float(row["w1_ratio"]) == pytest.approx(v.ratio, rel=1e-4)
    assert row["passes_bar"] == str(v.passed).lower()


def test_sweep_summary_is_the_rows_mean_and_t_interval(swept: dict[str, Any]) -> None:
    rows = read_csv(swept["out"] / "sweep.csv")
    summary = {r["metric"]: r for r in read_csv(swept["out"] / "summary.csv")}
    # Every metric a final row holds (whatever metric_row measures today), and only those.
    t = Trainer(get_preset("gaussians").experiment())
    t.step()
    expected = set(metric_row(t, samples=200, w1_samples=100)) - {"iteration"}
    assert set(summary) == expected
    for name, s in summary.items():
        values = np.array([float(r[name]) for r in rows])
        assert int(s["n"]) == len(SEEDS)
        assert float(s["mean"]) == pytest.approx(values.mean(), rel=1e-8, abs=1e-12), name
        sem = values.std(ddof=1) / math.sqrt(len(values))
        if sem == 0:
            low = high = values.mean()
        else:
            low, high = scipy.stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=sem)
        numbers = [{k: float(v) for k, v in r.items() if k in expected} for r in rows]
        cut = within(name, Interval(values.mean(), low, high, len(values)), numbers)
        assert float(s["low"]) == pytest.approx(cut.low, rel=1e-7, abs=1e-10), name
        assert float(s["high"]) == pytest.approx(cut.high, rel=1e-7, abs=1e-10), name
    data = json.loads((swept["out"] / "summary.json").read_text())
    assert data["seeds"] == SEEDS and data["groups"] == 1 and data["steps"] == STEPS
    assert data["diverged"] == [] and data["interrupted"] is False
    assert set(data["metrics"]) == expected
    assert data["bar"]["seeds"] == len(SEEDS)
    passes = sum(r["passes_bar"] == "true" for r in rows)
    assert data["bar"]["passed"] == passes
    assert f"quality bar: {passes}/{len(SEEDS)} seeds pass" in swept["stdout"]


def test_sweep_prints_every_metric(swept: dict[str, Any]) -> None:
    summary = read_csv(swept["out"] / "summary.csv")
    stdout = swept["stdout"]
    assert "Student-t 95% interval for the mean" in stdout
    for r in summary:
        line = next((ln for ln in stdout.splitlines() if f" {r['metric']} " in ln), None)
        assert line is not None, r["metric"]
        assert f"{float(r['mean']):.4g}" in line


@pytest.mark.usefixtures("small_final")
def test_one_seed_has_no_interval(tmp_path: Path) -> None:
    code, stdout, stderr = run_main(["sweep", "--preset", "line", "--seeds", "5", "--steps", "5",
                                     "--out", str(tmp_path)])  # fmt: skip
    assert code == 0, stderr
    summary = read_csv(tmp_path / "summary.csv")
    assert summary and all(r["low"] == r["high"] == "n/a" and r["n"] == "1" for r in summary)
    w1 = next(ln for ln in stdout.splitlines() if " w1 " in ln)
    assert "n/a" in w1
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["metrics"]["w1"]["low"] is None and data["metrics"]["w1"]["n"] == 1


@pytest.mark.usefixtures("small_final")
def test_a_diverged_seed_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed 1's weights turn NaN at iteration 20: it stops at the next check, is listed as
    diverged and left out of the means; seed 0 trains on to the end."""
    real_step = step.step_together

    def poisoned(runs: list[Trainer]) -> None:
        real_step(runs)
        for t in runs:
            if t.config.seed == 1 and t.iteration == 20:
                with torch.no_grad():
                    t.G.params[0] = math.nan

    monkeypatch.setattr(step, "step_together", poisoned)
    code, stdout, stderr = run_main(["sweep", "--preset", "line", "--seeds", "0-1", "--steps",
                                     "70", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0, stderr
    rows = {r["seed"]: r for r in read_csv(tmp_path / "sweep.csv")}
    assert rows["1"]["diverged"] == "true" and rows["1"]["iterations"] == str(sweep.CHECK_EVERY)
    assert rows["1"]["passes_bar"] == "false" and rows["1"]["w1"] == ""
    assert rows["0"]["diverged"] == "false" and rows["0"]["iterations"] == "70"
    assert math.isfinite(float(rows["0"]["w1"]))
    summary = {r["metric"]: r for r in read_csv(tmp_path / "summary.csv")}
    assert summary["w1"]["n"] == "1" and float(summary["w1"]["mean"]) == float(rows["0"]["w1"])
    assert json.loads((tmp_path / "summary.json").read_text())["diverged"] == [1]
    line = next(ln for ln in stdout.splitlines() if ln.strip("│ ").startswith("1 "))
    assert "diverged" in line


@pytest.mark.usefixtures("small_final")
def test_ctrl_c_writes_the_results_so_far_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_step = step.step_together

    def interrupted(runs: list[Trainer]) -> None:
        real_step(runs)
        if runs[0].iteration == 10:
            signal.raise_signal(signal.SIGINT)  # as Ctrl-C would, between two iterations

    monkeypatch.setattr(step, "step_together", interrupted)
    code, _, stderr = run_main(["sweep", "--preset", "line", "--seeds", "2", "--steps", "1000",
                                "--out", str(tmp_path), "--quiet"])  # fmt: skip
    assert code == 130
    assert stderr.splitlines() == [
        f"ganlab: interrupted at iteration 10 of 1000; wrote the results so far to {tmp_path}"
    ]
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["interrupted"] is True and data["iterations"] == 10
    assert read_csv(tmp_path / "sweep.csv")[0]["iterations"] == "10"


def test_runs_of_different_shapes_step_apart() -> None:
    base = get_preset("line").experiment()
    wide = base.model_copy(update={"generator": base.generator.model_copy(update={"neurons": 9})})
    runs = [*sweep.make_runs(base, [0, 1]), *sweep.make_runs(wide, [2])]
    groups = sweep.groups_of(runs)
    assert [[r.seed for r in g] for g in groups] == [[0, 1], [2]]


# --------------------------------------------------------------------------- bad flags


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--seeds", "5-2"], "argument --seeds: the range 5-2 is empty"),
        (["--seeds", "0-200"], f"more than {MAX_SEEDS} seeds"),
        (["--seeds", "x"], "argument --seeds: give seeds like"),
        ([], "the following arguments are required: --seeds"),
        (["--seeds", "0-1", "--preset", "nope"], "--preset: unknown preset"),
        (["--seeds", "0-1", "--set", "generator.layers"], "--set: expected key=value"),
        (["--seeds", "0-1", "--set", "generator.layers=99"], "generator.layers"),
        (["--seeds", "0-1", "--steps", "0"], "argument --steps: must be a whole number"),
        (["--seeds", "0-1", "--save-run"], "unrecognized arguments: --save-run"),
    ],
)
def test_bad_flags_exit_2_with_one_line(extra: list[str], expected: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["sweep", "--preset", "line", "--out", str(out), *extra]
    code, stdout, stderr = run_main(argv)
    assert code == 2
    assert stderr.startswith("ganlab: error: ") and len(stderr.splitlines()) == 1, stderr
    assert expected in stderr
    assert stdout == "" and not out.exists()


def test_an_unwritable_out_exits_2_before_training(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, stderr = run_main(["sweep", "--preset", "line", "--seeds", "0", "--out",
                                str(blocker / "out")])  # fmt: skip
    assert code == 2 and stderr.startswith("ganlab: error: --out:"), stderr
