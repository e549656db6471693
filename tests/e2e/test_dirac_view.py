"""The game in two parameters as a learner meets it, against the real server: the section opens
below the page, draws the Dirac-GAN under the page's settings, and says something else once
the learner turns R1 on."""

from __future__ import annotations

import pytest
from e2e_helpers import ARTIFACTS, SIZES, open_app, sized_page

# Plain GAN (minimax G), alternating single updates with plain SGD: the point circles.
PLAIN = (
    "#loss.generator=minimax&training.d_steps=1&g_optimizer.kind=sgd&g_optimizer.lr=0.05"
    "&d_optimizer.kind=sgd&d_optimizer.lr=0.05"
)


def _set_number(page, path: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Type a value into a setting as a learner does: open its node (and its more settings),
    type, close."""
    control = page.locator(f"[data-testid='ctl-{path}']")
    node = control.evaluate("e => e.closest('.node-panel').dataset.panel")
    page.click(f"[data-testid=node-{node}]")
    if control.evaluate("e => Boolean(e.closest('details')) && !e.closest('details').open"):
        page.locator(f"[data-panel={node}] details.advanced > summary").click()
    control.wait_for(state="visible")
    control.fill(value)
    control.dispatch_event("change")
    page.keyboard.press("Escape")
    page.locator("#node-popover").wait_for(state="hidden")


def _explained(page, not_before: str = "") -> str:  # type: ignore[no-untyped-def]
    """The explanation once an answer newer than `not_before` is shown."""
    page.wait_for_function(
        """old => { const t = document.querySelector('[data-testid=dirac-explain]').textContent;
                    const s = document.querySelector('[data-testid=dirac-status]').textContent;
                    return t && t !== old && !s; }""",
        arg=not_before,
        timeout=30_000,
    )
    return str(page.locator("[data-testid=dirac-explain]").text_content())


@pytest.mark.parametrize("size", list(SIZES))
def test_the_game_follows_the_page_and_r1_makes_it_converge(browser, server_url, size):  # type: ignore[no-untyped-def]
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page, PLAIN)
        section = page.locator("[data-testid=dirac-section]")
        # Closed at first: the page asks nothing until the learner opens it.
        assert not page.locator("#dirac-details").evaluate("e => e.open")
        assert page.locator("[data-testid=dirac-explain]").text_content() == ""
        section.locator("summary").click()
        plain = _explained(page)
        assert plain.startswith("In 20000 iterations from (θ, ψ) = (1, -1), the point circles")
        settings = str(page.locator("[data-testid=dirac-settings]").text_content())
        assert "minimax G; no penalty; alternating steps (1 D, then 1 G" in settings
        assert "G: SGD (lr 0.05), D: SGD (lr 0.05)" in settings
        # Both players already take plain SGD steps: no comparison with it.
        assert page.locator("[data-testid=dirac-sgd]").text_content() == ""
        eigen = str(page.locator("[data-testid=dirac-eigen]").text_content())
        assert "purely imaginary: to first order" in eigen
        canvas = page.locator("[data-testid=dirac-canvas]").bounding_box()
        assert canvas and canvas["width"] >= 250 and canvas["height"] >= 250
        assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= SIZES[size][0]
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(ARTIFACTS / f"dirac-plain-{size}.png"))

        _set_number(page, "loss.r1", "1")
        with_r1 = _explained(page, plain)
        assert "closes in on the equilibrium (0, 0)" in with_r1
        assert "R1 γ = 1" in str(page.locator("[data-testid=dirac-settings]").text_content())
        assert "all real parts are negative" in str(
            page.locator("[data-testid=dirac-eigen]").text_content()
        )
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(ARTIFACTS / f"dirac-r1-{size}.png"))
        assert not errors, errors
    finally:
        context.close()
