"""The optimal discriminator lens in the page: the heatmap switched to D* and to D − D*, the
legend saying what D* is and how each density was obtained, the URL carrying the lens, the
"Value of the game" chart, and a critic loss that gets no D − D*.

Screenshots at each size go to tests/e2e/artifacts/optimal-*.png.
"""

from __future__ import annotations

import pytest
from e2e_helpers import SIZES, canvas_png, open_app, settle, shot, sized_page

# Metric rows every 5 iterations, so that a few steps fill the value chart.
HASH = "#data.name=ring8&metrics.every=5&metrics.samples=500"


def _choose(page, mode: str) -> None:  # type: ignore[no-untyped-def]
    page.select_option("[data-testid=heat-mode]", mode)
    want = mode != "d"
    page.wait_for_function("(on) => window.ganlabTest.config.view.optimal === on", arg=want)
    page.wait_for_function(
        "(on) => (window.ganlab.run.frame.dOptimal !== null) === on", arg=want, timeout=30_000
    )
    settle(page)


def _legend(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    note = page.locator("[data-testid=heat-mode-note]")
    shown = note.is_visible()
    key = "[data-testid=undefined-key]"
    return {
        "line": page.inner_text("#d-output"),
        "ends": page.inner_text("#heat-legend"),
        # The one sentence shown, and what "How it's computed" holds (closed at first).
        "note": page.inner_text("[data-testid=heat-mode-summary]") if shown else "",
        "how": page.text_content("[data-testid=heat-mode-how]") if shown else "",
        "layer": page.inner_text("[data-testid=heat-layer-name]"),
        "key": page.inner_text(key).strip() if page.is_visible(key) else "",
    }


@pytest.mark.parametrize("size", list(SIZES))
def test_the_heatmap_shows_d_star_and_d_minus_d_star_with_their_legend(browser, server_url, size):
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page, HASH)
        for _ in range(12):
            page.click("[data-testid=step-both]")
        settle(page)
        page.wait_for_function(
            "window.ganlab.run.history.column('v_optimal').filter((v) => v !== null).length >= 1"
        )
        plain = canvas_png(page)
        words = _legend(page)
        assert words["note"] == "" and words["key"] == "" and words["layer"] == "D heatmap"

        _choose(page, "optimal")
        words = _legend(page)
        assert words["note"].startswith("D*: the best any D could say against this G")
        assert not page.is_visible("[data-testid=heat-mode-how]")  # behind its toggle
        assert "D*(x) = p_data / (p_data + p_g): the best D against this G." in words["how"]
        assert "p_g: the noise's density pushed through G" in words["how"]
        assert "p_data: the data's own density, exact." in words["how"]
        assert "Hatched ▨: neither real nor fake points go there" in words["how"]
        assert words["key"] == "undefined (no real or fake mass)"
        assert words["layer"] == "D* heatmap"
        page.click("[data-testid=heat-mode-note] summary")
        assert page.is_visible("[data-testid=heat-mode-how]")
        if size != "phone":  # the phone hides the line; the legend's ends still say it
            assert words["line"].startswith("D*(x): the optimal D 0")
        optimal = canvas_png(page)
        assert optimal != plain
        assert "view.optimal=true" in page.evaluate("location.hash")
        shot(page, f"optimal-dstar-{size}")

        _choose_gap = page.select_option("[data-testid=heat-mode]", "gap")
        assert _choose_gap == ["gap"]
        page.wait_for_function("document.querySelector('#heat-legend').innerText.includes('D*')")
        words = _legend(page)
        assert "D below D*" in words["ends"] and "D above D*" in words["ends"]
        assert words["note"].startswith("D − D*: how far D is from the best D")
        assert words["layer"] == "D − D* heatmap"
        if size != "phone":
            assert words["line"].startswith("D(x) − D*(x): −")
        gap = canvas_png(page)
        assert gap not in (plain, optimal)
        shot(page, f"optimal-gap-{size}")

        # The value chart: the bound in its help (behind "How it's computed"), its three
        # series and the line where G matches the data in the legend.
        chart = page.locator("[data-chart=value]")
        assert chart.is_visible()
        assert "G = data" in chart.locator(".chart-summary").inner_text()
        how = chart.locator(".chart-how > p").text_content() or ""
        assert "No D can score more than V(D*, G) = −log 4 + 2 JS" in how
        labels = chart.locator(".u-legend").inner_text()
        for name in ("V(D, G)", "V(D*, G)", "−log 4 + 2·JS (32×32 grid)", "G = data: −log 4"):
            assert name in labels
        if size == "laptop":
            chart.scroll_into_view_if_needed()
            shot(page, "optimal-value-chart")
            # A critic's optimum is not D*: the page offers no D − D* and says why.
            page.evaluate("window.ganlab.changeConfig('loss.kind', 'wgan_gp')")
            page.wait_for_function("window.ganlabTest.config.loss.kind === 'wgan_gp'")
            settle(page)
            assert page.locator("[data-testid=heat-mode] option[value=gap]").is_disabled()
            assert page.input_value("[data-testid=heat-mode]") == "optimal"
            words = _legend(page)
            assert "not of this critic's loss (Wasserstein + gradient penalty)" in words["note"]
            assert "wgan" not in words["note"] + words["how"]
            shot(page, "optimal-critic")

        _choose(page, "d")
        assert "view.optimal=false" in page.evaluate("location.hash")
        words = _legend(page)
        assert words["note"] == "" and words["key"] == "" and words["layer"] == "D heatmap"
        assert errors == []
    finally:
        context.close()
