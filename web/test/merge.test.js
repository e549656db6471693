import { test } from "node:test";
import assert from "node:assert/strict";
import { merge } from "../src/state/merge.js";

// The same rules as the server's config merge (server/ganlab/config.py `merge`): objects merge,
// anything else (arrays, scalars, null) replaces.

const BASE = () => ({
  seed: 1,
  generator: { layers: 2, neurons: 16, activation: "relu" },
  data: { name: "drawing", strokes: [[[0, 0], [1, 1]]], brush_width: 0.04 },
  metrics: { every: 10, extra: { w1: true, kl: false } },
});

test("nested objects merge: untouched siblings are kept at every depth", () => {
  const out = merge(BASE(), { generator: { layers: 3 }, metrics: { extra: { kl: true } } });
  assert.deepEqual(out, {
    seed: 1,
    generator: { layers: 3, neurons: 16, activation: "relu" },
    data: { name: "drawing", strokes: [[[0, 0], [1, 1]]], brush_width: 0.04 },
    metrics: { every: 10, extra: { w1: true, kl: true } },
  });
});

test("scalars and arrays replace; arrays are not merged element by element", () => {
  const out = merge(BASE(), { seed: 9, data: { strokes: [[[0.5, 0.5]]] } });
  assert.equal(out.seed, 9);
  assert.deepEqual(out.data.strokes, [[[0.5, 0.5]]]);
  assert.equal(out.data.name, "drawing");
  // An array over an object, an object over an array, a scalar over an object: all replace.
  assert.deepEqual(merge({ a: { x: 1 } }, { a: [1, 2] }), { a: [1, 2] });
  assert.deepEqual(merge({ a: [1, 2] }, { a: { x: 1 } }), { a: { x: 1 } });
  assert.deepEqual(merge({ a: { x: 1 } }, { a: 5 }), { a: 5 });
  assert.deepEqual(merge({ a: 5 }, { a: { x: 1 } }), { a: { x: 1 } });
});

test("null replaces, both a value and a whole group; undefined and false are values too", () => {
  assert.deepEqual(merge(BASE(), { data: { strokes: null } }).data.strokes, null);
  assert.deepEqual(merge(BASE(), { generator: null }).generator, null);
  assert.deepEqual(merge({ a: { x: 1 } }, { a: false }), { a: false });
  assert.deepEqual(merge({ a: 0 }, { b: null }), { a: 0, b: null });
  const out = merge({ a: 1 }, { a: undefined });
  assert.ok(Object.hasOwn(out, "a"));
  assert.equal(out.a, undefined);
});

test("new keys are added, at the top and inside groups", () => {
  assert.deepEqual(merge({ g: { a: 1 } }, { g: { b: 2 }, h: { c: 3 } }), { g: { a: 1, b: 2 }, h: { c: 3 } });
});

test("neither input is changed", () => {
  const base = BASE();
  const patch = { generator: { layers: 7 }, metrics: { extra: { w1: false } }, data: { strokes: [] } };
  const baseCopy = structuredClone(base);
  const patchCopy = structuredClone(patch);
  const out = merge(base, patch);
  assert.deepEqual(base, baseCopy);
  assert.deepEqual(patch, patchCopy);
  assert.notEqual(out, base);
  assert.notEqual(out.generator, base.generator, "a merged group is a new object");
  assert.notEqual(out.metrics.extra, base.metrics.extra);
  // Changing the result afterwards does not reach back into the inputs either.
  out.generator.neurons = 1;
  out.metrics.extra.kl = "changed";
  assert.equal(base.generator.neurons, 16);
  assert.equal(base.metrics.extra.kl, false);
});

test("an empty, null or missing patch gives an equal copy of the base", () => {
  for (const patch of [{}, null, undefined]) {
    const base = BASE();
    const out = merge(base, patch);
    assert.deepEqual(out, BASE());
    assert.notEqual(out, base);
  }
});
