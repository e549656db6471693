import { test } from "node:test";
import assert from "node:assert/strict";
import { fieldSegments, FIELD_FILL } from "../src/views/field-layer.js";

const close = (a, b, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("arrows start at the cell centres, row by row from ymin", () => {
  const g = new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]); // 2 x 2, all the same size
  const seg = fieldSegments(g, 2, [0, 4, -2, 2]);
  const starts = [];
  for (let i = 0; i < 4; i++) starts.push([seg[4 * i], seg[4 * i + 1]]);
  assert.deepEqual(starts, [[1, -1], [3, -1], [1, 1], [3, 1]]);
});

test("each arrow points along minus the gradient", () => {
  const g = new Float32Array([3, 4, -2, 0.5, 0, -7, 1e-3, 1e-3]);
  const seg = fieldSegments(g, 2, [0, 1, 0, 1]);
  for (let i = 0; i < 4; i++) {
    const dx = seg[4 * i + 2] - seg[4 * i];
    const dy = seg[4 * i + 3] - seg[4 * i + 1];
    const cos = -(dx * g[2 * i] + dy * g[2 * i + 1]) / (Math.hypot(dx, dy) * Math.hypot(g[2 * i], g[2 * i + 1]));
    close(cos, 1, 1e-5);
  }
});

test("lengths grow with the square root of the gradient, the longest filling the cell share", () => {
  const g = new Float32Array([0, 4, 0, 1, 0, 0.25, 0, 0]); // sizes 4, 1, 0.25, 0
  const seg = fieldSegments(g, 2, [0, 2, 0, 1]); // cells 1 wide, 0.5 high
  const len = (i) => Math.hypot(seg[4 * i + 2] - seg[4 * i], seg[4 * i + 3] - seg[4 * i + 1]);
  const longest = FIELD_FILL * 0.5; // the smaller side of a cell
  close(len(0), longest);
  close(len(1), longest * Math.sqrt(1 / 4));
  close(len(2), longest * Math.sqrt(0.25 / 4));
  close(len(3), 0);
});

test("non-finite gradients and an empty field draw nothing", () => {
  const seg = fieldSegments(new Float32Array([NaN, 1, 2, 0]), 1, [0, 1, 0, 1]);
  close(seg[2] - seg[0], 0);
  close(seg[3] - seg[1], 0);
  assert.equal(fieldSegments(null, 0, [0, 1, 0, 1]).length, 0);
  const zero = fieldSegments(new Float32Array(8), 2, [0, 1, 0, 1]);
  for (let i = 0; i < 4; i++) close(Math.hypot(zero[4 * i + 2] - zero[4 * i], zero[4 * i + 3] - zero[4 * i + 1]), 0);
});
