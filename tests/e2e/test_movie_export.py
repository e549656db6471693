"""The page exports the run's history as a movie (issue 15): a GIF and a video (MP4, or WebM
where the browser cannot encode H.264), each made of frames fetched by seeks, drawn by the
page's renderer and encoded in the page. The downloads are parsed here with Pillow and PyAV."""

from __future__ import annotations

import io
import itertools

import av
import numpy as np
from e2e_helpers import (
    ARTIFACTS,
    SIZES,
    file_menu,
    movie_dialog,
    open_app,
    settle,
    sized_page,
    train_to,
)
from PIL import Image, ImageSequence

FRAMES = 20  # 2 s at 10 frames/s
SIZE = 256
PROGRESS = "document.querySelector('[data-testid=movie-progress-text]').textContent"
LIVE = "window.ganlabTest.timeline.live === true && window.ganlabTest.settled"


def _frames_differ(frames: list[np.ndarray]) -> None:
    """The movie moves: its first and last pictures differ, and so do most neighbours."""
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1.0
    moved = sum(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    assert moved >= len(frames) // 2


def _shot(pg, size: str) -> None:  # type: ignore[no-untyped-def]
    """The window as the learner sees it (the dialog is in the viewport, not the whole page)."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"movie-export-progress-{size}.png"))


def _export(pg, button: str):  # type: ignore[no-untyped-def]
    """Open the movie dialog from the File menu, ask for 2 s at 10 frames/s, 256 px, and
    return the download's name and bytes."""
    file_menu(pg, button)
    movie_dialog(pg, size=SIZE, seconds=2, fps=10)
    assert pg.locator("[data-testid=movie-summary]").inner_text().startswith(f"{FRAMES} frames")
    with pg.expect_download(timeout=60_000) as info:
        pg.click("[data-testid=movie-start]")
    download = info.value
    with open(download.path(), "rb") as f:
        data = f.read()
    text = pg.locator("[data-testid=movie-progress-text]").inner_text()
    assert text == f"done: {FRAMES} frames"
    assert pg.locator("[data-testid=movie-cancel]").inner_text() == "Close"
    pg.click("[data-testid=movie-cancel]")
    pg.locator("[data-testid=movie-dialog]").wait_for(state="hidden")
    return download.suggested_filename, data


def _back_to_live(pg) -> None:  # type: ignore[no-untyped-def]
    """After an export the page shows the head of the run again, as before it."""
    pg.wait_for_function(LIVE)


def test_gif_and_video_of_the_history(browser, server_url) -> None:  # type: ignore[no-untyped-def]
    context, pg, errors = sized_page(browser, server_url, "laptop")
    try:
        open_app(pg)
        head = train_to(pg, 400)

        name, data = _export(pg, "export-gif")
        assert name.endswith(".gif") and "-movie" in name
        gif = Image.open(io.BytesIO(data))
        assert gif.size == (SIZE, SIZE)
        assert gif.n_frames == FRAMES
        assert gif.info["duration"] == 100  # ms: 10 frames a second
        _frames_differ([np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)])
        _back_to_live(pg)
        assert pg.evaluate("window.ganlabTest.timeline.head") == head

        label = pg.locator("[data-testid=export-video]").text_content() or ""
        name, data = _export(pg, "export-video")
        ext = name.rsplit(".", 1)[1]
        assert ext in ("mp4", "webm") and ext.upper() in label.upper()
        with av.open(io.BytesIO(data)) as movie:
            stream = movie.streams.video[0]
            codecs = ("h264",) if ext == "mp4" else ("vp9", "vp8", "libvpx-vp9", "libvpx")
            assert stream.codec_context.name in codecs
            pictures = [f.to_ndarray(format="rgb24") for f in movie.decode(stream)]
        assert len(pictures) == FRAMES
        assert pictures[0].shape == (SIZE, SIZE, 3)
        _frames_differ(pictures)
        _back_to_live(pg)

        # Cancelled part way: no file, the words say so, and the page is back at the head.
        file_menu(pg, "export-gif")
        movie_dialog(pg, size=256, seconds=10, fps=30)
        downloads: list[object] = []
        pg.on("download", lambda d: downloads.append(d))
        pg.click("[data-testid=movie-start]")
        pg.wait_for_function(f"/^frame ([3-9]|\\d\\d+) of 300$/.test({PROGRESS})")
        _shot(pg, "laptop")
        pg.click("[data-testid=movie-cancel]")
        progress = pg.locator("[data-testid=movie-progress-text]")
        progress.filter(has_text="cancelled after").wait_for()
        assert progress.inner_text().endswith("of 300 frames")
        _back_to_live(pg)
        pg.click("[data-testid=movie-cancel]")  # now "Close"
        pg.locator("[data-testid=movie-dialog]").wait_for(state="hidden")
        assert downloads == []
        settle(pg)
        assert errors == []
    finally:
        context.close()


def test_movie_dialog_reads_at_every_size(browser, server_url) -> None:  # type: ignore[no-untyped-def]
    """The dialog with its progress bar fits a narrow window and a phone (screenshots looked
    at by a person); every control stays inside the viewport."""
    for size in ("tablet", "phone"):
        context, pg, errors = sized_page(browser, server_url, size)
        try:
            open_app(pg)
            train_to(pg, 200)
            file_menu(pg, "export-gif")
            movie_dialog(pg, size=256, seconds=10, fps=30)
            pg.click("[data-testid=movie-start]")
            pg.wait_for_function(f"/^frame ([2-9]|\\d\\d+) of /.test({PROGRESS})")
            width = SIZES[size][0]
            for testid in ("progress", "progress-text", "cancel", "start", "seconds", "fps"):
                box = pg.locator(f"[data-testid=movie-{testid}]").bounding_box()
                assert box is not None, testid
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, testid
            _shot(pg, size)
            pg.click("[data-testid=movie-cancel]")
            progress = pg.locator("[data-testid=movie-progress-text]")
            progress.filter(has_text="cancelled after").wait_for()
            assert errors == []
        finally:
            context.close()
