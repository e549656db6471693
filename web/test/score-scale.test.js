import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PROBABILITY_SCALE, SPAN_QUANTILE, TINY_SPAN, frameScale, quantile, rampLevel, rampPosition, scaleFor, scaleLegend, scoreScale,
  selectQuantile,
} from "../src/views/score-scale.js";

// A small generator of repeatable numbers (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const spread = (n, lo, hi, seed) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
};

test("quantiles interpolate between sorted values and skip non-finite ones", () => {
  assert.equal(quantile([3, 1, 2, NaN], 0.5), 2);
  assert.equal(quantile([0, 10], 0.25), 2.5);
  assert.equal(quantile([4], 0.95), 4);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test("a critic's scale is centred midway between the mean scores of real and fake samples", () => {
  // Twice as many reals as fakes, as in the picture: the centre still sits midway.
  const real = spread(480, 2, 4, 1);
  const fake = spread(240, -7, -5, 2);
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const s = scoreScale({ real, fake, grid: spread(4096, -8, 5, 3) });
  assert.equal(s.kind, "score");
  assert.ok(Math.abs(s.centre - (mean(real) + mean(fake)) / 2) < 1e-12);
  // The median of all samples would lean towards the reals: the rule is not that one.
  assert.ok(Math.abs(s.centre - quantile([...real, ...fake], 0.5)) > 1);
  assert.equal(rampPosition(s, s.centre), 0.5);
  assert.ok(rampPosition(s, mean(real)) > 0.5 && rampPosition(s, mean(fake)) < 0.5);
});

test("the scale is symmetric about its centre and its span covers the chosen share of scores", () => {
  const real = spread(480, 0.1, 0.3, 4);
  const fake = spread(240, -0.3, -0.1, 5);
  const grid = spread(4096, -2, 2, 6);
  const s = scoreScale({ real, fake, grid });
  for (const d of [0.01, 0.3, 1, 5]) {
    assert.ok(Math.abs(rampPosition(s, s.centre + d) - 0.5 - (0.5 - rampPosition(s, s.centre - d))) < 1e-12, `±${d}`);
  }
  const all = [...grid, ...real, ...fake];
  const inside = all.filter((v) => Math.abs(v - s.centre) <= s.span + 1e-12).length / all.length;
  assert.ok(Math.abs(inside - SPAN_QUANTILE) < 0.005, `${inside} of the scores inside`);
  assert.equal(rampPosition(s, s.centre + 10 * s.span), 1); // beyond the span: clamped
  assert.equal(rampPosition(s, s.centre - 10 * s.span), 0);
});

test("both class means stay inside the span even when the grid is nearly flat", () => {
  const s = scoreScale({ real: [1, 1, 1], fake: [-3, -3, -3], grid: new Array(1000).fill(-1) });
  assert.equal(s.centre, -1);
  assert.equal(s.span, 2);
  assert.equal(rampLevel(s, 1), 255);
  assert.equal(rampLevel(s, -3), 0);
});

test("a tiny range is still spread over the colours, and flagged so the legend says so", () => {
  // A weight-clipped critic: scores of order 1e-5.
  const s = scoreScale({ real: spread(480, 2e-5, 4e-5, 7), fake: spread(240, -4e-5, -2e-5, 8), grid: spread(4096, -6e-5, 6e-5, 9) });
  assert.ok(s.span < TINY_SPAN && s.span > 1e-5);
  assert.equal(s.tiny, true);
  assert.equal(s.flat, false);
  assert.ok(rampLevel(s, 3e-5) > 170 && rampLevel(s, -3e-5) < 85); // the samples are told apart
  const legend = scaleLegend(s);
  assert.match(legend.line, /tiny range/);
  assert.notEqual(legend.low, legend.high); // enough digits to tell the ends apart
  assert.notEqual(legend.low, legend.centre);
  // A span of ordinary size is not flagged.
  const wide = scoreScale({ real: [1], fake: [-1], grid: [0] });
  assert.equal(wide.tiny, false);
  assert.doesNotMatch(scaleLegend(wide).line, /tiny/);
});

test("a D that is the same everywhere gives the undecided colour and says it is flat", () => {
  const s = scoreScale({ real: [0.7, 0.7], fake: [0.7], grid: [0.7, 0.7] });
  assert.equal(s.flat, true);
  assert.equal(rampLevel(s, 0.7), 128);
  assert.match(scaleLegend(s).line, /flat/);
});

test("probabilities keep the fixed scale [0, 1], whatever the values", () => {
  const s = scaleFor("prob", { real: [0.51, 0.52], fake: [0.49], grid: [0.5] });
  assert.equal(s, PROBABILITY_SCALE);
  assert.equal(scaleFor("probability", {}), PROBABILITY_SCALE);
  for (const v of [0, 0.25, 0.5, 0.9, 1]) assert.equal(rampLevel(s, v), Math.round(v * 255));
  assert.equal(rampLevel(s, 1.5), 255);
  const legend = scaleLegend(s);
  assert.deepEqual([legend.low, legend.centre, legend.high], ["0", "0.5", "1"]);
  assert.match(legend.line, /probability/);
});

test("the legend gives the numbers at the ends and the centre, with signs", () => {
  const s = { kind: "score", centre: 0, span: 0.003, tiny: true, flat: false };
  const t = scaleLegend(s);
  assert.deepEqual([t.low, t.centre, t.high], ["−0.0030", "0.0000", "+0.0030"]);
  assert.equal(t.fake, "looks fake");
  assert.equal(t.real, "looks real");
  assert.match(t.line, /critic score −0\.0030 … 0\.0000 … \+0\.0030/);
  assert.match(t.note, /midway between mean D on real and on fake/);
  const shifted = scaleLegend({ kind: "score", centre: 12.5, span: 4, tiny: false, flat: false });
  assert.deepEqual([shifted.low, shifted.centre, shifted.high], ["+8.5", "+12.5", "+16.5"]);
});

test("a frame's scale comes from its own D values, once per frame", () => {
  const f = { output: "score", realD: [2, 2], fakeD: [0, 0], dGrid: [0, 1, 2] };
  const s = frameScale(f);
  assert.equal(s.centre, 1);
  assert.equal(frameScale(f), s);
  assert.equal(frameScale({ output: "prob" }), PROBABILITY_SCALE);
});

test("the quantile found by selection equals the one found by sorting", () => {
  for (const [n, seed] of [[1, 1], [2, 2], [7, 3], [100, 4], [4816, 5]]) {
    const values = spread(n, -3, 3, seed);
    values.push(values[0], values[0]); // ties
    for (const q of [0, 0.5, 0.95, 1]) assert.equal(selectQuantile(Float64Array.from(values), q), quantile(values, q), `n ${n}, q ${q}`);
  }
  assert.ok(Number.isNaN(selectQuantile(new Float64Array(0), 0.5)));
});
