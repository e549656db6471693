"""The PNG snapshot: probability and score heatmaps, 2D and 1D noise, exact image size."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ganlab.cli.snapshot import FAKE, REAL, SIZE, figure, render_png, render_rgb
from ganlab.engine.config import merge
from ganlab.engine.picture import Picture, PictureCache, compute_picture
from ganlab.engine.trainer import Trainer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL: dict[str, Any] = {
    "generator": {"layers": 1, "neurons": 8},
    "discriminator": {"layers": 1, "neurons": 8},
    "training": {"batch_size": 64},
    "view": {"grid": 24, "manifold": 9, "fakes": 60, "reals": 120},
    "metrics": {"every": 100_000},
}


def picture_of(patch: dict[str, Any], steps: int = 10) -> Picture:
    t = Trainer(merge(SMALL, patch))
    t.train(steps)
    return compute_picture(t, PictureCache())


def png_header(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from the IHDR chunk that must come first."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert int.from_bytes(data[8:12], "big") == 13 and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return width, height, data[24], data[25]


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0


def has_colour(image: np.ndarray, hex_colour: str, tol: float = 0.04) -> bool:
    return bool((np.abs(image[..., :3] - rgb(hex_colour)).max(axis=-1) < tol).any())


def check_png(path: Path) -> np.ndarray:
    import matplotlib.image

    width, height, depth, _ = png_header(path)
    assert (width, height) == (600, 600)
    assert depth == 8
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (600, 600)
    assert image[..., :3].std() > 0.05, "the image should not be blank"
    return image


@pytest.mark.parametrize(
    ("patch", "output"),
    [
        ({"loss": {"kind": "log"}}, "probability"),
        ({"loss": {"kind": "wgan"}}, "score"),
        ({"loss": {"kind": "hinge"}, "discriminator": {"packing": 2}}, "score"),
    ],
    ids=["log-probability", "wgan-score", "hinge-packed-score"],
)
def test_render_png_for_probability_and_score_pictures(
    patch: dict[str, Any], output: str, tmp_path: Path
) -> None:
    picture = picture_of(patch)
    assert picture.output == output
    assert picture.manifold.ndim == 3
    path = render_png(picture, tmp_path / "snap.png", title="a title")
    assert path == tmp_path / "snap.png"
    image = check_png(path)
    assert has_colour(image, REAL) and has_colour(image, FAKE)


def test_render_png_for_one_dimensional_noise_draws_a_curve(tmp_path: Path) -> None:
    picture = picture_of({"noise": {"dim": 1, "kind": "uniform"}})
    assert picture.manifold.ndim == 2 and picture.manifold.shape[1] == 2  # a curve
    path = render_png(picture, tmp_path / "curve.png")
    image = check_png(path)
    assert has_colour(image, FAKE)


def test_render_png_accepts_a_str_path_and_differs_with_the_state(tmp_path: Path) -> None:
    t = Trainer(SMALL)
    cache = PictureCache()
    first = render_png(compute_picture(t, cache), str(tmp_path / "a.png"))
    t.train(40)
    second = render_png(compute_picture(t, cache), tmp_path / "b.png")
    assert isinstance(first, Path) and first.exists()
    assert first.read_bytes() != second.read_bytes()


def test_render_png_handles_flat_heatmap_and_zero_gradients(tmp_path: Path) -> None:
    # A constant critic and a generator at rest: no division by zero, no warnings.
    picture = picture_of({"loss": {"kind": "wgan"}}, steps=1)
    flat = dataclasses.replace(
        picture,
        d_grid=np.full_like(picture.d_grid, 0.3),
        fake_grad=np.zeros_like(picture.fake_grad),
    )
    check_png(render_png(flat, tmp_path / "flat.png"))
    collapsed = dataclasses.replace(picture, fake=np.zeros_like(picture.fake))
    check_png(render_png(collapsed, tmp_path / "collapsed.png"))


def test_the_legend_says_what_the_arrows_are() -> None:
    """The arrows are minus the loss gradient at each fake, not where the update moves it
    (Adam and the weights decide that): the legend names them as what they are."""
    fig = figure(picture_of({}))
    labels = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert "−∇ G's loss at each fake" in labels
    assert not any("moves" in label for label in labels)


def test_render_rgb_is_the_png_s_pixels(tmp_path: Path) -> None:
    """A movie frame is the snapshot's drawing: the same pixels as the PNG, as uint8 RGB."""
    import matplotlib.image

    picture = picture_of({})
    frame = render_rgb(picture, "iteration 10")
    assert frame.shape == (SIZE, SIZE, 3) and frame.dtype == np.uint8
    assert SIZE % 2 == 0  # H.264 with 4:2:0 chroma needs even sides
    png = matplotlib.image.imread(render_png(picture, tmp_path / "s.png", "iteration 10"))
    assert np.array_equal(frame, np.round(png[..., :3] * 255).astype(np.uint8))
    other = render_rgb(picture, "iteration 11")  # the title is drawn on the frame
    assert not np.array_equal(frame, other)
