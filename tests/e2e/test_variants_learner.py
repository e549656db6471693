"""The training variants as a learner meets them, against the real server: what the page says
the dots are when it shows the averaged generator, and what slow motion says about an update
that the variants change.

With `view.average` on (and an EMA), the picture, its samples and the sample metrics come from
the moving average of G's weights, so every place that names the fake dots says so; with no
average to show it says G itself is shown. Slow motion's sentences follow the variant too.
"""

from __future__ import annotations

import json
import re

import pytest
from e2e_helpers import ARTIFACTS, open_app, set_control, settle

SIZES = {"laptop": (1280, 800), "tablet": (800, 900), "phone": (390, 844)}


def _wait_config(page, path: str, value: object) -> None:  # type: ignore[no-untyped-def]
    """Wait until the server's config has `value` at the dotted `path`."""
    page.wait_for_function(
        """([path, value]) => { const c = window.ganlabTest.config;
             return JSON.stringify(path.split('.').reduce((o, k) => o && o[k], c)) === value; }""",
        arg=[path, json.dumps(value)],
    )


def _fake_label(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Everything the page says about the picture's fake dots now."""
    return page.evaluate(
        """() => ({
             tag: document.getElementById('fake-tag').textContent,
             title: document.querySelector('[data-layer=fake]').closest('label').title,
             canvas: document.getElementById('view-canvas').getAttribute('aria-label'),
             explain: document.getElementById('explain-fake-note').textContent,
             charts: document.getElementById('charts-note').hidden
               ? '' : document.getElementById('charts-note').textContent,
             legend: window.ganlabTest.exportLegend().join(' | '),
           })"""
    )


def _hover_fake(page) -> str:  # type: ignore[no-untyped-def]
    """Point at fake sample 0 and return the tooltip's text (it names the nearest sample)."""
    x, y = page.evaluate("window.ganlabTest.viewPoint(0)")
    box = page.locator("#view-canvas").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = page.locator("#view-tooltip")
    tooltip.wait_for(state="visible")
    text: str = tooltip.inner_text()
    page.mouse.move(1, 1)
    return text


@pytest.mark.parametrize("size", list(SIZES))
def test_the_page_names_the_averaged_generator_wherever_it_describes_the_dots(  # type: ignore[no-untyped-def]
    browser, server_url, size
):
    w, h = SIZES[size]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    errors: list[str] = []

    def on_console(m):  # type: ignore[no-untyped-def]
        if m.type == "error":
            errors.append(m.text)

    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", on_console)
    page.base_url = server_url
    try:
        open_app(page)
        plain = _fake_label(page)
        assert plain["tag"] == "" and plain["explain"] == "" and plain["charts"] == ""
        assert "fake samples" in plain["legend"].split(" | ")

        set_control(page, "generator.ema", "0.999")
        _wait_config(page, "generator.ema", 0.999)
        # The weight average keeps G's weights: nothing says it starts afresh.
        assert page.locator(".toast", has_text="fresh weights").count() == 0
        set_control(page, "view.average", "true")
        _wait_config(page, "view.average", True)
        # Train a little, so the average and G differ.
        page.select_option("[data-testid=speed]", "")
        page.click("[data-testid=play-pause]")
        page.wait_for_function("window.ganlabTest.counters().g >= 150", timeout=30_000)
        page.click("[data-testid=play-pause]")
        settle(page)

        words = _fake_label(page)
        assert words["tag"] == "(averaged G)"
        assert page.locator("#fake-tag").is_visible()
        assert "averaged generator's (EMA 0.999), not the one being trained" in words["title"]
        assert "(averaged G, EMA 0.999)" in words["canvas"]
        assert "fake samples (averaged G, EMA 0.999)" in words["legend"].split(" | ")
        assert "averaged G manifold" in words["legend"].split(" | ")
        assert "averaged generator (EMA 0.999)" in words["explain"]
        assert "averaged G's samples" in words["charts"]
        # The nearest sample answers: in a dense cluster it need not be sample 0.
        assert re.match(r"fake \(averaged G\) #\d+ ", _hover_fake(page))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"learner-averaged-{size}.png"))

        # The label is true: the same noise gives other points with the average turned off.
        averaged = page.evaluate("window.ganlabTest.frame(['fake']).fake")
        set_control(page, "view.average", "false")
        _wait_config(page, "view.average", False)
        settle(page)
        itself = page.evaluate("window.ganlabTest.frame(['fake']).fake")
        assert max(abs(a - b) for a, b in zip(averaged, itself, strict=True)) > 1e-3
        assert _fake_label(page)["tag"] == ""

        # On, but with EMA 0 there is no average: the page says G itself is shown.
        set_control(page, "view.average", "true")
        _wait_config(page, "view.average", True)
        set_control(page, "generator.ema", "0")
        _wait_config(page, "generator.ema", 0)
        settle(page)
        words = _fake_label(page)
        assert words["tag"] == "(G itself)"
        assert "fake samples (G itself: there is no average while EMA is 0)" in words[
            "legend"
        ].split(" | ")
        assert "G manifold" in words["legend"].split(" | ")
        assert "no average while EMA is 0" in words["title"]
        assert words["charts"] == ""
        assert re.match(r"fake \(G itself\) #\d+ ", _hover_fake(page))
        page.screenshot(path=str(ARTIFACTS / f"learner-average-without-ema-{size}.png"))
        assert errors == []
    finally:
        context.close()


def test_slow_motion_says_g_is_judged_by_the_unrolled_d(page):  # type: ignore[no-untyped-def]
    open_app(page)
    set_control(page, "training.unrolled_steps", "3")
    _wait_config(page, "training.unrolled_steps", 3)
    page.click("[data-testid=slow-motion]")
    text = page.locator("#walk-text")
    seen = []
    for _ in range(40):  # D's updates of the iteration, then G's first phases
        page.click("[data-testid=walk-next]")
        page.wait_for_function("!window.ganlabTest.walk.pending")
        walk = page.evaluate("window.ganlabTest.walk")
        seen.append((walk["network"], walk["phase"]))
        if walk["network"] == "d" and walk["phase"] == "classify":
            assert text.inner_text().startswith("D scores every sample of the batch")
        if walk["network"] == "g" and walk["phase"] == "classify":
            break
    assert seen[-1] == ("g", "classify"), seen
    said = text.inner_text()
    assert said.startswith("D's own weights stay fixed, but G is judged by a look-ahead copy")
    assert "D after 3 simulated updates on fresh batches" in said
    assert "held fixed now) scores" not in said
    page.click("[data-testid=walk-next]")
    page.wait_for_function("(w => w.phase === 'loss' && !w.pending)(window.ganlabTest.walk)")
    assert "the look-ahead D mistakes its samples" in text.inner_text()
    page.screenshot(path=str(ARTIFACTS / "learner-walk-unrolled.png"))
    assert page.errors == []
