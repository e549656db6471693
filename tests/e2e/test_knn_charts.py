"""Precision/recall and density/coverage in the page, against the real server on ring8: each
chart plots its two scores with a band series per score whose legend reads the server's
real-vs-real baseline, shades the bands under its lines, and says in its help what the scores
mean and how they are estimated; the reverse KL chart shows its band too. At three screen sizes
(screenshots, each chart in view: tests/e2e/artifacts/knn-<size>-<chart>.png)."""

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

KNN = {"precision-recall": ("precision", "recall"), "density-coverage": ("density", "coverage")}
BAND = "two real samples (5–95%)"


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple[float, float, float]]:
    """The bands the server should send for ring8 at the default metrics settings."""
    bands = real_baseline(resolve(DataConfig(name="ring8")), 2000, 500, 30)
    return {name: (b.mean, b.low, b.high) for name, b in bands.items()}


def _band_values(text: str) -> list[float]:
    match = re.fullmatch(r"(\S+) \((\S+)–(\S+)\)", text)
    assert match, text
    return [float(x) for x in match.groups()]


@pytest.mark.parametrize("size", list(SIZES))
def test_ring8_knn_charts_show_their_scores_and_bands(browser, server_url, size, expected):  # type: ignore[no-untyped-def]
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page, "#data.name=ring8&metrics.every=20")
        page.wait_for_function("window.ganlabTest.config.data.name === 'ring8'")
        play_rows(page)
        page.wait_for_function(
            "document.querySelectorAll('[data-chart=density-coverage] .u-legend .u-series')"
            ".length === 5"
        )

        for chart, (a, b) in KNN.items():
            legend = chart_legend(page, chart)
            assert list(legend) == ["iteration", a, b, f"{a}: {BAND}", f"{b}: {BAND}"], chart
            for name in (a, b):
                shown = _band_values(legend[f"{name}: {BAND}"])
                assert shown == [three_digits(v) for v in expected[name]], name
                value = float(legend[name])  # the newest row's score, a number
                assert 0.0 <= value <= (3.0 if name == "density" else 1.0), (name, value)
            widest, width = translucent_rows(page, chart)
            assert widest >= 0.6 * width, (chart, widest, width)

        # One plain line shown; how it is computed behind a closed toggle.
        pr = "[data-chart=precision-recall]"
        assert page.inner_text(f"{pr} .chart-summary").startswith(
            "Precision: how many fakes look real. Recall: how much of the data G reaches."
        )
        assert page.is_visible(f"{pr} .chart-how > summary")
        assert not page.is_visible(f"{pr} .chart-how > p")
        help_pr = page.text_content(f"{pr} .chart-how > p") or ""
        assert "Precision: the share of generated samples inside some real sample's ball" in help_pr
        assert "its 5th nearest neighbour" in help_pr
        assert "k-NN estimates, k = 5, on 1,000 samples a side" in help_pr
        assert "a second real sample of 1,000 points" in help_pr
        assert "Recall and coverage can disagree" in help_pr
        page.click(f"{pr} .chart-how > summary")
        assert page.is_visible(f"{pr} .chart-how > p")
        # Precision's and recall's bands both lie near 0.98: the chart says both are there.
        note = page.inner_text(f"{pr} .chart-band-note")
        assert note.startswith("The precision and recall bands overlap ("), note
        help_dc = page.text_content("[data-chart=density-coverage] .chart-help") or ""
        assert "share of real samples whose ball holds at least one generated" in help_dc

        # The reverse KL's band: one real sample's own score.
        rkl = chart_legend(page, "reverse-kl")
        shown = _band_values(rkl["a real sample (5–95%)"])
        assert shown == [three_digits(v) for v in expected["reverse_kl"]]
        assert "what a real sample of 2,000 points scores" in (
            page.text_content("[data-chart=reverse-kl] .chart-how") or ""
        )
        # Its numbers in one notation: all exponents or none.
        band_text = rkl["a real sample (5–95%)"]
        assert band_text.count("e") in (0, 3), band_text
        assert translucent_rows(page, "reverse-kl")[0] >= 0.6 * width
        widest, width = translucent_rows(page, "losses")
        assert widest < 0.2 * width, ("no band on the loss chart", widest, width)

        for chart in [*KNN, "reverse-kl"]:
            assert chart_fits(page, chart), chart
        # What a learner sees: each chart scrolled to the bottom of the window (on a phone the
        # picture stays on top, and the charts scroll under it).
        for chart in [*KNN, "reverse-kl"]:
            page.locator(f"[data-chart={chart}]").evaluate("e => e.scrollIntoView({block: 'end'})")
            page.screenshot(path=str(ARTIFACTS / f"knn-{size}-{chart}.png"))
        assert not errors, errors
    finally:
        context.close()
