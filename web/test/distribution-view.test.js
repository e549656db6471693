import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { DistributionView } from "../src/views/distribution-view.js";
import { decodeEnvelope, encodeEnvelope } from "../src/protocol/envelope.js";
import { prepareFrameWith } from "../src/protocol/frame.js";
import { Viewport } from "../src/views/math.js";
import { PALETTES } from "../src/views/colors.js";
import { recordingContext } from "../test-support/canvas.js";

// The canvas is 270 x 256 CSS pixels: inside the axes' margins (38 left, 8 top) the plot is 224
// square, so the unit box with its 6% margin is drawn at 200 px per unit, centred on plot pixel 112.
const RECT = { left: 0, top: 0, width: 270, height: 256 };
const K = 200;
/** Client pixels of data point (x, y) while the unit box is fitted. */
const at = (x, y) => [38 + 112 + K * (x - 0.5), 8 + 112 - K * (y - 0.5)];

// A worker that keeps what the page posts to it; the test answers for it.
class FakeWorker {
  static made = [];
  constructor(url, options) {
    Object.assign(this, { url, options, posted: [] });
    FakeWorker.made.push(this);
  }

  postMessage(message, transfer) {
    this.posted.push({ message, transfer });
  }

  reply(data) {
    this.onmessage({ data });
  }

  frames() {
    return this.posted.filter((p) => p.message.type === "frame");
  }

  states() {
    return this.posted.filter((p) => p.message.type === "state").map((p) => p.message.state);
  }
}

/** A frame as it arrives: the decoded views' numbers and the raw message they came in. */
function incoming({ n = 1, box = [0, 1, 0, 1], fakeD = 51, grid = [0, 0.25, 0.5, 1] } = {}) {
  const f4 = (name, values, shape) => ({ name, data: new Float32Array(values), shape, dtype: "f4" });
  const u1 = (name, values, shape) => ({ name, data: new Uint8Array(values), shape, dtype: "u1" });
  const buf = encodeEnvelope({ kind: "frame", frame: n, iteration: 10 * n, box, noise_dim: 2, output: "probability" }, [
    f4("real", [0.2, 0.8], [1, 2]),
    u1("real_d", [255], [1]),
    f4("fake", [0.5, 0.5], [1, 2]),
    f4("fake_noise", [0.1, 0.2], [1, 2]),
    u1("fake_d", [fakeD], [1]),
    f4("fake_grad", [1, 0], [1, 2]),
    f4("d_grid", grid, [2, 2]),
    f4("manifold", [0, 0, 0.5, 0, 1, 0, 0, 0.5, 0.5, 0.5, 1, 0.5, 0, 1, 0.5, 1, 1, 1], [3, 3, 2]),
    f4("manifold_density", [1, 2, 3, 4], [2, 2]),
    u1("real_density", [0, 10, 20, 30], [2, 2]),
  ]);
  const msg = decodeEnvelope(buf);
  for (const name of ["real_d", "fake_d"]) Object.assign(msg.arrays[name], { min: 0, max: 1 });
  return [prepareFrameWith(msg, "uniform"), buf];
}

let window;
let canvas;
let tooltip;
let log;
let resizeCallbacks;
let views;

function makeView(options = {}) {
  const view = new DistributionView(canvas, tooltip, {
    onHover: (i) => log.hover.push(i),
    onRendered: (n, ms) => log.rendered.push([n, ms]),
    onDirty: () => log.dirty++,
    onSkipped: () => log.skipped++,
    ...options,
  });
  views.push(view);
  return view;
}

const worker = () => FakeWorker.made.at(-1);

/** Let the task that hands frames to the worker run, if one is due. */
async function handOver(view) {
  for (let waited = 0; view.postScheduled; waited++) {
    assert.ok(waited < 2000, "the hand-over task never ran");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function pointer(type, [x, y], init = {}) {
  const Ctor = type === "wheel" ? window.WheelEvent : type.startsWith("pointer") ? window.PointerEvent : window.MouseEvent;
  const ev = new Ctor(type, { clientX: RECT.left + x, clientY: RECT.top + y, cancelable: true, button: 0, ...init });
  canvas.dispatchEvent(ev);
  return ev;
}

const lastViewport = () => {
  const v = worker().states().filter((s) => s.viewport).at(-1).viewport;
  return new Viewport(v.width, v.height, v.cx, v.cy, v.k);
};

beforeEach(() => {
  window = new JSDOM(`<!doctype html><canvas></canvas><div class="tooltip" hidden></div>`).window;
  window.devicePixelRatio = 2;
  canvas = window.document.querySelector("canvas");
  tooltip = window.document.querySelector(".tooltip");
  canvas.getBoundingClientRect = () => ({ ...RECT });
  canvas.setPointerCapture = () => {};
  canvas.transferControlToOffscreen = () => ({ offscreen: true });
  window.HTMLCanvasElement.prototype.getContext = function () {
    this.recorder ||= recordingContext();
    return this.recorder;
  };
  FakeWorker.made = [];
  log = { hover: [], rendered: [], dirty: 0, skipped: 0 };
  resizeCallbacks = [];
  views = [];
  Object.assign(globalThis, {
    window,
    document: window.document,
    Worker: FakeWorker,
    ResizeObserver: class {
      constructor(cb) {
        resizeCallbacks.push(cb);
      }
      observe() {}
    },
  });
});

afterEach(() => {
  // The page's hand-over channel would otherwise keep the test process alive.
  for (const v of views) v.postChannel.port1.close();
  for (const k of ["window", "document", "Worker", "ResizeObserver"]) delete globalThis[k];
});

test("the picture is drawn in a worker that gets the canvas and the view's size", () => {
  const view = makeView();
  assert.equal(view.mode, "worker");
  const w = worker();
  assert.equal(w.url, "render-worker.js");
  assert.deepEqual(w.options, { type: "module" });
  const [init, size] = w.posted;
  assert.deepEqual(init.message, { type: "init", canvas: { offscreen: true } });
  assert.deepEqual(init.transfer, [{ offscreen: true }], "the canvas is handed over, not copied");
  assert.deepEqual(size.message.state.size, { width: 270, height: 256, dpr: 2 });
  assert.deepEqual(size.message.state.viewport, { width: 224, height: 224, cx: 0.5, cy: 0.5, k: 224 });
});

test("a canvas not laid out yet waits for a real size", () => {
  canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 0, height: 0 });
  makeView();
  assert.deepEqual(worker().states(), []);
  canvas.getBoundingClientRect = () => ({ ...RECT });
  for (const cb of resizeCallbacks) cb();
  assert.deepEqual(worker().states().map((s) => s.size), [{ width: 270, height: 256, dpr: 2 }]);
});

test("colours, layers, the walkthrough overlay and the morph go to the worker as state", () => {
  const view = makeView();
  const before = worker().posted.length;
  view.setPalette(PALETTES.cvd);
  view.setLayers({ contour: true, fake: false });
  view.setWalk({ showD: true });
  view.setMorph(true);
  view.setHighlight(3);
  view.setHighlight(3); // unchanged: not sent again
  assert.deepEqual(worker().posted.slice(before).map((p) => p.message.state), [
    { palette: PALETTES.cvd },
    { layers: { heatmap: true, real: true, fake: false, gradients: true, manifold: true, contour: true } },
    { walk: { showD: true } },
    { morph: true },
    { highlight: 3 },
  ]);
});

test("a frame goes to the worker in a task of its own, as a copy of the message it came in", async () => {
  const view = makeView();
  const [frame, raw] = incoming({ box: [0, 2, 0, 2] });
  view.setFrame(frame, raw);
  assert.equal(worker().frames().length, 0, "not during the page's own work");
  // A new distribution: the view is fitted to its box at once.
  assert.deepEqual(lastViewport(), Viewport.fit([0, 2, 0, 2], 224, 224));
  await handOver(view);
  const [sent] = worker().frames();
  assert.equal(sent.message.noiseKind, "uniform");
  assert.notEqual(sent.message.buffer, raw);
  assert.deepEqual(new Uint8Array(sent.message.buffer), new Uint8Array(raw));
  assert.deepEqual(sent.transfer, [sent.message.buffer], "the copy is handed over, not cloned again");
  assert.equal(raw.byteLength > 0, true, "the page's own message stays readable");
});

test("frames that arrive while the worker draws wait for it, then go together, in order", async () => {
  const view = makeView();
  view.setFrame(...incoming({ n: 1 }));
  await handOver(view);
  view.setFrame(...incoming({ n: 2 }));
  view.setFrame(...incoming({ n: 3 }));
  await handOver(view);
  assert.equal(worker().frames().length, 1);
  worker().reply({ type: "rendered", frameNumber: 1, ms: 4.5 });
  assert.deepEqual(log.rendered, [[1, 4.5]]);
  const numbers = worker().frames().map((p) => decodeEnvelope(p.message.buffer).header.frame);
  assert.deepEqual(numbers, [1, 2, 3]);
  assert.equal(log.skipped, 0);
  worker().reply({ type: "rendered", frameNumber: 2, ms: 1 });
  worker().reply({ type: "rendered", frameNumber: 3, ms: 1 });
  // All drawn: the next frame goes out on its own task again.
  view.setFrame(...incoming({ n: 4 }));
  await handOver(view);
  assert.equal(worker().frames().length, 4);
});

test("a worker far behind gets the newest four frames; the ones dropped are counted", async () => {
  const view = makeView();
  view.setFrame(...incoming({ n: 1 }));
  await handOver(view);
  for (let n = 2; n <= 7; n++) view.setFrame(...incoming({ n }));
  assert.equal(log.skipped, 2);
  worker().reply({ type: "rendered", frameNumber: 1, ms: 900 });
  const numbers = worker().frames().map((p) => decodeEnvelope(p.message.buffer).header.frame);
  assert.deepEqual(numbers, [1, 4, 5, 6, 7]);
});

test("the worker's errors are reported on the console, not thrown", (t) => {
  const errors = t.mock.method(console, "error", () => {});
  makeView();
  worker().reply({ type: "error", message: "bad frame" });
  worker().onerror({ message: "script failed" });
  assert.deepEqual(errors.mock.calls.map((c) => c.arguments[0]), ["picture worker: bad frame", "picture worker: script failed"]);
});

test("hovering a fake sample names it with D's verdict and highlights it", () => {
  const view = makeView();
  view.setFrame(...incoming({ fakeD: 51 }));
  pointer("pointermove", at(0.5, 0.5));
  assert.equal(tooltip.hidden, false);
  assert.equal(tooltip.innerHTML, `<b class="c-fake">fake #0</b> (0.5, 0.5)<br>D = 0.2`);
  assert.deepEqual(log.hover, [0]);
  assert.equal(worker().states().at(-1).highlight, 0);
});

test("the tooltip calls a fake sample by the name it is given (its generator), at once", () => {
  const view = makeView();
  view.setFrame(...incoming({ fakeD: 51 }));
  pointer("pointermove", at(0.5, 0.5));
  view.setFakeName("fake (averaged G)");
  assert.equal(tooltip.innerHTML, `<b class="c-fake">fake (averaged G) #0</b> (0.5, 0.5)<br>D = 0.2`);
  view.setFakeName("fake");
  assert.equal(tooltip.innerHTML, `<b class="c-fake">fake #0</b> (0.5, 0.5)<br>D = 0.2`);
});

test("hovering a real sample or empty space shows its D value; leaving hides the tooltip", () => {
  const view = makeView();
  view.setFrame(...incoming());
  pointer("pointermove", at(0.2, 0.8));
  assert.equal(tooltip.innerHTML, `<b class="c-real">real</b> (0.2, 0.8)<br>D = 1`);
  assert.deepEqual(log.hover, [-1]);
  // Between the grid's values 0, 0.25 (bottom) and 0.5, 1 (top): bilinear.
  pointer("pointermove", at(0.75, 0.25));
  assert.equal(tooltip.innerHTML, "(0.75, 0.25)<br>D ≈ 0.359");
  pointer("pointermove", [10, 10]); // over the axes, outside the plot
  assert.equal(tooltip.hidden, true);
  pointer("pointermove", at(0.5, 0.5));
  canvas.dispatchEvent(new window.Event("pointerleave"));
  assert.equal(tooltip.hidden, true);
  assert.equal(log.hover.at(-1), -1);
  assert.equal(worker().states().at(-1).highlight, -1);
});

test("samples of a hidden layer are not picked by the pointer", () => {
  const view = makeView();
  view.setFrame(...incoming());
  view.setLayers({ fake: false });
  pointer("pointermove", at(0.5, 0.5));
  assert.match(tooltip.innerHTML, /^\(0\.5, 0\.5\)<br>D ≈ /);
  view.setLayers({ real: false });
  pointer("pointermove", at(0.2, 0.8));
  assert.match(tooltip.innerHTML, /^\(0\.2, 0\.8\)<br>D ≈ /);
});

test("with the pointer resting, each new frame updates the tooltip", () => {
  const view = makeView();
  view.setFrame(...incoming({ fakeD: 51 }));
  pointer("pointermove", at(0.5, 0.5));
  view.setFrame(...incoming({ n: 2, fakeD: 255 }));
  assert.equal(tooltip.innerHTML, `<b class="c-fake">fake #0</b> (0.5, 0.5)<br>D = 1`);
});

test("the wheel zooms about the pointer without scrolling the page; double-click fits again", () => {
  const view = makeView();
  view.setFrame(...incoming());
  const spot = at(0.7, 0.3);
  const ev = pointer("wheel", spot, { deltaY: -100 });
  assert.equal(ev.defaultPrevented, true);
  const v = lastViewport();
  assert.ok(Math.abs(v.k / K - Math.exp(0.15)) < 1e-9, `zoomed by ${v.k / K}`);
  const [x, y] = v.invert(spot[0] - 38, spot[1] - 8);
  assert.ok(Math.abs(x - 0.7) < 1e-9 && Math.abs(y - 0.3) < 1e-9, "the point under the pointer stays put");
  assert.equal(view.autoFit, false);
  // A resize keeps the user's zoom.
  for (const cb of resizeCallbacks) cb();
  assert.equal(lastViewport().k, v.k);
  pointer("dblclick", spot);
  assert.ok(Math.abs(lastViewport().k - K) < 1e-9);
  assert.equal(view.autoFit, true);
});

test("dragging pans the view with the pointer", () => {
  const view = makeView();
  view.setFrame(...incoming());
  const [x0, y0] = at(0.5, 0.5);
  pointer("pointerdown", [x0, y0], { pointerId: 1 });
  pointer("pointermove", [x0 + 20, y0 - 40], { pointerId: 1 });
  assert.equal(canvas.style.cursor, "grabbing");
  pointer("pointerup", [x0 + 20, y0 - 40], { pointerId: 1 });
  assert.equal(canvas.style.cursor, "");
  const v = lastViewport();
  // The data point that was under the pointer followed it.
  const [x, y] = v.invert(x0 + 20 - 38, y0 - 40 - 8);
  assert.ok(Math.abs(x - 0.5) < 1e-9 && Math.abs(y - 0.5) < 1e-9);
  const moves = worker().states().filter((s) => s.viewport).length;
  pointer("pointermove", [x0, y0]); // the button is up: no more panning
  assert.equal(worker().states().filter((s) => s.viewport).length, moves);
  pointer("pointerdown", [x0, y0], { button: 2 }); // not the main button
  pointer("pointermove", [x0 + 30, y0]);
  assert.equal(worker().states().filter((s) => s.viewport).length, moves);
});

test("without OffscreenCanvas the same picture is drawn on the page at once", () => {
  canvas.transferControlToOffscreen = undefined;
  const view = makeView();
  assert.equal(view.mode, "main");
  assert.equal(FakeWorker.made.length, 0);
  assert.equal(view.render(), true);
  assert.equal(view.dirty, false);
  log.dirty = 0;
  view.setPalette(PALETTES.ganlab);
  assert.equal(view.dirty, true);
  assert.equal(log.dirty, 1, "the page is asked for an animation frame");
  view.setLayers({}); // the page sends its layer checkboxes at start: here, the defaults
  view.render();
  assert.equal(view.dirty, false);
  view.setFrame(...incoming({ n: 9 }));
  assert.equal(log.rendered.length, 1);
  assert.equal(log.rendered[0][0], 9);
  assert.ok(log.rendered[0][1] >= 0);
  const drawn = canvas.recorder.calls.map((c) => c[0]);
  assert.ok(drawn.includes("drawImage"), "the heatmap and samples were drawn");
});

test("a worker that cannot start falls back to drawing on the page", (t) => {
  const warn = t.mock.method(console, "warn", () => {});
  globalThis.Worker = class {
    constructor() {
      throw new Error("no module workers here");
    }
  };
  const view = makeView();
  assert.equal(view.mode, "main");
  assert.match(warn.mock.calls[0].arguments[0], /no module workers here/);
  makeView({ worker: false });
  assert.equal(views.at(-1).mode, "main", "and the page can ask for it");
});
