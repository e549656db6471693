import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Viewport, clampToView, manifoldOpacity, resampleStroke, polylineLength, padToUnit,
  arrowSegments, nearestPoint, gridValueAt, normalQuantile, latentLines, formatNumber, isCurve,
} from "../src/views/math.js";

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("fitted viewport keeps one scale for both axes, y up, box centred", () => {
  const v = Viewport.fit([0, 2, 0, 1], 400, 400, 0);
  close(v.k, 200);
  close(v.x(0), 0);
  close(v.x(2), 400);
  close(v.y(0.5), 200); // centre
  assert.ok(v.y(1) < v.y(0), "y points up");
  close(v.y(1) - v.y(0), -200); // same scale as x
  const [x, y] = v.invert(v.x(1.3), v.y(0.7));
  close(x, 1.3);
  close(y, 0.7);
});

test("zooming keeps the point under the cursor fixed, panning moves by pixels", () => {
  const v = Viewport.fit([-1, 1, -1, 1], 300, 200, 0.1);
  const before = v.invert(70, 40);
  const z = v.zoomAt(70, 40, 2.5);
  close(z.k, v.k * 2.5);
  const after = z.invert(70, 40);
  close(after[0], before[0], 1e-9);
  close(after[1], before[1], 1e-9);
  const p = z.pan(30, -10);
  close(p.x(after[0]) - 70, 30, 1e-9);
  close(p.y(after[1]) - 40, -10, 1e-9);
  const [x0, x1, y0, y1] = p.domain();
  assert.ok(x0 < x1 && y0 < y1);
});

test("samples outside the view are clamped to its edge and flagged", () => {
  assert.deepEqual(clampToView(50, 60, 100, 100), { x: 50, y: 60, outside: false });
  assert.deepEqual(clampToView(-20, 500, 100, 100, 4), { x: 4, y: 96, outside: true });
});

test("manifold shading grows with density, is bounded, and handles collapsed and empty cells", () => {
  const d = new Float32Array([0.01, 0.1, 1, 10, 100, Infinity, 0, NaN]);
  const a = manifoldOpacity(d, { lo: 0.05, hi: 0.8, decades: 2 });
  for (let i = 1; i < 5; i++) assert.ok(a[i] >= a[i - 1], `not monotone at ${i}`);
  assert.ok(a[4] > a[0]);
  for (const v of a) assert.ok(v >= 0.05 - 1e-7 && v <= 0.8 + 1e-7);
  close(a[5], 0.8, 1e-6); // infinite density: a collapsed cell, darkest
  close(a[6], 0.05, 1e-6);
  close(a[7], 0.05, 1e-6);
  // The median density sits mid-range.
  const m = manifoldOpacity(new Float32Array([1, 1, 1]), { lo: 0, hi: 1, decades: 2 });
  close(m[0], 0.5, 1e-6);
  // Scale-free: multiplying every density by a constant changes nothing.
  const b = manifoldOpacity(d.map((x) => x * 1000), { lo: 0.05, hi: 0.8, decades: 2 });
  for (let i = 0; i < 5; i++) close(a[i], b[i], 1e-5);
  // All zero: lowest opacity everywhere.
  assert.deepEqual(Array.from(manifoldOpacity([0, 0], { lo: 0.1, hi: 0.9 })).map((x) => +x.toFixed(3)), [0.1, 0.1]);
});

test("stroke resampling spaces points evenly by arc length, whatever the input spacing", () => {
  // The same L-shaped path drawn slowly (many points) and quickly (corners only).
  const slow = [];
  for (let i = 0; i <= 100; i++) slow.push([i / 100, 0]);
  for (let i = 1; i <= 50; i++) slow.push([1, i / 100]);
  const fast = [[0, 0], [1, 0], [1, 0.5]];
  const a = resampleStroke(slow, 0.1);
  const b = resampleStroke(fast, 0.1);
  assert.equal(a.length, 16); // 1.5 long: 0, 0.1, ..., 1.5
  assert.equal(b.length, a.length);
  for (let i = 0; i < a.length; i++) {
    close(a[i][0], b[i][0], 1e-9);
    close(a[i][1], b[i][1], 1e-9);
  }
  for (let i = 1; i < b.length; i++) {
    // Consecutive points are `spacing` apart along the path (the corner cuts the chord).
    const chord = Math.hypot(b[i][0] - b[i - 1][0], b[i][1] - b[i - 1][1]);
    assert.ok(chord <= 0.1 + 1e-9 && chord > 0.07, `chord ${chord}`);
  }
  close(polylineLength(fast), 1.5);
  assert.deepEqual(b[0], [0, 0]);
  assert.deepEqual(b[b.length - 1], [1, 0.5]);
});

test("stroke resampling: a dot, repeated points, the end kept, bad input", () => {
  assert.deepEqual(resampleStroke([[0.3, 0.4]], 0.01), [[0.3, 0.4]]);
  assert.deepEqual(resampleStroke([[0.3, 0.4], [0.3, 0.4]], 0.01), [[0.3, 0.4]]);
  const r = resampleStroke([[0, 0], [0.25, 0]], 0.1);
  assert.deepEqual(r.map((p) => +p[0].toFixed(6)), [0, 0.1, 0.2, 0.25]);
  assert.deepEqual(resampleStroke([], 0.1), []);
  assert.throws(() => resampleStroke([[0, 0]], 0), RangeError);
});

test("pad pixels map to the unit square with y up", () => {
  assert.deepEqual(padToUnit(0, 0, 200), [0, 1]);
  assert.deepEqual(padToUnit(200, 200, 200), [1, 0]);
  assert.deepEqual(padToUnit(50, 150, 200), [0.25, 0.25]);
  assert.deepEqual(padToUnit(-5, 300, 200), [0, 0]);
});

test("arrows point along MINUS the generator-loss gradient, longest one scaled to maxLength", () => {
  const fake = new Float32Array([0, 0, 1, 1]);
  const grad = new Float32Array([2, 0, 0, -1]);
  const s = arrowSegments(fake, grad, 0.5);
  assert.deepEqual(Array.from(s.slice(0, 4)), [0, 0, -0.5, 0]); // against +x gradient
  assert.deepEqual(Array.from(s.slice(4, 8)), [1, 1, 1, 1.25]); // half as long, along +y
  const zero = arrowSegments(fake, new Float32Array([0, 0, NaN, 1]), 1);
  assert.deepEqual(Array.from(zero), [0, 0, 0, 0, 1, 1, 1, 1]);
});

test("nearest point within a radius", () => {
  const pts = new Float32Array([0, 0, 1, 1, 2, 2]);
  assert.equal(nearestPoint(pts, 0.9, 1.2), 1);
  assert.equal(nearestPoint(pts, 5, 5, 0.5), -1);
  assert.equal(nearestPoint(new Float32Array([0, 3, -1]), 2.9, 0, Infinity, 1), 1);
});

test("grid value: bilinear between cell centres, exact at nodes, null outside", () => {
  // 2x2 grid over [0, 1]^2: rows from ymin up.
  const g = [0, 1, 2, 3]; // (x0,y0)=0 (x1,y0)=1 (x0,y1)=2 (x1,y1)=3
  close(gridValueAt(g, 2, [0, 1, 0, 1], 0, 0), 0);
  close(gridValueAt(g, 2, [0, 1, 0, 1], 1, 0), 1);
  close(gridValueAt(g, 2, [0, 1, 0, 1], 0, 1), 2);
  close(gridValueAt(g, 2, [0, 1, 0, 1], 1, 1), 3);
  close(gridValueAt(g, 2, [0, 1, 0, 1], 0.5, 0.5), 1.5);
  assert.equal(gridValueAt(g, 2, [0, 1, 0, 1], 1.5, 0.5), null);
});

test("latent grid lines match the server: linspace for uniform, quantiles for Gaussian", () => {
  assert.deepEqual(Array.from(latentLines("uniform", 5)), [-1, -0.5, 0, 0.5, 1]);
  const g = latentLines("gaussian", 4);
  close(g[0], normalQuantile(0.125), 1e-12);
  close(g[1], -g[2], 1e-9);
  close(normalQuantile(0.975), 1.959963984540054, 1e-8);
  close(normalQuantile(0.5), 0, 1e-12);
  close(normalQuantile(0.001), -3.090232306167813, 1e-7);
});

test("numbers format short", () => {
  assert.equal(formatNumber(0.123456), "0.123");
  assert.equal(formatNumber(1234.5), "1.23e+3".replace("1.23e+3", "1230"));
  assert.equal(formatNumber(1e-5), "1.00e-5");
  assert.equal(formatNumber(NaN), "–");
  assert.equal(formatNumber(Infinity), "∞");
});

test("a manifold of shape (K, 2) is a curve, (M, M, 2) a grid", () => {
  assert.equal(isCurve([84]), true);
  assert.equal(isCurve([21, 21]), false);
});
