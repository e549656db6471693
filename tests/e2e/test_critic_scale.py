"""D's colour scale for critic scores, against the real server: with a weight-clipped WGAN
critic (scores of order 1e-3 or less), the heat legend gives the scale's numbers, and slow
motion's classify phase colours the batch over that same scale, so its samples are not all the
"surely fake" colour. The scale is recomputed here independently from the frame's D values."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from e2e_helpers import ARTIFACTS, SIZES, open_app, set_control, settle, sized_page
from PIL import Image

NUMBER = r"[−+]?\d+(?:\.\d+)?"
MARGIN = (38, 8)  # the picture's left and top margins (distribution-renderer.js MARGIN)


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def _scale(real: np.ndarray, fake: np.ndarray, grid: np.ndarray) -> tuple[float, float]:
    """The scale as views/score-scale.js documents it: centred midway between the mean scores
    of real and fake samples, half-width the 95th percentile of |score - centre| over grid and
    samples, and at least half the gap between the means."""
    centre = (real.mean() + fake.mean()) / 2
    span = np.quantile(np.abs(np.concatenate([grid, real, fake]) - centre), 0.95)
    return float(centre), float(max(span, abs(real.mean() - fake.mean()) / 2))


def _ramp(stops: list[tuple[int, int, int]], t: float) -> np.ndarray:
    """The heatmap's colour at t in [0, 1]: linear in RGB between the palette's three stops."""
    a, b, u = (stops[0], stops[1], 2 * t) if t < 0.5 else (stops[1], stops[2], 2 * t - 1)
    return np.array(a) + (np.array(b) - np.array(a)) * u


@pytest.mark.parametrize("size", list(SIZES))
def test_a_clipped_critic_is_coloured_over_one_labelled_scale(browser, server_url, size):  # type: ignore[no-untyped-def]
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page)
        set_control(page, "loss.kind", "wgan")
        page.wait_for_function("window.ganlabTest.config.loss.kind === 'wgan'")
        toast = page.locator(".toast", has_text="usual settings")
        if toast.count():
            toast.locator("button").click()
            toast.wait_for(state="detached")
        rows = page.evaluate("window.ganlabTest.historyLength")
        page.click("[data-testid=play-pause]")
        page.wait_for_function(f"window.ganlabTest.historyLength >= {rows + 2}", timeout=90_000)
        page.click("[data-testid=play-pause]")
        settle(page)
        # The page's text follows the newest frame within a readout (not with every frame).
        page.wait_for_function("window.ganlabTest.settled && !window.ganlab.readoutsStale")
        frame, (left, right), line = page.evaluate(
            """() => [window.ganlabTest.frame(['output', 'realD', 'fakeD', 'dGrid']),
                      [...document.querySelectorAll('#heat-legend > span')].map(s => s.textContent),
                      document.getElementById('d-output').textContent]"""
        )
        assert frame["output"] == "score"
        real, fake = np.array(frame["realD"]), np.array(frame["fakeD"])
        centre, span = _scale(real, fake, np.array(frame["dGrid"]))

        # The legend: the words and the numbers at the bar's ends, all three in the line beside.
        assert re.fullmatch(f"looks fake ({NUMBER})", left), left
        assert re.fullmatch(f"({NUMBER}) looks real", right), right
        found = re.search(f"critic score ({NUMBER}) … ({NUMBER}) … ({NUMBER})", line)
        assert found, line
        low, mid, high = (_number(x) for x in found.groups())
        digits = 10 ** -len(found.group(2).split(".")[-1]) if "." in found.group(2) else 1
        assert mid == pytest.approx(centre, abs=digits)
        assert high - mid == pytest.approx(span, abs=2 * digits)
        assert mid - low == pytest.approx(span, abs=2 * digits)
        page.screenshot(path=str(ARTIFACTS / f"critic-{size}.png"), full_page=True)

        # Slow motion to D's classify phase, the rings alone on white so their fill is read.
        page.click("[data-testid=slow-motion]")
        for _ in range(2):
            page.click("[data-testid=walk-next]")
            page.wait_for_function("!window.ganlabTest.walk.pending")
        walk = page.evaluate("window.ganlabTest.walk")
        assert (walk["network"], walk["phase"]) == ("d", "classify"), walk
        page.locator("#walkthrough").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"critic-walk-{size}.png"), full_page=True)
        for layer in ("heatmap", "real", "fake", "gradients", "manifold"):
            box = page.locator(f"[data-testid=layer-{layer}]")
            if box.is_checked():
                box.uncheck()
        page.wait_for_function("window.ganlabTest.inFlight === 0")
        # The batch and where it is drawn: the test hook has no field for slow motion's rings.
        rings, view = page.evaluate(
            """() => { const a = window.ganlab; const b = a.walk.batch;
                 const v = a.view.viewport;
                 const at = (xy, d) => Array.from(d, (s, i) =>
                   [v.x(xy[2 * i]), v.y(xy[2 * i + 1]), s]);
                 return [[...at(b.real, b.dReal), ...at(b.fake, b.dFake)],
                         [v.width, v.height]]; }"""
        )
        # The walk is coloured on the scale of the picture it is drawn over.
        frame = page.evaluate("window.ganlabTest.frame(['realD', 'fakeD', 'dGrid'])")
        real, fake = np.array(frame["realD"]), np.array(frame["fakeD"])
        centre, span = _scale(real, fake, np.array(frame["dGrid"]))
        stops = page.evaluate("window.ganlab.view.palette.heat")
        stops = [tuple(int(c) for c in re.findall(r"\d+", s)) for s in stops]
        # No hover tooltip or highlight over the picture, and nothing else laid over its canvas.
        page.mouse.move(0, 0)
        covers = page.evaluate(
            """() => { const c = document.getElementById('view-canvas').getBoundingClientRect();
                 return [...document.querySelectorAll('.view-wrap > :not(canvas)')]
                   .filter(e => !e.hidden && e.offsetParent)
                   .map(e => { const r = e.getBoundingClientRect();
                     return [r.left - c.left, r.top - c.top,
                             r.right - c.left, r.bottom - c.top]; });
               }"""
        )
        # The worker draws the last state change on its own time: read the canvas once two
        # screenshots in a row agree.
        canvas = page.locator("#view-canvas")
        before = None
        for _ in range(50):
            now = canvas.screenshot()
            if now == before:
                break
            before = now
        assert now == before, "the picture never settled"
        shot = np.asarray(Image.open(io.BytesIO(now)).convert("RGB"), dtype=float)
        seen, expected, where = [], [], []
        # Where each ring is drawn: samples outside the view sit on its edge (math.js clampToView).
        drawn = [(min(max(x, 4), view[0] - 4), min(max(y, 4), view[1] - 4)) for x, y, _ in rings]
        for i, (x, y, score) in enumerate(rings):
            px, py = x + MARGIN[0], y + MARGIN[1]
            lone = all((x - q[0]) ** 2 + (y - q[1]) ** 2 > 81
                       for j, q in enumerate(drawn) if j != i)  # fmt: skip
            inside = 5 < x < view[0] - 5 and 5 < y < view[1] - 5  # not clamped to the edge
            covered = any(a - 5 < px < c + 5 and b - 5 < py < d + 5 for a, b, c, d in covers)
            if not (lone and inside) or covered:
                continue
            seen.append(shot[round(py), round(px)])
            where.append((px, py, score))
            t = min(1.0, max(0.0, 0.5 + (score - centre) / (2 * span)))
            expected.append(_ramp(stops, t))
        assert len(seen) >= 20, f"only {len(seen)} rings stand alone"
        seen_a, expected_a = np.array(seen), np.array(expected)
        # Each ring is filled with the heatmap's colour for its score on the frame's scale.
        error = np.abs(seen_a - expected_a).max(axis=1)
        worst = int(error.argmax())
        assert error[worst] <= 12, (
            where[worst],
            seen_a[worst],
            expected_a[worst],
            sorted(error)[-5:],
        )
        # And the batch is not all one colour: its rings span much of the ramp.
        assert np.ptp(seen_a, axis=0).max() > 60, np.ptp(seen_a, axis=0)
        assert errors == []
    finally:
        context.close()
