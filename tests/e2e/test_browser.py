"""The browser app against the real server, in Debian's Chromium (see conftest.py)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from e2e_helpers import (
    canvas_png,
    counters,
    draw_stroke,
    file_menu,
    open_app,
    set_control,
    settle,
    shot,
    wait_ready,
)

LAYERS = ["heatmap", "real", "fake", "gradients", "manifold", "contour"]


def test_page_loads_without_console_errors(page):
    open_app(page)
    page.wait_for_function("window.ganlabTest.distributions.length > 0")
    assert page.inner_text("#connection") == "connected"
    assert page.inner_text("[data-testid=iteration]") == "0"
    for testid in ["play-pause", "step-d", "step-g", "step-both", "reset", "iteration", "draw",
                   *[f"layer-{name}" for name in LAYERS]]:  # fmt: skip
        assert page.locator(f"[data-testid={testid}]").count() == 1, testid
    # Every registered distribution has a thumbnail in the picker.
    page.click("#dist-button")
    names = page.evaluate("window.ganlabTest.distributions")
    assert len(names) >= 10
    for name in names:
        assert page.locator(f"[data-testid=dist-{name}] canvas").count() == 1
    shot(page, "picker")
    page.keyboard.press("Escape")
    shot(page, "initial")
    assert page.errors == []


def test_layout_has_no_horizontal_scroll_from_800_to_1280(page):
    open_app(page)
    for width in (1280, 1024, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{scroll} px of content at {width} px"
    shot(page, "tablet-800")
    # Every control has an accessible name.
    unnamed = page.evaluate(
        """[...document.querySelectorAll('button, select, input')].filter(e => {
             if (e.type === 'file' || e.closest('[hidden]')) return false;
             const label = e.labels && e.labels.length ? e.labels[0].textContent.trim() : '';
             return !(label || e.getAttribute('aria-label') || e.textContent.trim() || e.title);
           }).map(e => e.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []


def test_play_advances_the_counter_and_changes_the_picture(page):
    open_app(page)
    before = canvas_png(page)
    page.click("[data-testid=play-pause]")
    page.wait_for_function(
        "window.ganlabTest.counters().iteration > 300"
        " && window.ganlabTest.stats.framesRendered > 10",
        timeout=30_000,
    )
    assert page.get_attribute("[data-testid=play-pause]", "aria-pressed") == "true"
    # Past the start (the picture's worker warming up), frames keep being drawn.
    warm = page.evaluate("window.ganlabTest.stats")
    page.wait_for_function(
        f"window.ganlabTest.stats.framesReceived >= {warm['framesReceived'] + 40}", timeout=30_000
    )
    shot(page, "playing")
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    shown = int(page.inner_text("[data-testid=iteration]"))
    assert shown > 300
    assert canvas_png(page) != before
    settle(page)
    # Every frame received is drawn or, when the picture's worker is starved of CPU so long
    # that a backlog builds up, counted as skipped (the newest is drawn);
    # benchmarks/bench_browser.py measures how many. The frame that shows the pause may still
    # be on its way.
    page.wait_for_function(
        "(() => { const s = window.ganlabTest.stats; return s.pending === 0 &&"
        " s.framesRendered + s.framesSkipped === s.framesReceived; })()"
    )
    stats = page.evaluate("window.ganlabTest.stats")
    # How many are drawn depends on how busy the machine is (a rate for the benchmark, not a
    # test); that drawing goes on while frames stream does not.
    assert stats["framesRendered"] - warm["framesRendered"] >= 10, (warm, stats)
    assert page.errors == []


def test_each_step_button_advances_exactly_what_it_says(page):
    open_app(page)
    # Three D updates per iteration, so that "Both" is told apart from a single D update.
    set_control(page, "training.d_steps", "3")
    page.wait_for_function("window.ganlabTest.config.training.d_steps === 3")
    settle(page)
    start = counters(page)

    page.click("[data-testid=step-d]")
    settle(page)
    after_d = counters(page)
    assert after_d == {**start, "d": start["d"] + 1}

    page.click("[data-testid=step-g]")
    settle(page)
    after_g = counters(page)
    assert after_g == {**after_d, "g": after_d["g"] + 1}

    page.click("[data-testid=step-both]")
    settle(page)
    after_both = counters(page)
    assert after_both == {
        "iteration": after_g["iteration"] + 1, "d": after_g["d"] + 3, "g": after_g["g"] + 1,
    }  # fmt: skip
    assert page.inner_text("[data-testid=iteration]") == str(after_both["iteration"])

    # The keyboard shortcuts do the same.
    page.locator("body").click(position={"x": 5, "y": 890})
    page.keyboard.press("d")
    settle(page)
    assert counters(page)["d"] == after_both["d"] + 1
    page.keyboard.press("g")
    settle(page)
    assert counters(page)["g"] == after_both["g"] + 1
    page.keyboard.press("b")
    settle(page)
    assert counters(page)["iteration"] == after_both["iteration"] + 1
    page.keyboard.press("r")
    settle(page)
    assert counters(page) == {"iteration": 0, "d": 0, "g": 0}
    page.keyboard.press(" ")
    page.wait_for_function("window.ganlabTest.counters().iteration > 20")
    page.keyboard.press(" ")
    page.wait_for_function("!window.ganlabTest.playing")
    assert page.errors == []


def test_learning_rate_change_reaches_the_server(page):
    open_app(page)
    assert page.evaluate("window.ganlabTest.config.g_optimizer.lr") != 0.01
    set_control(page, "g_optimizer.lr", "0.01")
    # `config` events carry the config in effect on the server.
    page.wait_for_function("window.ganlabTest.config.g_optimizer.lr === 0.01")
    assert page.evaluate("window.ganlabTest.config.d_optimizer.lr") != 0.01
    assert "g_optimizer.lr=0.01" in page.url
    # A value the server refuses is shown as a readable message and the control goes back.
    set_control(page, "generator.neurons", "600")
    toast = page.locator(".toast").last
    toast.wait_for()
    assert "Neurons" in toast.inner_text() and "512" in toast.inner_text()
    assert page.input_value("[data-testid='ctl-generator.neurons']") == "16"
    assert page.errors == []


@pytest.mark.parametrize(("query", "mode"), [("", "worker"), ("?no-worker", "main")])
def test_layer_toggles_hide_and_show(page, query, mode):
    # The picture is drawn in a worker, or on the page where there is no OffscreenCanvas.
    open_app(page, query)
    assert page.evaluate("window.ganlabTest.viewMode") == mode
    settle(page)
    page.wait_for_timeout(300)
    for name in LAYERS:
        box = page.locator(f"[data-testid=layer-{name}]")
        was = box.is_checked()
        before = canvas_png(page)
        box.click()
        page.wait_for_timeout(120)
        toggled = canvas_png(page)
        assert toggled != before, f"toggling {name} changed nothing"
        box.click()
        page.wait_for_timeout(120)
        assert box.is_checked() == was
        assert canvas_png(page) == before, f"{name} did not come back"
    # All layers off leaves an empty plot; all on shows more.
    for name in LAYERS:
        page.locator(f"[data-testid=layer-{name}]").set_checked(False)
    page.wait_for_timeout(120)
    empty = canvas_png(page)
    for name in LAYERS:
        page.locator(f"[data-testid=layer-{name}]").set_checked(True)
    page.wait_for_timeout(120)
    assert canvas_png(page) != empty
    shot(page, f"all-layers-{mode}")
    assert page.errors == []


def _fake_to_real_distance(page) -> float:  # type: ignore[no-untyped-def]
    """Mean distance from each fake sample to its nearest real sample, in the current frame."""
    return page.evaluate(
        """(() => { const f = window.ganlabTest.frame(['fake', 'real']); let total = 0;
             const n = f.fake.length / 2;
             for (let i = 0; i < n; i++) { let best = Infinity;
               for (let j = 0; j < f.real.length / 2; j++) {
                 const d = Math.hypot(f.fake[2*i] - f.real[2*j], f.fake[2*i+1] - f.real[2*j+1]);
                 if (d < best) best = d; }
               total += best; }
             return total / n; })()"""
    )


def test_drawing_a_distribution_and_training_moves_the_fakes_to_it(page):
    open_app(page)
    page.click("[data-testid=draw]")
    apply = page.locator("[data-testid=draw-apply]")
    assert apply.is_disabled(), "an empty drawing cannot be applied"
    # Undo and clear work; cancel sends nothing.
    draw_stroke(page, [(0.2, 0.2), (0.4, 0.3)])
    assert apply.is_enabled()
    page.click("[data-testid=draw-undo]")
    assert apply.is_disabled()
    draw_stroke(page, [(0.2, 0.2), (0.4, 0.3)])
    page.click("[data-testid=draw-clear]")
    assert apply.is_disabled()
    draw_stroke(page, [(0.5, 0.5), (0.6, 0.6)])
    page.click("[data-testid=draw-cancel]")
    assert page.evaluate("window.ganlabTest.config.data.name") == "gaussians"

    page.click("[data-testid=draw]")
    # Earlier strokes were kept; start from a clean pad.
    page.click("[data-testid=draw-clear]")
    draw_stroke(page, [(0.1, 0.85), (0.5, 0.9), (0.9, 0.85)])
    draw_stroke(page, [(0.85, 0.1), (0.85, 0.5)])
    shot(page, "drawing-pad")
    apply.click()
    page.wait_for_function("window.ganlabTest.config.data.name === 'drawing'")
    strokes = page.evaluate("window.ganlabTest.config.data.strokes")
    assert len(strokes) == 2
    xs = [p[0] for p in strokes[0]]
    ys = [p[1] for p in strokes[0]]
    assert min(xs) < 0.15 and max(xs) > 0.85 and min(ys) > 0.8, "y is up, unit square"
    settle(page)
    before = _fake_to_real_distance(page)
    page.select_option("[data-testid=speed]", "")  # as fast as it goes
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.ganlabTest.counters().iteration > 2500", timeout=60_000)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    after = _fake_to_real_distance(page)
    shot(page, "drawing-trained")
    assert after < 0.5 * before, (before, after)
    assert page.errors == []


def test_url_round_trips_the_experiment(page, browser):
    open_app(page)
    # Picking data applies its preset (a fresh run), so it comes first.
    page.click("#dist-button")
    page.click("[data-testid=dist-ring]")
    page.wait_for_function("window.ganlabTest.config.data.name === 'ring'")
    set_control(page, "loss.kind", "hinge")
    set_control(page, "generator.layers", "3")
    set_control(page, "d_optimizer.lr", "0.003")
    page.fill("[data-testid=seed]", "77")
    page.dispatch_event("[data-testid=seed]", "change")
    page.wait_for_function(
        "(() => { const c = window.ganlabTest.config; return c.loss.kind === 'hinge'"
        " && c.generator.layers === 3 && c.d_optimizer.lr === 0.003 && c.data.name === 'ring'"
        " && c.seed === 77; })()"
    )
    url = page.url
    for part in ["loss.kind=hinge", "generator.layers=3", "d_optimizer.lr=0.003",
                 "data.name=ring", "seed=77"]:  # fmt: skip
        assert part in unquote(url), part
    page.click("[data-testid=reset]")
    settle(page)
    config = page.evaluate("window.ganlabTest.config")
    first = page.evaluate("window.ganlabTest.frame(['fake']).fake")

    other = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        other.goto(url)
        wait_ready(other)
        other.wait_for_function("window.ganlabTest.config.seed === 77")
        settle(other)
        assert other.evaluate("window.ganlabTest.session") != page.evaluate(
            "window.ganlabTest.session"
        )
        assert other.evaluate("window.ganlabTest.config") == config
        assert other.evaluate("window.ganlabTest.counters().iteration") == 0
        # Same experiment, same seed: the same starting picture.
        assert other.evaluate("window.ganlabTest.frame(['fake']).fake") == first
        assert other.url == url
        # Editing the address of an open tab applies the edited experiment.
        other.evaluate(
            "location.hash = location.hash.replace('generator.layers=3', 'generator.layers=4')"
        )
        other.wait_for_function("window.ganlabTest.config.generator.layers === 4")
        assert "generator.layers=4" in other.url
    finally:
        other.close()
    assert page.errors == []


def test_reconnect_resumes_the_run(page):
    open_app(page)
    session = page.evaluate("window.ganlabTest.session")
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.ganlabTest.counters().iteration > 200", timeout=30_000)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    # The `state` reply to pause carries the iteration training stopped at.
    iteration = page.evaluate("window.ganlabTest.iteration")
    assert iteration > 200
    page.evaluate("window.ganlabTest.drop()")
    page.wait_for_function("window.ganlabTest.connectionState !== 'open'")
    page.wait_for_function("window.ganlabTest.connectionState === 'open'", timeout=15_000)
    assert page.evaluate("window.ganlabTest.session") == session
    page.wait_for_selector(".toast:has-text('Reconnected')")
    hello = page.evaluate("window.ganlabTest.hello")
    assert hello["resumed"] is True and hello["iteration"] == iteration
    assert page.inner_text("[data-testid=iteration]") == str(iteration)
    # The resumed session still trains.
    page.click("[data-testid=step-both]")
    settle(page)
    assert counters(page)["iteration"] == iteration + 1
    assert page.inner_text("#connection") == "connected"
    assert page.errors == []


def test_a_session_taken_by_another_connection_is_taken_back_by_a_click(page):
    open_app(page)
    # Another tab resumes this page's session (its session and token, as a copied link
    # would carry them): the page stands aside and says how to take the run back.
    page.evaluate("""() => {
        const h = window.ganlabTest.hello;
        const q = new URLSearchParams({session: h.session, token: h.token});
        window.otherTab = new WebSocket(`ws://${location.host}/ws?${q}`);
    }""")
    page.wait_for_function("window.ganlabTest.connectionState === 'replaced'", timeout=15_000)
    notice = page.locator(".toast:has-text('opened in another tab')")
    notice.wait_for()
    assert page.inner_text("#connection") == "open in another tab: click to take over"
    shot(page, "taken-by-another-tab")
    page.click("#connection")
    page.wait_for_function("window.ganlabTest.connectionState === 'open'", timeout=15_000)
    page.wait_for_selector(".toast:has-text('Reconnected')")
    # Taken back: the notice is gone, and the other connection was the one closed (4409).
    assert notice.count() == 0
    page.wait_for_function("window.otherTab.readyState === WebSocket.CLOSED", timeout=15_000)
    page.click("[data-testid=step-both]")
    settle(page)
    assert page.errors == []


def test_import_shows_the_servers_error_and_accepts_good_points(page, tmp_path):
    open_app(page)
    for _ in range(3):
        page.click("[data-testid=step-both]")
    settle(page)
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0.1,0.2\n0.3,banana\n")
    page.set_input_files("[data-testid=import]", str(bad))
    toast = page.locator(".toast").last
    toast.wait_for()
    assert "line 3" in toast.inner_text().lower(), toast.inner_text()
    assert page.evaluate("window.ganlabTest.config.data.name") == "gaussians"
    # A refused file loses nothing: the run goes on where it was.
    settle(page)
    assert counters(page)["iteration"] == 3
    good = tmp_path / "good.json"
    good.write_text("[[1, 2], [3, 4], [5, 1], [2, 2]]")
    page.set_input_files("[data-testid=import]", str(good))
    page.wait_for_function("window.ganlabTest.config.data.name === 'points'")
    assert page.evaluate("window.ganlabTest.config.data.points.length") == 4
    settle(page)
    shot(page, "imported")


def test_slow_motion_walks_through_the_phases(page):
    open_app(page)
    page.check("[data-testid=slow-motion]")
    settle(page)
    start = counters(page)
    seen = []
    for _ in range(5):
        page.click("[data-testid=walk-next]")
        page.wait_for_function(
            "(n) => document.getElementById('walkthrough').dataset.phase !== '' &&"
            " window.ganlabTest.walk.pending === false && window.ganlabTest.walk.phase &&"
            " document.getElementById('walkthrough').dataset.phase === n",
            arg=["generate", "classify", "loss", "gradients", "update"][len(seen)],
        )
        seen.append(page.get_attribute("#walkthrough", "data-phase"))
        if seen[-1] == "loss":
            assert "d loss" in page.inner_text("#walk-values")
            shot(page, "slow-motion-loss")
    assert seen == ["generate", "classify", "loss", "gradients", "update"]
    assert page.get_attribute("#walkthrough", "data-network") == "d"
    settle(page)
    assert counters(page) == {**start, "d": start["d"] + 1}
    # The generator's turn comes after the iteration's other D updates; its gradients phase
    # draws arrows.
    d_steps = page.evaluate("window.ganlabTest.config.training.d_steps")
    for _ in range(5 * (d_steps - 1) + 4):
        page.click("[data-testid=walk-next]")
        page.wait_for_function("window.ganlabTest.walk.pending === false")
    assert page.get_attribute("#walkthrough", "data-network") == "g"
    assert page.get_attribute("#walkthrough", "data-phase") == "gradients"
    shot(page, "slow-motion-g-gradients")
    assert page.errors == []


def test_start_from_a_trained_model(page):
    open_app(page)
    page.click("#dist-button")
    page.click("[data-testid=dist-ring]")
    page.wait_for_function("window.ganlabTest.config.data.name === 'ring'")
    file_menu(page, "pretrained")
    page.wait_for_function("window.ganlabTest.counters().iteration >= 1000", timeout=20_000)
    preset = page.evaluate(
        "fetch('api/presets').then(r => r.json()).then(ps => ps.find(p => p.name === 'ring'))"
    )
    assert page.evaluate("window.ganlabTest.config.training") == preset["config"]["training"]
    assert page.evaluate("window.ganlabTest.historyLength") > 5
    settle(page)
    shot(page, "trained-ring")
    assert page.errors == []


def test_hovering_links_a_fake_sample_and_its_noise_point(page):
    open_app(page)
    settle(page)
    index = 17
    view = page.locator("#view-canvas").bounding_box()
    x, y = page.evaluate(
        "(i) => window.ganlabTest.viewPoint(i)",
        index,
    )
    page.mouse.move(view["x"] + x, view["y"] + y)
    page.wait_for_function("window.ganlabTest.highlight.noise >= 0")
    hovered = page.evaluate("window.ganlabTest.highlight.view")
    # The nearest fake under the cursor (another may sit on top of it): same index both sides.
    assert page.evaluate("window.ganlabTest.highlight.noise") == hovered
    tip = page.inner_text("#view-tooltip")
    assert f"fake #{hovered}" in tip and "D =" in tip
    shot(page, "hover-fake")
    # Leaving clears both; then a noise point lights up its fake sample.
    page.mouse.move(5, 895)
    page.wait_for_function(
        "window.ganlabTest.highlight.view === -1 && window.ganlabTest.highlight.noise === -1"
    )
    noise = page.locator("#noise-canvas").bounding_box()
    nx, ny = page.evaluate(
        "(i) => window.ganlabTest.noisePoint(i)",
        index,
    )
    page.mouse.move(noise["x"] + nx, noise["y"] + ny)
    page.wait_for_function("window.ganlabTest.highlight.view >= 0")
    assert page.evaluate("window.ganlabTest.highlight.view") == page.evaluate(
        "window.ganlabTest.highlight.noise"
    )
    assert "noise #" in page.inner_text("#noise-tooltip")
    assert page.errors == []


def test_one_dimensional_noise_and_a_critic_loss_render(page):
    open_app(page, "#data.name=ring&noise.dim=1&noise.kind=uniform&loss.kind=wgan_gp&seed=2")
    page.wait_for_function("window.ganlabTest.config.noise.dim === 1")
    settle(page)
    assert (
        page.evaluate("window.ganlabTest.frame(['manifoldShape']).manifoldShape.length") == 1
    )  # a curve
    assert page.evaluate("window.ganlabTest.frame(['output']).output") != "probability"
    assert "critic score" in page.inner_text("#d-output")
    before = canvas_png(page)
    page.click("[data-testid=step-both]")
    settle(page)
    assert canvas_png(page) != before
    # Back to 2D noise: the manifold is a grid again.
    set_control(page, "noise.dim", "2")
    page.wait_for_function("window.ganlabTest.frame(['manifoldShape']).manifoldShape.length === 2")
    shot(page, "wgan-gp-ring")
    assert page.errors == []


def test_save_and_open_a_run_file(page, tmp_path):
    open_app(page)
    for _ in range(3):
        page.click("[data-testid=step-both]")
    settle(page)
    saved_at = counters(page)
    with page.expect_download() as info:
        file_menu(page, "save-run")
    download = info.value
    assert download.suggested_filename.endswith(".ganlab")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.stat().st_size > 1000
    assert path.read_bytes()[8:9] == b"{"  # a safetensors file: length, then its JSON header
    page.click("[data-testid=reset]")
    settle(page)
    assert counters(page)["iteration"] == 0
    page.set_input_files("[data-testid=open-run]", str(path))
    page.wait_for_function(f"window.ganlabTest.counters().iteration === {saved_at['iteration']}")
    settle(page)
    assert counters(page) == saved_at
    assert page.errors == []
