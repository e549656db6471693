"""The real density layer in the page: the true density of a registered or drawn distribution,
a cross-validated estimate for imported points, and a label that says which.

Screenshots of the layer on ring8, grid25, gaussians, swissroll and a drawing, at three sizes,
go to tests/e2e/artifacts/density-*.png.
"""

from __future__ import annotations

import pytest
from e2e_helpers import ARTIFACTS, SIZES, draw_stroke, open_app, settle


def _kind(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("window.ganlabTest.frame(['realDensityKind']).realDensityKind")  # type: ignore[no-any-return]


def _label(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "tag": page.inner_text("[data-testid=density-tag]"),
        "title": page.get_attribute("[data-testid=layer-contour-label]", "title") or "",
        "note": page.inner_text("[data-testid=explain-density-note]"),
    }


def _wait_kind(page, kind: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "(k) => window.ganlabTest.frame(['realDensityKind']).realDensityKind === k", arg=kind
    )
    settle(page)


def _draw(page) -> None:  # type: ignore[no-untyped-def]
    page.click("[data-testid=draw]")
    clear = page.locator("[data-testid=draw-clear]")
    if clear.is_enabled():  # strokes of an earlier drawing are kept
        clear.click()
    draw_stroke(page, [(0.15, 0.2), (0.3, 0.75), (0.5, 0.85), (0.7, 0.75), (0.85, 0.2)])
    draw_stroke(page, [(0.3, 0.45), (0.7, 0.45)])
    page.click("[data-testid=draw-apply]")
    page.wait_for_function("window.ganlabTest.config.data.name === 'drawing'")


def _view(page) -> bytes:  # type: ignore[no-untyped-def]
    page.wait_for_function("window.ganlabTest.inFlight === 0")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page.locator(".view-wrap").screenshot()  # type: ignore[no-any-return]


def test_the_label_says_true_on_ring8_and_estimated_on_imported_points(page, tmp_path):
    open_app(page, "#data.name=ring8")
    _wait_kind(page, "exact")
    words = _label(page)
    assert words["tag"] == "(true)"
    assert "true density of the distribution" in words["title"]
    assert "90%, 60% and 30%" in words["title"]
    assert "true density of the distribution" in words["note"]
    # Imported points without jitter have no density: the page estimates one and says so.
    points = tmp_path / "ring.csv"
    rows = [f"{x:.4f},{y:.4f}" for x, y in
            [((-1) ** k * 0.5 + 0.01 * (k % 7), 0.02 * (k % 5)) for k in range(80)]]  # fmt: skip
    points.write_text("x,y\n" + "\n".join(rows) + "\n")
    page.set_input_files("[data-testid=import]", str(points))
    page.wait_for_function("window.ganlabTest.config.data.name === 'points'")
    _wait_kind(page, "kde")
    words = _label(page)
    width = page.evaluate("window.ganlabTest.frame(['realDensityWidth']).realDensityWidth")
    assert words["tag"] == "(estimated)"
    assert "estimated from the data (kernel density, width" in words["title"]
    assert "chosen by cross-validation" in words["title"]
    shown = words["title"].split("width ")[1].split(" ")[0]
    assert float(shown) == pytest.approx(width, rel=0.01)
    assert "estimated from the data" in words["note"]
    page.check("[data-testid=layer-contour]")
    _view(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#view-panel").screenshot(path=str(ARTIFACTS / "density-points-estimated.png"))
    # A drawing's law is known exactly (even along the strokes, blurred by the brush).
    _draw(page)
    _wait_kind(page, "exact")
    assert _label(page)["tag"] == "(true)"
    assert page.errors == []


@pytest.mark.parametrize("size", list(SIZES))
def test_the_true_density_is_drawn_at_every_size(page, size):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    ARTIFACTS.mkdir(exist_ok=True)
    for name in ["ring8", "grid25", "gaussians", "swissroll", "drawing"]:
        if name == "drawing":
            _draw(page)
        else:
            open_app(page, f"#data.name={name}")
        _wait_kind(page, "exact")
        page.uncheck("[data-testid=layer-contour]")
        without = _view(page)
        page.check("[data-testid=layer-contour]")
        with_lines = _view(page)
        assert with_lines != without, f"{name}: the contour layer draws nothing"
        page.locator("#view-panel").screenshot(path=str(ARTIFACTS / f"density-{name}-{size}.png"))
    assert page.errors == []
