import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEnvelope, encodeEnvelope } from "../src/protocol/envelope.js";
import { prepareFrame, prepareFrameWith } from "../src/protocol/frame.js";

// A frame message as the server sends it; `dGrid` and `extra` vary per test. The encoder takes no
// min/max, so quantized arrays get theirs after decoding, as the server's header would carry them.
function frameMessage({ dGrid = new Float32Array([-2, 0, 2, 6]), header = {}, extra = [] } = {}) {
  const arrays = [
    { name: "real", data: new Float32Array([0, 0, 1, 1]), shape: [2, 2], dtype: "f4" },
    { name: "real_d", data: new Uint8Array([255, 0]), shape: [2], dtype: "u1" },
    { name: "fake", data: new Float32Array([0.5, 0.5]), shape: [1, 2], dtype: "f4" },
    { name: "fake_noise", data: new Float32Array([0.1]), shape: [1, 1], dtype: "f4" },
    { name: "fake_d", data: new Uint8Array([51]), shape: [1], dtype: "u1" },
    { name: "fake_grad", data: new Float32Array([1, -1]), shape: [1, 2], dtype: "f4" },
    { name: "d_grid", data: dGrid, shape: [2, 2], dtype: dGrid instanceof Uint8Array ? "u1" : "f4" },
    { name: "manifold", data: new Float32Array([0, 0, 1, 1, 2, 2]), shape: [3, 2], dtype: "f4" },
    { name: "manifold_density", data: new Float32Array([1, 2]), shape: [2], dtype: "f4" },
    { name: "real_density", data: new Uint8Array([0, 1, 2, 3]), shape: [2, 2], dtype: "u1" },
    ...extra,
  ];
  const buf = encodeEnvelope({ kind: "frame", frame: 7, iteration: 40, d_updates: 80, g_updates: 40,
    playing: true, ips: 12.5, applied: 3, config_version: 2, box: [0, 1, 0, 1], output: "score",
    noise_dim: 1, losses: { d_loss: 1.2 }, ...header }, arrays);
  const msg = decodeEnvelope(buf);
  for (const name of ["real_d", "fake_d"]) Object.assign(msg.arrays[name], { min: 0, max: 1 });
  if (dGrid instanceof Uint8Array) Object.assign(msg.arrays.d_grid, { min: -1, max: 1 });
  return msg;
}

test("a frame becomes the views' numbers: dequantized D values, 8-bit heatmap levels", () => {
  const msg = frameMessage();
  const f = prepareFrame(msg, { noise: { kind: "uniform" } });
  assert.equal(f.frameNumber, 7);
  assert.equal(f.iteration, 40);
  assert.equal(f.dUpdates, 80);
  assert.equal(f.gUpdates, 40);
  assert.equal(f.playing, true);
  assert.equal(f.ips, 12.5);
  assert.equal(f.applied, 3);
  assert.equal(f.configVersion, 2);
  assert.deepEqual(f.box, [0, 1, 0, 1]);
  assert.equal(f.output, "score");
  assert.equal(f.noiseDim, 1);
  assert.equal(f.noiseKind, "uniform");
  assert.deepEqual(f.manifoldShape, [3]); // 1D noise: a curve
  assert.deepEqual(Array.from(f.realD), [1, 0]);
  assert.ok(Math.abs(f.fakeD[0] - 0.2) < 1e-6);
  assert.equal(f.gridSize, 2);
  // An unquantized critic grid is mapped onto 256 levels over its range; values stay exact.
  assert.deepEqual(Array.from(f.dGridQ), [0, 64, 128, 255]);
  assert.deepEqual(Array.from(f.dGrid), [-2, 0, 2, 6]);
  assert.deepEqual(f.losses, { d_loss: 1.2 });
  // Sample arrays are the received views, not copies.
  assert.equal(f.fake, msg.arrays.fake.data);
  assert.equal(f.fakeGrad, msg.arrays.fake_grad.data);
  assert.equal(f.realDensityQ, msg.arrays.real_density.data);
  assert.equal(f.raw, msg.buffer);
  assert.equal(f.historyRows, null);
});

test("an 8-bit heatmap is used as it came; its values are worked out only when asked, once", () => {
  const levels = new Uint8Array([0, 255, 51, 102]);
  const msg = frameMessage({ dGrid: levels });
  const f = prepareFrameWith(msg, "gaussian");
  assert.equal(f.dGridQ, msg.arrays.d_grid.data);
  const values = f.dGrid;
  assert.ok(values instanceof Float32Array);
  assert.deepEqual(Array.from(values).map((v) => +v.toFixed(4)), [-1, 1, -0.6, -0.2]);
  assert.equal(f.dGrid, values); // cached: the hover reads it often
});

test("a flat unquantized heatmap sits mid-scale instead of dividing by a zero range", () => {
  const f = prepareFrameWith(frameMessage({ dGrid: new Float32Array([0.3, 0.3, 0.3, 0.3]) }), "uniform");
  assert.deepEqual(Array.from(f.dGridQ), [128, 128, 128, 128]);
});

test("without a config the noise is taken as Gaussian; missing losses read as none", () => {
  const msg = frameMessage({ header: { losses: undefined } });
  const f = prepareFrame(msg, null);
  assert.equal(f.noiseKind, "gaussian");
  assert.deepEqual(f.losses, {});
});

test("history rows that came with the frame are handed on", () => {
  const rows = new Float32Array([100, 1.5, 0.25]);
  const f = prepareFrameWith(frameMessage({
    extra: [{ name: "history", data: rows, shape: [1, 3], dtype: "f4" }],
  }), "uniform");
  assert.deepEqual(Array.from(f.historyRows), [100, 1.5, 0.25]);
});

test("a 2D latent grid keeps both grid dimensions in the manifold's shape", () => {
  const grid = new Float32Array(3 * 3 * 2);
  const msg = frameMessage({ header: { noise_dim: 2 } });
  // Swap in a (3, 3, 2) manifold by hand: the shape is what tells a curve from a grid.
  msg.arrays.manifold = { data: grid, shape: [3, 3, 2], dtype: "f4" };
  const f = prepareFrameWith(msg, "uniform");
  assert.deepEqual(f.manifoldShape, [3, 3]);
  assert.equal(f.manifold, grid);
});

test("a frame says which real density it carries: the law's own, or an estimate and its width", () => {
  const exact = prepareFrameWith(frameMessage({ header: { real_density_kind: "exact", real_density_width: null } }), "gaussian");
  assert.equal(exact.realDensityKind, "exact");
  assert.equal(exact.realDensityWidth, null);
  const kde = prepareFrameWith(frameMessage({ header: { real_density_kind: "kde", real_density_width: 0.034 } }), "gaussian");
  assert.equal(kde.realDensityKind, "kde");
  assert.equal(kde.realDensityWidth, 0.034);
  // A server that does not say: nothing is claimed.
  const silent = prepareFrameWith(frameMessage(), "gaussian");
  assert.equal(silent.realDensityKind, null);
  assert.equal(silent.realDensityWidth, null);
});
