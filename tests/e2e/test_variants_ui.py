"""The training variants and each loss's recipe in the page, against the real server.

Picking a loss in the loss node applies its usual settings (GET /api/losses) in the same change;
the learner can change them afterwards. Spectral norm, the generator's weight average and the
averaged view are set from the graph's settings and reach the server's config.
"""

from __future__ import annotations

import json
from typing import Any

from e2e_helpers import ARTIFACTS, open_app, set_control, settle

NEW_CONTROLS = {
    "discriminator": ["discriminator.spectral_norm", "training.d_steps"],
    "generator": ["generator.ema", "view.average", "training.g_steps"],
    "loss": [
        "training.scheme",
        "training.unrolled_steps",
        "training.instance_noise",
        "training.instance_noise_anneal",
    ],
}
SIZES = {"laptop": (1280, 800), "tablet": (800, 900), "phone": (390, 844)}


def _config(page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The config in effect, as the server's last `config` event said it."""
    return page.evaluate("window.ganlabTest.config")  # type: ignore[no-any-return]


def _wait_config(page, path: str, value: object) -> None:  # type: ignore[no-untyped-def]
    """Wait until the server's config has `value` at the dotted `path`."""
    page.wait_for_function(
        """([path, value]) => { const c = window.ganlabTest.config;
             return JSON.stringify(path.split('.').reduce((o, k) => o && o[k], c)) === value; }""",
        arg=[path, json.dumps(value)],
    )


def _leaves(obj: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in obj.items():
        path = f"{prefix}.{key}" if prefix else key
        out.extend(_leaves(value, path) if isinstance(value, dict) else [(path, value)])
    return out


def _get(config: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        config = config[key]
    return config


def _open_settings(page, path: str) -> None:  # type: ignore[no-untyped-def]
    """Open the settings of the node a control sits in, and its "more settings" if it is there."""
    control = page.locator(f"[data-testid='ctl-{path}']")
    node = control.evaluate("e => e.closest('.node-panel').dataset.panel")
    if page.locator("#node-popover").is_hidden() or not control.evaluate(
        "e => !e.closest('.node-panel').hidden"
    ):
        page.click(f"[data-testid=node-{node}]")
    advanced = control.evaluate("e => Boolean(e.closest('details')) && !e.closest('details').open")
    if advanced:
        page.locator(f"[data-panel={node}] details.advanced > summary").click()
    control.wait_for(state="visible")


def _set_advanced(page, path: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Choose or type a value in a control of "more settings", as a learner does."""
    _open_settings(page, path)
    control = page.locator(f"[data-testid='ctl-{path}']")
    if control.evaluate("e => e.tagName") == "SELECT":
        control.select_option(value)
    else:
        control.fill(value)
        control.dispatch_event("change")
    page.keyboard.press("Escape")


def _click_box(page, path: str) -> None:  # type: ignore[no-untyped-def]
    """Tick or untick a yes/no setting by clicking it."""
    _open_settings(page, path)
    page.locator(f"[data-testid='ctl-{path}']").click()
    page.keyboard.press("Escape")


def test_picking_a_loss_applies_its_recipe_and_the_learner_can_change_it(page):
    open_app(page)
    losses = {
        item["name"]: item for item in page.evaluate("fetch('api/losses').then(r => r.json())")
    }
    recipe = losses["wgan_gp"]["recipe"]
    # WGAN-GP's usual settings (Gulrajani et al. 2017): five critic steps, Adam β = 0.5, 0.9
    # for the critic (the generator's are tuned for these small networks: recipes.py).
    assert recipe["training"]["d_steps"] == 5
    assert [recipe["d_optimizer"]["beta1"], recipe["d_optimizer"]["beta2"]] == [0.5, 0.9]
    g_betas = [str(recipe["g_optimizer"]["beta1"]), str(recipe["g_optimizer"]["beta2"])]
    before = _config(page)
    assert before["loss"]["kind"] != "wgan_gp"
    assert before["training"]["d_steps"] != 5 and before["d_optimizer"]["beta1"] != 0.5

    set_control(page, "loss.kind", "wgan_gp")
    _wait_config(page, "loss.kind", "wgan_gp")
    config = _config(page)
    for path, value in _leaves(recipe):
        assert _get(config, path) == value, path
    # The controls show the new values.
    value = lambda path: page.input_value(f"[data-testid='ctl-{path}']")  # noqa: E731
    assert value("training.d_steps") == "5"
    assert [value("d_optimizer.beta1"), value("d_optimizer.beta2")] == ["0.5", "0.9"]
    assert [value("g_optimizer.beta1"), value("g_optimizer.beta2")] == g_betas
    assert value("loss.kind") == "wgan_gp"
    # The learner is told, briefly, what was applied.
    toast = page.locator(".toast-info", has_text="usual settings were applied")
    toast.wait_for()
    assert "Wasserstein" in toast.inner_text() and "5 D updates" in toast.inner_text()
    page.screenshot(path=str(ARTIFACTS / "variants-recipe-toast.png"))
    assert "5×" in page.inner_text("[data-testid=node-discriminator] .node-summary")

    # A setting the recipe chose can be changed afterwards, and the change sticks.
    set_control(page, "training.d_steps", "2")
    _wait_config(page, "training.d_steps", 2)
    d_before = page.evaluate("window.ganlabTest.counters()")["d"]
    page.click("[data-testid=step-both]")
    settle(page)
    config = _config(page)
    assert config["training"]["d_steps"] == 2
    assert config["loss"]["kind"] == "wgan_gp"
    assert config["d_optimizer"]["beta1"] == 0.5  # nothing re-applied the recipe
    assert value("training.d_steps") == "2"
    assert page.evaluate("window.ganlabTest.counters()")["d"] == d_before + 2
    assert page.errors == []


def test_a_link_with_a_loss_keeps_its_own_settings(page):
    # Only the learner's own pick applies a recipe: a link's settings are applied as they are.
    open_app(page, "#loss.kind=wgan_gp&training.d_steps=3")
    _wait_config(page, "loss.kind", "wgan_gp")
    settle(page)
    config = _config(page)
    assert config["training"]["d_steps"] == 3
    assert config["d_optimizer"]["beta1"] != 0.5
    assert page.locator(".toast", has_text="usual settings").count() == 0
    assert page.errors == []


def test_spectral_norm_and_the_weight_average_reach_the_server(page):
    open_app(page)
    assert _config(page)["discriminator"]["spectral_norm"] is False
    _click_box(page, "discriminator.spectral_norm")
    _wait_config(page, "discriminator.spectral_norm", True)
    assert page.locator("[data-testid='ctl-discriminator.spectral_norm']").is_checked()
    assert "SN" in page.inner_text("[data-testid=node-discriminator] .node-summary")

    # The averaged view is offered only once there is an average.
    assert page.locator("[data-testid='ctl-view.average']").evaluate(
        "e => e.closest('.control').hidden"
    )
    _set_advanced(page, "generator.ema", "0.999")
    _wait_config(page, "generator.ema", 0.999)
    _click_box(page, "view.average")
    _wait_config(page, "view.average", True)

    _click_box(page, "discriminator.spectral_norm")
    _wait_config(page, "discriminator.spectral_norm", False)
    page.click("[data-testid=step-both]")
    settle(page)
    config = _config(page)
    assert config["generator"]["ema"] == 0.999 and config["view"]["average"] is True
    assert config["discriminator"]["spectral_norm"] is False
    assert page.errors == []


def test_the_other_schemes_keep_the_update_counts_in_view_but_unused(page):
    open_app(page)
    _set_advanced(page, "training.scheme", "simultaneous")
    _wait_config(page, "training.scheme", "simultaneous")
    d_steps = page.locator("[data-testid='ctl-training.d_steps']")
    page.click("[data-testid=node-discriminator]")
    d_steps.wait_for(state="visible")
    assert d_steps.is_disabled()
    assert "Not used now" in (d_steps.get_attribute("title") or "")
    page.keyboard.press("Escape")
    _set_advanced(page, "training.scheme", "alternating")
    _wait_config(page, "training.scheme", "alternating")
    assert d_steps.is_enabled()
    assert page.errors == []


def test_settings_of_the_variants_fit_at_every_size(page):
    # Every new control in view: an average to show, noise to fade out, counts that are unused.
    open_app(page, "#generator.ema=0.999&training.instance_noise=0.1&training.scheme=simultaneous")
    _wait_config(page, "training.scheme", "simultaneous")
    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(150)
        for node in ("discriminator", "generator", "loss"):
            page.click(f"[data-testid=node-{node}]")
            panel = page.locator(f"[data-panel={node}]")
            panel.wait_for(state="visible")
            details = panel.locator("details.advanced")
            if not details.evaluate("e => e.open"):
                details.locator("summary").click()
            for path in NEW_CONTROLS[node]:
                assert page.locator(f"[data-testid='ctl-{path}']").is_visible(), f"{path} at {name}"
            # Nothing in the settings sticks out of them or out of the window.
            over = page.evaluate(
                """(node) => {
                     const p = document.getElementById('node-popover').getBoundingClientRect();
                     return [...document.querySelectorAll(`[data-panel=${node}] label,`
                                + ` [data-panel=${node}] input, [data-panel=${node}] select`)]
                       .filter(e => !e.closest('[hidden]'))
                       .map(e => [e.dataset.path || e.textContent, e.getBoundingClientRect()])
                       .filter(([, r]) => r.left < p.left - 0.5 || r.right > p.right + 0.5
                                          || r.right > innerWidth + 0.5 || r.left < -0.5)
                       .map(([n]) => n); }""",
                node,
            )
            assert over == [], f"{node} at {name}: {over}"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"variants-{node}-{name}.png"))
            page.keyboard.press("Escape")
            page.locator("#node-popover").wait_for(state="hidden")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert page.errors == []
