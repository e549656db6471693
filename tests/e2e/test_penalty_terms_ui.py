"""D's penalties as a learner meets them, against the real server: with WGAN-GP, slow motion's
loss phase lists D's objective, the weighted gradient penalty and the total D minimises, and
the loss chart draws the penalty and the total as series of their own."""

from __future__ import annotations

import json

import pytest
from e2e_helpers import ARTIFACTS, SIZES, chart_legend, open_app, set_control, settle, sized_page


def _wait_config(page, path: str, value: object) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        """([path, value]) => { const c = window.ganlabTest.config;
             return JSON.stringify(path.split('.').reduce((o, k) => o && o[k], c)) === value; }""",
        arg=[path, json.dumps(value)],
    )


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


@pytest.mark.parametrize("size", list(SIZES))
def test_wgan_gp_shows_its_penalty_in_slow_motion_and_in_the_loss_chart(  # type: ignore[no-untyped-def]
    browser, server_url, size
):
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page)
        # The log loss has no penalty: its chart shows D's and G's losses alone.
        page.click("[data-testid=play-pause]")
        page.wait_for_function("window.ganlabTest.historyLength >= 1", timeout=60_000)
        page.click("[data-testid=play-pause]")
        settle(page)
        page.wait_for_function(
            "document.querySelectorAll('[data-chart=losses] .u-legend .u-series').length >= 3"
        )
        plain = chart_legend(page, "losses")
        assert "D loss" in plain and "G loss" in plain
        assert not any("penalty" in label or "total" in label for label in plain), plain

        set_control(page, "loss.kind", "wgan_gp")
        _wait_config(page, "loss.kind", "wgan_gp")
        # The note that the loss's recipe was applied would cover the charts' screenshots.
        page.locator(".toast", has_text="usual settings").locator("button").click()
        page.locator(".toast", has_text="usual settings").wait_for(state="detached")
        gp_weight = page.evaluate("window.ganlabTest.config.loss.gp_weight")
        assert gp_weight > 0
        rows_before = page.evaluate("window.ganlabTest.historyLength")
        page.click("[data-testid=play-pause]")
        page.wait_for_function(f"window.ganlabTest.historyLength >= {rows_before + 2}",
                               timeout=90_000)  # fmt: skip
        page.click("[data-testid=play-pause]")
        settle(page)
        page.wait_for_function(
            "[...document.querySelectorAll('[data-chart=losses] .u-label')]"
            ".some(e => e.textContent.includes('GP'))"
        )
        legend = chart_legend(page, "losses")
        assert list(legend) == [
            "iteration", "D loss (objective only)", "G loss", "λ·GP (weighted penalty)",
            "D total = loss + penalties",
        ]  # fmt: skip
        gp = _number(legend["λ·GP (weighted penalty)"])
        total = _number(legend["D total = loss + penalties"])
        objective = _number(legend["D loss (objective only)"])
        assert gp > 0
        # The legend shows three significant digits of each.
        assert total == pytest.approx(objective + gp, rel=0.02, abs=0.02)
        chart = page.locator("[data-chart=losses]")
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(ARTIFACTS / f"penalty-chart-{size}.png"))

        # Slow motion: D's turn, to its loss phase.
        page.click("[data-testid=slow-motion]")
        for _ in range(3):
            page.click("[data-testid=walk-next]")
            page.wait_for_function("!window.ganlabTest.walk.pending")
        walk = page.evaluate("window.ganlabTest.walk")
        assert (walk["network"], walk["phase"]) == ("d", "loss"), walk
        text = page.locator("#walk-text").inner_text()
        assert text.startswith("D's loss measures how wrong those verdicts are")
        assert "D minimises the total" in text
        assert "λ·GP = λ·mean (|∇D| − 1)² at random points between a real and a fake" in text
        values = page.evaluate(
            """() => [...document.querySelectorAll('#walk-values dt')]
                 .map(dt => [dt.textContent, dt.nextElementSibling.textContent])"""
        )
        labels = [k for k, _ in values]
        assert labels == ["d loss (objective)", f"+ λ·GP (λ = {gp_weight:g})",
                          "= total D minimises"]  # fmt: skip
        shown = [_number(v) for _, v in values]
        assert shown[1] > 0
        assert shown[2] == pytest.approx(shown[0] + shown[1], rel=0.02, abs=0.02)
        panel = page.locator("#walkthrough")
        panel.scroll_into_view_if_needed()
        # Nothing of the panel runs off the side of a narrow screen.
        assert page.evaluate(
            "(() => { const p = document.getElementById('walkthrough');"
            " return p.scrollWidth <= p.clientWidth + 1 &&"
            " p.getBoundingClientRect().right <= window.innerWidth + 1; })()"
        )
        panel.screenshot(path=str(ARTIFACTS / f"penalty-walk-{size}.png"))
        page.screenshot(path=str(ARTIFACTS / f"penalty-page-{size}.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
