import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { decodeEnvelope, encodeEnvelope } from "../src/protocol/envelope.js";
import { PALETTES } from "../src/views/colors.js";
import { recordingContext } from "../test-support/canvas.js";

// The worker module talks to its page through `self`. Here `self` is a stand-in scope that
// keeps what the worker posts and the animation frames it asks for; the canvases record what is
// drawn on them. The module keeps its renderer between messages, so these tests run in order.

class FakeOffscreenCanvas {
  constructor(width = 300, height = 150) {
    Object.assign(this, { width, height, ctx: recordingContext() });
  }

  getContext() {
    return this.ctx;
  }
}

const scope = {
  posted: [],
  frames: [], // animation frame callbacks waiting to run
  postMessage(message) {
    this.posted.push(message);
  },
  requestAnimationFrame(cb) {
    this.frames.push(cb);
  },
};

/** Run the animation frames due now (not the ones they ask for). */
function animationFrame() {
  const due = scope.frames.splice(0);
  for (const cb of due) cb();
  return due.length;
}

const send = (data) => scope.onmessage({ data });
const canvas = new FakeOffscreenCanvas();
const drawCalls = () => canvas.ctx.calls.filter((c) => c[0] === "setTransform").length;

function frameMessage(n) {
  const f4 = (name, values, shape) => ({ name, data: new Float32Array(values), shape, dtype: "f4" });
  const u1 = (name, values, shape) => ({ name, data: new Uint8Array(values), shape, dtype: "u1" });
  return encodeEnvelope({ kind: "frame", frame: n, iteration: n, box: [0, 1, 0, 1], noise_dim: 1, output: "probability" }, [
    f4("real", [0.2, 0.8], [1, 2]),
    u1("real_d", [255], [1]),
    f4("fake", [0.5, 0.5, 0.1, 0.1], [2, 2]),
    f4("fake_noise", [0.1, -0.1], [2, 1]),
    u1("fake_d", [51, 0], [2]),
    f4("fake_grad", [1, 0, 0, 1], [2, 2]),
    u1("d_grid", [0, 64, 128, 255], [2, 2]),
    f4("manifold", [0, 0, 0.5, 0.5, 1, 1], [3, 2]),
    f4("manifold_density", [1, 2], [2]),
    u1("real_density", [0, 10, 20, 30], [2, 2]),
  ]);
}

before(async () => {
  globalThis.self = scope;
  globalThis.OffscreenCanvas = FakeOffscreenCanvas;
  await import("../src/render-worker.js");
});

after(() => {
  delete globalThis.self;
  delete globalThis.OffscreenCanvas;
});

test("it listens to the page as soon as it loads", () => {
  assert.equal(typeof scope.onmessage, "function");
  assert.deepEqual(scope.posted, []);
});

test("a message before the canvas arrives is reported as an error, not thrown", () => {
  send({ type: "state", state: { palette: PALETTES.ganlab } });
  assert.equal(scope.posted.length, 1);
  assert.equal(scope.posted[0].type, "error");
  assert.match(scope.posted[0].message, /TypeError/);
  scope.posted.length = 0;
});

test("state changes are drawn once, on the next animation frame", () => {
  send({ type: "init", canvas });
  send({ type: "state", state: { size: { width: 200, height: 160, dpr: 2 } } });
  send({ type: "state", state: { palette: PALETTES.ganlab, layers: { heatmap: true, real: true, fake: true } } });
  send({ type: "state", state: { viewport: { width: 154, height: 128, cx: 0.5, cy: 0.5, k: 100 } } });
  assert.equal(canvas.width, 400, "the canvas takes the page's size at its pixel density");
  assert.equal(canvas.height, 320);
  assert.equal(drawCalls(), 0);
  assert.equal(animationFrame(), 1, "three changes, one frame");
  assert.equal(drawCalls(), 1);
  assert.equal(animationFrame(), 0, "nothing moving: no more frames");
  assert.deepEqual(scope.posted, []);
});

test("each frame is drawn as it arrives and the page is told which one and how long it took", () => {
  const drawnBefore = drawCalls();
  send({ type: "frame", buffer: frameMessage(41), noiseKind: "uniform" });
  assert.equal(drawCalls(), drawnBefore + 1);
  assert.deepEqual(scope.posted.map((m) => [m.type, m.frameNumber]), [["rendered", 41]]);
  assert.ok(scope.posted[0].ms >= 0);
  // The heatmap and the samples are drawn from their own small canvases.
  assert.ok(canvas.ctx.calls.some((c) => c[0] === "drawImage" && c[1] instanceof FakeOffscreenCanvas));
  scope.posted.length = 0;
});

test("an unreadable frame is reported, and still answered so the page does not wait for it", () => {
  send({ type: "frame", buffer: new ArrayBuffer(4), noiseKind: "uniform" });
  assert.deepEqual(scope.posted.map((m) => m.type), ["error", "rendered"]);
  assert.match(scope.posted[0].message, /shorter than its preamble/);
  assert.deepEqual(scope.posted[1], { type: "rendered", frameNumber: null, ms: 0 });
  scope.posted.length = 0;
});

test("the frame's own buffer is decoded: the worker needs nothing else from the page", () => {
  const buffer = frameMessage(42);
  const header = decodeEnvelope(buffer).header;
  send({ type: "frame", buffer, noiseKind: "gaussian" });
  assert.deepEqual(scope.posted, [{ type: "rendered", frameNumber: header.frame, ms: scope.posted[0].ms }]);
  scope.posted.length = 0;
});

test("while the manifold morphs the picture keeps animating; when it stops, so do the frames", () => {
  send({ type: "state", state: { morph: true } });
  let drawn = 0;
  for (let i = 0; i < 5; i++) drawn += animationFrame();
  assert.equal(drawn, 5, "one frame after another");
  send({ type: "state", state: { morph: false } });
  animationFrame();
  assert.equal(animationFrame(), 0);
});
