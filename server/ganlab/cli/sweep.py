"""`ganlab sweep`: one experiment trained on many seeds, read in aggregate.

Runs whose configs differ only by seed share a `step.group_key`, so they step together
(`step.step_together`), each exactly as it would alone up to the rounding of batched products.
At the end each seed gets the final metric row `ganlab train` writes, and every metric of
those rows gets its mean over the seeds with a 95% Student-t interval for that mean:
mean ± t(0.975, n - 1) · s / √n, with s the seeds' sample standard deviation. It assumes the
seeds' values are independent draws of a roughly normal quantity; with one seed it is
undefined and shown as n/a.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganlab.cli.main import (
    EXIT_INTERRUPTED,
    FINAL_SAMPLES,
    MAX_INT_DIGITS,
    StopOnInterrupt,
    build_config,
    fail,
    os_reason,
    prepare_out,
    short,
    shown,
)
from ganlab.engine.config import ExperimentConfig

if TYPE_CHECKING:  # torch is imported only once a sweep runs: usage errors stay fast
    from ganlab.engine.evaluation import Verdict
    from ganlab.engine.picture import Picture
    from ganlab.engine.trainer import Trainer

MAX_SEEDS = 100  # a 10x10 grid of panels is the most a PNG can show readably
CONFIDENCE = 0.95
INTERVAL = "Student-t 95% interval for the mean over seeds"
SWEEP_FILES = ("sweep.csv", "summary.csv", "summary.json", "sweep.png")
# Columns of a metric row that are bookkeeping, not measurements of the generator.
NOT_METRICS = ("iteration",)
# Iterations between divergence checks: a diverged run stops stepping within this many.
CHECK_EVERY = 50
PANEL_FAKES = 1000  # generated points per panel (the seed's own samples.csv draw)
SEED_ITEM = re.compile(rf"^\s*(\d{{1,{MAX_INT_DIGITS}}})\s*(?:-\s*(\d{{1,{MAX_INT_DIGITS}}}))?\s*$")


# --------------------------------------------------------------------------- seeds


def seed_range() -> tuple[int, int]:
    """The seeds a config allows, read from its schema (the one definition of the range)."""
    low = high = None
    for rule in ExperimentConfig.model_fields["seed"].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    assert low is not None and high is not None, "ExperimentConfig.seed lost its bounds"
    return int(low), int(high)


def parse_seeds(text: str, limit: int = MAX_SEEDS) -> list[int]:
    """Seeds from a spec like `0-9`, `3`, `0,2,5` or `0-4,8`, in the order given; raises
    argparse.ArgumentTypeError (argparse's own one-line message) for anything else."""
    low, high = seed_range()
    example = "give seeds like 0-9, 3, 0,2,5 or 0-4,8"
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{example}; got an empty list")
    spans: list[tuple[int, int]] = []
    count = 0
    for item in text.split(","):
        match = SEED_ITEM.match(item)
        if match is None:
            raise argparse.ArgumentTypeError(f"{example}; got {short(repr(item.strip()))}")
        first = int(match[1])
        last = first if match[2] is None else int(match[2])
        if last < first:
            raise argparse.ArgumentTypeError(
                f"the range {first}-{last} is empty: write the smaller seed first"
            )
        for seed in (first, last):
            if not low <= seed <= high:
                raise argparse.ArgumentTypeError(
                    f"seed {short(str(seed))} is outside the config's range {low}-{high}"
                )
        count += last - first + 1  # counted before expanding: `0-2000000000` stays cheap
        if count > limit:
            raise argparse.ArgumentTypeError(
                f"{short(text)} names more than {limit} seeds; a sweep trains at most {limit}"
            )
        spans.append((first, last))
    seeds: list[int] = []
    for first, last in spans:
        seeds.extend(range(first, last + 1))
    seen: set[int] = set()
    for seed in seeds:
        if seed in seen:
            raise argparse.ArgumentTypeError(f"seed {seed} is listed twice")
        seen.add(seed)
    return seeds


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Interval:
    """One metric over the seeds: its mean and a Student-t interval for the mean, of the
    `n` seeds with a finite value; `low` and `high` are None when n < 2 (no spread to
    estimate), and `mean` is None when n = 0."""

    mean: float | None
    low: float | None
    high: float | None
    n: int


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """mean ± t((1 + confidence) / 2, n - 1) · s / √n over the finite values."""
    from scipy.stats import t

    finite = [float(v) for v in values if math.isfinite(v)]
    n = len(finite)
    if n == 0:
        return Interval(None, None, None, 0)
    mean = math.fsum(finite) / n
    if n == 1:
        return Interval(mean, None, None, 1)
    s = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1))
    half = float(t.ppf((1 + confidence) / 2, n - 1)) * s / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


# --------------------------------------------------------------------------- training


@dataclass
class SeedRun:
    seed: int
    trainer: Trainer
    diverged_at: int | None = None  # the iteration its non-finite weights were found at
    row: dict[str, float] | None = None
    verdict: Verdict | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def make_runs(config: ExperimentConfig, seeds: list[int]) -> list[SeedRun]:
    from ganlab.engine.trainer import Trainer

    return [SeedRun(s, Trainer(config.model_copy(update={"seed": s}))) for s in seeds]


def groups_of(runs: list[SeedRun]) -> list[list[SeedRun]]:
    """Runs that can step together (equal `group_key`), in first-seen order."""
    from ganlab.engine.step import group_key

    groups: dict[Any, list[SeedRun]] = {}
    for run in runs:
        groups.setdefault(group_key(run.trainer), []).append(run)
    return list(groups.values())


def train_runs(groups: list[list[SeedRun]], steps: int, stop: StopOnInterrupt, quiet: bool) -> int:
    """Step every group `steps` times (fewer if stopped); returns the iterations done. A
    diverged run leaves its group at the next check and keeps the weights it had."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from ganlab.engine.step import diverged_runs, step_together

    total = sum(len(g) for g in groups)
    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>6.0f} it/s"), TimeRemainingColumn(),
               TextColumn("{task.fields[note]}"))  # fmt: skip
    shared = "in 1 group" if len(groups) == 1 else f"in {len(groups)} groups"
    active = [list(g) for g in groups]
    start = time.perf_counter()
    done = 0
    with Progress(*columns, disable=quiet, transient=False) as progress:
        note = f"{total} seeds {shared}"
        task = progress.add_task("sweep", total=steps, rate=0.0, note=note)
        while done < steps and not stop.requested and any(active):
            for group in active:
                if group:
                    step_together([r.trainer for r in group])
            done += 1
            if done % CHECK_EVERY == 0 or done == steps:
                active = [_drop_diverged(g, done, diverged_runs) for g in active]
                lost = total - sum(len(g) for g in active)
                rate = done / max(time.perf_counter() - start, 1e-9)
                note = f"{total} seeds {shared}" + (f", {lost} diverged" if lost else "")
                progress.update(task, completed=done, rate=rate, note=note)
        active = [_drop_diverged(g, done, diverged_runs) for g in active]
    return done


def _drop_diverged(group: list[SeedRun], done: int, check: Any) -> list[SeedRun]:
    if not group:
        return group
    flags = check([r.trainer for r in group])
    for run, bad in zip(group, flags, strict=True):
        if bad:
            run.diverged_at = done
    return [r for r, bad in zip(group, flags, strict=True) if not bad]


def evaluate(runs: list[SeedRun], quiet: bool) -> None:
    """The final metric row (as `ganlab train` writes it) and the quality bar's verdict."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ganlab.engine.evaluation import metric_row

    columns = (TextColumn("measuring"), BarColumn(), MofNCompleteColumn(), TextColumn("seeds"))
    with Progress(*columns, disable=quiet, transient=False) as progress:
        task = progress.add_task("measure", total=len(runs))
        for run in runs:
            t = run.trainer
            run.row = dict(metric_row(t, samples=FINAL_SAMPLES, w1_samples=FINAL_SAMPLES))
            run.verdict = bar_verdict(t, run.row)
            progress.advance(task)


def bar_verdict(t: Trainer, row: dict[str, float]) -> Verdict:
    """`evaluation.verdict` from the final row already measured on the same 2,500 points
    (W1 on all of them), which spares measuring W1 twice, its costliest part."""
    from ganlab.engine.evaluation import JUDGE_SAMPLES, verdict

    assert FINAL_SAMPLES == JUDGE_SAMPLES, "the final row must be measured as the bar is"
    return verdict(t, JUDGE_SAMPLES, row)


def metric_names(runs: list[SeedRun]) -> list[str]:
    """Every numeric column the rows hold, in the rows' own order (whatever metric_row
    measures today: nothing here lists them)."""
    names: list[str] = []
    for run in runs:
        for key, value in (run.row or {}).items():
            if key not in names and key not in NOT_METRICS and isinstance(value, int | float):
                names.append(key)
    return names


def summarise(runs: list[SeedRun], names: list[str]) -> dict[str, Interval]:
    """Each metric over the seeds that did not diverge (a diverged run has no samples)."""
    rows = [r.row for r in runs if not r.diverged and r.row is not None]
    return {
        name: within(name, t_interval([row.get(name, math.nan) for row in rows]), rows)
        for name in names
    }


# --------------------------------------------------------------------------- output


# What each known column measures (for the printed table) and the range it can take: an
# interval is cut to that range, which costs no coverage since the true mean lies inside it.
# A column not listed is shown by its name alone and its interval is not cut.
INF = math.inf
# A bound given as a column's name is that column's largest value over the seeds.
METRICS: dict[str, tuple[str, float, float | str]] = {
    "d_loss": ("D's loss on its last batch", -INF, INF),
    "g_loss": ("G's loss on its last batch", -INF, INF),
    "d_real": ("mean D output on its last batch's real points", -INF, INF),
    "d_fake": ("mean D output on its last batch's fakes", -INF, INF),
    "d_gp": ("λ·gradient penalty in D's last loss", 0.0, INF),
    "d_r1": ("γ·R1 penalty in D's last loss", 0.0, INF),
    "d_r2": ("γ·R2 penalty in D's last loss", 0.0, INF),
    "d_total": ("D's last loss with its penalties", -INF, INF),
    "d_grad_norm": ("norm of D's last gradient", 0.0, INF),
    "g_grad_norm": ("norm of G's last gradient", 0.0, INF),
    "kl_grid": ("KL(real‖fake) by grid, bits", 0.0, INF),
    "js_grid": ("JS by grid, bits", 0.0, 1.0),
    "w1": ("Wasserstein-1, generated vs real", 0.0, INF),
    "precision": ("share of fakes on the real data", 0.0, 1.0),
    "recall": ("share of reals the fakes reach", 0.0, 1.0),
    "density": ("fakes' crowding of real neighbourhoods", 0.0, INF),
    "coverage": ("share of real neighbourhoods holding a fake", 0.0, 1.0),
    "v_optimal": ("the game's value with the best D, nats", -INF, INF),
    "v_optimal_theory": ("-log 4 + 2 JS on the value grid, nats", -INF, INF),
    "v_current": ("the game's value with this D, nats", -INF, INF),
    "modes_covered": ("modes with a high-quality sample", 0.0, "modes_total"),
    "modes_total": ("modes of the data", 0.0, INF),
    "high_quality_fraction": ("share within 3σ of a mode", 0.0, 1.0),
    "reverse_kl": ("KL(samples per mode ‖ even), nats", 0.0, INF),
}


def within(name: str, s: Interval, rows: Sequence[dict[str, float]] = ()) -> Interval:
    """The interval cut to the range metric `name` can take in `rows` (unchanged for names
    not in METRICS)."""
    _, low, bound = METRICS.get(name, ("", -INF, INF))
    if s.low is None or s.high is None:
        return s
    high = bound if isinstance(bound, float) else max((r.get(bound, INF) for r in rows),
                                                      default=INF)  # fmt: skip
    return Interval(s.mean, min(max(s.low, low), high), max(min(s.high, high), low), s.n)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def write_results(
    out: Path,
    runs: list[SeedRun],
    names: list[str],
    stats: dict[str, Interval],
    info: dict[str, Any],
) -> None:
    seed_columns = ["seed", "iterations", "diverged", *names, "w1_real_baseline", "w1_ratio",
                    "passes_bar"]  # fmt: skip
    with (out / "sweep.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(seed_columns)
        for run in runs:
            row, v = run.row or {}, run.verdict
            bar = ["", "", ""] if v is None else [f"{v.baseline_w1:.10g}", f"{v.ratio:.10g}",
                                                  str(v.passed).lower()]  # fmt: skip
            values = [f"{row[n]:.10g}" if n in row else "" for n in names]
            writer.writerow([run.seed, run.trainer.iteration, str(run.diverged).lower(),
                             *values, *bar])  # fmt: skip
    with (out / "summary.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["metric", "mean", "low", "high", "n"])
        for name, s in stats.items():
            writer.writerow([name, *(_csv(v) for v in (s.mean, s.low, s.high)), s.n])
    summary = {**info, "metrics": {k: vars(s) for k, s in stats.items()}}
    text = json.dumps(summary, indent=2, allow_nan=False)
    (out / "summary.json").write_text(text + "\n")


def _csv(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.10g}"


def bar_line(runs: list[SeedRun], steps: int, preset_steps: int | None) -> str:
    from ganlab.engine.evaluation import MIN_HIGH_QUALITY, W1_RATIO_LIMIT

    passed = sum(1 for r in runs if r.verdict is not None and r.verdict.passed)
    own = "" if preset_steps is None or steps == preset_steps else \
        f"; the bar is set for the preset's {preset_steps} iterations, not {steps}"  # fmt: skip
    return (f"quality bar: {passed}/{len(runs)} seeds pass (W1 at most {W1_RATIO_LIMIT:g}x "
            f"that of two real samples; with modes, all covered and at least "
            f"{MIN_HIGH_QUALITY:.0%} of samples high quality{own})")  # fmt: skip


def print_tables(runs: list[SeedRun], stats: dict[str, Interval], bar: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    seeds = Table(title="Each seed at the end", title_justify="left")
    for column in ("seed", "iterations", "W1", "W1 ÷ real-vs-real W1", "modes", "high quality",
                   "bar"):  # fmt: skip
        seeds.add_column(column, justify="right")
    for run in runs:
        row, v = run.row or {}, run.verdict
        modes = (f"{row['modes_covered']:.0f}/{row['modes_total']:.0f}"
                 if "modes_covered" in row else "-")  # fmt: skip
        hq = row.get("high_quality_fraction")
        quality = "-" if hq is None else f"{hq:.0%}"
        w1 = _num(row.get("w1"))
        ratio = "-" if v is None or not math.isfinite(v.ratio) else f"{v.ratio:.2f}"
        result = "-" if v is None else ("pass" if v.passed else "fail")
        if run.diverged:
            w1, result = "diverged", "fail"
        seeds.add_row(str(run.seed), str(run.trainer.iteration), w1, ratio, modes, quality,
                      result)  # fmt: skip
    console.print(seeds)
    kept = sum(1 for r in runs if not r.diverged)
    table = Table(
        title=f"Each metric: the mean over {kept} seed{'' if kept == 1 else 's'} and a "
        f"{INTERVAL.split(' over')[0]}",
        title_justify="left",
        caption="interval: mean ± t(0.975, n-1)·s/√n, cut to the range the metric can take; "
        "n/a: undefined below 2 seeds; n: seeds with a finite value"
        + ("; diverged seeds are left out" if kept < len(runs) else ""),
        caption_justify="left",
    )
    width = max((len(name) for name in stats), default=6)
    table.add_column("metric", no_wrap=True, min_width=width)
    table.add_column("what", ratio=1)
    for column in ("mean", "95% interval", "n"):
        table.add_column(column, justify="right", no_wrap=True)
    for name, s in stats.items():
        interval = "n/a" if s.low is None else f"{_num(s.low)} to {_num(s.high)}"
        table.add_row(name, METRICS.get(name, ("",))[0], _num(s.mean), interval, str(s.n))
    console.print(table)
    console.print(bar)


# --------------------------------------------------------------------------- picture

# The real density's contours enclose these shares of its mass (as the page draws them).
MASS_LEVELS = (0.9, 0.6, 0.3)


def mass_thresholds(density: Any, levels: Sequence[float] = MASS_LEVELS) -> list[float]:
    """For each share q, the density value above which cells hold a share q of the mass
    (cells of equal area: the densest cells first until their sum reaches q)."""
    import numpy as np

    values = np.sort(np.asarray(density, dtype=np.float64).ravel())[::-1]
    total = values.sum()
    if not total > 0:
        return []
    cum = np.cumsum(values) / total
    return [float(values[min(int(np.searchsorted(cum, q)), len(values) - 1)]) for q in levels]


def render_sweep_png(runs: list[SeedRun], pictures: list[Picture], path: Path, title: str) -> None:
    """Small multiples: one panel per seed, its generated points over the real density, all
    on the data's own box so the panels compare at a glance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ganlab.cli.snapshot import FAKE, REAL

    n = len(runs)
    cols = n if n <= 5 else 5 if n <= 10 else math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    small = n > 25
    panel = 1.9 if small else 4.0 if n == 1 else 2.6
    width = max(panel * cols, 5.6)
    fig, axes = plt.subplots(rows, cols, figsize=(width, panel * rows + 1.3), dpi=100,
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for ax, run, picture in zip(axes.ravel(), runs, pictures, strict=False):
        xmin, xmax, ymin, ymax = picture.box
        density = picture.real_density
        levels = sorted(set(mass_thresholds(density)))
        if len(levels) == len(MASS_LEVELS):
            gx = np.linspace(xmin, xmax, density.shape[1])
            gy = np.linspace(ymin, ymax, density.shape[0])
            top = float(density.max()) * 1.001 + 1e-300
            for level in levels:  # nested fills: the denser the region, the darker
                ax.contourf(gx, gy, density, levels=[level, top], colors=[REAL], alpha=0.1)
            # One outline, around the widest region: thin bands (the swiss roll) turn
            # three close outlines into stripes.
            ax.contour(gx, gy, density, levels=levels[:1], colors=[REAL], linewidths=0.5)
        fake = run.trainer.sample(PANEL_FAKES)
        ok = np.isfinite(fake).all(axis=1)
        ax.scatter(fake[ok, 0], fake[ok, 1], s=1.5 if small else 2.5, c=FAKE, alpha=0.6,
                   linewidths=0)  # fmt: skip
        if not ok.any():
            ax.text(0.5, 0.5, "no finite samples", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)  # fmt: skip
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(_panel_title(run, small), fontsize=7 if small else 8.5)
    kind = pictures[0].real_density_kind if pictures else "exact"
    law = "true density" if kind == "exact" else "density estimated from data (kernel)"
    pct = "/".join(f"{q:.0%}".rstrip("%") for q in MASS_LEVELS)
    handles = [
        Patch(facecolor=REAL, alpha=0.25, edgecolor=REAL,
              label=f"real: {law}; shades hold {pct}% of its mass"),
        Line2D([], [], ls="", marker="o", ms=4, color=FAKE,
               label=f"generated: {PANEL_FAKES} samples of G at the end"),
    ]  # fmt: skip
    wrapped = "\n".join(textwrap.fill(line, int(width * 13)) for line in title.splitlines())
    fig.suptitle(wrapped, fontsize=9.5)
    fig.legend(handles=handles, loc="outside lower center", ncol=1 if cols < 3 else 2,
               fontsize=8, frameon=False)  # fmt: skip
    fig.savefig(path)
    plt.close(fig)


def _panel_title(run: SeedRun, small: bool) -> str:
    row, v = run.row or {}, run.verdict
    if run.diverged:
        return f"seed {run.seed}: diverged\n(found at iteration {run.diverged_at})"
    lines = [f"seed {run.seed}"]
    if v is not None and not small:
        lines[0] += ", passes the bar" if v.passed else ", misses the bar"
    if "w1" in row:
        ratio = "" if v is None or small else f" ({v.ratio:.2g}x real vs real)"
        lines.append(f"W1 {row['w1']:.3g}{ratio}")
    if "modes_covered" in row:
        modes = f"{row['modes_covered']:.0f}/{row['modes_total']:.0f} modes"
        if small:
            lines[-1] += f", {modes}"
        else:
            lines.append(f"{modes}, {row['high_quality_fraction']:.0%} high quality")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command


def cmd_sweep(args: argparse.Namespace) -> int:
    config, steps = build_config(args)  # the same --preset/--config/--set/--steps as train
    seeds: list[int] = args.seeds
    from ganlab.engine.trainer import resolve_device

    resolve_device(config.device)  # `device=cuda` without CUDA: refuse before writing
    out = prepare_out(args.out, list(SWEEP_FILES))
    import torch

    from ganlab.engine.picture import PictureCache, compute_picture
    from ganlab.engine.presets import PRESETS

    torch.set_num_threads(args.threads)
    runs = make_runs(config, seeds)
    groups = groups_of(runs)
    start = time.perf_counter()
    with StopOnInterrupt() as stop:
        done = train_runs(groups, steps, stop, quiet=args.quiet)
    seconds = time.perf_counter() - start
    evaluate(runs, quiet=args.quiet)
    names = metric_names(runs)
    stats = summarise(runs, names)
    preset = PRESETS.get(args.preset) if args.preset else None
    preset_steps = preset.steps if preset and args.config is None and not args.set else None
    bar = bar_line(runs, steps, preset_steps)
    info = {
        "preset": args.preset,
        "config": config.model_dump(exclude={"seed"}),
        "seeds": seeds,
        "steps": steps,
        "iterations": done,
        "interrupted": stop.requested,
        "groups": len(groups),
        "train_seconds": round(seconds, 3),
        "diverged": [r.seed for r in runs if r.diverged],
        "interval": INTERVAL,
        "bar": {
            "passed": sum(1 for r in runs if r.verdict and r.verdict.passed),
            "seeds": len(runs),
            "text": bar,
        },
    }
    try:
        write_results(out, runs, names, stats, info)
        pictures = [compute_picture(r.trainer, PictureCache()) for r in runs]
        title = _figure_title(config, done, runs, stats)
        render_sweep_png(runs, pictures, out / "sweep.png", title)
    except OSError as exc:
        fail(f"ganlab: error: cannot write the results to {out}: {os_reason(exc)}")
        return 1
    if not args.quiet:
        print_tables(runs, stats, bar)
        print(f"wrote {shown(out)}/{', '.join(SWEEP_FILES)}  ({len(runs)} seeds in "
              f"{len(groups)} group{'s' if len(groups) > 1 else ''}, {seconds:.1f} s)")  # fmt: skip
    if stop.requested:
        fail(f"ganlab: interrupted at iteration {done} of {steps}; "
              f"wrote the results so far to {out}")  # fmt: skip
        return EXIT_INTERRUPTED
    return 0


def _figure_title(
    config: ExperimentConfig, done: int, runs: list[SeedRun], stats: dict[str, Interval]
) -> str:
    from ganlab.engine.evaluation import MIN_HIGH_QUALITY, W1_RATIO_LIMIT

    head = f"{config.data.name}, iteration {done}, {len(runs)} seed{'s' if len(runs) > 1 else ''}"
    w1 = stats.get("w1")
    if w1 is not None and w1.mean is not None:
        spread = "" if w1.low is None else f" (95% interval {w1.low:.3g} to {w1.high:.3g})"
        head += f": mean W1 {w1.mean:.3g}{spread}"
    passed = sum(1 for r in runs if r.verdict is not None and r.verdict.passed)
    has_modes = bool(runs and runs[0].trainer.distribution.modes)
    modes = (
        f"; every mode covered and at least {MIN_HIGH_QUALITY:.0%} of samples high quality"
        if has_modes
        else ""
    )
    return (f"{head}\nseeds passing the quality bar: {passed} of {len(runs)} (W1 at most "
            f"{W1_RATIO_LIMIT:g}x that of two real samples{modes})")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--seeds`, the one flag a sweep adds to train's."""
    parser.description = (
        "Train one experiment on each seed (runs that differ only by seed step together), "
        "then write every seed's final metrics, each metric's mean over the seeds with a "
        "Student-t 95% interval for that mean, and a PNG with one panel per seed."
    )
    parser.add_argument("--seeds", required=True, type=parse_seeds, metavar="SPEC",
                        help=f"seeds to train, e.g. 0-9, 3, 0,2,5 or 0-4,8 "
                             f"(at most {MAX_SEEDS})")  # fmt: skip
