"""A movie of a run for `ganlab train --movie`: the snapshot's picture every N iterations.

Frames are encoded as they are drawn, so memory stays flat however long the run. PyAV's
wheels bundle FFmpeg with its encoders, so no system ffmpeg is needed: MP4 holds H.264 in
yuv420p (what browsers and slide tools play), WebM holds VP9, GIF holds each frame with its
own 256-colour palette (chosen by Pillow).
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch, numpy and av load only when a movie is written
    import numpy as np

    from ganlab.engine.picture import Picture
    from ganlab.engine.trainer import Trainer

# 25 frames/s is exact in every format: GIF stores each frame's delay in 1/100 s.
DEFAULT_FPS = 25
MAX_FPS = 60
# The default --movie-every gives about this many frames: 10 s at 25 frames/s.
TARGET_FRAMES = 250
# Each frame costs a picture and a drawing (a few tenths of a second): more is a mistake.
MAX_FRAMES = 10_000


@dataclass(frozen=True)
class Format:
    label: str
    codec: str
    pix_fmt: str
    options: dict[str, str] = field(default_factory=dict)
    container_options: dict[str, str] = field(default_factory=dict)


# By file extension: the one list of what --movie writes.
FORMATS: dict[str, Format] = {
    ".mp4": Format(
        "MP4 (H.264)",
        "libx264",
        "yuv420p",
        options={"crf": "23", "preset": "fast"},
        # faststart puts the index first: a browser starts playing before the file has loaded.
        container_options={"movflags": "+faststart"},
    ),
    ".webm": Format(
        "WebM (VP9)",
        "libvpx-vp9",
        "yuv420p",
        options={"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8"},
    ),
    ".gif": Format("GIF", "gif", "pal8"),
}


class MovieError(ValueError):
    """A --movie flag that cannot work: reported in one line before training."""


def movie_format(path: str) -> Format:
    """The format for a file name by its extension, with its encoder present in this PyAV."""
    import av

    ext = Path(path).suffix.lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        shown = f"{ext!r}" if ext else "no extension"
        raise MovieError(f"{path} has {shown}; allowed: {', '.join(FORMATS)}")
    try:
        av.codec.Codec(fmt.codec, "w")
    except av.codec.codec.UnknownCodecError:
        others = ", ".join(e for e, f in FORMATS.items() if f is not fmt and _has(f.codec))
        raise MovieError(f"this PyAV build has no {fmt.codec} encoder for {fmt.label}; "
                         f"write {others or 'nothing else either'}") from None  # fmt: skip
    return fmt


def _has(codec: str) -> bool:
    import av

    try:
        av.codec.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        return False
    return True


def check_path(name: str) -> Path:
    """Fail now, not after training, if the movie cannot be written: its folder must exist
    and take a new file, and an existing file must be a regular one we may overwrite."""
    if "\0" in name:
        raise MovieError(f"{name!r} is not a valid file name")
    path = Path(name)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        folder = path.parent
        if folder.exists() and not folder.is_dir():
            raise MovieError(f"{folder} is not a folder") from None
        if not folder.exists():
            raise MovieError(f"the folder {folder} does not exist; create it first") from None
        try:
            with open(path, "xb"):
                pass
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise MovieError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path
    except OSError as exc:
        raise MovieError(f"cannot use {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise MovieError(f"{path} exists and is not a regular file")
    if not os.access(path, os.W_OK):
        raise MovieError(f"cannot write {path}: permission denied")
    return path


def default_every(steps: int) -> int:
    """Iterations between frames so that a run gives about TARGET_FRAMES of them."""
    return max(1, round(steps / TARGET_FRAMES))


def frame_iterations(steps: int, every: int) -> list[int]:
    """The iterations a full run draws: 0, every multiple of `every`, and the last one."""
    marks = list(range(0, steps + 1, every))
    return marks if marks[-1] == steps else [*marks, steps]


def frame_count(steps: int, every: int) -> int:
    return steps // every + 1 + (steps % every != 0)


class MovieWriter:
    """Frames in, a movie file out: (H, W, 3) uint8 RGB frames of one even size."""

    def __init__(self, path: str | Path, fmt: Format, fps: int) -> None:
        import av

        self.fmt, self.fps, self.frames = fmt, fps, 0
        self._container: Any = av.open(str(path), mode="w",
                                       container_options=fmt.container_options)  # fmt: skip
        self._stream: Any = None

    def _open_stream(self, width: int, height: int) -> None:
        if width % 2 or height % 2:  # yuv420p halves the chroma planes
            raise ValueError(f"frames need even sides, got {width}x{height}")
        stream = self._container.add_stream(self.fmt.codec, rate=self.fps,
                                            options=self.fmt.options)  # fmt: skip
        stream.width, stream.height, stream.pix_fmt = width, height, self.fmt.pix_fmt
        stream.codec_context.time_base = Fraction(1, self.fps)
        self._stream = stream

    def write(self, rgb: np.ndarray) -> None:
        import av

        height, width = rgb.shape[:2]
        if self._stream is None:
            self._open_stream(width, height)
        elif (width, height) != (self._stream.width, self._stream.height):
            raise ValueError(f"frame {width}x{height} in a {self._stream.width}x"
                             f"{self._stream.height} movie")  # fmt: skip
        if self.fmt.pix_fmt == "pal8":
            # PyAV takes an (indices, palette) pair for pal8; its type stub omits the pair.
            pair: Any = _palette_image(rgb)
            frame = av.VideoFrame.from_ndarray(pair, format="pal8")
        else:  # FFmpeg converts RGB to the codec's YUV
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = self.frames, Fraction(1, self.fps)
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (a movie of no frames is an empty file)."""
        if self._container is None:
            return
        container, self._container = self._container, None
        try:
            if self._stream is not None:
                container.mux(self._stream.encode(None))
        finally:
            container.close()

    def __enter__(self) -> MovieWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _palette_image(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An RGB frame as (indices, 256 ARGB palette rows) for FFmpeg's GIF encoder. Median
    cut picks most colours, but a few real samples are too few pixels for it to keep their
    green: pixels close to a legend colour take that colour exactly. No dithering: the
    heatmap's smooth shades band a little but do not flicker between frames."""
    import numpy as np
    from PIL import Image

    from ganlab.cli.snapshot import FAKE, GRADIENT, REAL

    keys = np.array([[int(k[i : i + 2], 16) for i in (1, 3, 5)] for k in (REAL, FAKE, GRADIENT)])
    rest = Image.fromarray(rgb).quantize(256 - len(keys), method=Image.Quantize.MEDIANCUT,
                                         dither=Image.Dither.NONE)  # fmt: skip
    indices = np.asarray(rest, np.uint8) + len(keys)
    chosen = np.asarray(rest.getpalette() or [], np.uint8).reshape(-1, 3)[: 256 - len(keys)]
    for k, key in enumerate(keys):
        indices[np.abs(rgb.astype(np.int16) - key).max(axis=-1) <= KEY_TOLERANCE] = k
    colours = np.zeros((256, 3), np.uint8)
    colours[: len(keys)] = keys
    colours[len(keys) : len(keys) + len(chosen)] = chosen
    palette = np.concatenate([np.full((256, 1), 255, np.uint8), colours], axis=1)
    return indices, palette


# How far (per channel, of 255) a pixel may be from a legend colour to be drawn in it.
KEY_TOLERANCE = 24


class Recorder:
    """Draws the run's picture into a movie at iteration 0, every `every` iterations and at
    the last iteration, and keeps the time it takes (which is not training time).

    Each frame's drawing and encoding run on a worker thread while the next frame's picture
    is computed (torch releases the GIL as it computes), never while training runs: training
    in Python beside a drawing thread would slow it and blur its measured speed. One frame at
    most waits, so frames stay in order and memory stays flat."""

    def __init__(self, writer: MovieWriter, every: int, steps: int, name: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from ganlab.engine.picture import PictureCache

        self.writer, self.every, self.steps, self.name = writer, every, steps, name
        self.total = frame_count(steps, every)
        self.seconds = 0.0
        self.last: int | None = None  # the iteration of the latest frame
        self._cache = PictureCache()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="movie")
        self._queued: tuple[Picture, str] | None = None  # computed, not yet drawn

    def next_frame(self, iteration: int) -> int:
        """The first frame iteration after `iteration`."""
        return min((iteration // self.every + 1) * self.every, self.steps)

    def due(self, iteration: int) -> bool:
        return iteration % self.every == 0 or iteration == self.steps

    def capture(self, trainer: Trainer) -> None:
        """A frame of the trainer's state now, unless one of this iteration exists."""
        from ganlab.engine.picture import compute_picture

        if trainer.iteration == self.last:
            return
        start = time.perf_counter()
        queued, self._queued = self._queued, None
        drawing = self._worker.submit(self._draw, *queued) if queued else None
        try:
            picture = compute_picture(trainer, self._cache)  # arrays of its own
        finally:
            if drawing is not None:
                drawing.result()  # its error, if any, is raised here
        self._queued = (picture, f"{self.name}, iteration {trainer.iteration}")
        self.last = trainer.iteration
        self.seconds += time.perf_counter() - start

    def _draw(self, picture: Picture, title: str) -> None:
        from ganlab.cli.snapshot import render_rgb

        self.writer.write(render_rgb(picture, title))

    def close(self) -> None:
        """Draw the waiting frame and finish the file (also after an error or Ctrl-C)."""
        start = time.perf_counter()
        queued, self._queued = self._queued, None
        try:
            if queued is not None:
                self._draw(*queued)
        finally:
            self._worker.shutdown(wait=True)
            self.writer.close()
            self.seconds += time.perf_counter() - start
