"""`ganlab train --movie`: real encoders write the file, PyAV parses it back."""

from __future__ import annotations

import importlib
import json
import signal
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import torch

from ganlab.cli.main import main
from ganlab.cli.movie import (
    FORMATS,
    TARGET_FRAMES,
    MovieWriter,
    default_every,
    frame_count,
    frame_iterations,
)
from ganlab.cli.snapshot import FAKE, REAL, SIZE, render_rgb
from ganlab.engine.config import merge, parse_config
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.presets import get_preset
from ganlab.engine.trainer import Trainer

CLI = importlib.import_module("ganlab.cli.main")
# Cheap pictures: the frames' cost is the picture, not the training.
CHEAP = ["--set", "view.grid=24", "--set", "view.fakes=60", "--set", "view.reals=120",
         "--set", "view.manifold=9", "--set", "view.field=8"]  # fmt: skip
STEPS, EVERY = 45, 10  # frames at 0, 10, 20, 30, 40 and the last iteration, 45


@pytest.fixture(autouse=True)
def _fast_and_one_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(CLI, "FINAL_SAMPLES", 200)  # the final exact W1 costs ~n³
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)  # `train --threads` sets it for the process


def train(out: Path, *extra: str, steps: int = STEPS) -> int:
    return main(["train", "--preset", "gaussians", "--steps", str(steps), "--out", str(out),
                 "--quiet", "--seed", "3", *CHEAP, *extra])  # fmt: skip


def decode(path: Path) -> tuple[Any, list[np.ndarray], list[Fraction]]:
    """The video stream's codec context, its frames as RGB, and each frame's start time."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, times = [], []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(frame.pts * stream.time_base)
        return stream.codec_context, frames, times


def first_picture() -> np.ndarray:
    """Iteration 0 of the tests' run, drawn directly: what the movie's first frame shows."""
    view = {"grid": 24, "fakes": 60, "reals": 120, "manifold": 9, "field": 8}
    config = parse_config(merge(dict(get_preset("gaussians").config), {"seed": 3, "view": view}))
    picture = compute_picture(Trainer(config), PictureCache())
    return render_rgb(picture, "gaussians, iteration 0")


# --------------------------------------------------------------------------- frame plan


@pytest.mark.parametrize(("steps", "every"), [(1, 1), (45, 10), (40, 10), (7, 100), (1000, 3)])
def test_frames_are_at_zero_every_n_and_the_end(steps: int, every: int) -> None:
    expected = [i for i in range(steps + 1) if i % every == 0 or i == steps]  # brute force
    assert frame_iterations(steps, every) == expected
    assert frame_count(steps, every) == len(expected)


def test_default_every_gives_about_the_target_number_of_frames() -> None:
    for steps in (1, 10, 3000, 6000, 26000, 1_000_000):
        n = frame_count(steps, default_every(steps))
        assert n <= steps + 1
        if steps >= TARGET_FRAMES:
            assert abs(n - TARGET_FRAMES) <= 0.05 * TARGET_FRAMES + 2, (steps, n)


# --------------------------------------------------------------------------- movies


def test_mp4_is_h264_yuv420p_with_a_frame_every_n_iterations(tmp_path: Path) -> None:
    movie = tmp_path / "run.mp4"
    assert train(tmp_path / "out", "--movie", str(movie), "--movie-every", str(EVERY),
                 "--movie-fps", "20") == 0  # fmt: skip
    codec, frames, times = decode(movie)
    assert codec.name == "h264" and codec.pix_fmt == "yuv420p"
    assert (codec.width, codec.height) == (SIZE, SIZE)
    assert len(frames) == len(frame_iterations(STEPS, EVERY)) == 6
    assert times == [Fraction(i, 20) for i in range(6)]  # 20 frames/s
    # Training moves the fakes and D: the picture changes from the first frame to the last.
    change = np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean()
    assert change > 1.0, change
    # The first frame is the picture at iteration 0 (up to H.264's loss).
    assert np.abs(frames[0].astype(int) - first_picture().astype(int)).mean() < 4.0
    info = json.loads((tmp_path / "out" / "final.json").read_text())["movie"]
    assert info["frames"] == 6 and info["every"] == EVERY and info["fps"] == 20


def test_gif_frames_match_the_pictures_and_the_default_rate(tmp_path: Path) -> None:
    movie = tmp_path / "run.GIF"  # the extension in any case
    assert train(tmp_path / "out", "--movie", str(movie), "--movie-every", str(EVERY)) == 0
    codec, frames, times = decode(movie)
    assert codec.name == "gif"
    assert frames[0].shape == (SIZE, SIZE, 3)
    assert len(frames) == 6
    assert times == [Fraction(i, 25) for i in range(6)]  # 25 frames/s: 4/100 s each
    # 256 colours per frame, no dithering: close to the drawing (a wrong palette is far off).
    assert np.abs(frames[0].astype(int) - first_picture().astype(int)).mean() < 1.5
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() > 1.0
    # The legend's colours are kept exactly, however few pixels a colour has.
    for colour in (REAL, FAKE):
        rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        assert (frames[-1] == rgb).all(axis=-1).sum() >= 20, colour


def test_a_movie_does_not_change_the_run(tmp_path: Path) -> None:
    assert train(tmp_path / "plain") == 0
    assert train(tmp_path / "filmed", "--movie", str(tmp_path / "m.gif"), "--movie-every", "7") == 0
    plain = (tmp_path / "plain" / "samples.csv").read_text()
    assert plain == (tmp_path / "filmed" / "samples.csv").read_text()


def test_default_every_and_webm(tmp_path: Path) -> None:
    movie = tmp_path / "run.webm"
    assert train(tmp_path / "out", "--movie", str(movie), steps=3) == 0
    codec, frames, _ = decode(movie)
    assert codec.name == "vp9" and len(frames) == frame_count(3, default_every(3)) == 4


@pytest.mark.usefixtures("sigint_raises")
def test_ctrl_c_finishes_the_movie_with_the_frames_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = Trainer.step

    def step_then_ctrl_c(self: Trainer) -> None:
        step(self)
        if self.iteration == 25:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(Trainer, "step", step_then_ctrl_c)
    movie = tmp_path / "run.mp4"
    assert train(tmp_path / "out", "--movie", str(movie), "--movie-every", str(EVERY),
                 steps=50_000) == 130  # fmt: skip
    _, frames, _ = decode(movie)
    assert len(frames) == 4  # iterations 0, 10, 20 and 25, where it stopped


def test_writer_refuses_odd_sizes(tmp_path: Path) -> None:
    writer = MovieWriter(tmp_path / "odd.mp4", FORMATS[".mp4"], 25)
    with pytest.raises(ValueError, match="even"):
        writer.write(np.zeros((11, 10, 3), np.uint8))
    writer.close()


# --------------------------------------------------------------------------- bad flags


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--movie", "{tmp}/run.avi"],
         "--movie: {tmp}/run.avi has '.avi'; allowed: .mp4, .webm, .gif"),
        (["--movie", "{tmp}/run"], "has no extension; allowed"),
        (["--movie", "{tmp}/missing/run.mp4"], "folder {tmp}/missing does not exist"),
        (["--movie", "{tmp}"], "has no extension"),
        (["--movie", "{tmp}/run.mp4", "--movie-every", "0"], "--movie-every: must be a whole"),
        (["--movie", "{tmp}/run.mp4", "--movie-fps", "61"],
         "--movie-fps: must be a whole number from 1 to 60"),
        (["--movie-every", "5"], "--movie-every: give --movie PATH too"),
        (["--movie", "{tmp}/run.gif", "--steps", "100000", "--movie-every", "1"],
         "--movie-every: 1 gives 100001 frames over 100000 steps; at most 10000: give 11 or more"),
    ],
    ids=["extension", "no-extension", "missing-folder", "folder", "every-0", "fps", "no-movie",
         "too-many-frames"],
)  # fmt: skip
def test_bad_movie_flags_exit_2_with_one_line_before_training(
    extra: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = [a.format(tmp=tmp_path) for a in extra]
    assert train(out, *argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("ganlab: error: "), err
    assert expected.format(tmp=tmp_path) in err
    assert not (out / "final.json").exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # /proc takes no new files, even from root (who ignores folder permissions)
        ("/proc/run.mp4", "--movie: cannot write /proc/run.mp4: No such file or directory"),
        ("{tmp}/taken.mp4", "--movie: {tmp}/taken.mp4 exists and is not a regular file"),
        ("{tmp}/file.txt/run.gif", "--movie: {tmp}/file.txt is not a folder"),
    ],
    ids=["cannot-create", "a-folder-by-that-name", "parent-is-a-file"],
)
def test_unwritable_movie_path_exits_2_before_training(
    name: str,
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "taken.mp4").mkdir()
    (tmp_path / "file.txt").write_text("")

    def no_training(self: Trainer, *args: Any, **kwargs: Any) -> int:
        raise AssertionError("trained before checking that the movie can be written")

    monkeypatch.setattr(Trainer, "train", no_training)
    assert train(tmp_path / "out", "--movie", name.format(tmp=tmp_path)) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and expected.format(tmp=tmp_path) in err, err
    assert (tmp_path / "taken.mp4").is_dir()  # left as it was
