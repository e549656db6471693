import { test } from "node:test";
import assert from "node:assert/strict";
import {
  differenceSpan, differences, divergingLevel, divergingLut, lensLegend, lensLevels, ratioIsOptimum, shownMode,
} from "../src/views/heatmap-mode.js";

const CONFIG = { loss: { kind: "log", label_smoothing: 0 }, discriminator: { packing: 1 } };

function frame(d, opt, extra = {}) {
  return {
    dGrid: Float32Array.from(d), dOptimal: Float32Array.from(opt), output: "prob",
    fakeDensity: { kind: "pushforward", folds: false, covered: 0.999, samples: 0, width: null },
    realDensityKind: "exact", realDensityWidth: null, ...extra,
  };
}

test("the mode falls back to D without D*, and D − D* only for losses whose optimum is the ratio", () => {
  const f = frame([0.5], [0.5]);
  assert.equal(shownMode("optimal", f, "log"), "optimal");
  assert.equal(shownMode("gap", f, "lsgan"), "gap");
  assert.equal(shownMode("gap", f, "wgan_gp"), "d");
  assert.equal(shownMode("gap", f, "hinge"), "d");
  assert.equal(shownMode("optimal", { ...f, dOptimal: null }, "log"), "d");
  assert.deepEqual(["log", "lsgan", "wgan", "wgan_gp", "hinge"].map(ratioIsOptimum), [true, true, false, false, false]);
});

test("differences are D minus D*, NaN where D* is undefined", () => {
  const diff = differences(frame([0.9, 0.2, 0.5], [0.6, 0.7, NaN]));
  assert.ok(Math.abs(diff[0] - 0.3) < 1e-6 && Math.abs(diff[1] + 0.5) < 1e-6 && Number.isNaN(diff[2]));
});

test("the diverging span is the smallest round number holding 95% of the sizes", () => {
  // 100 values: sizes 0.01 .. 1.00; the 95th percentile (by rank) is 0.95 -> 1.
  const values = Array.from({ length: 100 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1) / 100);
  assert.equal(differenceSpan(values), 1);
  assert.equal(differenceSpan([0.03, -0.04, NaN]), 0.05);
  assert.equal(differenceSpan([0.12, -0.18, 0.02]), 0.2);
  assert.equal(differenceSpan([]), 0.05);
});

test("diverging levels: 0 at −span, the middle at 0, 255 at +span, clamped", () => {
  assert.equal(divergingLevel(-0.5, 0.5), 0);
  assert.equal(divergingLevel(0, 0.5), 128);
  assert.equal(divergingLevel(0.25, 0.5), Math.round(0.75 * 255));
  assert.equal(divergingLevel(3, 0.5), 255);
  const lut = divergingLut();
  // The ends differ from each other and the middle is near white.
  assert.notDeepEqual([...lut.slice(0, 3)], [...lut.slice(255 * 4, 255 * 4 + 3)]);
  for (const c of lut.slice(127 * 4, 127 * 4 + 3)) assert.ok(c > 235);
});

test("lens levels: D* on the probability ramp, D − D* on the diverging one, undefined cells blank", () => {
  const f = frame([0.9, 0.1, 0.5, 0.5], [0.5, 0.5, 1, NaN]);
  const opt = lensLevels(f, "optimal");
  assert.deepEqual([...opt.levels.slice(0, 3)], [128, 128, 255]);
  assert.deepEqual([...opt.defined], [1, 1, 1, 0]);
  const gap = lensLevels(f, "gap");
  assert.equal(gap.span, 0.5); // sizes 0.4, 0.4, 0.5
  const diff = differences(f); // float32, as the renderer computes them
  assert.deepEqual([...gap.levels.slice(0, 3)], [divergingLevel(diff[0], 0.5), divergingLevel(diff[1], 0.5), 0]);
  assert.ok(gap.levels[0] > 220 && gap.levels[1] < 30);
  assert.deepEqual([...gap.defined], [1, 1, 1, 0]);
});

test("the legend says what D* is and how each density was obtained", () => {
  const f = frame([0.5], [0.5]);
  const t = lensLegend("optimal", f, CONFIG);
  assert.match(t.note, /D\*\(x\) = p_data \/ \(p_data \+ p_g\): the best D against this G/);
  assert.match(t.note, /pushed through G/);
  assert.match(t.note, /99\.9%/);
  assert.match(t.note, /p_data: the data's own density, exact/);
  const kde = lensLegend("gap", frame([0.5], [0.5], {
    fakeDensity: { kind: "kde", samples: 2000, width: [0.05, 0.125], folds: false, covered: 1 },
    realDensityKind: "kde", realDensityWidth: 0.03,
  }), CONFIG, 0.25);
  assert.match(kde.note, /estimated from 2,000 fakes/);
  assert.match(kde.note, /0\.05 × 0\.125/);
  assert.match(kde.note, /width 0\.03 \(cross-validated\)/);
  assert.equal(kde.line, "D(x) − D*(x): −0.25 … 0 … +0.25");
  assert.equal(kde.low, "−0.25");
  const folded = lensLegend("optimal", frame([0.5], [0.5], { fakeDensity: { kind: "pushforward", folds: true, covered: 1 } }), CONFIG);
  assert.match(folded.note, /G folds the plane/);
  assert.doesNotMatch(t.note, /folds/);
});

test("a critic's legend says D* is not its optimum; smoothing and packing change the formula", () => {
  const f = frame([0.5], [0.5], { output: "score" });
  const critic = lensLegend("optimal", f, { ...CONFIG, loss: { kind: "wgan_gp", label_smoothing: 0 } });
  assert.match(critic.note, /not of this loss/);
  assert.match(critic.line, /cross-entropy game/);
  const smooth = lensLegend("optimal", frame([0.5], [0.5]), { ...CONFIG, loss: { kind: "log", label_smoothing: 0.1 } });
  assert.match(smooth.note, /D\*\(x\) = 0\.9 · p_data/);
  assert.equal(smooth.high, "0.9");
  const packed = lensLegend("optimal", frame([0.5], [0.5]), { ...CONFIG, discriminator: { packing: 2 } });
  // Averaged over fake partners, as the packed heatmap is (not a pack of copies).
  assert.match(packed.note, /mean, over packs of x with a current fake y, .*p_data\(x\)p_data\(y\) \/ \(p_data\(x\)p_data\(y\) \+ p_g\(x\)p_g\(y\)\)/);
  const three = lensLegend("optimal", frame([0.5], [0.5]), { ...CONFIG, discriminator: { packing: 3 } });
  assert.match(three.note, /with 2 current fakes y/);
  assert.equal(lensLegend("d", f, CONFIG), null);
});
