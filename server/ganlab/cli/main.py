"""The `ganlab` command: list presets, train headless, serve the app.

Bad flags or configs print one line `ganlab: error: ...` and exit with status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import torch

from ganlab.engine.config import ConfigError, ExperimentConfig, merge, parse_config, set_dotted
from ganlab.engine.evaluation import metric_row
from ganlab.engine.presets import PRESETS, get_preset

FINAL_SAMPLES = 2500
MAX_METRIC_ROWS = 100


class UsageError(Exception):
    """A bad flag or config: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parse_value(text: str) -> Any:
    """`--set` values are JSON where they parse as JSON (numbers, true, null, lists), else
    plain strings, so `loss.kind=hinge` needs no quotes."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_config(args: argparse.Namespace) -> tuple[ExperimentConfig, int]:
    """The experiment and step count from --preset, --config, --set and --seed, in that order."""
    data: dict[str, Any] = {}
    steps = 5000
    if args.preset is not None:
        try:
            preset = get_preset(args.preset)
        except KeyError as exc:
            raise UsageError(f"--preset: {exc.args[0]}") from None
        data, steps = dict(preset.config), preset.steps
    if args.config is not None:
        try:
            loaded = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"--config: cannot read {args.config}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--config: {args.config} is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"--config: {args.config} is not JSON: {exc.msg} at line {exc.lineno}"
            ) from None
        if not isinstance(loaded, dict):
            raise UsageError("--config: the file must hold a JSON object of config fields")
        data = merge(data, loaded)
    patch: dict[str, Any] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set: expected key=value, got {item!r}")
        set_dotted(patch, key.strip(), _parse_value(value.strip()))
    data = merge(data, patch)
    if args.seed is not None:
        data["seed"] = args.seed
    if args.steps is not None:
        steps = args.steps
    return parse_config(data), steps


def cmd_presets(args: argparse.Namespace) -> int:
    width = max(len(n) for n in PRESETS)
    for preset in PRESETS.values():
        print(f"{preset.name:<{width}}  {preset.title}: {preset.description} "
              f"({preset.steps} steps)")  # fmt: skip
    return 0


def _fmt(row: dict[str, float]) -> str:
    keys = [("d_loss", "D"), ("g_loss", "G"), ("w1", "W1"), ("modes_covered", "modes")]
    return "  ".join(f"{label} {row[k]:.3g}" for k, label in keys if k in row)


def cmd_train(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from ganlab.cli.snapshot import render_png
    from ganlab.engine.picture import PictureCache, compute_picture
    from ganlab.engine.trainer import Trainer

    config, steps = build_config(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out: cannot create {out}: {exc.strerror}") from None
    if args.threads:
        torch.set_num_threads(args.threads)
    trainer = Trainer(config)
    # Keep metric rows to about a hundred per run, so evaluation never dominates training.
    every = max(config.metrics.every, math.ceil(steps / MAX_METRIC_ROWS))
    trainer.configure({"metrics": {"every": every}})
    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>6.0f} it/s"), TimeRemainingColumn(),
               TextColumn("{task.fields[row]}"))  # fmt: skip
    start = time.perf_counter()
    with Progress(*columns, disable=args.quiet, transient=False) as progress:
        task = progress.add_task("train", total=steps, rate=0.0, row="")
        done = 0
        while done < steps and not trainer.diverged():
            n = trainer.train(min(every, steps - done))
            done += n
            rate = done / max(time.perf_counter() - start, 1e-9)
            row = _fmt(trainer.history[-1]) if trainer.history else ""
            progress.update(task, completed=done, rate=rate, row=row)
    train_seconds = time.perf_counter() - start
    diverged = trainer.diverged()
    final = metric_row(trainer, samples=FINAL_SAMPLES, w1_samples=FINAL_SAMPLES)
    samples = trainer.sample(FINAL_SAMPLES)
    with (out / "samples.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "y"])
        writer.writerows((f"{x:.6g}", f"{y:.6g}") for x, y in samples.tolist())
    _write_history(out / "metrics.csv", trainer.history)
    summary = {
        "config": config.model_dump(),
        "preset": args.preset,
        "steps": trainer.iteration,
        "train_seconds": round(train_seconds, 3),
        "iterations_per_second": round(trainer.iteration / max(train_seconds, 1e-9), 1),
        "device": str(trainer.device),
        "diverged": diverged,
        "metrics": final,
    }
    (out / "final.json").write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")
    picture = compute_picture(trainer, PictureCache())
    title = f"{config.data.name}, iteration {trainer.iteration}  {_fmt(final)}"
    render_png(picture, out / "snapshot.png", title)
    if args.save_run:
        from ganlab.engine.runfile import save

        save(trainer, out / "run.safetensors")
    if diverged:
        print(f"ganlab: training diverged (NaN or inf) at iteration {trainer.iteration}",
              file=sys.stderr)  # fmt: skip
        return 1
    if not args.quiet:
        print(f"wrote {out}/final.json, samples.csv, metrics.csv, snapshot.png  {_fmt(final)}")
    return 0


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    keys: list[str] = []
    for row in history:
        keys.extend(k for k in row if k not in keys)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys or ["iteration"])
        writer.writeheader()
        writer.writerows(history)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from ganlab.live.app import create_app
    from ganlab.live.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port),
                                   ("device", args.device)) if v is not None}  # fmt: skip
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"--{err['loc'][0]}: {err['msg']}") from None
    if args.open:
        import threading
        import webbrowser

        url = f"http://{settings.host}:{settings.port}/"
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    # One line per session event (created, resumed, expired, diverged, error).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Frames are float data that deflate barely shrinks, at a CPU cost per frame: off. A
    # message over the hard cap closes the socket; up to it, the app answers with an error.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                ws_max_size=settings.max_run_bytes + (1 << 20),
                ws_per_message_deflate=False)  # fmt: skip
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganlab", description="Train small 2D GANs and watch them learn.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("presets", help="list presets").set_defaults(func=cmd_presets)
    train = sub.add_parser("train", help="train headless and write results to a folder")
    train.add_argument("--preset", help="starting point (see `ganlab presets`)")
    train.add_argument("--config", help="JSON file of config fields, merged over the preset")
    train.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="one config field, e.g. generator.layers=3 (repeatable)")  # fmt: skip
    train.add_argument("--steps", type=int, help="training iterations (default: the preset's)")
    train.add_argument("--seed", type=int, help="random seed")
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch (1)")
    train.add_argument("--save-run", action="store_true", help="also write run.safetensors")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)
    serve = sub.add_parser("serve", help="serve the app (settings also from GANLAB_* variables)")
    serve.add_argument("--host", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (8000)")
    serve.add_argument("--device", help="auto, cpu or cuda")
    serve.add_argument("--open", action="store_true", help="open the app in a browser")
    serve.set_defaults(func=cmd_serve)
    return parser


def _check_ranges(args: argparse.Namespace) -> None:
    if getattr(args, "steps", None) is not None and not 1 <= args.steps <= 10_000_000:
        raise UsageError(f"--steps: must be between 1 and 10000000, got {args.steps}")
    if getattr(args, "threads", None) is not None and not 1 <= args.threads <= 256:
        raise UsageError(f"--threads: must be between 1 and 256, got {args.threads}")


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        _check_ranges(args)
        return int(args.func(args))
    except UsageError as exc:
        print(f"ganlab: error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"ganlab: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
