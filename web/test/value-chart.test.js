import { test } from "node:test";
import assert from "node:assert/strict";
import { VALUE_CHART, G_EQUALS_DATA, valueHelp } from "../src/views/value-chart.js";

test("the value chart plots the three reserved columns and a line where G matches the data", () => {
  assert.deepEqual(VALUE_CHART.series.map((s) => s[0]), ["v_current", "v_optimal", "v_optimal_theory"]);
  // V(D*, G) at p_g = p_data: D* = 1/2 everywhere, E log(1/2) + E log(1/2).
  assert.ok(Math.abs(G_EQUALS_DATA - 2 * Math.log(0.5)) < 1e-12);
  assert.deepEqual(VALUE_CHART.references.map((r) => [r[1], r[3]]), [["G = data: −log 4", "G = data"]]);
  assert.equal(VALUE_CHART.references[0][0], G_EQUALS_DATA);
  assert.equal(VALUE_CHART.linear, true, "negative values: never a log scale");
  assert.deepEqual(VALUE_CHART.keepInView, [G_EQUALS_DATA, 0]);
});

test("its summary is one plain sentence naming both values and the landmark", () => {
  const { summary } = valueHelp(2000);
  assert.equal(summary.split(". ").length, 1, "one sentence");
  assert.match(summary, /V\(D, G\) for this D; V\(D\*, G\) for the best possible D/);
  assert.match(summary, /−log 4 ≈ −1\.39 \(the line “G = data”\) when G matches the data/);
  assert.equal((-Math.log(4)).toFixed(2), "-1.39", "the number it names");
});

test("its details state the bound, what the gap means, the units and the grid, on the rows' sample count", () => {
  const { details } = valueHelp(2000);
  assert.match(details, /V\(D, G\) = E_data log D\(x\) \+ E_G log\(1 − D\(x\)\) on 2,000 samples a side/);
  assert.match(details, /No D can score more than V\(D\*, G\) = −log 4 \+ 2 JS/);
  assert.match(details, /gap V\(D\*, G\) − V\(D, G\) is how far D is from its optimum/);
  assert.match(details, /JS is in nats \(not bits\) and comes from this chart's own 32 × 32 grid/);
  assert.match(details, /not the JS of the "Divergence by grid \(bits\)" chart/);
  assert.match(details, /log loss and no packing/);
  assert.match(valueHelp(null).details, /the metric samples/);
  // The legend says which grid its JS is on.
  assert.match(VALUE_CHART.series[2][1], /32×32 grid/);
});
