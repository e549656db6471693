import { test } from "node:test";
import assert from "node:assert/strict";
import { recordingContext } from "../test-support/canvas.js";
import { drawManifoldThumb, noisePoints, scatter } from "../src/views/thumbnails.js";

function canvas(size = 64) {
  const c = { width: size, height: size };
  c.getContext = () => (c.recorder ||= recordingContext());
  return c;
}

test("scatter fits the box into the thumbnail and thins out large sets", () => {
  const c = canvas();
  scatter(c, new Float32Array([0.5, 0.5, 0, 0]), [0, 1, 0, 1], "red");
  const rects = c.recorder.calls.filter((k) => k[0] === "fillRect");
  assert.deepEqual(rects[0], ["fillRect", 0, 0, 64, 64]);
  assert.deepEqual(rects[1], ["fillRect", 31, 31, 2, 2], "the box's centre at the thumbnail's centre");
  // 10% margin, y up: (0, 0) is the bottom-left corner of the inner 90%.
  assert.deepEqual(rects[2].map((v) => (typeof v === "number" ? +v.toFixed(1) : v)), ["fillRect", 2.2, 59.8, 2, 2]);
  const many = new Float32Array(2 * 3000);
  scatter(c, many, [0, 1, 0, 1], "red");
  assert.equal(c.recorder.calls.filter((k) => k[0] === "fillRect").length - rects.length, 1 + 300);
});

test("the noise thumbnail shows the first two noise dimensions, or a line for 1D noise", () => {
  const two = noisePoints({ fakeNoise: new Float32Array([1, 2, 3, 4, 5, 6]), noiseDim: 3 });
  assert.deepEqual([...two], [1, 2, 4, 5]);
  const one = noisePoints({ fakeNoise: new Float32Array([7, 8]), noiseDim: 1 });
  assert.deepEqual([...one], [7, 0, 8, 0]);
});

test("the manifold thumbnail is a curve for 1D noise and every other grid line for 2D", () => {
  const c = canvas();
  const p = { manifold: "#333" };
  drawManifoldThumb(c, { box: [0, 1, 0, 1], manifold: new Float32Array([0, 0, 0.5, 0.5, 1, 1]), manifoldShape: [3] }, p);
  assert.equal(c.recorder.calls.filter((k) => k[0] === "lineTo").length, 2);
  const grid = canvas();
  const m = 4;
  drawManifoldThumb(grid, { box: [0, 1, 0, 1], manifold: new Float32Array(2 * m * m), manifoldShape: [m, m] }, p);
  // Rows 0 and 2, columns 0 and 2: four polylines of m points, three segments each.
  assert.equal(grid.recorder.calls.filter((k) => k[0] === "lineTo").length, 4 * (m - 1));
});
