"""The gradient field layer and the packing legend against the real server on ring8 with
packing 2: the layer is off at first, turning it on draws arrows over the picture (pixels
change where the field's cells are, nowhere else), the frame carries the field and its
partner count, and the legend, the layers' explanations and the tooltip say that D's numbers
are means over packs with partners. At three screen sizes (screenshots:
tests/e2e/artifacts/field-<size>.png)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from e2e_helpers import SIZES, canvas_png, open_app, settle, shot, sized_page
from PIL import Image

HASH = "#data.name=ring8&discriminator.packing=2&view.field=12"


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_field_layer_draws_the_frames_field(browser, server_url, size):  # type: ignore[no-untyped-def]
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page, HASH)
        page.wait_for_function("window.ganlabTest.config.discriminator.packing === 2")
        page.click("[data-testid=step-both]")
        settle(page)
        f = page.evaluate("window.ganlabTest.frame(['gFieldSize', 'partners', 'gField'])")
        assert f["gFieldSize"] == 12 and len(f["gField"]) == 12 * 12 * 2
        assert f["partners"] > 1 and np.isfinite(f["gField"]).all()
        box = page.locator("[data-testid=layer-field]")
        assert not box.is_checked()  # off at first: the default picture stays uncluttered
        note = page.locator("[data-testid=packing-note]")
        assert note.is_visible() and "averages over packs" in note.inner_text()
        how = page.text_content("[data-testid=packing-how]") or ""
        assert f"{f['partners']} packs" in how
        heat_title = page.locator("[data-testid=layer-heatmap]").evaluate(
            "e => e.closest('label').title"
        )
        assert "current fake samples" in heat_title and f"{f['partners']} packs" in heat_title

        before = _pixels(canvas_png(page))
        box.check()
        page.wait_for_function("window.ganlabTest.inFlight === 0")
        after = _pixels(canvas_png(page))
        changed = np.abs(after - before).sum(axis=2) > 30
        # Arrows: at least a few pixels in most of the 144 cells (a 20-cell-wide field would
        # not be drawn at all if the layer were ignored).
        assert changed.sum() >= 3 * 144, changed.sum()
        field_title = box.evaluate("e => e.closest('label').title")
        assert "minus the gradient of G's loss" in field_title and "packs" in field_title
        explained = page.locator("[data-testid=explain-packing-note]").text_content()
        assert f"{f['partners']} packs" in explained
        shot(page, f"field-{size}")
        assert not errors, errors
    finally:
        context.close()
