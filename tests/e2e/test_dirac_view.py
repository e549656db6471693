"""The game in two parameters as a learner meets it, against the real server: the section opens
below the page, draws the Dirac-GAN under the page's settings, leads with what plain gradient
steps do and then the page's Adam, and its headline changes (and flashes) once the learner
turns R1 on."""

from __future__ import annotations

import pytest
from e2e_helpers import ARTIFACTS, SIZES, open_app, set_control, sized_page


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


def _spans(page, testid: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Each sentence of a paragraph and its class (flashing: `dirac-changed`)."""
    return [
        (str(t), str(c))
        for t, c in page.locator(f"[data-testid={testid}] > span").evaluate_all(
            "spans => spans.map(s => [s.textContent, s.className])"
        )
    ]


@pytest.mark.parametrize("size", list(SIZES))
def test_plain_steps_lead_and_r1_changes_the_headline(browser, server_url, size):  # type: ignore[no-untyped-def]
    context, page, errors = sized_page(browser, server_url, size)
    try:
        open_app(page)  # the page's defaults: Adam on both sides
        section = page.locator("[data-testid=dirac-section]")
        # Closed at first: the page asks nothing until the learner opens it.
        assert not page.locator("#dirac-details").evaluate("e => e.open")
        assert page.locator("[data-testid=dirac-explain]").text_content() == ""
        section.locator("summary").click()
        plain = _explained(page)
        # First what plain gradient steps do (the game itself), then the page's Adam.
        (lead, adam) = _spans(page, "dirac-explain")
        assert lead[0].startswith(
            "In 20000 iterations of plain gradient steps at these learning rates from "
            "(θ, ψ) = (1, −1), the point winds in towards the equilibrium (0, 0)"
        ), lead
        assert adam[0].startswith("With the page's Adam instead, the point closes in"), adam
        assert lead[1] == adam[1] == ""  # nothing flashes the first time
        contrast = str(page.locator("[data-testid=dirac-sgd]").text_content())
        assert contrast.startswith("Adam gets there within these 20000 iterations though plain")
        settings = str(page.locator("[data-testid=dirac-settings]").text_content())
        assert "no penalty; alternating steps (2 D, then 1 G" in settings
        eigen = str(page.locator("[data-testid=dirac-eigen]").text_content())
        assert "−0.5i and 0.5i. They are purely imaginary: to first order" in eigen
        canvas = page.locator("[data-testid=dirac-canvas]").bounding_box()
        assert canvas and canvas["width"] >= 250 and canvas["height"] >= 250
        assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= SIZES[size][0]
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(ARTIFACTS / f"dirac-plain-{size}.png"))

        set_control(page, "loss.r1", "1")
        _explained(page, plain)
        # R1 changes what plain steps do, and that sentence of the headline flashes.
        (lead_r1, adam_r1) = _spans(page, "dirac-explain")
        assert lead_r1[0] != lead[0]
        assert "without going round it" in lead_r1[0] and lead_r1[1] == "dirac-changed"
        assert adam_r1[0].startswith("With the page's Adam instead, the point closes in")
        assert "R1 γ = 1" in str(page.locator("[data-testid=dirac-settings]").text_content())
        ((eigen_r1, eigen_class),) = _spans(page, "dirac-eigen")
        assert "Their real parts are negative" in eigen_r1 and eigen_class == "dirac-changed"
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(ARTIFACTS / f"dirac-r1-{size}.png"))
        assert not errors, errors
    finally:
        context.close()
