"""The `ganlab` command: list presets, train headless, serve the app.

Bad flags or configs print one line `ganlab: error: ...` and exit with status 2, before any
training starts; Ctrl-C stops a run cleanly with status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from ganlab.cli import movie as movie_lib  # imports no torch or av
from ganlab.engine import bounded_json
from ganlab.engine.bounded_json import JsonLimit
from ganlab.engine.config import ConfigError, ExperimentConfig, merge, parse_config, set_dotted
from ganlab.engine.presets import PRESETS

if TYPE_CHECKING:  # torch is imported only by `train`: `presets` and usage errors stay fast
    from ganlab.engine.trainer import Trainer

FINAL_SAMPLES = 2500
MAX_METRIC_ROWS = 100
MAX_STEPS = 10_000_000
MAX_THREADS = 256
SEED_MAX = 2**31 - 1  # ExperimentConfig.seed's upper bound
# A config holds at most 20k points or stroke points: a few MB of JSON. The cap stops
# `--config /dev/zero` from filling memory.
MAX_CONFIG_BYTES = 16 << 20
# Configs nest five levels at most (data.strokes); deeper input is a mistake or an attack.
MAX_JSON_DEPTH = 32
# No config field needs more than 10 digits; the cap keeps Python's int-string limit (4300
# digits) and huge echoes out of error messages.
MAX_INT_DIGITS = 20
MAX_MESSAGE = 600
RESULT_FILES = ("final.json", "samples.csv", "metrics.csv", "snapshot.png")
RUN_FILE = "run.safetensors"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class UsageError(Exception):
    """A bad flag or config: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def short(text: str, limit: int = 40) -> str:
    """User input echoed in a message, cut so that a huge value keeps the line readable."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _one_line(message: str) -> str:
    """Escape newlines and other unprintable characters (a file name may hold them) and cut
    the middle of a very long message, keeping its end, which says what is allowed."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)
    if len(text) > MAX_MESSAGE:
        text = f"{text[: MAX_MESSAGE - 200]} ... {text[-190:]}"
    return text


def os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------- JSON input


def _parse_json(text: str) -> Any:
    """Strict JSON for configs: raises JSONDecodeError, or JsonLimit naming the limit."""
    too_deep = JsonLimit(f"values nest deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = bounded_json.loads(text, MAX_INT_DIGITS, finite=True)
    except RecursionError:
        raise too_deep from None
    if bounded_json.depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise too_deep
    return value


def _read_config(name: str) -> dict[str, Any]:
    try:
        # Read through a size cap rather than stat: `--config <(...)` is a pipe.
        with open(name, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except IsADirectoryError:
        raise UsageError(f"--config: {name} is a folder; give a JSON file") from None
    except OSError as exc:
        raise UsageError(f"--config: cannot read {name}: {os_reason(exc)}") from None
    except ValueError:  # an embedded NUL, only possible in-process
        raise UsageError(f"--config: {name!r} is not a valid file name") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise UsageError(f"--config: {name} is larger than {MAX_CONFIG_BYTES >> 20} MiB")
    try:
        text = raw.decode("utf-8-sig")  # a BOM, as some editors write, is fine
    except UnicodeDecodeError:
        raise UsageError(f"--config: {name} is not UTF-8 text") from None
    try:
        loaded = _parse_json(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--config: {name} is not JSON: {exc.msg} at line {exc.lineno}") from None
    except JsonLimit as exc:
        raise UsageError(f"--config: {name}: {exc}") from None
    if not isinstance(loaded, dict):
        raise UsageError("--config: the file must hold a JSON object of config fields")
    return loaded


def _parse_value(key: str, text: str) -> Any:
    """`--set` values are JSON where they parse as JSON (numbers, true, null, lists), else
    plain strings, so `loss.kind=hinge` needs no quotes."""
    try:
        return _parse_json(text)
    except json.JSONDecodeError:
        return text
    except JsonLimit as exc:
        raise UsageError(f"--set {short(key)}: {exc}") from None


def build_config(args: argparse.Namespace) -> tuple[ExperimentConfig, int]:
    """The experiment and step count from --preset, --config, --set and --seed, in that order."""
    data: dict[str, Any] = {}
    steps = 5000
    if args.preset is not None:
        preset = PRESETS.get(args.preset)
        if preset is None:
            raise UsageError(f"--preset: unknown preset {short(repr(args.preset))}; "
                             f"allowed: {', '.join(PRESETS)}")  # fmt: skip
        data, steps = dict(preset.config), preset.steps
    if args.config is not None:
        data = merge(data, _read_config(args.config))
    patch: dict[str, Any] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set: expected key=value, got {short(repr(item))}")
        key = key.strip()
        parsed = _parse_value(key, value.strip())
        # `a.a.a...=1` nests like `[[[...]]]` does: deep enough, it breaks repr and merge.
        if key.count(".") + 1 + bounded_json.depth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise UsageError(f"--set {short(key)}: nests deeper than {MAX_JSON_DEPTH} levels; "
                             "fields are named like generator.layers")  # fmt: skip
        set_dotted(patch, key, parsed)
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
    sys.stdout.flush()  # a closed pipe fails here, where main reports it, not at exit
    return 0


# --------------------------------------------------------------------------- output checks


def _probe(path: Path) -> None:
    """Fail now, not after training, if `path` cannot be written: open an existing file
    for append (which changes nothing), or create the missing one and remove it again."""
    try:
        target = path.resolve()  # a symlink is written where it points
    except (OSError, RuntimeError):  # a symlink loop: opening below reports it
        target = path
    try:
        try:
            mode = target.stat().st_mode
        except FileNotFoundError:
            with open(target, "xb"):
                pass
            target.unlink(missing_ok=True)
            return
        if not stat.S_ISREG(mode):  # a folder, or a pipe that would block the write
            raise UsageError(f"--out: {path} exists and is not a regular file; "
                             "remove it or give another folder")  # fmt: skip
        with open(target, "ab"):
            pass
    except OSError as exc:
        raise UsageError(f"--out: cannot write {path}: {os_reason(exc)}; "
                         "give a folder where the results can be written") from None  # fmt: skip


def prepare_out(name: str, files: list[str]) -> Path:
    """Create the output folder (with its parents) and check each result file can be
    written; on failure remove the folders this call created and raise UsageError."""
    if not name.strip():
        raise UsageError("--out: give the folder to write the results to, got an empty name")
    if "\0" in name:
        raise UsageError(f"--out: {name!r} is not a valid folder name")
    out = Path(name)
    created = [p for p in (out, *out.parents) if not os.path.lexists(p)]
    try:
        out.mkdir(parents=True, exist_ok=True)
        for file in files:
            _probe(out / file)
    except FileExistsError:
        _remove_folders(created)
        raise UsageError(f"--out: {out} exists and is not a folder; give a folder") from None
    except OSError as exc:
        _remove_folders(created)
        raise UsageError(f"--out: cannot create the folder {out}: {os_reason(exc)}; give a "
                         "folder that can be created and written") from None  # fmt: skip
    except UsageError:
        _remove_folders(created)
        raise
    return out


def _remove_folders(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):  # not empty, or not ours to remove
            folder.rmdir()


# --------------------------------------------------------------------------- train


class StopOnInterrupt:
    """While training, the first Ctrl-C asks the loop to stop after the current step, so
    the results so far are still written; a second one raises KeyboardInterrupt as usual."""

    def __init__(self) -> None:
        self.requested = False
        self._installed = False
        self._previous: Any = signal.default_int_handler

    def __enter__(self) -> StopOnInterrupt:
        previous = signal.getsignal(signal.SIGINT)
        # Only the main thread may set handlers; an ignored SIGINT stays ignored.
        if previous is not signal.SIG_IGN and _in_main_thread():
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
            if previous is not None:  # None: a handler not set from Python
                self._previous = previous
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        self._restore()

    def _restore(self) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def __exit__(self, *exc: object) -> None:
        self._restore()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def shown(path: Path) -> str:
    """A path for stdout, whose strict encoding rejects undecodable file-name bytes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def cmd_train(args: argparse.Namespace) -> int:
    config, steps = build_config(args)
    files = [*RESULT_FILES, *([RUN_FILE] if args.save_run else [])]
    movie = _movie_plan(args, steps)
    from ganlab.engine.trainer import Trainer, resolve_device

    resolve_device(config.device)  # `device=cuda` without CUDA: refuse before writing
    out = prepare_out(args.out, files)
    if movie is not None:  # after --out, whose new folder may hold the movie
        _check_movie_path(args.movie)
    import torch

    torch.set_num_threads(args.threads)
    trainer = Trainer(config)
    # Keep metric rows to about a hundred per run, so evaluation never dominates training.
    every = max(config.metrics.every, math.ceil(steps / MAX_METRIC_ROWS))
    trainer.configure({"metrics": {"every": every}})
    recorder = _start_movie(args, movie, steps, config.data.name) if movie else None
    start = time.perf_counter()
    try:
        with StopOnInterrupt() as stop:
            _train(trainer, steps, every, stop, quiet=args.quiet, movie=recorder)
            if recorder is not None:  # the last iteration, also after Ctrl-C or divergence
                recorder.capture(trainer)
    finally:  # a second Ctrl-C still leaves a playable movie of the frames so far
        if recorder is not None:
            recorder.close()
    # Drawing frames is not training: iterations_per_second stays the training speed.
    train_seconds = time.perf_counter() - start - (recorder.seconds if recorder else 0.0)
    diverged = trainer.diverged()
    movie_info = _movie_info(args, recorder) if recorder else None
    try:
        final = _write_results(trainer, config, out, args, train_seconds, stop.requested,
                               movie_info)  # fmt: skip
    except OSError as exc:
        fail(f"ganlab: error: cannot write the results to {out}: {os_reason(exc)}")
        return 1
    if stop.requested:
        fail(f"ganlab: interrupted at iteration {trainer.iteration} of {steps}; "
              f"wrote the results so far to {out}")  # fmt: skip
        return EXIT_INTERRUPTED
    if diverged:
        fail(f"ganlab: training diverged (NaN or inf) at iteration {trainer.iteration}")
        return 1
    if not args.quiet:
        print(f"wrote {shown(out)}/final.json, samples.csv, metrics.csv, snapshot.png  "
              f"{_fmt(final)}")  # fmt: skip
        if recorder is not None:
            print(f"wrote {shown(Path(args.movie))}: {recorder.writer.frames} frames at "
                  f"{recorder.writer.fps} frames/s")  # fmt: skip
    return 0


def _movie_plan(args: argparse.Namespace, steps: int) -> movie_lib.Format | None:
    """Check the --movie flags before anything is written; None without --movie."""
    if args.movie is None:
        for flag, value in (("--movie-every", args.movie_every), ("--movie-fps", args.movie_fps)):
            if value is not None:
                raise UsageError(f"{flag}: give --movie PATH too")
        return None
    if not args.movie.strip():
        raise UsageError("--movie: give the movie's file name, got an empty name")
    try:
        fmt = movie_lib.movie_format(args.movie)
    except movie_lib.MovieError as exc:
        raise UsageError(f"--movie: {exc}") from None
    if args.movie_every is None:
        args.movie_every = movie_lib.default_every(steps)
    frames = movie_lib.frame_count(steps, args.movie_every)
    if frames > movie_lib.MAX_FRAMES:
        least = math.ceil(steps / (movie_lib.MAX_FRAMES - 2))
        raise UsageError(f"--movie-every: {args.movie_every} gives {frames} frames over "
                         f"{steps} steps; at most {movie_lib.MAX_FRAMES}: give {least} "
                         "or more")  # fmt: skip
    if args.movie_fps is None:
        args.movie_fps = movie_lib.DEFAULT_FPS
    return fmt


def _check_movie_path(name: str) -> None:
    try:
        movie_lib.check_path(name)
    except movie_lib.MovieError as exc:
        raise UsageError(f"--movie: {exc}") from None


def _start_movie(
    args: argparse.Namespace, fmt: movie_lib.Format, steps: int, name: str
) -> movie_lib.Recorder:
    writer = movie_lib.MovieWriter(args.movie, fmt, args.movie_fps)
    return movie_lib.Recorder(writer, args.movie_every, steps, name)


def _movie_info(args: argparse.Namespace, recorder: movie_lib.Recorder) -> dict[str, Any]:
    return {"path": shown(Path(args.movie)), "frames": recorder.writer.frames,
            "every": recorder.every, "fps": recorder.writer.fps,
            # time spent on frames, left out of train_seconds
            "seconds": round(recorder.seconds, 3)}  # fmt: skip


def _fmt(row: dict[str, float]) -> str:
    keys = [("d_loss", "D"), ("g_loss", "G"), ("w1", "W1"), ("modes_covered", "modes")]
    return "  ".join(f"{label} {row[k]:.3g}" for k, label in keys if k in row)


def _train(
    trainer: Trainer,
    steps: int,
    every: int,
    stop: StopOnInterrupt,
    quiet: bool,
    movie: movie_lib.Recorder | None = None,
) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>6.0f} it/s"), TimeRemainingColumn(),
               TextColumn("{task.fields[row]}"))  # fmt: skip
    start = time.perf_counter()
    with Progress(*columns, disable=quiet, transient=False) as progress:
        task = progress.add_task("train", total=steps, rate=0.0, row="")
        done = 0
        if movie is not None:
            movie.capture(trainer)  # iteration 0
        while done < steps and not trainer.diverged() and not stop.requested:
            chunk = min(every - done % every, steps - done)  # stop at metric rows and frames
            if movie is not None:
                chunk = min(chunk, movie.next_frame(done) - done)
            done += trainer.train(chunk, should_stop=lambda: stop.requested)
            if movie is not None and movie.due(done):
                movie.capture(trainer)
            drawing = movie.seconds if movie is not None else 0.0  # not training time
            rate = done / max(time.perf_counter() - start - drawing, 1e-9)
            row = _fmt(trainer.history[-1]) if trainer.history else ""
            if movie is not None:
                row = f"{row}  movie: {movie.writer.frames} of {movie.total} frames".strip()
            progress.update(task, completed=done, rate=rate, row=row)


def _write_results(
    trainer: Trainer,
    config: ExperimentConfig,
    out: Path,
    args: argparse.Namespace,
    train_seconds: float,
    interrupted: bool,
    movie: dict[str, Any] | None = None,
) -> dict[str, float]:
    from ganlab.cli.snapshot import render_png
    from ganlab.engine.evaluation import metric_row
    from ganlab.engine.picture import PictureCache, compute_picture

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
        "diverged": trainer.diverged(),
        "interrupted": interrupted,
        "metrics": final,
        **({"movie": movie} if movie else {}),
    }
    (out / "final.json").write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")
    picture = compute_picture(trainer, PictureCache())
    title = f"{config.data.name}, iteration {trainer.iteration}  {_fmt(final)}"
    render_png(picture, out / "snapshot.png", title)
    if args.save_run:
        from ganlab.engine.runfile import save

        save(trainer, out / RUN_FILE)
    return final


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    keys: list[str] = []
    for row in history:
        keys.extend(k for k in row if k not in keys)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys or ["iteration"])
        writer.writeheader()
        writer.writerows(history)


def cmd_sweep(args: argparse.Namespace) -> int:
    from ganlab.cli.sweep import cmd_sweep as sweep

    return sweep(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ganlab.live.security import WILDCARD_ADDRESSES, log_like_the_server
    from ganlab.live.serving import listen, serve
    from ganlab.live.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port),
                                   ("device", args.device), ("ray_address", args.ray))
                 if v is not None}  # fmt: skip
    flags = {"ray_address": "--ray"}  # (the others are named as their settings)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0])  # a flag's, or else a GANLAB_* variable's
        name = flags.get(field, f"--{field}") if field in overrides else f"GANLAB_{field.upper()}"
        raise UsageError(f"{name}: {err['msg']}") from None
    if settings.ray_address:  # joined here: a wrong address is one line, before serving
        from ganlab.live.ray_engine import RayEngines

        try:
            RayEngines(settings.ray_address).connect()
        except RuntimeError as exc:
            name = "--ray" if args.ray is not None else "GANLAB_RAY_ADDRESS"
            raise UsageError(f"{name}: {exc}") from None
    if settings.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device: CUDA is not available here; use auto or cpu")
    try:
        sock = listen(settings)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UsageError(
            f"--port: cannot listen on {settings.host}:{settings.port}: {reason}; "
            "choose a free port (1-65535) and an address of this machine"
        ) from None
    if args.open:
        import threading
        import webbrowser

        # A name the server serves (allowed_hosts): not 0.0.0.0 when listening everywhere.
        host = "127.0.0.1" if settings.host in WILDCARD_ADDRESSES else settings.host
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        url = f"http://{host}:{settings.port}/"
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    # One line per session event (created, resumed, expired, diverged, error).
    log_like_the_server()
    serve(settings, sock)  # uvicorn with connection limits and timeouts (live/serving.py)
    return 0


def _int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], else a message saying so."""

    def parse(text: str) -> int:
        try:
            value: int | None = int(text)
        except ValueError:  # not a number, or past Python's 4300-digit limit
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, got {short(repr(text))}"
            )
        return value

    return parse


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganlab", description="Train small 2D GANs and watch them learn.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("presets", help="list presets").set_defaults(func=cmd_presets)
    train = sub.add_parser("train", help="train headless and write results to a folder")
    sweep = sub.add_parser("sweep", help="train on many seeds; each metric's mean and interval")
    for p in (train, sweep):  # one experiment, built the same way (build_config)
        p.add_argument("--preset", help="starting point (see `ganlab presets`)")
        p.add_argument("--config", help="JSON file of config fields, merged over the preset")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="one config field, e.g. generator.layers=3 (repeatable)")  # fmt: skip
        p.add_argument("--steps", type=_int_in(1, MAX_STEPS),
                       help="training iterations (default: the preset's)")  # fmt: skip
    train.add_argument("--seed", type=_int_in(0, SEED_MAX), help="random seed")
    from ganlab.cli.sweep import add_arguments  # imports no torch

    add_arguments(sweep)
    for p in (train, sweep):
        p.add_argument("--out", required=True,
                       help="output folder (created; checked before training)")  # fmt: skip
        p.add_argument("--threads", type=_int_in(1, MAX_THREADS), default=1,
                       help="CPU threads for PyTorch (1)")  # fmt: skip
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--save-run", action="store_true", help="also write run.safetensors")
    train.add_argument("--movie", metavar="PATH",
                       help=f"also write a movie of the picture ({', '.join(movie_lib.FORMATS)}); "
                       "its folder must exist")  # fmt: skip
    train.add_argument("--movie-every", type=_int_in(1, MAX_STEPS), metavar="N",
                       help=f"iterations between frames (default: about "
                       f"{movie_lib.TARGET_FRAMES} frames per run)")  # fmt: skip
    train.add_argument("--movie-fps", type=_int_in(1, movie_lib.MAX_FPS), metavar="N",
                       help=f"movie frames per second ({movie_lib.DEFAULT_FPS})")  # fmt: skip
    train.set_defaults(func=cmd_train)
    sweep.set_defaults(func=cmd_sweep, seed=None)
    serve = sub.add_parser("serve", help="serve the app (settings also from GANLAB_* variables)")
    serve.add_argument("--host", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (8000)")
    serve.add_argument("--device", help="auto, cpu or cuda")
    serve.add_argument("--ray", metavar="ADDRESS",
                       help="run the engines as actors of this Ray cluster (HOST:PORT of its "
                       "head, or auto)")  # fmt: skip
    serve.add_argument("--open", action="store_true", help="open the app in a browser")
    serve.set_defaults(func=cmd_serve)
    return parser


def fail(message: str) -> None:
    """One line on stderr, whatever the message quotes (file names may hold newlines)."""
    print(_one_line(message), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        return int(args.func(args))
    except (UsageError, ConfigError) as exc:
        fail(f"ganlab: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C outside the training loop (which stops by itself)
        fail("ganlab: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `ganlab presets | head -1`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit cannot fail again
        return 1


if __name__ == "__main__":
    # The package's own copy of this module (`ganlab.cli.sweep` imports it), not this
    # `__main__` one: else its UsageError would be another class that main does not catch.
    from ganlab.cli.main import main as package_main

    sys.exit(package_main())
