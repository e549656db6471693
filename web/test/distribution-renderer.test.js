import { test } from "node:test";
import assert from "node:assert/strict";
import { DENSITY_MASS, heatLevels, massThresholds, pointsKey, walkFill } from "../src/views/distribution-renderer.js";
import { PALETTES, heatmapLut } from "../src/views/colors.js";
import { frameScale } from "../src/views/score-scale.js";

test("the real samples' layer is redrawn exactly when the points change", () => {
  const a = new Float32Array([0.1, 0.2, 0.3, 0.4]);
  assert.equal(pointsKey(a), pointsKey(Float32Array.from(a))); // a new frame, the same points
  assert.notEqual(pointsKey(a), pointsKey(new Float32Array([0.1, 0.2, 0.3, 0.5])));
  assert.notEqual(pointsKey(a), pointsKey(new Float32Array([0.2, 0.1, 0.3, 0.4]))); // swapped x, y
  assert.notEqual(pointsKey(a), pointsKey(new Float32Array([0.1, 0.2, 0.3, 0.4, 0, 0])));
});

// The mass (sum of values) in the region {value >= level}.
const massAbove = (values, level) => values.reduce((sum, v) => sum + (v >= level ? v : 0), 0);

test("each contour level bounds the smallest densest region holding its share of the mass", () => {
  const values = [0, 1, 1, 2, 3, 5, 8, 0, 4, 6];
  const total = values.reduce((a, b) => a + b, 0);
  const levels = massThresholds(values, [0.9, 0.5, 0.2]);
  assert.deepEqual(levels, [...levels].sort((a, b) => a - b)); // ascending, as d3 draws them
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  for (const [p, level] of [[0.9, levels[0]], [0.5, levels[1]], [0.2, levels[2]]]) {
    assert.ok(massAbove(values, level) >= p * total, `${p}: the region holds its share`);
    // The next level up would hold less: the region is the smallest such.
    const next = distinct[distinct.indexOf(level) + 1];
    assert.ok(massAbove(values, next) < p * total, `${p}: the region is no larger than needed`);
  }
});

test("on a Gaussian the levels are those of its highest-density regions", () => {
  // For an isotropic Gaussian the region holding mass p is {f >= (1 - p) f(0)}: quantized to 8
  // bits over its peak, as the server sends it, on a grid of 121 x 121 over ±6σ.
  const r = 121;
  const values = new Uint8Array(r * r);
  for (let iy = 0; iy < r; iy++) {
    for (let ix = 0; ix < r; ix++) {
      const x = -6 + (12 * ix) / (r - 1);
      const y = -6 + (12 * iy) / (r - 1);
      values[iy * r + ix] = Math.round(255 * Math.exp(-(x * x + y * y) / 2));
    }
  }
  const levels = massThresholds(values, DENSITY_MASS);
  const expected = DENSITY_MASS.map((p) => 255 * (1 - p)).sort((a, b) => a - b);
  levels.forEach((level, i) => assert.ok(Math.abs(level - expected[i]) <= 4, `${level} vs ${expected[i]}`));
});

test("a flat density has one level, and an empty one none", () => {
  assert.deepEqual(massThresholds([0, 3, 3, 3, 0], [0.9, 0.6, 0.3]), [3]);
  assert.deepEqual(massThresholds([0, 0, 0], [0.9]), []);
});

test("a critic score gets the same colour on the heatmap and on a walkthrough ring", () => {
  const lut = heatmapLut(PALETTES.ganlab);
  const grid = Float32Array.from({ length: 16 }, (_, i) => -4e-5 + i * 6e-6);
  const f = { output: "score", realD: new Float32Array([3e-5, 2e-5]), fakeD: new Float32Array([-2e-5]), dGrid: grid, dGridQ: new Uint8Array(16) };
  const levels = heatLevels(f);
  const colour = (q) => `rgb(${lut[4 * q]}, ${lut[4 * q + 1]}, ${lut[4 * q + 2]})`;
  for (let i = 0; i < grid.length; i++) assert.equal(walkFill(lut, frameScale(f), grid[i]), colour(levels[i]), `grid point ${i}`);
  // The scores differ by 1e-5 across the grid and still span most of the colours.
  assert.ok(levels[15] - levels[0] > 200);
});

test("probabilities keep their quantized levels on the heatmap and the same colours on rings", () => {
  const lut = heatmapLut(PALETTES.cvd);
  const q = new Uint8Array([0, 64, 128, 255]);
  const f = { output: "prob", realD: [0.9], fakeD: [0.1], dGridQ: q, dGrid: Float32Array.from(q, (x) => x / 255) };
  assert.equal(heatLevels(f), q);
  for (const level of q) {
    assert.equal(walkFill(lut, frameScale(f), level / 255), `rgb(${lut[4 * level]}, ${lut[4 * level + 1]}, ${lut[4 * level + 2]})`);
  }
});
