import { test } from "node:test";
import assert from "node:assert/strict";
import {
  differenceSpan, differences, divergingLevel, divergingLut, HEATMAP_MODES, heatLayerWords, lensLegend, lensLevels, ratioIsOptimum,
  shownMode, UNDEFINED_WORDS,
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

test("the legend says what D* is in one plain sentence, and how each density was obtained", () => {
  const f = frame([0.5], [0.5]);
  const t = lensLegend("optimal", f, CONFIG);
  // One sentence, no formula: the formula waits behind "How it's computed".
  assert.match(t.summary, /^D\*: the best any D could say against this G, the chance that a point there is real if real and fake points are equally common\.$/);
  assert.doesNotMatch(t.summary, /p_data|p_g/);
  assert.match(t.how, /D\*\(x\) = p_data \/ \(p_data \+ p_g\): the best D against this G/);
  assert.match(t.how, /pushed through G/);
  assert.match(t.how, /99\.9%/);
  assert.match(t.how, /p_data: the data's own density, exact/);
  assert.match(t.how, /Hatched ▨: neither real nor fake points go there/);
  assert.match(t.how, /once per cell of the heatmap's grid/);
  const kde = lensLegend("gap", frame([0.5], [0.5], {
    fakeDensity: { kind: "kde", samples: 2000, width: [0.05, 0.125], folds: false, covered: 1 },
    realDensityKind: "kde", realDensityWidth: 0.03,
  }), CONFIG, 0.25);
  assert.match(kde.how, /estimated from 2,000 fakes/);
  assert.match(kde.how, /0\.05 × 0\.125/);
  assert.match(kde.how, /width 0\.03 \(cross-validated\)/);
  assert.match(kde.how, /its ends ±0\.25/);
  // D − D* has its own sentence: which colour means D is below its optimum.
  assert.match(kde.summary, /^D − D\*: .*Brown: D is less sure a point is real than the best D would be; teal: more sure/);
  assert.equal(kde.line, "D(x) − D*(x): −0.25 … 0 … +0.25");
  assert.equal(kde.low, "−0.25");
  const folded = lensLegend("optimal", frame([0.5], [0.5], { fakeDensity: { kind: "pushforward", folds: true, covered: 1 } }), CONFIG);
  assert.match(folded.how, /G folds the plane over itself here, so some spots are reached from several patches of noise: their densities are added/);
  assert.doesNotMatch(t.how, /folds/);
});

test("a critic's legend names its loss as the menu does and says D* is not its optimum; smoothing and packing change the formula", () => {
  const f = frame([0.5], [0.5], { output: "score" });
  const critic = lensLegend("optimal", f, { ...CONFIG, loss: { kind: "wgan_gp", label_smoothing: 0 } });
  assert.match(critic.how, /not of this loss \(Wasserstein \+ gradient penalty\)/);
  assert.match(critic.summary, /not of this critic's loss \(Wasserstein \+ gradient penalty\), so D − D\* is not shown/);
  for (const text of [critic.how, critic.summary]) assert.doesNotMatch(text, /wgan/);
  assert.match(critic.line, /cross-entropy game/);
  const smooth = lensLegend("optimal", frame([0.5], [0.5]), { ...CONFIG, loss: { kind: "log", label_smoothing: 0.1 } });
  assert.match(smooth.how, /D\*\(x\) = 0\.9 · p_data/);
  assert.match(smooth.summary, /\(times 0\.9: label smoothing\)\.$/);
  assert.equal(smooth.high, "0.9");
  const packed = lensLegend("optimal", frame([0.5], [0.5]), { ...CONFIG, discriminator: { packing: 2 } });
  // Averaged over fake partners, as the packed heatmap is (not a pack of copies).
  assert.match(packed.how, /mean, over packs of x with a current fake y, .*p_data\(x\)p_data\(y\) \/ \(p_data\(x\)p_data\(y\) \+ p_g\(x\)p_g\(y\)\)/);
  assert.match(packed.summary, /averaged over packs with the current fakes/);
  assert.doesNotMatch(packed.summary, /chance/); // a pack's optimum is not one point's chance
  const three = lensLegend("optimal", frame([0.5], [0.5]), { ...CONFIG, discriminator: { packing: 3 } });
  assert.match(three.how, /with 2 current fakes y/);
  assert.equal(lensLegend("d", f, CONFIG), null);
});

test("the heatmap layer is named after what it draws", () => {
  assert.deepEqual(HEATMAP_MODES.map((m) => heatLayerWords(m.id).name), ["D heatmap", "D* heatmap", "D − D* heatmap"]);
  assert.match(heatLayerWords("optimal").title, /best D against the current G.*hatched where neither real nor fake/);
  assert.match(heatLayerWords("gap").title, /brown where D is less sure/);
  assert.match(heatLayerWords("d").title, /discriminator's verdict/);
  assert.equal(UNDEFINED_WORDS, "undefined (no real or fake mass)");
});
