"""The mode metrics in the page, against the real server on ring8: the high-quality fraction and
reverse KL charts with their help text, and the live per-mode histogram of eight bars, at three
screen sizes (screenshots: tests/e2e/artifacts/modes-*.png)."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import (
    ARTIFACTS,
    SIZES,
    chart_fits,
    chart_legend,
    open_app,
    play_rows,
    sized_page,
)

MODE_CHARTS = ["modes", "quality", "reverse-kl", "mode-histogram"]


@pytest.mark.parametrize("size", list(SIZES))
def test_ring8_shows_quality_reverse_kl_and_eight_mode_bars(browser, server_url, size):  # type: ignore[no-untyped-def]
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page, "#data.name=ring8&metrics.every=20")
        page.wait_for_function("window.ganlabTest.config.data.name === 'ring8'")
        play_rows(page)
        bars = page.locator("[data-chart=mode-histogram] [data-testid=mode-bar]")
        page.wait_for_function(
            "document.querySelectorAll('[data-chart=mode-histogram] [data-testid=mode-bar]')"
            ".length > 0"
        )
        assert bars.count() == 8
        for chart in MODE_CHARTS:
            assert page.locator(f"[data-chart={chart}]").is_visible(), chart

        # The two new series, with values, and help that says what they are and on how many.
        quality = chart_legend(page, "quality")
        assert list(quality) == ["iteration", "high quality"]
        assert 0.0 <= float(quality["high quality"]) <= 1.0
        rkl = chart_legend(page, "reverse-kl")
        # (and the real-sample band, once the server's baseline has come: test_knn_charts.py)
        assert list(rkl)[:2] == ["iteration", "KL(q ‖ uniform)"]
        assert 0.0 <= float(rkl["KL(q ‖ uniform)"]) <= 2.08  # at most ln 8
        help_quality = page.inner_text("[data-chart=quality] .chart-help")
        assert "2,000 generated samples" in help_quality and "within 3σ" in help_quality
        assert "ln 8 = 2.08" in page.inner_text("[data-chart=reverse-kl] .chart-summary")
        help_rkl = page.text_content("[data-chart=reverse-kl] .chart-how > p") or ""
        assert "nearest each mode" in help_rkl

        # The bars are the latest row's: the shares nearest each mode add up to the whole, and
        # the caption's high-quality share is the chart's latest value (read together: a row
        # may still arrive after the pause).
        titles, caption, latest = page.evaluate(
            """() => [[...document.querySelectorAll('[data-chart=mode-histogram] .mode-bar title')]
                        .map(t => t.textContent),
                      document.querySelector('[data-testid=mode-caption]').textContent,
                      document.querySelector('[data-chart=quality] .u-series:nth-child(2) .u-value')
                        .textContent]"""
        )
        shares = [float(re.search(r": ([\d.]+)% of samples", t).group(1)) for t in titles]
        assert sum(shares) == pytest.approx(100, abs=0.5 * len(shares))
        assert "8 modes, 2,000 samples at iteration" in caption
        shown = float(re.search(r"; ([\d.]+)% high quality", caption).group(1))
        assert shown == pytest.approx(100 * float(latest), abs=1.0)

        # Nothing runs off its chart or the screen.
        for chart in MODE_CHARTS:
            assert chart_fits(page, chart), chart
        block = page.locator(".charts-block")
        block.scroll_into_view_if_needed()
        block.screenshot(path=str(ARTIFACTS / f"modes-{size}.png"))
        assert errors == []
    finally:
        context.close()
