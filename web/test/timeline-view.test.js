import { test, beforeEach, afterEach, mock } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { Emitter } from "../src/state/run.js";
import { SeekQueue, Timeline } from "../src/state/timeline.js";
import { MARKER_COLOR, TimelineView, branchName, branchWords, drawMarker, hoveredIteration, iterationAt, spanRange, positionOf, stateWords } from "../src/views/timeline-view.js";

/** A stand-in for the Run: its timeline and events, and the commands the view asked for. */
class FakeRun extends Emitter {
  constructor() {
    super();
    this.timeline = new Timeline();
    this.seeks = new SeekQueue();
    this.calls = [];
    this.ids = 0;
  }

  /** Every seek the view asks for is logged; the queue is kept as the Run keeps it (no
   * answer comes unless a test sends one). */
  seek(iteration) {
    this.calls.push(["seek", iteration]);
    if (this.seeks.want(iteration)) this.seeks.sent(++this.ids);
  }

  /** The server answers the seek in flight. */
  answer() {
    this.seeks.answered(this.ids);
    this.emit("timeline", this.timeline);
  }

  goLive(branch = null) {
    this.seeks.clear();
    this.calls.push(["live", branch]);
  }

  branch(options) {
    this.calls.push(["branch", options]);
  }

  /** The server's answer: a timeline event. */
  tell(fields) {
    this.timeline.fromEvent({ ...EVENT, ...fields });
    this.emit("timeline", this.timeline);
  }
}

const EVENT = {
  type: "timeline", branch: 0, live: true, iteration: 1000, start: 0, head: 1000, snapshots: [0, 100, 250, 600, 900],
  branches: [{ id: 0, parent: null, from: 0, label: "main", start: 0, head: 1000 }], bytes: 1, budget: 2, id: null,
};
const TWO = [
  { id: 0, parent: null, from: 0, label: "main", start: 0, head: 1000 },
  { id: 1, parent: 0, from: 500, label: "g_optimizer.lr = 0.003", change: [["g_optimizer.lr", 0.003]], start: 0, head: 730 },
];

let doc;
let run;
let view;
let root;

beforeEach(() => {
  doc = new JSDOM("<!doctype html><div id=t></div>").window.document;
  root = doc.getElementById("t");
  run = new FakeRun();
  view = new TimelineView(root, { run });
  // jsdom lays nothing out: the track is 500 px wide at x = 100.
  view.track.getBoundingClientRect = () => ({ left: 100, width: 500, top: 0, height: 20 });
  mock.timers.enable({ apis: ["setTimeout"] });
});

afterEach(() => {
  view.stopReplay();
  mock.timers.reset();
});

const key = (k, more = {}) => {
  const ev = new doc.defaultView.KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...more });
  view.track.dispatchEvent(ev);
  return ev;
};
const pointer = (type, clientX) => view.track.dispatchEvent(new doc.defaultView.MouseEvent(type, { clientX, bubbles: true, button: 0 }));

test("positions and iterations on the track are inverse maps over start..head", () => {
  for (const [start, head, width] of [[0, 1000, 500], [300, 1300, 777], [10, 11, 100]]) {
    for (let x = 0; x <= width; x += width / 10) {
      const it = iterationAt(x, start, head, width);
      // Rounded to a whole iteration: back within half an iteration's width.
      assert.ok(Math.abs(positionOf(it, start, head, width) - x) <= width / (head - start) / 2 + 1e-9, `${x} on ${start}..${head}`);
    }
  }
  assert.equal(iterationAt(-50, 0, 1000, 500), 0, "left of the track: the start");
  assert.equal(iterationAt(900, 0, 1000, 500), 1000, "right of it: the head");
  assert.equal(positionOf(5, 5, 5, 300), 300, "an empty history sits at the head");
});

test("the timeline is hidden until the run knows its history", () => {
  assert.equal(root.hidden, true);
  run.tell({});
  assert.equal(root.hidden, false);
  assert.equal(view.track.getAttribute("data-testid"), "timeline");
});

test("live: the thumb at the head, no Back to live, the words say live", () => {
  run.tell({});
  assert.equal(view.thumb.style.left, "100%");
  assert.equal(view.liveButton.hidden, true);
  assert.equal(view.liveButton.disabled, true);
  assert.equal(view.words.textContent, "Latest iteration: 1,000, paused.");
  assert.equal(view.track.getAttribute("aria-valuetext"), "iteration 1,000, the latest");
  assert.equal(root.classList.contains("past"), false);
});

test("the past: the thumb where it is, Back to live shown, the words say which iteration of which head", () => {
  run.tell({ live: false, iteration: 250 });
  assert.equal(view.thumb.style.left, "25%");
  assert.equal(view.fill.style.width, "25%");
  assert.equal(view.liveButton.hidden, false);
  assert.match(view.words.textContent, /^Viewing iteration 250 of 1,000/);
  assert.equal(root.classList.contains("past"), true);
  view.liveButton.click();
  assert.deepEqual(run.calls, [["live", null]]);
});

test("a snapshot tick is drawn at each snapshot iteration in range", () => {
  run.tell({ start: 100, head: 900, snapshots: [0, 100, 500, 900, 950] });
  const xs = [...view.tickPath.getAttribute("d").matchAll(/M([\d.]+) /g)].map((m) => Number(m[1]));
  assert.deepEqual(xs, [0, 500, 1000]);
  assert.equal(view.snapLabel.textContent, "", "live: the count waits for a pause or a seek");
  run.tell({ start: 100, head: 900, live: false, iteration: 500, snapshots: [0, 100, 500, 900, 950] });
  assert.match(view.snapLabel.textContent, /^ticks: 3 saved points/);
});

test("a drag seeks where the pointer is; reaching the head goes live", () => {
  run.tell({});
  pointer("pointerdown", 100 + 125); // a quarter of the track
  pointer("pointermove", 100 + 250);
  pointer("pointermove", 100 + 250); // no move: no new seek
  pointer("pointermove", 100 + 600); // past the right end
  pointer("pointerup", 100 + 600);
  pointer("pointermove", 100 + 50); // not dragging: nothing sent
  assert.deepEqual(run.calls, [["seek", 250], ["seek", 500], ["live", null]]);
});

test("arrow keys step between stops (Shift: ten), Home goes to the start, End to live", () => {
  // 0..1000: stops every 10 iterations and at each snapshot.
  run.tell({ live: false, iteration: 250, snapshots: [0, 255, 600] });
  const ev = key("ArrowLeft");
  assert.equal(ev.defaultPrevented, true, "the page's shortcuts do not see it");
  assert.deepEqual(run.calls.at(-1), ["seek", 240]);
  // Before the answer, the next step goes on from the point asked for, not the one shown.
  key("ArrowRight");
  key("ArrowRight");
  assert.deepEqual(run.calls.slice(-2), [["seek", 250], ["seek", 255]]);
  key("ArrowLeft", { shiftKey: true });
  assert.deepEqual(run.calls.at(-1), ["seek", 160]);
  key("Home");
  assert.deepEqual(run.calls.at(-1), ["seek", 0]);
  key("End");
  assert.deepEqual(run.calls.at(-1), ["live", null]);
  const other = key("x");
  assert.equal(other.defaultPrevented, false);
});

test("Branch from here asks the run for a branch at the shown point", () => {
  run.tell({ live: false, iteration: 250 });
  view.branchButton.click();
  assert.deepEqual(run.calls, [["branch", undefined]]);
});

test("the branch tree appears with a second branch, marks the shown one and switches on a click", () => {
  run.tell({});
  assert.equal(view.tree.hidden, true, "one branch: nothing to switch to");
  run.tell({ branch: 1, start: 0, head: 730, iteration: 730, branches: TWO });
  assert.equal(view.tree.hidden, false);
  const entries = [...view.tree.querySelectorAll("button")];
  assert.deepEqual(entries.map((b) => b.textContent), ["main0 → 1,000", "↳ Generator learning rate: 0.003from 500 → 730"]);
  assert.deepEqual(entries.map((b) => b.getAttribute("aria-current")), [null, "true"]);
  entries[0].click();
  assert.deepEqual(run.calls, [["live", 0]]);
  assert.match(view.words.textContent, /on branch “Generator learning rate: 0.003”/);
});

test("words for a branch and for the shown point", () => {
  assert.deepEqual(branchWords(TWO[0]), { name: "main", span: "0 → 1,000" });
  assert.deepEqual(branchWords(TWO[1]), { name: "Generator learning rate: 0.003", span: "from 500 → 730" });
  // Names come from the settings' own labels and menus; a drawing's points are not named.
  const two = { id: 2, parent: 0, from: 9, label: "x", change: [["loss.kind", "lsgan"], ["data.strokes", "…"]] };
  assert.equal(branchName(two), "Loss: Least squares");
  assert.equal(branchName({ id: 3, parent: 1, from: 9, label: "copy", change: null }), "copy from 9");
  const t = new Timeline();
  assert.deepEqual(stateWords(t), { text: "", how: "" });
  t.fromEvent({ ...EVENT, live: false, iteration: 12345, head: 20000 });
  assert.match(stateWords(t).text, /^Viewing iteration 12,345 of 20,000: the past/);
  assert.match(stateWords(t).how, /Back to latest/);
  t.fromEvent(EVENT);
  assert.deepEqual(stateWords(t), { text: "Latest iteration: 1,000, paused.", how: "" });
});

test("a replay seeks forward through the history at the chosen pace and ends live at the head", () => {
  run.tell({ snapshots: [] });
  let now = 0;
  mock.method(performance, "now", () => now);
  view.speedSelect.value = "2";
  view.speedSelect.dispatchEvent(new doc.defaultView.Event("change"));
  view.replayButton.click();
  assert.equal(view.replaying, true);
  assert.equal(view.replayButton.getAttribute("aria-pressed"), "true");
  assert.deepEqual(run.calls, [["seek", 0]], "live: from the start");
  // At 2x the whole history takes 5 s: 1 s in, a fifth of the way.
  now = 1000;
  mock.timers.tick(40);
  assert.deepEqual(run.calls.at(-1), ["seek", 200]);
  now = 5000;
  mock.timers.tick(40);
  assert.deepEqual(run.calls.at(-1), ["live", null]);
  assert.equal(view.replaying, false);
  const seeks = run.calls.filter(([c]) => c === "seek").map(([, it]) => it);
  assert.deepEqual(seeks, [...seeks].sort((a, b) => a - b), "forward only");
});

test("a replay stops when asked, when the run plays, and on a drag", () => {
  run.tell({ live: false, iteration: 400 });
  view.replayButton.click();
  assert.deepEqual(run.calls, [["seek", 400]], "from the point shown");
  view.replayButton.click();
  assert.equal(view.replaying, false);
  view.replayButton.click();
  run.emit("playing", true);
  assert.equal(view.replaying, false);
  view.replayButton.click();
  pointer("pointerdown", 100 + 50);
  assert.equal(view.replaying, false);
  const before = run.calls.length;
  mock.timers.tick(1000);
  assert.equal(run.calls.length, before, "no replay ticks after it stopped");
});

/** A uPlot stand-in: x maps iterations 0..1000 onto canvas px 50..550; the context logs. */
function fakeChart(cursorIdx = null) {
  const log = [];
  const ctx = new Proxy({}, {
    get: (o, k) => (k in o ? o[k] : (...args) => log.push([k, ...args])),
    set: (o, k, v) => ((o[k] = v), log.push([k, v]), true),
  });
  return {
    log, ctx, bbox: { left: 50, top: 10, width: 500, height: 100 },
    valToPos: (v) => 50 + v / 2,
    cursor: { idx: cursorIdx },
    data: [[0, 100, 200.4]],
  };
}

test("the charts' marker is a vertical line across the plot at the iteration, none outside or without one", () => {
  const u = fakeChart();
  drawMarker(u, 400);
  const moves = u.log.filter(([k]) => k === "moveTo" || k === "lineTo");
  assert.deepEqual(moves, [["moveTo", 250, 10], ["lineTo", 250, 110]]);
  assert.ok(u.log.some(([k, v]) => k === "strokeStyle" && v === MARKER_COLOR));
  assert.deepEqual(u.log.find(([k]) => k === "fillRect"), ["fillRect", 247, 10, 6, 100], "a 6 px band centred on it");
  for (const it of [null, 1200, -10]) {
    const v = fakeChart();
    drawMarker(v, it);
    assert.deepEqual(v.log, [], String(it));
  }
});

test("a chart's hovered iteration is its cursor row's, whole; none without a row", () => {
  assert.equal(hoveredIteration(fakeChart(2)), 200);
  assert.equal(hoveredIteration(fakeChart(0)), 0);
  assert.equal(hoveredIteration(fakeChart(null)), null);
  assert.equal(hoveredIteration(fakeChart(7)), null, "past the data");
});

test("a chart's x range is its rows' widened to the timeline's span, and its own without one", () => {
  assert.deepEqual(spanRange(100, 300, { start: 0, head: 340 }), [0, 340]);
  assert.deepEqual(spanRange(0, 300, { start: 182, head: 292 }), [0, 300], "a branch keeps its parent's earlier rows in view");
  assert.deepEqual(spanRange(100, 300, null), [100, 300]);
  assert.deepEqual(spanRange(null, null, { start: 0, head: 5 }), [null, null], "no rows: nothing to span");
});

test("while the run plays live the timeline follows the head at most every 250 ms; paused, at once", () => {
  let now = 1000;
  mock.method(performance, "now", () => now);
  run.tell({});
  run.playing = true;
  const headAfter = (head) => {
    run.timeline.fromHeader({ live: true, branch: 0, start: 0, head, iteration: head });
    run.emit("timeline", run.timeline);
  };
  now = 1100;
  headAfter(1100);
  assert.equal(view.words.textContent, "Latest iteration: 1,000, paused.", "not yet");
  headAfter(1200);
  now = 1250;
  mock.timers.tick(150);
  assert.equal(view.words.textContent, "Latest iteration: 1,200, training.", "the latest head, once");
  run.playing = false;
  headAfter(1300);
  assert.equal(view.words.textContent, "Latest iteration: 1,300, paused.", "paused: at once");
});

test("the page's , and . keys are the history's steps, apart from its other shortcuts", async () => {
  const { shortcutFor } = await import("../src/ui/keys.js");
  const at = (k) => shortcutFor({ key: k, code: "", target: { tagName: "BODY" } });
  assert.equal(at(","), "history-back");
  assert.equal(at("."), "history-forward");
  assert.equal(shortcutFor({ key: ",", code: "", target: { tagName: "INPUT" } }), null, "typed into a field");
});

test("the thumb shows the iteration asked for until the seek is answered, then the run's", () => {
  run.tell({ live: false, iteration: 500 });
  pointer("pointerdown", 100 + 125);
  pointer("pointerup", 100 + 125);
  assert.equal(view.thumb.style.left, "25%", "where the learner let go");
  run.emit("error", { code: "bad_seek" }); // refused: the queue is not freed by this alone
  assert.equal(view.thumb.style.left, "25%");
  run.answer();
  assert.equal(view.thumb.style.left, "50%", "the run did not move: the thumb goes back to it");
});

test("the iteration under the pointer is shown over the track, and goes when the pointer leaves", () => {
  run.tell({});
  pointer("pointermove", 100 + 375);
  assert.equal(view.hoverLabel.hidden, false);
  assert.equal(view.hoverLabel.textContent, "750");
  assert.equal(view.hoverLabel.style.left, "75%");
  view.track.dispatchEvent(new doc.defaultView.MouseEvent("pointerleave"));
  assert.equal(view.hoverLabel.hidden, true);
  assert.deepEqual(run.calls, [], "hovering the track seeks nothing");
});
