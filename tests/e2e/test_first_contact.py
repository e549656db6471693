"""The first ten minutes, in Chromium: the one-screen layout at three sizes, the picker, presets
that start on pick, slow motion, health notices, exports, and each rough edge a learner hit."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import struct
import time
import urllib.request
from urllib.parse import quote

import pytest
from e2e_helpers import (
    ARTIFACTS,
    counters,
    file_menu,
    free_port,
    open_app,
    set_control,
    settle,
    shot,
    start_server,
    stop_server,
    wait_ready,
)

SIZES = {"laptop": (1280, 800), "tablet": (800, 900), "phone": (390, 844)}


def _size(page, name: str) -> None:  # type: ignore[no-untyped-def]
    w, h = SIZES[name]
    page.set_viewport_size({"width": w, "height": h})
    page.wait_for_timeout(150)


def _box_inside(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the element is wholly inside the viewport."""
    return page.evaluate(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
             return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 &&
               r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5; }""",
        selector,
    )


def _no_horizontal_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def _presets(page) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    items = page.evaluate("fetch('api/presets').then(r => r.json())")
    return {p["name"]: p for p in items}


def _experiment(config: dict) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in config.items() if k not in ("seed", "device")}


# ---- the layout ----------------------------------------------------------------------------


def test_laptop_shows_graph_picture_controls_and_loss_chart_without_scrolling(page):
    _size(page, "laptop")
    open_app(page)
    page.wait_for_function("document.querySelector('[data-chart=losses] canvas')")
    for node in ["noise", "generator", "samples", "discriminator", "predictions", "loss"]:
        assert _box_inside(page, f"[data-testid=node-{node}]"), node
    # The graph reads left to right.
    xs = page.evaluate(
        "['noise','generator','samples','discriminator','predictions','loss'].map(n =>"
        " document.querySelector(`[data-testid=node-${n}]`).getBoundingClientRect().left)"
    )
    assert xs == sorted(xs)
    for selector in [
        "#view-canvas", "[data-testid=play-pause]", "[data-testid=step-both]",
        "[data-testid=slow-motion]", "[data-testid=reset]", "[data-chart=losses]",
        "[data-testid=timeline]",
    ]:  # fmt: skip
        assert _box_inside(page, selector), selector
    assert page.evaluate("document.getElementById('view-canvas').clientWidth") >= 420
    _no_horizontal_scroll(page)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.ganlabTest.counters().iteration > 100")
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "first-laptop-1280x800.png"))
    assert page.errors == []


def test_tablet_keeps_picture_with_play_controls_slow_motion_and_charts(page):
    _size(page, "tablet")
    open_app(page)
    page.check("[data-testid=slow-motion]")
    for selector in ["#view-canvas", "[data-testid=play-pause]", "[data-testid=walk-next]"]:
        assert _box_inside(page, selector), selector
    _no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "first-tablet-800x900-slow-motion.png"))
    page.uncheck("[data-testid=slow-motion]")
    # Scrolled down to the charts, the play controls stay on screen.
    page.locator("[data-chart=w1]").scroll_into_view_if_needed()
    assert _box_inside(page, "[data-testid=play-pause]")
    assert page.errors == []


def test_phone_keeps_the_picture_in_view_while_the_charts_scroll_under_it(page):
    _size(page, "phone")
    open_app(page)
    assert _box_inside(page, "[data-testid=play-pause]")
    assert _box_inside(page, "#view-canvas")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "first-phone-390x844.png"))
    # Scrolled down to a chart further down (the loss chart may fit under the picture at once).
    page.evaluate("document.querySelector('[data-chart=w1]').scrollIntoView({block: 'end'})")
    page.wait_for_function("scrollY > 0")
    assert _box_inside(page, "[data-testid=play-pause]")
    assert _box_inside(page, "#view-canvas")
    # That chart shows below the picture, not hidden under it.
    below = page.evaluate(
        "document.querySelector('[data-chart=w1]').getBoundingClientRect().bottom >"
        " document.querySelector('.view-panel').getBoundingClientRect().bottom"
    )
    assert below
    page.check("[data-testid=slow-motion]")
    page.locator("[data-testid=walk-next]").scroll_into_view_if_needed()
    assert _box_inside(page, "[data-testid=walk-next]") and _box_inside(page, "#view-canvas")
    page.screenshot(path=str(ARTIFACTS / "first-phone-390x844-slow-motion.png"))
    _no_horizontal_scroll(page)
    assert page.errors == []


def test_every_setting_opens_next_to_its_node_and_explains_itself(page):
    _size(page, "laptop")
    open_app(page)
    page.click("[data-testid=node-generator]")
    popover = page.locator("#node-popover")
    popover.wait_for(state="visible")
    node = page.locator("[data-testid=node-generator]").bounding_box()
    box = popover.bounding_box()
    assert abs(box["y"] - (node["y"] + node["height"])) < 20  # right under its node
    assert page.locator("[data-testid='ctl-generator.neurons']").is_visible()
    assert not page.locator("[data-testid='ctl-loss.kind']").is_visible()
    shot(page, "first-node-settings")
    page.keyboard.press("Escape")
    popover.wait_for(state="hidden")
    # Every setting and every control says what it does on hover and focus.
    missing = page.evaluate(
        """[...document.querySelectorAll('[data-testid^=ctl-], .runbar button, .runbar select,'
             + ' .runbar input, .topbar button, .topbar select, .topbar input')]
           .filter(e => !(e.title || (e.closest('label') && e.closest('label').title)))
           .filter(e => e.type !== 'file').map(e => e.dataset.testid || e.id)"""
    )
    assert missing == []
    assert page.errors == []


# ---- what was seen (each fails on the page before this change) -------------------------------


@pytest.mark.parametrize("size", list(SIZES))
def test_picker_reaches_every_entry_by_mouse_and_keyboard(page, size):
    _size(page, size)
    open_app(page)
    page.click("[data-testid=dist-picker]")
    names = page.evaluate("window.ganlabTest.distributions")
    testids = [*(f"dist-{n}" for n in names), "dist-draw", "dist-import"]
    for testid in testids:
        item = page.locator(f"[data-testid={testid}]")
        item.scroll_into_view_if_needed()
        hit = page.evaluate(
            """(t) => { const e = document.querySelector(`[data-testid=${t}]`);
                 const r = e.getBoundingClientRect();
                 if (r.bottom > innerHeight || r.right > innerWidth || r.top < 0) return false;
                 const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                 return e.contains(at); }""",
            testid,
        )
        assert hit, f"{testid} cannot be clicked at {size}"
    _no_horizontal_scroll(page)
    shot(page, f"first-picker-{size}")
    # The keyboard walks the grid.
    page.keyboard.press("Home")
    first = page.evaluate("document.activeElement.dataset.testid")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.testid") != first
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.testid") == "dist-import"
    # The last registered distribution (past the fold before) can be picked.
    last = names[-1]
    page.locator(f"[data-testid=dist-{last}]").click()
    page.wait_for_function(f"window.ganlabTest.config.data.name === '{last}'")
    assert page.errors == []


def test_picking_data_applies_its_preset_from_iteration_zero(page):
    _size(page, "laptop")
    open_app(page)
    presets = _presets(page)
    for _ in range(3):
        page.click("[data-testid=step-both]")
    settle(page)
    page.click("[data-testid=dist-picker]")
    page.click("[data-testid=dist-ring]")
    page.wait_for_function("window.ganlabTest.config.data.name === 'ring'")
    settle(page)
    config = page.evaluate("window.ganlabTest.config")
    assert _experiment(config) == _experiment(presets["ring"]["config"])
    assert counters(page) == {"iteration": 0, "d": 0, "g": 0}
    assert page.input_value("[data-testid=preset]") == "ring"
    # The preset menu names presets in words.
    labels = page.evaluate("[...document.querySelectorAll('#preset option')].map(o => o.text)")
    assert "ring8-collapse" not in labels and len(set(labels)) == len(labels)
    # "Keep my networks": only the data changes, still from iteration 0.
    set_control(page, "generator.neurons", "24")
    page.wait_for_function("window.ganlabTest.config.generator.neurons === 24")
    page.click("[data-testid=step-both]")
    settle(page)
    page.click("[data-testid=dist-picker]")
    page.check("[data-testid=keep-networks]")
    page.click("[data-testid=dist-line]")
    page.wait_for_function("window.ganlabTest.config.data.name === 'line'")
    settle(page)
    config = page.evaluate("window.ganlabTest.config")
    assert config["generator"]["neurons"] == 24
    assert config["training"] == presets["ring"]["config"]["training"]
    assert counters(page)["iteration"] == 0
    assert page.errors == []


def _play_state(page) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return page.evaluate(
        """({pressed: document.querySelector('[data-testid=play-pause]')
               .getAttribute('aria-pressed'),
             text: document.querySelector('[data-testid=play-pause] .text').textContent,
             playing: window.ganlabTest.playing})"""
    )


@pytest.mark.parametrize("how", ["button", "key", "preset"])
def test_reset_while_playing_leaves_a_button_that_tells_the_truth(page, how):
    open_app(page)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.ganlabTest.counters().iteration > 30")
    if how == "button":
        page.click("[data-testid=reset]")
    elif how == "key":
        page.locator("body").click(position={"x": 3, "y": 3})
        page.keyboard.press("r")
    else:
        page.select_option("[data-testid=preset]", "ring")
    settle(page)
    page.wait_for_timeout(300)
    state = _play_state(page)
    # The button shows what the run does: "Pause" only while it really trains.
    assert state["pressed"] == ("true" if state["playing"] else "false")
    assert state["text"] == ("Pause" if state["playing"] else "Play")
    if state["playing"]:
        page.wait_for_function("window.ganlabTest.counters().iteration > 10")
    # The next click does what the button says.
    page.click("[data-testid=play-pause]")
    page.wait_for_function(f"window.ganlabTest.playing === {str(not state['playing']).lower()}")
    if not state["playing"]:
        page.wait_for_function("window.ganlabTest.counters().iteration > 10")
    assert page.errors == []


def test_the_thumbnail_follows_each_import_at_once(page, tmp_path):
    open_app(page)
    files = {
        "a": "[[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]",
        "b": "[[0, 5], [5, 0], [0, 0], [5, 5], [2.5, 2.5], [1, 4]]",
    }
    thumbs = {}
    for _ in range(3):
        page.click("[data-testid=step-both]")
    for name in ["a", "b", "a"]:
        path = tmp_path / f"{name}.json"
        path.write_text(files[name])
        page.set_input_files("[data-testid=import]", str(path))
        page.wait_for_function(
            "(window.ganlabTest.config.data.points || [])[1]?.[0] === "
            + str(json.loads(files[name])[1][0])
        )
        settle(page)
        # New data starts a fresh run (once the server has taken the points).
        page.wait_for_function("window.ganlabTest.counters().iteration === 0")
        page.wait_for_timeout(300)  # the readout tick that draws thumbnails (paused: at once)
        thumb = page.evaluate("document.getElementById('dist-current-thumb').toDataURL()")
        if name in thumbs:
            assert thumb == thumbs[name], "the same points give the same thumbnail"
        thumbs.setdefault(name, thumb)
    assert thumbs["a"] != thumbs["b"], "the thumbnail lagged one import behind"
    assert page.errors == []


def test_zoomed_in_axis_labels_never_repeat(page):
    open_app(page)
    view = page.locator("#view-canvas").bounding_box()
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    for _ in range(12):
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(30)
    labels = page.evaluate("window.ganlabTest.axisLabels()")
    for axis in ("x", "y"):
        assert len(labels[axis]) >= 2
        assert len(set(labels[axis])) == len(labels[axis]), labels[axis]
    shot(page, "first-zoomed")
    assert page.errors == []


def test_iteration_counter_counts_slow_motion_and_agrees_with_the_updates(page):
    open_app(page)
    training = page.evaluate("window.ganlabTest.config.training")
    k_d, k_g = training["d_steps"], training["g_steps"]
    page.check("[data-testid=slow-motion]")
    settle(page)
    start = counters(page)
    for _ in range(5 * (k_d + k_g)):  # five phases for each of an iteration's updates
        page.click("[data-testid=walk-next]")
        page.wait_for_function("window.ganlabTest.walk.pending === false")
    settle(page)
    assert counters(page) == {"iteration": start["iteration"] + 1, "d": start["d"] + k_d,
                              "g": start["g"] + k_g}  # fmt: skip
    page.wait_for_function(f"window.ganlabTest.shownIteration === {start['iteration'] + 1}")
    page.uncheck("[data-testid=slow-motion]")
    # Playing, the counters shown always agree: k_d D and k_g G updates per iteration.
    page.click("[data-testid=play-pause]")
    seen = set()
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        it, updates = page.evaluate(
            "[document.getElementById('iteration').textContent,"
            " document.getElementById('updates').textContent]"
        )
        seen.add(it)
        assert updates == f"{k_d * int(it)} / {k_g * int(it)}", (it, updates)
        page.wait_for_timeout(37)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    assert len(seen) > 3
    assert page.errors == []


def test_one_bad_value_in_a_link_loses_only_itself_and_every_error_is_shown(page):
    link = "#generator.neurons=99999&generator.layers=3&d_optimizer.lr=0.003&loss.kind=bogus"
    open_app(page, link)
    page.wait_for_function("window.ganlabTest.config.generator.layers === 3")
    config = page.evaluate("window.ganlabTest.config")
    assert config["d_optimizer"]["lr"] == 0.003
    assert config["generator"]["neurons"] == 16 and config["loss"]["kind"] == "log"
    toast = page.locator(".toast").first
    toast.wait_for()
    text = toast.inner_text()
    assert "2 settings" in text and "at most 512" in text and "Loss must be one of" in text
    assert "generator.neurons" in text  # the path, in small print
    shot(page, "first-bad-link")
    assert page.errors == []


def test_batch_menu_reaches_the_largest_allowed_batch(page):
    open_app(page)
    options = page.evaluate(
        "[...document.querySelector(\"[data-testid='ctl-training.batch_size']\").options]"
        ".map(o => Number(o.value))"
    )
    schema = page.evaluate("fetch('api/schema').then(r => r.json())")
    largest = schema["$defs"]["TrainingConfig"]["properties"]["batch_size"]["maximum"]
    assert max(options) == largest
    set_control(page, "training.batch_size", str(largest))
    page.wait_for_function(f"window.ganlabTest.config.training.batch_size === {largest}")
    assert page.errors == []


def test_every_distribution_title_names_only_the_loss_its_preset_uses(page):
    open_app(page)
    presets = _presets(page)
    dists = page.evaluate("fetch('api/distributions').then(r => r.json())")
    for d in dists:
        preset = presets.get(d["name"])
        if preset and "WGAN" in d["title"].upper():
            assert preset["config"]["loss"]["kind"] in ("wgan", "wgan_gp"), d


def test_loss_chart_labels_fit_large_values(page):
    open_app(page, "#loss.kind=wgan&loss.clip=10&d_optimizer.kind=sgd&d_optimizer.lr=0.5")
    page.wait_for_function("window.ganlabTest.config.loss.clip === 10")
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.ganlabTest.historyLength >= 4", timeout=60_000)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    page.wait_for_timeout(400)
    axis = page.evaluate("window.ganlabTest.chartAxis('losses')")
    widths = page.evaluate(
        """(a) => { const c = document.createElement('canvas').getContext('2d'); c.font = a.font;
             return a.labels.filter(Boolean).map(l => c.measureText(l).width); }""",
        axis,
    )
    assert widths, axis
    # Each label fits in the axis (ticks and a gap take about 6 px).
    assert max(widths) + 6 <= axis["size"], (axis, widths)
    assert page.errors == []


# ---- teaching, health and exports -----------------------------------------------------------


def test_slow_motion_lights_up_each_phase_in_the_graph(page):
    _size(page, "laptop")
    open_app(page)
    page.check("[data-testid=slow-motion]")
    expected = {
        "generate": {"noise", "generator", "samples"},
        "classify": {"samples", "discriminator", "predictions"},
        "loss": {"predictions", "loss"},
    }
    for phase, nodes in expected.items():
        page.click("[data-testid=walk-next]")
        page.wait_for_function(
            f"window.ganlabTest.walk.phase === '{phase}' && !window.ganlabTest.walk.pending"
        )
        assert set(page.evaluate("window.ganlabTest.graphFocus")) == nodes, phase
        # The nodes a phase does not work on fade (a short transition); the others stay.
        opacity = (
            "Number(getComputedStyle(document.querySelector('[data-testid=node-noise]')).opacity)"
        )
        page.wait_for_function(f"{opacity} < 0.5" if "noise" not in nodes else f"{opacity} > 0.9")
    shot(page, "first-slow-motion-loss")
    for _ in range(2):
        page.click("[data-testid=walk-next]")
        page.wait_for_function("!window.ganlabTest.walk.pending")
    assert page.evaluate("window.ganlabTest.graphFocus") == ["discriminator"]  # D's update
    page.uncheck("[data-testid=slow-motion]")
    assert page.evaluate("window.ganlabTest.graphFocus") == []
    assert page.errors == []


def test_a_diverging_run_gets_a_health_notice_with_a_suggestion_and_reset_clears_it(page):
    open_app(page)
    page.click("#try-button")
    page.click("[data-testid=try-too-fast]")
    page.wait_for_function(
        "window.ganlabTest.health && window.ganlabTest.health.kind === 'diverged'", timeout=30_000
    )
    health = page.evaluate("window.ganlabTest.health")
    assert "diverged" in health["text"].lower() and "learning rate" in health["text"].lower()
    assert page.locator("[data-testid=health]").is_visible()
    shot(page, "first-health-diverged")
    set_control(page, "g_optimizer.lr", "0.001")
    set_control(page, "d_optimizer.lr", "0.001")
    page.click("[data-testid=reset]")
    settle(page)
    page.wait_for_function("window.ganlabTest.health === null")
    assert page.errors == []


def test_things_to_try_start_on_one_click_and_say_what_to_watch(page):
    open_app(page)
    page.click("#try-button")
    items = page.evaluate(
        "[...document.querySelectorAll('[data-testid^=try-]')].map(b => b.dataset.testid)"
    )
    assert len(items) >= 5
    page.click("[data-testid=try-mode-collapse]")
    page.wait_for_function(
        "window.ganlabTest.config.data.name === 'ring8' && window.ganlabTest.playing"
    )
    page.wait_for_function("window.ganlabTest.counters().iteration > 20")
    toast = page.locator(".toast-info").last
    assert "watch" in toast.inner_text().lower() or "modes" in toast.inner_text().lower()
    page.click("[data-testid=play-pause]")
    assert page.errors == []


def _download(page, testid: str):  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        file_menu(page, testid)
    d = info.value
    return d.suggested_filename, d.path().read_bytes()


def test_each_export_downloads_a_file_that_parses(page):
    open_app(page)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.ganlabTest.historyLength >= 2", timeout=30_000)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    settle(page)
    name, png = _download(page, "export-png")
    assert name.endswith(".png") and png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    canvas = page.evaluate(
        "(() => { const r = document.getElementById('view-canvas').getBoundingClientRect();"
        " return [r.width * devicePixelRatio, r.height * devicePixelRatio]; })()"
    )
    assert abs(width - canvas[0]) <= 2 and height > canvas[1] + 10  # the picture and a legend
    (ARTIFACTS / "first-export.png").write_bytes(png)

    name, data = _download(page, "export-samples")
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert name.endswith("-samples.csv") and rows[0] == ["x", "y"]
    fake = page.evaluate("window.ganlabTest.frame(['fake']).fake")
    assert len(rows) - 1 == len(fake) // 2
    assert [float(v) for v in rows[1]] == pytest.approx(fake[:2], rel=1e-6)

    name, data = _download(page, "export-metrics")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert name.endswith("-metrics.csv") and len(rows) == page.evaluate(
        "window.ganlabTest.historyLength"
    )
    assert "iteration" in rows[0] and float(rows[-1]["iteration"]) > 0

    name, data = _download(page, "export-config")
    experiment = json.loads(data)
    assert name.endswith("-experiment.json")
    config = page.evaluate("window.ganlabTest.config")
    assert experiment == {k: v for k, v in config.items() if k != "device"}
    assert page.errors == []


# ---- reconnecting after the server restarts -------------------------------------------------


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def test_after_a_kill_9_and_a_restart_the_page_resumes_its_own_run_within_3_s(browser, tmp_path):
    # The server and its engine processes die at once (kill -9 of the group, as on a crashed
    # machine): the run comes back from its last checkpoint, at most 2 s of training behind.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"GANLAB_STATE_DIR": str(tmp_path), "GANLAB_CHECKPOINT_SECONDS": "2"}
    proc = start_server(port, own_group=True, **env)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{url}/#generator.layers=3")
        wait_ready(page)
        page.click("[data-testid=play-pause]")
        old = page.evaluate("window.ganlabTest.session")
        saved = tmp_path / "sessions" / f"{old}.ckpt"
        page.wait_for_function("window.ganlabTest.historyLength >= 2", timeout=30_000)
        charted = time.time()
        deadline = time.monotonic() + 30
        # A checkpoint made since: it holds those two chart rows (one is due every 2 s).
        while not (saved.exists() and saved.stat().st_mtime > charted):
            assert time.monotonic() < deadline, "no checkpoint within 30 s"
            page.wait_for_timeout(100)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        before = counters(page)["iteration"]
        page.wait_for_function("window.ganlabTest.connectionState !== 'open'")
        # An edit made while offline is kept, and applied to the resumed run.
        set_control(page, "discriminator.neurons", "24")
        assert page.input_value("[data-testid='ctl-discriminator.neurons']") == "24"
        proc = start_server(port, **env)
        answered = time.monotonic()
        assert _healthy(url)
        page.wait_for_function(
            f"window.ganlabTest.connectionState === 'open' && window.ganlabTest.session === '{old}'"
            " && window.ganlabTest.ready",
            timeout=10_000,
        )
        live_after = time.monotonic() - answered
        print(f"live again {live_after:.2f} s after the server answered")
        assert live_after <= 3.0, f"live again {live_after:.1f} s after the server answered"
        hello = page.evaluate("window.ganlabTest.hello")
        assert hello["restored"] is True and hello["playing"] is True
        # At most 2 s of training lost, at the page's 100 iterations/s (and one save's time).
        print(f"iteration {before} before the kill, {hello['iteration']} restored")
        assert hello["iteration"] > 0 and before - hello["iteration"] <= 300
        page.wait_for_function("window.ganlabTest.config.discriminator.neurons === 24")
        assert page.evaluate("window.ganlabTest.config")["generator"]["layers"] == 3
        page.wait_for_function(f"window.ganlabTest.counters().iteration > {hello['iteration']}")
        toasts = page.evaluate("[...document.querySelectorAll('.toast')].map(t => t.innerText)")
        assert any("restarted" in t and "last save" in t for t in toasts), toasts
        assert not any("no live session" in t or "engine" in t for t in toasts), toasts
        # The run's charts were kept: its history came back with it.
        assert page.evaluate("window.ganlabTest.historyLength") >= 2
        page.screenshot(path=str(ARTIFACTS / "first-after-restart.png"))
        assert errors == []
    finally:
        context.close()
        if proc.poll() is None:
            stop_server(proc)


def test_help_covers_the_parts_of_the_screen(page):
    open_app(page)
    page.click("#help-button")
    text = page.inner_text("#help-dialog")
    for part in ["Model graph", "Data space", "Metrics", "Noise space", "Training controls"]:
        assert part in text, part
    shot(page, "first-help")
    page.keyboard.press("Escape")
    assert page.errors == []


def test_shared_link_applies_at_every_size(page):
    # The same link works on a phone (the URL state is not tied to the layout).
    _size(page, "phone")
    open_app(page, "#" + quote("data.name=ring&generator.layers=3", safe="=&."))
    # The link's settings and its data arrive as two changes: wait for both.
    page.wait_for_function(
        "window.ganlabTest.config.generator.layers === 3"
        " && window.ganlabTest.config.data.name === 'ring' && window.ganlabTest.settled"
    )
    _no_horizontal_scroll(page)
    assert page.errors == []


def test_the_default_experiment_is_vivid_within_two_seconds_of_play(page):
    # A new page plays at a watchable speed, and within two seconds D's heatmap clearly
    # tells real regions from fake ones.
    open_app(page)
    assert page.input_value("[data-testid=speed]") == "100"
    page.click("[data-testid=play-pause]")
    page.wait_for_timeout(2000)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("!window.ganlabTest.playing")
    settle(page)
    f = page.evaluate("window.ganlabTest.frame(['realD', 'fakeD', 'iteration', 'output'])")
    assert f["output"] == "prob" and f["iteration"] <= 260
    real = sum(f["realD"]) / len(f["realD"])
    fake = sum(f["fakeD"]) / len(f["fakeD"])
    assert real - fake >= 0.2, (f["iteration"], real, fake)
    page.screenshot(path=str(ARTIFACTS / "first-default-after-2s.png"))
    assert page.errors == []
