import { test } from "node:test";
import assert from "node:assert/strict";
import { pointsKey } from "../src/views/distribution-renderer.js";

test("the real samples' layer is redrawn exactly when the points change", () => {
  const a = new Float32Array([0.1, 0.2, 0.3, 0.4]);
  assert.equal(pointsKey(a), pointsKey(Float32Array.from(a))); // a new frame, the same points
  assert.notEqual(pointsKey(a), pointsKey(new Float32Array([0.1, 0.2, 0.3, 0.5])));
  assert.notEqual(pointsKey(a), pointsKey(new Float32Array([0.2, 0.1, 0.3, 0.4]))); // swapped x, y
  assert.notEqual(pointsKey(a), pointsKey(new Float32Array([0.1, 0.2, 0.3, 0.4, 0, 0])));
});
