import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
import { DrawingPad, SEND_SPACING } from "../src/ui/drawing-pad.js";

// The page's own dialog markup. jsdom has no canvas and no dialog methods: the canvas gets a
// context that records what is drawn, the dialog an open flag.
const PAGE = readFileSync(new URL("../src/index.html", import.meta.url), "utf8");
const PAD = { left: 10, top: 20, size: 200 }; // where the pad sits on screen, CSS pixels

// Keeps the calls of the latest redraw only (each starts by setting the transform): a long
// drawing is redrawn on every pointer move.
function recordingContext() {
  const calls = [];
  const record = (prop) => (...args) => {
    if (prop === "setTransform") calls.length = 0;
    calls.push([prop, ...args]);
  };
  return new Proxy({ calls }, {
    get: (target, prop) => (prop in target ? target[prop] : record(prop)),
    set: (target, prop, value) => ((target[prop] = value), true),
  });
}

let window;
let $;
let applied;
let ctx;

function makePad() {
  const canvas = $("draw-canvas");
  canvas.getBoundingClientRect = () => ({ left: PAD.left, top: PAD.top, width: PAD.size, height: PAD.size });
  canvas.setPointerCapture = () => {};
  ctx = recordingContext();
  canvas.getContext = (kind) => (kind === "2d" ? ctx : null);
  const pad = new DrawingPad(
    {
      dialog: $("draw-dialog"), canvas, brush: $("draw-brush"), brushValue: $("draw-brush-value"),
      undo: $("draw-undo"), clear: $("draw-clear"), cancel: $("draw-cancel"), apply: $("draw-apply"),
    },
    { onApply: (d) => applied.push(d), background: () => null },
  );
  pad.open();
  return pad;
}

/** Pointer events at pad-relative CSS pixels. */
function pointer(type, x, y, { id = 1, button = 0 } = {}) {
  $("draw-canvas").dispatchEvent(new window.PointerEvent(type, {
    clientX: PAD.left + x, clientY: PAD.top + y, pointerId: id, button, cancelable: true,
  }));
}

function stroke(points, id = 1) {
  pointer("pointerdown", ...points[0], { id });
  for (const p of points.slice(1)) pointer("pointermove", ...p, { id });
  pointer("pointerup", ...points.at(-1), { id });
}

const buttons = () => ["draw-apply", "draw-undo", "draw-clear"].map((id) => $(id).disabled);
/** The text written by the latest redraw. */
const lastTexts = () => ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1]);

beforeEach(() => {
  window = new JSDOM(PAGE).window;
  window.devicePixelRatio = 2;
  window.HTMLDialogElement.prototype.showModal = function () {
    this.open = true;
  };
  window.HTMLDialogElement.prototype.close = function () {
    this.open = false;
  };
  globalThis.window = window;
  $ = (id) => window.document.getElementById(id);
  applied = [];
});

afterEach(() => {
  delete globalThis.window;
});

test("opened, the pad fills its on-screen size at the screen's pixel density and invites drawing", () => {
  makePad();
  assert.equal($("draw-dialog").open, true);
  assert.equal($("draw-canvas").width, 400);
  assert.equal($("draw-canvas").height, 400);
  assert.equal($("draw-canvas").style.touchAction, "none", "touch draws instead of scrolling");
  assert.deepEqual(buttons(), [true, true, true]);
  assert.deepEqual(lastTexts(), ["draw here"]);
});

test("an empty drawing cannot be applied", () => {
  makePad();
  $("draw-apply").click();
  assert.deepEqual(applied, []);
  assert.equal($("draw-dialog").open, true);
  // Nor is it sent should the button be enabled by mistake.
  $("draw-apply").disabled = false;
  $("draw-apply").click();
  assert.deepEqual(applied, []);
  assert.equal($("draw-dialog").open, true);
});

test("a pointer stroke becomes evenly spaced points in the unit square, y up, and is applied", () => {
  makePad();
  // From the top-left corner right to the middle of the top edge, then down to the centre.
  stroke([[0, 0], [50, 0], [100, 0], [100, 100]]);
  assert.deepEqual(buttons(), [false, false, false]);
  assert.deepEqual(lastTexts(), [], "the invitation is gone once there is a stroke");
  $("draw-apply").click();
  assert.equal(applied.length, 1);
  const { strokes, brush_width: width } = applied[0];
  assert.equal(width, 0.04);
  assert.equal(strokes.length, 1);
  const s = strokes[0];
  assert.deepEqual(s[0], [0, 1]);
  assert.deepEqual(s.at(-1), [0.5, 0.5]);
  assert.ok(Math.abs(s.length - (1 / SEND_SPACING + 1)) <= 1, `${s.length} points along a path 1 long`);
  for (let i = 1; i < s.length; i++) {
    const d = Math.hypot(s[i][0] - s[i - 1][0], s[i][1] - s[i - 1][1]);
    assert.ok(d <= SEND_SPACING + 1e-4, `gap ${d} at ${i}`);
  }
  for (const [x, y] of s) {
    assert.equal(x, Math.round(x * 1e4) / 1e4);
    assert.equal(y, Math.round(y * 1e4) / 1e4);
  }
  assert.equal($("draw-dialog").open, false, "applying closes the pad");
});

test("a tap is a dot; the brush width chosen is sent and shown", () => {
  makePad();
  const brush = $("draw-brush");
  brush.value = "0.1";
  brush.dispatchEvent(new window.Event("input"));
  assert.equal($("draw-brush-value").textContent, "0.100");
  stroke([[50, 150]]);
  $("draw-apply").click();
  assert.deepEqual(applied, [{ strokes: [[[0.25, 0.25]]], brush_width: 0.1 }]);
});

test("undo takes back the last stroke", () => {
  makePad();
  stroke([[0, 200], [200, 200]]); // the bottom edge: y = 0
  stroke([[0, 0], [200, 0]]); // the top edge: y = 1
  stroke([[0, 100], [200, 100]]);
  $("draw-undo").click();
  $("draw-apply").click();
  assert.deepEqual(applied[0].strokes.map((s) => s[0]), [[0, 0], [0, 1]]);
});

test("clear removes every stroke and the pad is empty again", () => {
  makePad();
  stroke([[0, 0], [10, 10]]);
  stroke([[50, 50], [60, 60]]);
  $("draw-clear").click();
  assert.deepEqual(buttons(), [true, true, true]);
  assert.deepEqual(lastTexts(), ["draw here"]);
  $("draw-apply").click();
  assert.deepEqual(applied, []);
});

test("only the pointer that started a stroke draws it; other buttons and stray moves do nothing", () => {
  makePad();
  pointer("pointermove", 20, 20); // hovering, not pressed
  pointer("pointerdown", 0, 0, { button: 2 }); // right button
  pointer("pointerup", 0, 0);
  assert.deepEqual(buttons(), [true, true, true]);
  pointer("pointerdown", 0, 0, { id: 1 });
  pointer("pointermove", 200, 200, { id: 2 }); // a second finger
  pointer("pointerup", 200, 200, { id: 2 });
  assert.deepEqual(buttons(), [true, true, true], "the second finger did not end the stroke");
  pointer("pointermove", 100, 0, { id: 1 });
  pointer("pointercancel", 100, 0, { id: 1 }); // the browser took the pointer: keep what was drawn
  $("draw-apply").click();
  const s = applied[0].strokes[0];
  assert.deepEqual([s[0], s.at(-1)], [[0, 1], [0.5, 1]]);
});

test("cancel and Escape close without applying and drop a stroke in progress", () => {
  const pad = makePad();
  stroke([[0, 0], [100, 0]]);
  pointer("pointerdown", 0, 100);
  $("draw-cancel").click();
  assert.equal($("draw-dialog").open, false);
  assert.deepEqual(applied, []);
  pad.open();
  pointer("pointerup", 0, 100); // the abandoned stroke does not come back
  $("draw-dialog").dispatchEvent(new window.Event("cancel"));
  assert.equal($("draw-dialog").open, false);
  assert.deepEqual(applied, []);
  // Finished strokes are kept for the next opening.
  pad.open();
  $("draw-apply").click();
  assert.equal(applied.length, 1);
  assert.deepEqual(applied[0].strokes.map((s) => [s[0], s.at(-1)]), [[[0, 1], [0.5, 1]]]);
});

test("a huge drawing is sent coarser so it stays under the server's vertex limit", () => {
  makePad();
  // One stroke scribbled 160 times corner to corner: 226 units, 22600 vertices at the usual spacing.
  const pts = [];
  for (let i = 0; i <= 160; i++) pts.push(i % 2 ? [200, 200] : [0, 0]);
  stroke(pts);
  $("draw-apply").click();
  const s = applied[0].strokes[0];
  assert.ok(s.length <= 20000, `${s.length} vertices`);
  assert.ok(s.length > 10000, `${s.length} vertices: coarsened no more than needed`);
  const gap = Math.hypot(s[2][0] - s[1][0], s[2][1] - s[1][1]);
  assert.ok(Math.abs(gap - 2 * SEND_SPACING) < 1e-3, `spacing doubled: ${gap}`);
});
