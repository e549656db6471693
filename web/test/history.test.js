import { test } from "node:test";
import assert from "node:assert/strict";
import { History } from "../src/state/history.js";

test("history is replaced by a history message and extended by frame rows", () => {
  const h = new History();
  const cols = ["iteration", "d_loss", "w1"];
  h.replace(cols, new Float32Array([0, 1.5, NaN, 100, 1.25, 0.5]));
  assert.equal(h.length, 2);
  assert.deepEqual(h.column("iteration"), [0, 100]);
  assert.deepEqual(h.column("w1"), [null, 0.5]); // NaN: not computed, a gap
  const v = h.version;
  h.append(new Float32Array([200, 1, 0.25]));
  assert.equal(h.length, 3);
  assert.ok(h.version > v);
  assert.equal(h.last("w1"), 0.25);
  h.append(new Float32Array([]));
  assert.equal(h.length, 3);
  h.replace(cols, null);
  assert.equal(h.length, 0);
  assert.deepEqual(h.column("d_loss"), []);
  assert.equal(h.last("d_loss"), null);
  assert.deepEqual(h.column("nope"), []);
});
