"""The run's history in the page (issue 15): scrub the timeline, step between snapshots, back to
live, branch with a changed learning rate, switch branches, replay; and how the timeline looks
in the past with two branches at the three sizes."""

from __future__ import annotations

import pytest
from e2e_helpers import (
    ARTIFACTS,
    canvas_png,
    chart_legend,
    file_menu,
    set_control,
    shot,
    sized_page,
    train_to,
    wait_ready,
)

TL = "window.ganlabTest.timeline"


def timeline(pg):  # type: ignore[no-untyped-def]
    return pg.evaluate(TL)


def shown_settled(pg) -> None:  # type: ignore[no-untyped-def]
    """No seek in flight and the picture shows every command sent."""
    pg.wait_for_function(f"!{TL}.seekBusy && window.ganlabTest.settled", timeout=15_000)


def drag(pg, frm: float, to: float) -> None:  # type: ignore[no-untyped-def]
    """Drag across the timeline from one share of its width to another."""
    track = pg.locator("[data-testid=timeline]")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    pg.mouse.move(box["x"] + frm * box["width"], y)
    pg.mouse.down()
    pg.mouse.move(box["x"] + to * box["width"], y, steps=12)
    pg.mouse.up()
    shown_settled(pg)


def fake(pg) -> list[float]:  # type: ignore[no-untyped-def]
    return pg.evaluate("window.ganlabTest.frame(['fake']).fake")


def next_stop(t: dict, it: int, direction: int) -> int:  # type: ignore[type-arg]
    """The stop next to `it` (a snapshot, the start, the head or a hundredth of the range)."""
    lo, hi = t["start"], t["head"]
    grid = {lo + int((k * (hi - lo)) / 100 + 0.5) for k in range(1, 100)}
    stops = sorted({lo, hi, *grid, *[s for s in t["snapshots"] if lo <= s <= hi]})
    beyond = [s for s in stops if (s > it if direction > 0 else s < it)]
    return (min(beyond) if direction > 0 else max(beyond)) if beyond else it


def past_with_two_branches(pg) -> None:  # type: ignore[no-untyped-def]
    """A fresh page's run: trained, branched half-way, and the original shown at a past point
    (a new branch's history starts where it branched off: nothing to scrub yet)."""
    train_to(pg, 200)
    drag(pg, 0.9, 0.5)
    pg.click("[data-testid=branch]")
    pg.wait_for_function(f"{TL}.branches.length === 2 && {TL}.live && {TL}.branch !== 0")
    shown_settled(pg)
    pg.click("[data-testid=branch-entry][data-branch='0']")
    pg.wait_for_function(f"{TL}.branch === 0")
    shown_settled(pg)
    drag(pg, 0.9, 0.3)


def test_scrub_branch_switch_and_replay(browser, server_url):  # type: ignore[no-untyped-def]
    context, pg, errors = sized_page(browser, server_url, "laptop")
    try:
        pg.goto(f"{server_url}/")
        wait_ready(pg)
        train_to(pg, 300)
        live = timeline(pg)
        assert live["known"] and live["live"] and live["iteration"] == live["head"] >= 300
        head = live["head"]
        live_picture = canvas_png(pg)
        live_fake = fake(pg)
        live_legend = chart_legend(pg, "losses")
        assert not pg.is_visible("[data-testid=live]"), "no Back to live while live"

        # Hovering a chart of a paused run previews that iteration; leaving goes back to live.
        chart = pg.locator("[data-chart=losses] .u-over")
        chart.scroll_into_view_if_needed()
        cbox = chart.bounding_box()
        pg.mouse.move(cbox["x"] + 0.05 * cbox["width"], cbox["y"] + cbox["height"] / 2)
        pg.wait_for_function(f"!{TL}.live", timeout=10_000)
        shown_settled(pg)
        assert timeline(pg)["iteration"] < head
        pg.mouse.move(2, 2)
        pg.wait_for_function(f"{TL}.live && {TL}.iteration === {head}", timeout=10_000)
        shown_settled(pg)

        # Drag the timeline back to about a third of the history.
        drag(pg, 0.95, 0.3)
        t = timeline(pg)
        assert not t["live"] and t["head"] == head
        assert abs(t["iteration"] - 0.3 * head) <= 0.05 * head, t
        assert pg.evaluate("window.ganlabTest.shownIteration") == t["iteration"]
        # The frame drawn is the past one.
        assert pg.evaluate("window.ganlabTest.counters().iteration") == t["iteration"]
        assert pg.inner_text("[data-testid=iteration-of]") == f"of {head}"
        state = pg.inner_text("[data-testid=timeline-state]")
        assert state.startswith(f"Viewing iteration {t['iteration']:,} of {head:,}")
        assert canvas_png(pg) != live_picture, "the past picture differs from the live one"
        assert fake(pg) != live_fake
        # The way back is in the bar kept on screen too.
        assert pg.is_visible("[data-testid=runbar-latest]")

        # Arrow keys step between snapshots.
        pg.focus("[data-testid=timeline]")
        for key, direction in (("ArrowRight", 1), ("ArrowLeft", -1), ("ArrowLeft", -1)):
            before = timeline(pg)
            pg.keyboard.press(key)
            want = next_stop(before, before["iteration"], direction)
            pg.wait_for_function(f"{TL}.iteration === {want}", timeout=10_000)
            shown_settled(pg)
            assert pg.evaluate("window.ganlabTest.counters().iteration") == want

        # The charts' legends read the shown point's newest row, not the head's: at the
        # start, before any row, none.
        pg.keyboard.press("Home")
        pg.wait_for_function(f"{TL}.iteration === {TL}.start")
        shown_settled(pg)
        rows = pg.evaluate("window.ganlab.run.history.column('iteration')")
        start = timeline(pg)["start"]
        before = [r for r in rows if r <= start]
        legend = chart_legend(pg, "losses")
        assert legend["iteration"] == (f"{max(before):.0f}" if before else "–"), (legend, rows)
        assert legend["iteration"] != live_legend["iteration"], (legend, live_legend)

        # Back to live: the head, as it was.
        pg.click("[data-testid=live]")
        pg.wait_for_function(f"{TL}.live && {TL}.iteration === {head}")
        shown_settled(pg)
        assert pg.evaluate("window.ganlabTest.shownIteration") == head
        assert fake(pg) == live_fake
        assert not pg.is_visible("[data-testid=live]")

        # A changed learning rate while the past is shown: a branch from there.
        drag(pg, 0.95, 0.5)
        at = timeline(pg)["iteration"]
        set_control(pg, "g_optimizer.lr", "0.003")
        pg.wait_for_function(f"{TL}.branches.length === 2 && {TL}.branch !== 0 && {TL}.live")
        shown_settled(pg)
        t = timeline(pg)
        assert t["head"] == at and t["iteration"] == at
        assert pg.evaluate("window.ganlabTest.config.g_optimizer.lr") == 0.003
        assert pg.locator("[data-testid=branch-entry]").count() == 2
        shown = f"[data-testid=branch-entry][data-branch='{t['branch']}']"
        assert pg.get_attribute(shown, "aria-current") == "true"
        assert "new branch" in pg.inner_text("#toasts")
        # A movie of the history says which branch it shows.
        file_menu(pg, "export-gif")
        summary = pg.locator("[data-testid=movie-summary]").inner_text()
        assert summary.startswith("Branch “Generator learning rate: 0.003”: "), summary
        pg.click("[data-testid=movie-cancel]")
        pg.locator("[data-testid=movie-dialog]").wait_for(state="hidden")

        # The new branch trains on; the original is untouched.
        train_to(pg, at + 40)
        pg.focus("[data-testid=timeline]")
        pg.keyboard.press("ArrowLeft")
        pg.wait_for_function(f"!{TL}.live")
        shown_settled(pg)
        shot(pg, "timeline-laptop")
        pg.locator(".view-panel").screenshot(path=str(ARTIFACTS / "timeline-laptop-panel.png"))
        pg.click("[data-testid=branch-entry][data-branch='0']")
        pg.wait_for_function(f"{TL}.branch === 0 && {TL}.live")
        shown_settled(pg)
        assert timeline(pg)["iteration"] == head
        assert pg.evaluate("window.ganlabTest.counters().iteration") == head
        assert pg.evaluate("window.ganlabTest.config.g_optimizer.lr") != 0.003
        assert fake(pg) == live_fake, "the original's head is the same picture as before branching"

        # A reset would drop both branches: the page asks first (declined here: nothing lost).
        asked = []
        pg.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        pg.click("[data-testid=reset]")
        assert asked and "2 branches" in asked[0]
        assert timeline(pg)["branches"].__len__() == 2 and timeline(pg)["head"] == head

        # Replay: through the history, ending live at the head.
        pg.select_option("[data-testid=replay-speed]", "4")
        pg.evaluate("""() => { window.__seen = []; const poll = () => {
            const t = window.ganlabTest.timeline; window.__seen.push(t.iteration);
            if (window.__seen.length < 2000) requestAnimationFrame(poll); }; poll(); }""")
        pg.click("[data-testid=replay]")
        pg.wait_for_function(f"{TL}.replaying")
        pg.wait_for_function(f"!{TL}.replaying", timeout=20_000)
        pg.wait_for_function(f"{TL}.live && {TL}.iteration === {head}")
        seen = sorted(set(pg.evaluate("window.__seen")))
        assert len([s for s in seen if s < head]) >= 5, seen
        shown_settled(pg)
        assert pg.evaluate("window.ganlabTest.counters().iteration") == head
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_timeline_in_the_past_with_two_branches_reads_at_each_size(browser, server_url, size):  # type: ignore[no-untyped-def]
    context, pg, errors = sized_page(browser, server_url, size)
    try:
        pg.goto(f"{server_url}/")
        wait_ready(pg)
        past_with_two_branches(pg)
        assert pg.is_visible("[data-testid=live]")
        assert pg.locator("[data-testid=branch-entry]").count() == 2
        # Everything of the timeline is on the screen, nothing wider than it.
        right = pg.evaluate("""() => Math.max(...[...document.querySelectorAll('#timeline *')]
            .map(e => e.getBoundingClientRect().right))""")
        assert right <= pg.viewport_size["width"] + 1
        shot(pg, f"timeline-{size}")
        pg.locator(".view-panel").screenshot(path=str(ARTIFACTS / f"timeline-{size}-panel.png"))
        assert errors == []
    finally:
        context.close()
