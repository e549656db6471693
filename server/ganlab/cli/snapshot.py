"""A still picture of a run, as a PNG or as a movie frame (for the CLI and reports; the browser
draws its own)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganlab.engine.picture import Picture

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# GAN Lab's colours: real green, fake purple, gradients pink; heatmap purple - grey - green.
REAL = "#008837"
FAKE = "#a33ebd"
GRADIENT = "#c414db"
HEATMAP = ["#a33ebd", "#f7f7f7", "#008837"]


SIZE = 600  # pixels, square; even, as H.264 movies of these pictures need
DPI = 100


def figure(picture: Picture, title: str = "") -> Figure:
    """The picture on a new SIZE x SIZE figure, laid out and ready to save or rasterise.
    Built without pyplot, so no global figure list grows and nothing needs closing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SIZE / DPI, SIZE / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    draw(fig.add_subplot(), picture, title)
    fig.tight_layout()
    return fig


def render_png(picture: Picture, path: str | Path, title: str = "") -> Path:
    path = Path(path)
    figure(picture, title).savefig(path)
    return path


def render_rgb(picture: Picture, title: str = "") -> np.ndarray:
    """The same drawing as render_png, as a (SIZE, SIZE, 3) uint8 array (a movie frame)."""
    fig = figure(picture, title)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    return np.ascontiguousarray(rgba[..., :3])


def draw(ax: Axes, picture: Picture, title: str = "") -> None:
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    xmin, xmax, ymin, ymax = picture.box
    cmap = LinearSegmentedColormap.from_list("ganlab", HEATMAP)
    values = picture.d_grid
    if picture.output == "probability":
        norm = Normalize(0.0, 1.0)
    else:  # an unbounded critic score: centre the colours on its median
        mid = float(np.median(values))
        span = float(np.max(np.abs(values - mid))) or 1.0
        norm = Normalize(mid - span, mid + span)
    ax.imshow(values, origin="lower", extent=(xmin, xmax, ymin, ymax), cmap=cmap, norm=norm,
              alpha=0.55, interpolation="bilinear")  # fmt: skip
    manifold = picture.manifold
    if manifold.ndim == 3:
        for k in range(manifold.shape[0]):
            ax.plot(manifold[k, :, 0], manifold[k, :, 1], color=FAKE, lw=0.4, alpha=0.5)
            ax.plot(manifold[:, k, 0], manifold[:, k, 1], color=FAKE, lw=0.4, alpha=0.5)
    else:
        ax.plot(manifold[:, 0], manifold[:, 1], color=FAKE, lw=1.0, alpha=0.6)
    ax.scatter(picture.real[:, 0], picture.real[:, 1], s=5, c=REAL, label="real")
    ax.scatter(picture.fake[:, 0], picture.fake[:, 1], s=6, c=FAKE, label="fake")
    # Arrows are minus the gradient of G's loss at each sample: the pull the loss puts on it.
    # G's update moves the samples only through its weights (and Adam rescales each weight's
    # step), so a sample does not simply move along its arrow: the legend says what is drawn.
    move = -picture.fake_grad
    length = np.linalg.norm(move, axis=1)
    scale = 0.06 * (xmax - xmin) / max(float(np.percentile(length, 95)), 1e-12)
    ax.quiver(picture.fake[:, 0], picture.fake[:, 1], move[:, 0] * scale, move[:, 1] * scale,
              angles="xy", scale_units="xy", scale=1, color=GRADIENT, width=0.003,
              alpha=0.7, label="−∇ G's loss at each fake")  # fmt: skip
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    if picture.partners > 1:  # D judges packs: say what the colours and arrows average
        ax.set_xlabel(f"Packing: heatmap, fakes' D and arrows are means over {picture.partners} "
                      "packs with partners from the current fakes", fontsize=7)  # fmt: skip
