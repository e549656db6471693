"""The real-vs-real baseline in the page, against the real server on grid25: the KL/JS and W1
charts have band series whose legend reads the server's baseline and a shaded band under its
lines, with help saying what it is, at three screen sizes (screenshots:
tests/e2e/artifacts/baseline-*.png)."""

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
    three_digits,
    translucent_rows,
)

from ganlab.engine.config import DataConfig
from ganlab.engine.distributions import resolve
from ganlab.engine.evaluation import real_baseline

BAND_CHARTS = ["divergence", "w1"]


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple[float, float, float]]:
    """The band the server should send for grid25 at the default metrics settings."""
    bands = real_baseline(resolve(DataConfig(name="grid25")), 2000, 500, 30)
    return {name: (b.mean, b.low, b.high) for name, b in bands.items()}


@pytest.mark.parametrize("size", list(SIZES))
def test_grid25_divergence_charts_show_the_real_baseline(browser, server_url, size, expected):  # type: ignore[no-untyped-def]
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page, "#data.name=grid25&metrics.every=20")
        page.wait_for_function("window.ganlabTest.config.data.name === 'grid25'")
        play_rows(page)
        page.wait_for_function(
            "document.querySelectorAll('[data-chart=w1] .u-legend .u-series').length === 3"
        )

        # Each band's legend: the server's mean and its 5th-95th percentiles, as computed here.
        div = chart_legend(page, "divergence")
        band = "two real samples (5–95%)"
        assert list(div) == ["iteration", "KL(real‖fake)", "JS", f"KL: {band}", f"JS: {band}"]
        w1 = chart_legend(page, "w1")
        assert list(w1) == ["iteration", "W1", "two real samples (5–95%)"]
        for value, name in ((div["KL: two real samples (5–95%)"], "kl_grid"),
                            (div["JS: two real samples (5–95%)"], "js_grid"),
                            (w1["two real samples (5–95%)"], "w1")):  # fmt: skip
            match = re.fullmatch(r"(\S+) \((\S+)–(\S+)\)", value)
            assert match, value
            shown = [float(x) for x in match.groups()]
            assert shown == [three_digits(v) for v in expected[name]], name

        # A plain line shown, with the band in it; how the band is made behind the toggle.
        assert page.inner_text("[data-chart=w1] .chart-summary").endswith(
            "Shaded band: real data scored against itself."
        )
        help_w1 = page.text_content("[data-chart=w1] .chart-how > p") or ""
        assert "two independent real samples of 500 points each" in help_w1
        assert "5–95% over 12 pairs" in help_w1
        assert not page.is_visible("[data-chart=w1] .chart-how > p")
        help_div = page.text_content("[data-chart=divergence] .chart-how > p") or ""
        assert "2,000 points each" in help_div

        # The bands are drawn: translucent fill across each plot; none on the loss chart.
        # On the log scale, where a band near 0 under a line far above it is more than a
        # couple of pixels, a row of each band spans the plot (with no band: a row has under
        # a fifth, from the lines' anti-aliased edges).
        page.check("#log-scale")
        page.wait_for_function(
            "document.querySelectorAll('[data-chart=w1] .u-legend .u-series').length === 3"
        )
        for chart in ("w1", "divergence"):
            filled, width = translucent_rows(page, chart)
            assert filled >= 0.6 * width, (chart, filled, width)
        filled, width = translucent_rows(page, "losses")
        assert filled < 0.2 * width, (filled, width)

        # Nothing runs off its chart or the screen.
        for chart in BAND_CHARTS:
            assert chart_fits(page, chart), chart
        block = page.locator(".charts-block")
        block.scroll_into_view_if_needed()
        block.screenshot(path=str(ARTIFACTS / f"baseline-{size}.png"))
        assert not errors, errors
    finally:
        context.close()
